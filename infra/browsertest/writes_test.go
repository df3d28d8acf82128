package browsertest

import (
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	prov "github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

const (
	microsoft = "microsoft365"
	msCard    = "#integration-microsoft365"
	googleRun = "#integration-google_workspace-test"
)

// TestWriteTestInTheConsole drives the real API (issue 15 §3): the "Also
// test write actions" box is offered only when the organization allows
// write actions; without a test account the API's refusal is shown in its
// own words; with the organization's test account each write step shows
// its confirmations (created, the id, deleted and when); a delete the
// provider keeps failing shows the id to clean up, and the item is really
// still in the test account.
func TestWriteTestInTheConsole(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env) // email only, writes not allowed
	tester := "writer@" + fakeprovider.DefaultGoogleDomain
	env.Fake.AddUser(fakeprovider.User{Provider: google, Email: tester, HostedDomain: fakeprovider.DefaultGoogleDomain})

	admin := newPage(t, "admin")
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.click(googleCard + " button[data-action=test]")
	admin.waitFor("the test form", `!!document.querySelector("#integration-google_workspace-test form")`)
	if eval[bool](admin, `!!document.querySelector("#test-google_workspace-writes")`) {
		t.Fatal("the write test is offered while the organization does not allow write actions")
	}

	// Writes allowed: the box is there; without a test account the API
	// refuses, and the console says why.
	if resp := env.DoHeaders("PUT", "/v1/orgs/"+org+"/integrations/"+google, env.AdminToken("u-seed", org), map[string]any{
		"enabled": true, "configMode": "default", "capabilities": []string{"email", "calendar"}, "allowWriteActions": true,
		"rollout": map[string]any{"mode": "everyone"},
	}, map[string][]string{"If-Match": {"*"}}); resp.Status != 200 {
		t.Fatalf("allowing writes: %s", resp)
	}
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.click(googleCard + " button[data-action=test]")
	admin.setChecked("#test-google_workspace-writes", true)
	admin.checkAccessible("the test form with writes")
	admin.click(googleRun + " button[type=submit]")
	refusal := admin.waitText(googleRun+` .error[data-code="test_account_required"]`, "test account")
	if strings.Contains(refusal, "Overall") {
		t.Errorf("a refused test shows a checklist: %q", refusal)
	}
	if n := env.Fake.Count(fakeprovider.Filter{Provider: google, Kind: fakeprovider.KindCreate}); n != 0 {
		t.Fatalf("a refused test created %d items", n)
	}

	// The organization's test account, connected after writes were
	// allowed (so it grants the write scopes).
	start := env.Do("POST", "/v1/orgs/"+org+"/integrations/"+google+"/test-account", env.AdminToken("u-alice", org),
		map[string]any{"returnTo": localtest.ReturnURL, "loginHint": tester})
	authURL, _ := start.Object()["authorizationUrl"].(string)
	if start.Status != 201 || authURL == "" {
		t.Fatalf("test account start: %s", start)
	}
	if done := env.Complete(env.AdminToken("u-alice", org), org, env.Authorize(authURL)); done.Status != 200 {
		t.Fatalf("test account completion: %s", done)
	}
	if c := env.Connection(org, store.TestAccountUserID, google); c == nil || c.Account.Email != tester {
		t.Fatalf("stored test account: %+v", c)
	}

	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.click(googleCard + " button[data-action=test]")
	admin.setChecked("#test-google_workspace-writes", true)
	admin.click(googleRun + " button[type=submit]")
	admin.waitText(googleRun+" .overall", "Overall: OK")
	admin.waitText(googleRun, "Ran as the organization's test account ("+tester+").")
	admin.waitText(googleRun, "Test items were created and deleted")
	ids := map[string]string{}
	for _, step := range []string{"write_email", "write_calendar"} {
		sel := googleRun + ` li[data-check="` + step + `"] .write-confirmation`
		text := admin.waitText(sel, "Test item")
		id := eval[string](admin, `document.querySelector(`+js(sel)+`).dataset.itemId`)
		if id == "" || !strings.Contains(text, "Yes, id "+id) || !strings.Contains(text, "Deleted\nYes (") ||
			eval[string](admin, `document.querySelector(`+js(sel)+`).dataset.deleted`) != "true" {
			t.Errorf("%s confirmations: %q (id %q)", step, text, id)
		}
		ids[step] = id
	}
	if ids["write_email"] == ids["write_calendar"] {
		t.Errorf("the write steps show the same id: %v", ids)
	}
	if n := eval[int](admin, `document.querySelectorAll("#integration-google_workspace-test .write-cleanup").length`); n != 0 {
		t.Errorf("%d clean-up notes after a test that deleted everything", n)
	}
	if n := env.Fake.Count(fakeprovider.Filter{Provider: google, Kind: fakeprovider.KindCreate, User: tester, Outcome: fakeprovider.OutcomeOK}); n != 2 {
		t.Errorf("the fake served %d creates, want 2", n)
	}
	if left := writeTestItems(t, env, tester); len(left) != 0 {
		t.Errorf("the test left items behind: %+v", left)
	}
	admin.checkAccessible("write confirmations")

	// The provider keeps failing the first delete (and its retry): that
	// step fails and shows the id to clean up.
	remove := env.Fake.Inject(fakeprovider.Fault{Provider: google, Kind: fakeprovider.KindDelete, User: tester, Status: 503, RetryAfter: time.Second, Times: 2})
	defer remove()
	admin.click(googleRun + " button[type=submit]")
	cleanup := admin.waitText(googleRun+" .write-cleanup", "Clean up: the test item is still in the test account, with the id ")
	failed := eval[string](admin, `(() => { const li = document.querySelector("#integration-google_workspace-test li.check[data-status=fail] .write-confirmation"); return li ? li.dataset.itemId : ""; })()`)
	if failed == "" || !strings.Contains(cleanup, failed) {
		t.Fatalf("the clean-up note %q does not name the failed step's id %q", cleanup, failed)
	}
	admin.waitText(googleRun, "Test items were created; one was not deleted: see the steps for the ids to clean up.")
	admin.waitText(googleRun+` li[data-check="write_email"]`, "Write Email (Gmail) (with a test item)")
	if left := writeTestItems(t, env, tester); len(left) != 1 || !strings.HasSuffix(failed, left[0].ID) {
		t.Errorf("the fake holds %+v, want the item %s", left, failed)
	}
	admin.noExceptions()
}

