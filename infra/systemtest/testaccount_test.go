package systemtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// startTestAccount starts the org's test account as token's admin and plays
// the browser up to the callback's redirect: the outcome parameters.
func (w *world) startTestAccount(t *testing.T, org, token, provider, loginHint string) url.Values {
	t.Helper()
	resp := w.do(t, "POST", integrationPath(org, provider)+"/test-account", token,
		map[string]any{"returnTo": localtest.ReturnURL + "settings/integrations", "loginHint": loginHint}, nil)
	want(t, resp, 201, "")
	u, _ := resp.Object()["authorizationUrl"].(string)
	return pending(t, w.callback(t, w.toCallback(t, u)))
}

// completeWith posts a completion handle with token.
func (w *world) completeWith(t *testing.T, org, token string, out url.Values) *localtest.Response {
	t.Helper()
	return w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+out.Get("provider")+"/complete", token,
		map[string]any{"completion": out.Get("completion")}, nil)
}

type testAccountView struct {
	TestAccount *struct {
		Account struct{ Email string } `json:"account"`
		Status  string                 `json:"status"`
	} `json:"testAccount"`
}

// TestTestAccount (issue 15 §2), on the embedded store and on the AWS
// adapters with the fake provider: an admin connects the org's test account
// through start → provider → callback → complete, outside the pilot
// rollout; only that admin completes it, and it is nobody's own
// connection; it is listed on the integration, audited, kept fresh by the
// refresh schedule, used by "Test after changes" (which says so), and
// disconnected with its grant revoked.
func TestTestAccount(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, append([]localtest.Option{localtest.WithClock(morning)}, s.opts...)...)
			const org, provider = "org-testacct", catalog.GoogleWorkspace
			tester := w.account(provider, "tester")
			admin, bob := w.admin(org), w.member(org, "u-bob")
			adminID := "u-admin-" + org
			body := integrationBody(provider)
			body["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot"}} // nobody here is in it
			want(t, w.do(t, "PUT", integrationPath(org, provider), admin, body, nil), 201, "")

			// Members cannot start or remove it.
			want(t, w.do(t, "POST", integrationPath(org, provider)+"/test-account", bob, map[string]any{"returnTo": localtest.ReturnURL}, nil), 403, "forbidden")
			want(t, w.do(t, "DELETE", integrationPath(org, provider)+"/test-account", bob, nil, nil), 403, "forbidden")

			// A member who holds the handle (the link was followed in their
			// browser) gets nothing, and the handle is spent.
			out := w.startTestAccount(t, org, admin, provider, tester)
			want(t, w.completeWith(t, org, bob, out), 404, "completion_not_found")
			want(t, w.completeWith(t, org, admin, out), 404, "completion_not_found")
			if c := w.conn(org, store.TestAccountUserID, provider); c != nil {
				t.Fatalf("a refused completion stored the test account: %+v", c)
			}
			if c := w.conn(org, "u-bob", provider); c != nil {
				t.Fatal("the member got the test account's tokens as their own connection")
			}

			// The admin completes it, outside the pilot rollout.
			out = w.startTestAccount(t, org, admin, provider, tester)
			resp := w.completeWith(t, org, admin, out)
			want(t, resp, 200, "")
			if got := resp.Object(); got["testAccount"] != true || got["account"].(map[string]any)["email"] != tester {
				t.Fatalf("completion answer: %s", resp.Body)
			}
			ta := w.conn(org, store.TestAccountUserID, provider)
			if ta == nil || ta.Account.Email != tester || ta.Status != store.StatusConnected || ta.NextRefreshAt.IsZero() || ta.ConnectGroups != nil {
				t.Fatalf("stored test account: %+v", ta)
			}
			if c := w.conn(org, adminID, provider); c != nil {
				t.Fatal("the test account was stored as the admin's own connection")
			}
			for _, tok := range []string{admin, bob} {
				var l struct{ Connections []any }
				_ = w.do(t, "GET", "/v1/orgs/"+org+"/connections", tok, nil, nil).Decode(&l)
				if len(l.Connections) != 0 {
					t.Fatalf("a user's listing holds the test account: %+v", l.Connections)
				}
			}

			// Listed on the integration, for admins only.
			var v testAccountView
			_ = w.do(t, "GET", integrationPath(org, provider), admin, nil, nil).Decode(&v)
			if v.TestAccount == nil || v.TestAccount.Account.Email != tester || v.TestAccount.Status != "connected" {
				t.Fatalf("integration's test account: %+v", v.TestAccount)
			}
			cards := w.do(t, "GET", "/v1/orgs/"+org+"/integrations", bob, nil, nil)
			if strings.Contains(string(cards.Body), tester) {
				t.Fatal("a member's cards show the test account")
			}

			// The admin's own flow (they join the pilot) stays their own
			// connection.
			pilotAdmin := w.env.Token(adminID, org, []string{w.env.Config.Claims.AdminRole}, []string{"pilot"})
			want(t, w.completeWith(t, org, pilotAdmin, pending(t, w.callback(t, w.toCallback(t, w.start(t, org, pilotAdmin, provider, ""))))), 200, "")
			if own := w.conn(org, adminID, provider); own == nil || own.Account.Email == tester {
				t.Fatalf("the admin's own connection: %+v", own)
			}
			if again := w.conn(org, store.TestAccountUserID, provider); again.Account.Email != tester || again.Version != ta.Version {
				t.Fatalf("the admin's own flow changed the test account: %+v", again)
			}

			// "Test after changes" runs as the test account.
			var rep struct {
				User    string
				Account struct{ Source, Email, UserID string }
				Overall string
			}
			if err := w.do(t, "POST", integrationPath(org, provider)+"/test", admin, nil, nil).Decode(&rep); err != nil {
				t.Fatal(err)
			}
			if rep.Account.Source != "test_account" || rep.Account.Email != tester || rep.User != adminID || rep.Overall != "ok" {
				t.Fatalf("test report: %+v", rep)
			}

			// The refresh schedule keeps it fresh.
			before := w.tokens(t, ta)
			w.env.Clock.Advance(55 * time.Minute)
			if r := w.refresh(t); r.Refreshed < 2 || r.Errors != 0 {
				t.Fatalf("refresh run: %+v", r)
			}
			ta = w.conn(org, store.TestAccountUserID, provider)
			if after := w.tokens(t, ta); after.AccessToken == before.AccessToken || ta.LastRefreshAt.IsZero() || ta.Status != store.StatusConnected {
				t.Fatalf("the test account was not refreshed: %+v", ta)
			}

			// Disconnected: revoked at Google (no other connection holds its
			// grant), removed, audited; the test falls back to the admin's own
			// connection.
			revoked := revocations(w, provider)
			resp = w.do(t, "DELETE", integrationPath(org, provider)+"/test-account", admin, nil, nil)
			want(t, resp, 200, "")
			if got := resp.Object(); got["deleted"] != true || got["revocation"] != "revoked" || revocations(w, provider) != revoked+1 {
				t.Fatalf("disconnect: %s (revocations %d → %d)", resp.Body, revoked, revocations(w, provider))
			}
			if w.conn(org, store.TestAccountUserID, provider) != nil || w.live(w.tokens(t, ta).AccessToken) {
				t.Fatal("the test account or its tokens survived the disconnect")
			}
			_ = w.do(t, "GET", integrationPath(org, provider), admin, nil, nil).Decode(&v)
			if v.TestAccount != nil {
				t.Fatalf("the integration still lists a test account: %+v", v.TestAccount)
			}
			if err := w.do(t, "POST", integrationPath(org, provider)+"/test", admin, nil, nil).Decode(&rep); err != nil || rep.Account.Source != "own_connection" || rep.Account.UserID != adminID {
				t.Fatalf("test report without a test account: %+v %v", rep, err)
			}
			resp = w.do(t, "DELETE", integrationPath(org, provider)+"/test-account", admin, nil, nil)
			if got := resp.Object(); resp.Status != 200 || got["deleted"] != false || got["revocation"] != "none" {
				t.Fatalf("second disconnect: %s", resp)
			}

			// The audit trail: connected, then disconnected, by the admin.
			var trail []string
			for _, e := range w.audit(t, org) {
				if e.Provider == provider && (e.Action == "test_account.connected" || e.Action == "test_account.disconnected") {
					if e.Actor != adminID || len(e.Changes) != 1 || e.Changes[0].Field != "testAccount" {
						t.Fatalf("audit entry: %+v", e)
					}
					trail = append(trail, e.Action+" "+e.Changes[0].Old+" → "+e.Changes[0].New)
				}
			}
			if len(trail) != 2 || trail[0] != "test_account.disconnected "+tester+" → " || trail[1] != "test_account.connected  → "+tester {
				t.Fatalf("audit trail: %q", trail)
			}
		})
	}
}

