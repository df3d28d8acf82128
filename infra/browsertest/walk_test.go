package browsertest

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/store"
)

const (
	org            = "o-acme"
	google         = "google_workspace"
	calendarScope  = "https://www.googleapis.com/auth/calendar.readonly"
	googleCard     = "#integration-google_workspace"
	googleApp      = "#app-google_workspace"
	googleEditorID = "#ed-google_workspace"
)

// TestWalk is the walk, each step asserted on what the console
// shows and on what the service stored:
//  1. the admin enables Google Workspace for a pilot group;
//  2. a pilot user connects through the fake provider's consent page, unticks
//     a scope, and the console shows the missing permission;
//  3. the user reconnects, granting everything, and the connection completes;
//  4. they run diagnostics;
//  5. the admin runs "Test after changes" (first without a test account,
//     then with their own connection);
//  6. the user disconnects.
//
// It saves the README's screenshots under docs/.
func TestWalk(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)), localtest.WithFakeOptions(fakeprovider.Options{AutoApprove: false}))

	// 1. The admin enables Google Workspace for the pilot group.
	admin := newPage(t, "admin")
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "pilot")
	admin.waitText("nav", "Integrations")
	admin.waitText(googleCard+" .status", "Status: Disabled")
	admin.waitText(googleCard+" .facts", "Available in this environment")
	admin.checkAccessible("Integrations tab")
	admin.click(googleCard + " button[data-action=edit]")
	admin.setChecked(googleEditorID+"-cap-email", true)
	admin.setChecked(googleEditorID+"-cap-calendar", true)
	admin.setChecked(googleEditorID+"-mode-default", true)
	admin.setChecked(googleEditorID+"-rollout-groups", true)
	admin.fill(googleEditorID+"-groups", "pilot")
	admin.setChecked(googleEditorID+"-enabled", true)
	admin.checkAccessible("settings form")
	admin.click(googleEditorID + "-form button[type=submit]")
	admin.waitText(googleEditorID+"-form .save-result", "Saved. Google Workspace is now: Ready.")
	admin.waitText(googleCard+" .status", "Status: Ready")
	admin.waitText(googleCard+" .facts", "Pilot groups: pilot")
	admin.waitText(googleCard+" table.capabilities", "Email")
	stored, err := env.Deps.Store.GetIntegration(t.Context(), org, google)
	if err != nil || !stored.Enabled || stored.Rollout.Mode != store.RolloutGroups || !slices.Equal(stored.Rollout.Groups, []string{"pilot"}) ||
		!slices.Equal(stored.Capabilities, []string{"email", "calendar"}) {
		t.Fatalf("stored integration %+v (%v): want enabled, email and calendar, pilot only", stored, err)
	}
	admin.click(googleEditorID + "-close")
	admin.screenshot("console-integrations.png")

	// 2. A pilot user connects, unticking the calendar permission.
	bob := newPage(t, "bob")
	bob.navigate(env.URL + "/")
	bob.devSignIn("u-bob", org, false, "pilot")
	bob.waitText(googleApp+" .status", "Not connected")
	if strings.Contains(bob.text("nav"), "Integrations") {
		t.Error("a member sees the admins' Integrations tab")
	}
	bob.checkAccessible("Connected apps")
	bob.click(googleApp + " button[data-action=connect]")
	bob.waitText("h1", "Sign in to the fake Google Workspace")
	bob.setChecked(`input[name=scope][value="`+calendarScope+`"]`, false)
	bob.click(`button[name=decision][value=allow]`)
	bob.returnFromProvider(env)
	if c := env.Connection(org, "u-bob", google); c != nil {
		t.Fatalf("a connection exists before the user completed it: %+v", c)
	}
	bob.devSignIn("u-bob", org, false, "pilot") // the token lived in the tab's memory only
	bob.waitText("#notice", "Google Workspace connected as "+fakeprovider.DefaultGoogleUser+". Some permissions were not granted")
	bob.waitText(googleApp+" .status", "Status: Connected")
	missing := bob.waitText(googleApp+" .missing", "Missing permission: Calendar")
	if !strings.Contains(missing, ": read "+calendarScope) {
		t.Errorf("the missing permission does not say it is calendar reading, %s: %q", calendarScope, missing)
	}
	if usable := bob.text(googleApp + " .usable"); !strings.HasPrefix(usable, "Email") || strings.Contains(usable, "Calendar") {
		t.Errorf("usable capabilities shown: %q, want Email only", usable)
	}
	if c := env.Connection(org, "u-bob", google); c == nil || !slices.Contains(c.MissingScopes, calendarScope) {
		t.Fatalf("stored connection %+v: want one missing %s", c, calendarScope)
	}
	bob.screenshot("console-connected-apps.png")

	// 3. The user reconnects and grants everything.
	bob.click(googleApp + " button[data-action=connect]")
	bob.waitText("h1", "Sign in to the fake Google Workspace")
	bob.click(`button[name=decision][value=allow]`)
	bob.returnFromProvider(env)
	bob.devSignIn("u-bob", org, false, "pilot")
	bob.waitText("#notice", "Google Workspace connected as "+fakeprovider.DefaultGoogleUser+".")
	bob.waitText(googleApp+" .account", fakeprovider.DefaultGoogleUser)
	bob.waitText(googleApp+" .usable", "Calendar")
	bob.waitFor("the missing permissions to go", `!document.querySelector("#app-google_workspace .missing")`)
	if c := env.Connection(org, "u-bob", google); c == nil || len(c.MissingScopes) != 0 {
		t.Fatalf("stored connection after reconnecting %+v: want every scope granted", c)
	}

	// 4. Diagnostics: why doesn't it work? It does.
	bob.click(googleApp + " button[aria-controls=diag-google_workspace]")
	bob.do(setSelect("#diag-google_workspace-capability", "calendar"))
	bob.click("#diag-google_workspace button[type=submit]")
	bob.waitText("#diag-google_workspace .overall", "Overall: OK")
	checks := bob.waitText("#diag-google_workspace .checks", "Permissions granted")
	for _, want := range []string{"Provider enabled for the organization", "User in the rollout", "Account connected", "Permission in the external system"} {
		if !strings.Contains(checks, want) {
			t.Errorf("diagnostics checklist lacks %q:\n%s", want, checks)
		}
	}
	if n := eval[int](bob, `document.querySelectorAll("#diag-google_workspace li.check[data-status=pass]").length`); n < 8 {
		t.Errorf("%d checks pass, want at least 8 (the item check is skipped without an item)", n)
	}
	bob.checkAccessible("diagnostics")
	bob.screenshot("console-diagnostics.png")

	// 5. Test after changes: the admin has no connection yet, then connects.
	admin.click(googleCard + " button[data-action=test]")
	admin.click("#integration-google_workspace-test button[type=submit]")
	admin.waitText("#integration-google_workspace-test .overall", "Overall: Blocked")
	first := admin.text(`#integration-google_workspace-test li[data-check=test_account_connected]`)
	if !strings.Contains(first, "Fail") || !strings.Contains(first, "Who can fix it") {
		t.Errorf("test account step without a connection: %q", first)
	}
	admin.click(`nav a[href="#/apps"]`)
	admin.click(googleApp + " button[data-action=connect]")
	admin.waitText("h1", "Sign in to the fake Google Workspace")
	admin.click(`button[name=decision][value=allow]`)
	admin.returnFromProvider(env)
	admin.devSignIn("u-alice", org, true, "pilot")
	admin.waitText(googleApp+" .status", "Status: Connected")
	admin.click(`nav a[href="#/integrations"]`)
	admin.click(googleCard + " button[data-action=test]")
	admin.click("#integration-google_workspace-test button[type=submit]")
	admin.waitText("#integration-google_workspace-test .overall", "Overall: OK")
	report := admin.text("#integration-google_workspace-test .checklist")
	for _, want := range []string{"Test account connected", "Read Email", "Read Calendar", "Nothing was written to the provider."} {
		if !strings.Contains(report, want) {
			t.Errorf("test after changes lacks %q:\n%s", want, report)
		}
	}
	admin.checkAccessible("test after changes")

	// The audit trail has the admin's change.
	admin.click(`nav a[href="#/audit"]`)
	admin.waitText("table.audit tbody", "Integration set up")
	if row := admin.text("table.audit tbody tr"); !strings.Contains(row, "u-alice") || !strings.Contains(row, "Google Workspace") {
		t.Errorf("audit row %q: want the admin and the provider", row)
	}
	admin.checkAccessible("audit")

	// 6. The user disconnects, with a confirmation.
	bob.click(googleApp + " button[data-action=disconnect]")
	bob.waitText("dialog.confirm", "Disconnect Google Workspace?")
	bob.click("dialog.confirm button.danger")
	bob.waitText("#notice", "Google Workspace disconnected.")
	bob.waitText(googleApp+" .status", "Not connected")
	if c := env.Connection(org, "u-bob", google); c != nil {
		t.Errorf("the connection is still stored after disconnecting: %+v", c)
	}

	admin.noExceptions()
	bob.noExceptions()
}

