package browsertest

import (
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/localtest"
)

// seedGoogle saves Google Workspace (email, everyone) through the API, as
// an admin would have before the test.
func seedGoogle(t *testing.T, env *localtest.Env) {
	t.Helper()
	resp := env.Do("PUT", "/v1/orgs/"+org+"/integrations/"+google, env.AdminToken("u-seed", org), map[string]any{
		"enabled": true, "configMode": "default", "capabilities": []string{"email"}, "rollout": map[string]any{"mode": "everyone"},
	})
	if resp.Status != 201 {
		t.Fatalf("seed: %s", resp)
	}
}

// TestConcurrentEditsShowAConflict: two admins open the same settings; the
// second save is refused with If-Match (412) and the form says so, keeps
// the first admin's change, and saves once reloaded.
func TestConcurrentEditsShowAConflict(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env)
	open := func(name, user string) *page {
		p := newPage(t, name)
		p.navigate(env.URL + "/")
		p.devSignIn(user, org, true, "")
		p.click(googleCard + " button[data-action=edit]")
		p.waitFor("the settings form", `!!document.querySelector("#ed-google_workspace-form")`)
		return p
	}
	alice, ann := open("alice", "u-alice"), open("ann", "u-ann")

	alice.setChecked(googleEditorID+"-cap-calendar", true)
	alice.click(googleEditorID + "-form button[type=submit]")
	alice.waitText(googleEditorID+"-form .save-result", "Saved.")

	ann.setChecked(googleEditorID+"-allowWriteActions", true)
	ann.click(googleEditorID + "-form button[type=submit]")
	ann.waitText(googleEditorID+"-form .form-error", "Someone else changed this integration; reload")
	stored, err := env.Deps.Store.GetIntegration(t.Context(), org, google)
	if err != nil || stored.AllowWriteActions || !slices.Contains(stored.Capabilities, "calendar") {
		t.Fatalf("after the refused save the store holds %+v (%v): want alice's calendar and no writes", stored, err)
	}

	ann.click(googleEditorID + "-form .form-error button")
	ann.waitText(googleEditorID+"-form .save-result", "Reloaded the current settings.")
	if !eval[bool](ann, `document.querySelector("#ed-google_workspace-cap-calendar").checked`) {
		t.Error("the reloaded form does not show the other admin's change")
	}
	ann.setChecked(googleEditorID+"-allowWriteActions", true)
	ann.click(googleEditorID + "-form button[type=submit]")
	ann.waitText(googleEditorID+"-form .save-result", "Saved.")
	stored, _ = env.Deps.Store.GetIntegration(t.Context(), org, google)
	if !stored.AllowWriteActions || !slices.Contains(stored.Capabilities, "calendar") {
		t.Errorf("after reloading and saving the store holds %+v: want both admins' changes", stored)
	}
	alice.noExceptions()
	ann.noExceptions()
}

// TestClientSecretIsWriteOnly plants a client secret through the secure
// field and a credential-shaped value in an ordinary field, then searches
// the page (markup, text, every field's value), the browser's storage and
// cookies, the console and the service's log lines: neither value is
// anywhere. The misplaced one is refused next to its field.
func TestClientSecretIsWriteOnly(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	const planted = "Planted.Client~Secret.7Qx2Lm9Vr4Tz8Kw1"
	misplaced := "GOCSPX-" + strings.Repeat("fAkE", 7) // shaped like a Google client secret
	const ms = "#ed-microsoft365"

	admin := newPage(t, "admin")
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.click("#integration-microsoft365 button[data-action=edit]")
	admin.setChecked(ms+"-mode-organization", true)
	admin.fill(ms+"-clientId", "00000000-0000-0000-0000-0000000000a1")
	admin.fill(ms+"-tenant", "organizations")
	admin.setChecked(ms+"-cap-email", true)
	admin.setChecked(ms+"-enabled", true)
	admin.click(ms + "-form button[type=submit]")
	admin.waitText(ms+"-form .save-result", "missing client secret")
	admin.waitText(ms+"-clientSecret-state", "Client secret: not set")

	admin.fill(ms+"-clientSecret", planted)
	admin.click(ms + "-saveSecret")
	admin.waitText(ms+"-clientSecret-state", "Client secret: set")
	admin.waitText(ms+"-form .save-result", "Credential check:")
	if v := eval[string](admin, `document.querySelector("#ed-microsoft365-clientSecret").value`); v != "" {
		t.Errorf("the secret field still holds %d characters after saving", len(v))
	}
	if secret, err := env.Deps.Secrets.GetClientSecret(t.Context(), org, "microsoft365"); err != nil || secret != planted {
		t.Fatalf("the secret store does not hold the planted secret (%v)", err)
	}
	admin.waitText("#integration-microsoft365 .facts", "Client secret")

	// A credential in an ordinary field is refused, next to that field.
	admin.fill(ms+"-tenant", misplaced)
	admin.click(ms + "-form button[type=submit]")
	admin.waitText(ms+"-form .form-error", "a field holds what looks like a credential")
	msg := admin.waitText(ms+"-tenant-error", "")
	if strings.TrimSpace(msg) == "" || eval[string](admin, `document.querySelector("#ed-microsoft365-tenant-error span").dataset.code`) != "credential_in_field" {
		t.Errorf("the tenant field's error %q: want the API's credential_in_field message", msg)
	}
	if eval[string](admin, `document.querySelector("#ed-microsoft365-tenant").getAttribute("aria-invalid")`) != "true" {
		t.Error("the refused field is not marked invalid")
	}
	if stored, _ := env.Deps.Store.GetIntegration(t.Context(), org, "microsoft365"); stored.Tenant != "organizations" {
		t.Errorf("stored tenant %q after the refused save", stored.Tenant)
	}
	admin.fill(ms+"-tenant", "organizations")

	// The same page, reloaded from the API, and the audit trail.
	admin.click(ms + "-close")
	admin.click("#integration-microsoft365 button[data-action=edit]")
	admin.waitText(ms+"-clientSecret-state", "Client secret: set")
	admin.click(`nav a[href="#/audit"]`)
	admin.waitText("table.audit tbody", "Client secret set")

	for _, v := range []string{planted, misplaced} {
		for where, text := range pageContents(admin) {
			if strings.Contains(text, v) {
				t.Errorf("a planted credential (%d chars) is in the page's %s", len(v), where)
			}
		}
		if strings.Contains(env.LogText(), v) {
			t.Errorf("a planted credential (%d chars) is in the service's logs", len(v))
		}
	}
	admin.noExceptions()
}

// pageContents is everything the page holds that a script or a person could
// read back: its markup and text, every field's current value, its storage,
// cookies, databases and caches, and the console.
func pageContents(p *page) map[string]string {
	p.t.Helper()
	out := eval[map[string]string](p, `(async () => ({
		markup: document.documentElement.outerHTML,
		text: document.body.innerText,
		fields: [...document.querySelectorAll("input, textarea, select")].map(e => e.value).join("\n"),
		localStorage: JSON.stringify(Object.entries(localStorage)),
		sessionStorage: JSON.stringify(Object.entries(sessionStorage)),
		cookies: document.cookie,
		indexedDB: JSON.stringify(await indexedDB.databases()),
		caches: JSON.stringify(await caches.keys()),
		url: location.href,
	}))()`)
	out["console"] = strings.Join(p.consoleLines(), "\n")
	if len(out) < 10 || out["markup"] == "" {
		p.t.Fatalf("could not read the page's contents: %v", out)
	}
	return out
}