// writeTestItems are the items the write test left in the account at the
// fake, named as the write test names them.
func writeTestItems(t *testing.T, env *localtest.Env, email string) []fakeprovider.Item {
	t.Helper()
	u, ok := env.Fake.User(google, email)
	if !ok {
		t.Fatalf("no account %s", email)
	}
	var out []fakeprovider.Item
	for _, it := range u.Items {
		if it.Name == prov.TestItemSubject || strings.HasPrefix(it.Name, "integration-test-") {
			out = append(out, it)
		}
	}
	return out
}

// TestAdminConsentInTheConsole drives the real API (issue 15 §4): the
// Microsoft 365 card (only it: the catalog's adminConsent) says no admin
// consent was given and offers it; the administrator refuses at Microsoft
// (the fake), and the console, back from the callback, says so with the
// code, clears the address bar and shows the refusal as recorded; then the
// administrator grants it, and the card shows it granted for the tenant,
// as the service stored it.
func TestAdminConsentInTheConsole(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env)
	if resp := env.Do("PUT", "/v1/orgs/"+org+"/integrations/"+microsoft, env.AdminToken("u-seed", org), map[string]any{
		"enabled": true, "configMode": "default", "tenant": fakeprovider.DefaultMicrosoftTenantID,
		"capabilities": []string{"email", "calendar"}, "rollout": map[string]any{"mode": "everyone"},
	}); resp.Status != 201 {
		t.Fatalf("seed Microsoft 365: %s", resp)
	}

	admin := newPage(t, "admin")
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.waitText(msCard+" .facts", "Admin consent")
	admin.waitText(msCard+` [data-admin-consent="none"]`, "Not granted")
	admin.waitText(msCard+" button[data-action=admin-consent]", "Grant admin consent for the organization")
	if eval[bool](admin, `!!document.querySelector("#integration-google_workspace button[data-action=admin-consent]") || /Admin consent/.test(document.querySelector("#integration-google_workspace .facts").innerText)`) {
		t.Error("Google Workspace offers an admin consent; the catalog gives it to Microsoft 365 only")
	}
	admin.checkAccessible("the Microsoft 365 card")

	// Refused at Microsoft.
	remove := env.Fake.Inject(fakeprovider.Fault{Provider: microsoft, Kind: fakeprovider.KindAdminConsent, Error: "access_denied", Times: 1})
	defer remove()
	admin.click(msCard + " button[data-action=admin-consent]")
	admin.returnFromAdminConsent(env)
	admin.waitText("#notice", "Admin consent for Microsoft 365 was not granted. The administrator declined to grant the permissions. (code access_denied)")
	admin.devSignIn("u-alice", org, true, "")
	admin.waitFor("the Integrations tab", `location.hash === "#/integrations"`)
	admin.waitText(msCard+` [data-admin-consent="refused"]`, "Refused (access_denied)")
	in, err := env.Deps.Store.GetIntegration(t.Context(), org, microsoft)
	if err != nil || in.AdminConsent == nil || in.AdminConsent.Granted || in.AdminConsent.Error != "access_denied" || in.AdminConsent.By != "u-alice" {
		t.Fatalf("stored admin consent after the refusal: %+v (%v)", in.AdminConsent, err)
	}

	// Granted.
	admin.click(msCard + " button[data-action=admin-consent]")
	admin.returnFromAdminConsent(env)
	admin.waitText("#notice", "Admin consent granted: an administrator granted the Microsoft 365 permissions for the whole organization.")
	admin.devSignIn("u-alice", org, true, "")
	admin.waitFor("the Integrations tab", `location.hash === "#/integrations"`)
	shown := admin.waitText(msCard+` [data-admin-consent="granted"]`, "Granted for tenant "+fakeprovider.DefaultMicrosoftTenantID)
	in, err = env.Deps.Store.GetIntegration(t.Context(), org, microsoft)
	ac := in.AdminConsent
	if err != nil || ac == nil || !ac.Granted || ac.Tenant != fakeprovider.DefaultMicrosoftTenantID || ac.By != "u-alice" || ac.Error != "" || len(ac.Scopes) == 0 || ac.At.IsZero() {
		t.Fatalf("stored admin consent: %+v (%v)", ac, err)
	}
	if !strings.Contains(shown, "by u-alice") {
		t.Errorf("the card does not say who asked: %q", shown)
	}
	admin.waitText("#notice", "Admin consent granted") // still said after signing in
	admin.checkAccessible("the recorded admin consent")
	admin.noExceptions()
}