// returnFromProvider waits for the browser to come back from the provider
// to the console with a pending completion, which asks the user to sign in
// to finish and has left the address bar (and the tab's history).
func (p *page) returnFromProvider(env *localtest.Env) {
	p.t.Helper()
	p.returnToConsole(env, "the provider", "Sign in to finish connecting your account.")
}

// returnToConsole waits for the console, back from the provider's page
// (after), to ask for a sign-in with says, and checks that the callback's
// parameters have left the address bar.
func (p *page) returnToConsole(env *localtest.Env, after, says string) {
	p.t.Helper()
	p.waitFor("the console after "+after, `location.origin === `+js(env.URL)+` && !!document.querySelector("#dev-sign-in")`)
	p.waitText("#main", says)
	u, err := url.Parse(p.location())
	if err != nil {
		p.t.Fatal(err)
	}
	if u.RawQuery != "" {
		p.t.Errorf("the console left the callback's parameters in the address bar: %s", u.Redacted())
	}
}

// TestOnlyTheStarterCompletes: the browser that comes back from the
// provider is signed in as someone else (a shared machine, or a link sent
// to a colleague). Posting the completion with their token connects nobody,
// and the console says why; a refused provider answer is reported as such.
func TestOnlyTheStarterCompletes(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env)
	p := newPage(t, "shared machine")
	p.navigate(env.URL + "/")
	p.devSignIn("u-bob", org, false, "")
	p.click(googleApp + " button[data-action=connect]")
	p.returnFromProvider(env)
	p.devSignIn("u-carol", org, false, "")
	p.waitText("#notice", "started by someone else")
	p.waitText(googleApp+" .status", "Not connected")
	for _, user := range []string{"u-bob", "u-carol"} {
		if c := env.Connection(org, user, google); c != nil {
			t.Errorf("%s has a connection after a completion posted by another user: %+v", user, c)
		}
	}

	// The provider refuses (the user denied access): nothing to finish.
	env.Fake.Inject(fakeprovider.Fault{Provider: google, Kind: fakeprovider.KindAuthorize, Error: "access_denied", Times: 1})
	p.click(googleApp + " button[data-action=connect]")
	p.waitText("#notice", "You declined access at the provider.")
	p.noExceptions()
}
