package browsertest

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/store"
)

// TestTestAccountSupportAndRollout drives the real API (issue 15 §1, §2,
// §5): the admin sets a support contact and user guidance in the settings
// form, which members see on Connected apps; connects the organization's
// test account from "Test after changes" (provider, back to the console,
// completed with the admin's token); the test runs as it and says so; the
// rollout figures come from the API; the test account is disconnected with
// a confirmation.
func TestTestAccountSupportAndRollout(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env)
	tester := "tester@" + fakeprovider.DefaultGoogleDomain
	env.Fake.AddUser(fakeprovider.User{Provider: google, Email: tester, HostedDomain: fakeprovider.DefaultGoogleDomain})

	admin := newPage(t, "admin")
	admin.navigate(env.URL + "/")
	admin.devSignIn("u-alice", org, true, "")

	// Support contact and guidance, through the settings form.
	admin.click(googleCard + " button[data-action=edit]")
	admin.waitFor("the support fields", `!!document.querySelector("#ed-google_workspace-supportContact-name")`)
	admin.fill(googleEditorID+"-supportContact-name", "IT Help")
	admin.fill(googleEditorID+"-supportContact-email", "it-help@example.com")
	// (An empty textarea has no text node for chromedp's Clear: type into it.)
	admin.do(chromedp.SendKeys(chromedp.CSS(googleEditorID+"-userGuidance"), "Use it to find meetings."))
	admin.click(googleEditorID + "-form button[type=submit]")
	admin.waitText(googleEditorID+"-form .save-result", "Saved.")
	in, err := env.Deps.Store.GetIntegration(t.Context(), org, google)
	if err != nil || in.SupportContact == nil || *in.SupportContact != (store.SupportContact{Name: "IT Help", Email: "it-help@example.com"}) || in.UserGuidance != "Use it to find meetings." {
		t.Fatalf("stored: %+v %q %v", in.SupportContact, in.UserGuidance, err)
	}
	admin.waitText(googleCard+" .facts", "IT Help, it-help@example.com")
	admin.click(googleEditorID + "-close")

	bob := newPage(t, "bob")
	bob.navigate(env.URL + "/")
	bob.devSignIn("u-bob", org, false, "")
	bob.waitText(googleApp+" .support", "IT Help, it-help@example.com")
	bob.waitText(googleApp+" .guidance", "Use it to find meetings.")

	// The test account, from "Test after changes".
	admin.click(googleCard + " button[data-action=test]")
	admin.waitText(googleCard+" .test-account", "No test account is connected")
	admin.fill("#test-google_workspace-loginHint", tester)
	admin.click(googleCard + " button[data-action=connect-test-account]")
	admin.returnFromProvider(env)
	admin.devSignIn("u-alice", org, true, "")
	admin.waitText("#notice", "Google Workspace test account connected as "+tester+".")
	admin.waitText(googleCard+" .facts", tester+" (connected)")
	if c := env.Connection(org, store.TestAccountUserID, google); c == nil || c.Account.Email != tester {
		t.Fatalf("stored test account: %+v", c)
	}
	if c := env.Connection(org, "u-alice", google); c != nil {
		t.Fatal("the test account was stored as the admin's own connection")
	}
	admin.click(googleCard + " button[data-action=test]")
	admin.click("#integration-google_workspace-test button[type=submit]")
	admin.waitText("#integration-google_workspace-test .overall", "Overall: OK")
	admin.waitText("#integration-google_workspace-test", "Ran as the organization's test account ("+tester+").")
	admin.checkAccessible("test account")

	// The rollout figures, from the API.
	admin.click(googleCard + " details.rollout summary")
	figures := admin.waitText(googleCard+" details.rollout", "Last refresh run")
	for _, want := range []string{"Connected: 0", "Users in the rollout who are connected\n0", "None yet", "Users who never started connecting cannot be counted"} {
		if !strings.Contains(figures, want) {
			t.Errorf("the rollout figures lack %q:\n%s", want, figures)
		}
	}

	// Disconnected, with a confirmation.
	admin.click(googleCard + " button[data-action=disconnect-test-account]")
	admin.waitText("dialog.confirm", "Disconnect the Google Workspace test account?")
	admin.click("dialog.confirm button.danger")
	admin.waitText("#notice", "test account was removed")
	if c := env.Connection(org, store.TestAccountUserID, google); c != nil {
		t.Fatalf("the test account is still stored: %+v", c)
	}
	admin.noExceptions()
	bob.noExceptions()
}