// returnFromAdminConsent waits for the console after Microsoft (the fake)
// and the callback, and checks the callback's parameters left the
// address bar.
func (p *page) returnFromAdminConsent(env *localtest.Env) {
	p.t.Helper()
	p.returnToConsole(env, "the admin consent", "Sign in to see the recorded admin consent")
}

// TestAdminConsentWaitsForTheIntegration: before Microsoft 365 is enabled
// the admin consent button is there but disabled, and its help says to
// enable the integration first (the API would refuse the consent); once it
// is enabled, the button works and the help no longer says so.
func TestAdminConsentWaitsForTheIntegration(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env)
	button := msCard + " button[data-action=admin-consent]"
	help := "#integration-microsoft365-admin-consent-help"

	admin := newPage(t, "admin")
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.waitText(help, "Enable Microsoft 365 first.")
	if !eval[bool](admin, `document.querySelector(`+js(button)+`).disabled`) {
		t.Fatal("the admin consent button is enabled while Microsoft 365 is not")
	}

	if resp := env.Do("PUT", "/v1/orgs/"+org+"/integrations/"+microsoft, env.AdminToken("u-seed", org), map[string]any{
		"enabled": true, "configMode": "default", "tenant": fakeprovider.DefaultMicrosoftTenantID,
		"capabilities": []string{"email"}, "rollout": map[string]any{"mode": "everyone"},
	}); resp.Status != 201 {
		t.Fatalf("enable Microsoft 365: %s", resp)
	}
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	admin.waitText(help, "grants the permissions of the enabled capabilities")
	admin.waitFor("the admin consent button to be enabled", `!document.querySelector(`+js(button)+`).disabled`)
	if strings.Contains(admin.text(help), "first") {
		t.Errorf("the help still asks to enable Microsoft 365: %q", admin.text(help))
	}
	admin.noExceptions()
}