// TestTestAccountKeepsASharedGrant: the admin's own connection and the
// test account are the same Google account (one grant of one client).
// Revoking the test account's tokens would end the admin's connection
// (Google revokes the whole grant), so the disconnect keeps the grant.
func TestTestAccountKeepsASharedGrant(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const org, provider = "org-shared-grant", catalog.GoogleWorkspace
	admin := w.admin(org)
	adminID := "u-admin-" + org
	w.enable(t, org, provider)
	w.connect(t, org, adminID, provider, "")
	own := w.conn(org, adminID, provider)
	out := w.startTestAccount(t, org, admin, provider, own.Account.Email)
	want(t, w.completeWith(t, org, admin, out), 200, "")

	revoked := revocations(w, provider)
	resp := w.do(t, "DELETE", integrationPath(org, provider)+"/test-account", admin, nil, nil)
	if got := resp.Object(); resp.Status != 200 || got["deleted"] != true || got["revocation"] != "shared_grant" {
		t.Fatalf("disconnect: %s", resp)
	}
	if revocations(w, provider) != revoked || !w.live(w.tokens(t, w.conn(org, adminID, provider)).AccessToken) {
		t.Fatal("the admin's own connection lost its grant")
	}
	if w.conn(org, store.TestAccountUserID, provider) != nil {
		t.Fatal("the test account was not removed")
	}
}

// TestTestAccountNeedsAnAdminToFinish: the admin who started a test account
// lost the admin role before completing it: the completion is refused and
// nothing is stored.
func TestTestAccountNeedsAnAdminToFinish(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const org, provider = "org-demoted", catalog.Salesforce
	w.enable(t, org, provider)
	out := w.startTestAccount(t, org, w.admin(org), provider, "")
	demoted := w.member(org, "u-admin-"+org)
	want(t, w.completeWith(t, org, demoted, out), 404, "completion_not_found")
	if w.conn(org, store.TestAccountUserID, provider) != nil || w.conn(org, "u-admin-"+org, provider) != nil {
		t.Fatal("a demoted admin's completion stored a connection")
	}
	// And a disabled provider refuses a test account's start like a user's.
	body := integrationBody(provider)
	body["enabled"] = false
	want(t, w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, http.Header{"If-Match": {`"1"`}}), 200, "")
	want(t, w.do(t, "POST", integrationPath(org, provider)+"/test-account", w.admin(org), map[string]any{"returnTo": localtest.ReturnURL}, nil), 409, "provider_disabled")
}
