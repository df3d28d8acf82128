package browsertest

import (
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
)

// TestGrantTheNewPermissions drives the real API (issue 16 §1): Bob
// connected Google Workspace when the organization used email only; the
// admin adds calendar. Connected apps says he needs to consent, names the
// calendar permission, keeps email usable, and offers "Grant the new
// permissions", which takes him to the provider and back; then calendar is
// usable too and nothing is missing.
func TestGrantTheNewPermissions(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env) // email only
	env.Connect(env.MemberToken("u-bob", org), org, google, nil)
	if resp := env.DoHeaders("PUT", "/v1/orgs/"+org+"/integrations/"+google, env.AdminToken("u-seed", org), map[string]any{
		"enabled": true, "configMode": "default", "capabilities": []string{"email", "calendar"}, "rollout": map[string]any{"mode": "everyone"},
	}, map[string][]string{"If-Match": {"*"}}); resp.Status != 200 {
		t.Fatalf("adding calendar: %s", resp)
	}

	bob := newPage(t, "bob")
	bob.navigate(env.URL + "/")
	bob.devSignIn("u-bob", org, false, "")
	note := bob.waitText(googleApp+` .missing[data-needs-consent="true"]`, "Your organization asks for more permissions than you granted.")
	if !strings.Contains(note, "Missing permission: Calendar") || !strings.Contains(note, calendarScope) {
		t.Errorf("the note does not name the calendar permission: %q", note)
	}
	if usable := bob.text(googleApp + " .usable"); usable != "Email (Gmail)" {
		t.Errorf("usable capabilities shown: %q, want Email (it keeps working)", usable)
	}
	bob.waitText(googleApp+" button[data-action=connect]", "Grant the new permissions")
	bob.checkAccessible("a connection that needs consent")

	bob.click(googleApp + " button[data-action=connect]")
	bob.returnFromProvider(env)
	bob.devSignIn("u-bob", org, false, "")
	bob.waitText("#notice", "Google Workspace connected as "+fakeprovider.DefaultGoogleUser+".")
	bob.waitText(googleApp+" .usable", "Email (Gmail), Calendar (Google Calendar)")
	bob.waitFor("the missing permissions to go", `!document.querySelector("#app-google_workspace .missing")`)
	bob.waitText(googleApp+" button[data-action=connect]", "Reconnect")
	if c := env.Connection(org, "u-bob", google); c == nil || !slices.Contains(c.GrantedScopes, calendarScope) {
		t.Fatalf("stored connection %+v: want calendar granted", c)
	}
	bob.noExceptions()
}
