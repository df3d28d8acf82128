package admin

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// TestRolloutFigures: each figure of the rollout view from stored
// connections, attempts and the last run's summary, under a pilot rollout
// and then under everyone.
func TestRolloutFigures(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const prov = catalog.GoogleWorkspace
	body := IntegrationInput{Enabled: enabled(true), Capabilities: []string{"email"}, Rollout: &RolloutInput{Mode: "groups", Groups: []string{"pilot", "beta"}}}
	if _, err := f.svc.PutIntegration(ctx, admin1, prov, body, Precondition{}, ""); err != nil {
		t.Fatal(err)
	}
	put := func(user, status string, groups *store.GroupsSeen, lastErr *store.ConnError) {
		t.Helper()
		c := store.Connection{ConnKey: store.ConnKey{OrgID: "o1", UserID: user, Provider: prov}, Status: status,
			ClientRef: "default", ConnectGroups: groups, LastError: lastErr, ConnectedAt: f.now.Add(-48 * time.Hour)}
		if _, err := f.store.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	seen := func(g ...string) *store.GroupsSeen { return &store.GroupsSeen{Groups: g} }
	revoked := &store.ConnError{Code: "invalid_grant", Owner: "user", Message: "The sign-in expired."}
	outage := &store.ConnError{Code: "provider_unavailable", Owner: "none"}
	put("u-01", store.StatusConnected, seen("pilot"), nil)
	put("u-02", store.StatusConnected, seen("sales", "beta"), nil)
	put("u-03", store.StatusNeedsReconnect, seen("pilot"), revoked)
	put("u-04", store.StatusNeedsReconnect, seen("pilot"), revoked)
	put("u-05", store.StatusRefreshFailing, seen("beta"), outage)
	put("u-06", store.StatusConnected, seen("sales"), nil)                                                 // outside the pilot
	put("u-07", store.StatusNeedsReconnect, seen(), revoked)                                               // no groups at all: outside
	put("u-08", store.StatusConnected, nil, nil)                                                           // connected before groups were recorded
	put("u-09", store.StatusConnected, &store.GroupsSeen{Groups: []string{"g1"}, Truncated: true}, nil)    // too many groups, pilot maybe dropped
	put("u-10", store.StatusConnected, &store.GroupsSeen{Groups: []string{"pilot"}, Truncated: true}, nil) // truncated, but pilot kept
	put("u-11", store.StatusConnected, seen("pilot"), &store.ConnError{Code: "no_refresh_token", Owner: "user"})
	// The test account is no user.
	ta := store.Connection{ConnKey: store.TestAccountKey("o1", prov), Status: store.StatusConnected, ClientRef: "default", Account: store.Account{Email: "tester@example.com"}, ConnectedAt: f.now}
	if _, err := f.store.PutConnection(ctx, ta, 0); err != nil {
		t.Fatal(err)
	}
	// Another org and another provider are not counted.
	for _, k := range []store.ConnKey{{OrgID: "o2", UserID: "u-01", Provider: prov}, {OrgID: "o1", UserID: "u-01", Provider: catalog.Salesforce}} {
		if _, err := f.store.PutConnection(ctx, store.Connection{ConnKey: k, Status: store.StatusNeedsReconnect, ClientRef: "default", LastError: revoked}, 0); err != nil {
			t.Fatal(err)
		}
	}
	attempt := func(org, user string, ago time.Duration) {
		t.Helper()
		at := f.now.Add(-ago)
		if err := f.store.RecordConnectAttempt(ctx, store.ConnectAttempt{OrgID: org, Provider: prov, UserID: user, StartedAt: at, ExpiresAt: at.Add(store.AttemptRetention)}); err != nil {
			t.Fatal(err)
		}
	}
	attempt("o1", "u-20", time.Hour)       // never completed
	attempt("o1", "u-21", 29*24*time.Hour) // never completed, 29 days ago
	attempt("o1", "u-22", 31*24*time.Hour) // forgotten (the TTL has not run yet)
	attempt("o1", "u-23", 5*time.Minute)   // still connecting
	attempt("o1", "u-03", 2*time.Hour)     // a reconnect that was never completed
	attempt("o2", "u-24", time.Hour)       // another org
	run := store.RefreshSummary{OrgID: "o1", Provider: prov, RunID: "run-1", StartedAt: f.now.Add(-3 * time.Minute), FinishedAt: f.now.Add(-2 * time.Minute),
		Outcome: store.RunOutcomeFailures, Outcomes: map[string]int{"refreshed": 7, "needs_reconnect": 1}}
	if err := f.store.PutRefreshSummary(ctx, run); err != nil {
		t.Fatal(err)
	}

	v, err := f.svc.Rollout(ctx, "o1", prov)
	if err != nil {
		t.Fatal(err)
	}
	type figures struct {
		Connections, InConnected, InFailing, Outside, Unknown, NotCompleted, Reconnects, Connecting int
		ByStatus                                                                                    map[string]int
		Causes                                                                                      []RolloutCause
	}
	got := figures{v.Connections, v.InRolloutConnected, v.InRolloutFailing, v.OutsideRollout, v.RolloutUnknown, v.StartedNotCompleted, v.ReconnectsNotCompleted, v.Connecting, v.ByStatus, v.TopCauses}
	want := figures{
		Connections: 11, InConnected: 4 /* 01 02 10 11 */, InFailing: 3 /* 03 04 05 */, Outside: 2 /* 06 07 */, Unknown: 2, /* 08 09 */
		NotCompleted: 2, Reconnects: 1, Connecting: 1,
		ByStatus: map[string]int{"connected": 7, "needs_reconnect": 3, "refresh_failing": 1, "refresh_exhausted": 0},
		Causes:   []RolloutCause{{"invalid_grant", "user", 3}, {"no_refresh_token", "user", 1}, {"provider_unavailable", "none", 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("figures\n got  %+v\n want %+v", got, want)
	}
	if v.TestAccount == nil || v.TestAccount.Account.Email != "tester@example.com" {
		t.Fatalf("test account: %+v", v.TestAccount)
	}
	if r := v.LastRefreshRun; r == nil || !r.StartedAt.Equal(run.StartedAt) || r.Outcome != "failures" || r.Counts["refreshed"] != 7 {
		t.Fatalf("last run: %+v", r)
	}
	if v.Counting == "" || v.Rollout.Mode != "groups" {
		t.Fatalf("%+v", v)
	}

	// Rolled out to everyone: every connection is in it.
	body.Rollout = &RolloutInput{Mode: "everyone"}
	if _, err := f.svc.PutIntegration(ctx, admin1, prov, body, ifMatch(1), ""); err != nil {
		t.Fatal(err)
	}
	v, err = f.svc.Rollout(ctx, "o1", prov)
	if err != nil {
		t.Fatal(err)
	}
	if v.InRolloutConnected != 7 || v.InRolloutFailing != 4 || v.OutsideRollout != 0 || v.RolloutUnknown != 0 {
		t.Fatalf("everyone: %+v", v)
	}

	// A provider nobody connected: zeros, no run, no test account.
	v, err = f.svc.Rollout(ctx, "o1", catalog.Microsoft365)
	if err != nil || v.Connections != 0 || v.LastRefreshRun != nil || v.TestAccount != nil || len(v.TopCauses) != 0 || v.ByStatus["connected"] != 0 {
		t.Fatalf("untouched provider: %+v %v", v, err)
	}
	_, err = f.svc.Rollout(ctx, "o1", "dropbox")
	wantProblem(t, err, 404, "unknown_provider")
}

// TestRolloutReadsEveryPage: more connections and attempts than one page.
func TestRolloutReadsEveryPage(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const prov, n = catalog.Salesforce, RolloutPageSize + 7
	for i := range n {
		c := store.Connection{ConnKey: store.ConnKey{OrgID: "o1", UserID: fmt.Sprintf("u-%05d", i), Provider: prov}, Status: store.StatusConnected, ClientRef: "default"}
		if i%3 == 0 {
			c.Status = store.StatusNeedsReconnect
		}
		if _, err := f.store.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		at := f.now.Add(-time.Hour)
		if err := f.store.RecordConnectAttempt(ctx, store.ConnectAttempt{OrgID: "o1", Provider: prov, UserID: fmt.Sprintf("x-%05d", i), StartedAt: at, ExpiresAt: at.Add(store.AttemptRetention)}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := f.svc.Rollout(ctx, "o1", prov)
	if err != nil {
		t.Fatal(err)
	}
	if v.Connections != n || v.ByStatus["needs_reconnect"] != (n+2)/3 || v.StartedNotCompleted != n {
		t.Fatalf("%d connections (%v), %d not completed; want %d", v.Connections, v.ByStatus, v.StartedNotCompleted, n)
	}
}

// TestRolloutCountsUsersWhoNeedConsent: the count is the stored granted
// scopes held against the scopes the integration's current settings
// request, for connections that work (one needing a reconnect needs that
// first; the test account is no user); it follows each settings change.
func TestRolloutCountsUsersWhoNeedConsent(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const prov, gauth = catalog.GoogleWorkspace, "https://www.googleapis.com/auth/"
	body := IntegrationInput{Enabled: enabled(true), Capabilities: []string{"email"}, Rollout: &RolloutInput{Mode: "everyone"}}
	version := int64(0)
	save := func(mut func(*IntegrationInput)) {
		t.Helper()
		mut(&body)
		pre := Precondition{}
		if version > 0 {
			pre = ifMatch(version)
		}
		in, err := f.svc.PutIntegration(ctx, admin1, prov, body, pre, "")
		if err != nil {
			t.Fatal(err)
		}
		version = in.View.Version
	}
	save(func(*IntegrationInput) {})
	email := []string{"openid", gauth + "userinfo.email", gauth + "userinfo.profile", gauth + "gmail.readonly"}
	put := func(key store.ConnKey, status string, granted []string) {
		t.Helper()
		old, err := f.store.GetConnection(ctx, key)
		if err != nil {
			old = store.Connection{}
		}
		c := store.Connection{ConnKey: key, Status: status, ClientRef: "default", GrantedScopes: granted, ConnectedAt: f.now}
		if _, err := f.store.PutConnection(ctx, c, old.Version); err != nil {
			t.Fatal(err)
		}
	}
	user := func(id string) store.ConnKey { return store.ConnKey{OrgID: "o1", UserID: id, Provider: prov} }
	put(user("u-1"), store.StatusConnected, email)
	put(user("u-2"), store.StatusRefreshFailing, email)
	put(user("u-3"), store.StatusNeedsReconnect, email)
	put(store.TestAccountKey("o1", prov), store.StatusConnected, email)
	count := func(want int, when string) {
		t.Helper()
		v, err := f.svc.Rollout(ctx, "o1", prov)
		if err != nil {
			t.Fatal(err)
		}
		if v.NeedsConsent != want {
			t.Errorf("%s: needsConsent %d, want %d", when, v.NeedsConsent, want)
		}
	}
	count(0, "settings as connected")
	save(func(b *IntegrationInput) { b.Capabilities = []string{"email", "calendar"} })
	count(2, "calendar added")
	put(user("u-1"), store.StatusConnected, append(email, gauth+"calendar.readonly"))
	count(1, "u-1 granted calendar")
	save(func(b *IntegrationInput) { b.AllowWriteActions = true })
	count(2, "write actions allowed")
	save(func(b *IntegrationInput) { b.Enabled = enabled(false) })
	count(0, "integration disabled")
}
