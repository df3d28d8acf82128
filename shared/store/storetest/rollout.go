package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// TestRolloutRecords is the contract of store.RolloutRecords, and of the
// test account's key among the connections.
func TestRolloutRecords(t *testing.T, newStore NewStore) {
	t.Run("RefreshSummaryNewestRunStands", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetRefreshSummary(ctx(t), "org-1", provA)
		mustErr(t, "get before any run", err, store.ErrNotFound)

		run := func(id string, start time.Time, refreshed int) store.RefreshSummary {
			return store.RefreshSummary{OrgID: "org-1", Provider: provA, RunID: id,
				StartedAt: start, FinishedAt: start.Add(3 * time.Second), Outcome: store.RunOutcomeFailures,
				Outcomes: map[string]int{"refreshed": refreshed, "needs_reconnect": 1}}
		}
		second := run("run-2", T0, 5)
		must(t, "put", s.PutRefreshSummary(ctx(t), second))
		got, err := s.GetRefreshSummary(ctx(t), "org-1", provA)
		must(t, "get", err)
		mustEqual(t, "stored summary", got, second)

		// A run that started earlier and finished later (concurrent runs)
		// does not replace it.
		must(t, "put an earlier run's", s.PutRefreshSummary(ctx(t), run("run-1", T0.Add(-time.Minute), 9)))
		got, _ = s.GetRefreshSummary(ctx(t), "org-1", provA)
		mustEqual(t, "after an earlier run's", got, second)

		third := run("run-3", T0.Add(5*time.Minute), 1)
		must(t, "put a later run's", s.PutRefreshSummary(ctx(t), third))
		got, _ = s.GetRefreshSummary(ctx(t), "org-1", provA)
		mustEqual(t, "after a later run's", got, third)

		// Other orgs and providers are apart, and the summary is not an
		// integration of the org.
		_, err = s.GetRefreshSummary(ctx(t), "org-1", provC)
		mustErr(t, "another provider", err, store.ErrNotFound)
		_, err = s.GetRefreshSummary(ctx(t), "org-2", provA)
		mustErr(t, "another org", err, store.ErrNotFound)
		ins, err := s.ListIntegrations(ctx(t), "org-1")
		must(t, "list integrations", err)
		if len(ins) != 0 {
			t.Fatalf("a refresh summary is listed as an integration: %+v", ins)
		}
	})

	t.Run("ConnectAttempts", func(t *testing.T) {
		s := newStore(t)
		attempt := func(org, provider, user string, at time.Time) store.ConnectAttempt {
			return store.ConnectAttempt{OrgID: org, Provider: provider, UserID: user, StartedAt: at, ExpiresAt: at.Add(store.AttemptRetention)}
		}
		users := []string{"u-c", "u-a#x", "u-b", "u-a", "u-d"}
		for i, u := range users {
			must(t, "record", s.RecordConnectAttempt(ctx(t), attempt("org-1", provC, u, T0.Add(time.Duration(i)*time.Minute))))
		}
		// Apart: another provider, another org, a user whose id extends one.
		must(t, "record", s.RecordConnectAttempt(ctx(t), attempt("org-1", provB, "u-a", T0)))
		must(t, "record", s.RecordConnectAttempt(ctx(t), attempt("org-2", provC, "u-a", T0)))
		// A new start replaces the user's attempt.
		again := attempt("org-1", provC, "u-b", T0.Add(time.Hour))
		must(t, "record again", s.RecordConnectAttempt(ctx(t), again))
		must(t, "clear", s.ClearConnectAttempt(ctx(t), "org-1", provC, "u-d"))
		must(t, "clear a missing one", s.ClearConnectAttempt(ctx(t), "org-1", provC, "u-nobody"))

		var got []store.ConnectAttempt
		page := store.Page{Limit: 2}
		pages := 0
		for {
			as, next, err := s.ListConnectAttempts(ctx(t), "org-1", provC, page)
			must(t, "list", err)
			if len(as) > 2 {
				t.Fatalf("page of %d, limit 2", len(as))
			}
			got = append(got, as...)
			pages++
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("the listing does not end")
			}
			page.Cursor = next
		}
		var ids []string
		for _, a := range got {
			ids = append(ids, a.UserID)
		}
		mustEqual(t, "users listed in user id order", ids, []string{"u-a", "u-a#x", "u-b", "u-c"})
		i := slices.IndexFunc(got, func(a store.ConnectAttempt) bool { return a.UserID == "u-b" })
		mustEqual(t, "the replaced attempt", got[i], again)

		_, next, err := s.ListConnectAttempts(ctx(t), "org-2", provC, store.Page{Limit: 1})
		must(t, "list org-2", err)
		if next != "" {
			t.Fatalf("org-2 has one attempt, yet a next page %q", next)
		}
		_, cursor, _ := s.ListConnectAttempts(ctx(t), "org-1", provC, store.Page{Limit: 1})
		_, _, err = s.ListConnectAttempts(ctx(t), "org-2", provC, store.Page{Limit: 1, Cursor: cursor})
		mustErr(t, "another org's cursor", err, store.ErrInvalidCursor)
		_, _, err = s.ListConnectAttempts(ctx(t), "org-1", provC, store.Page{Cursor: "not a cursor"})
		mustErr(t, "a made-up cursor", err, store.ErrInvalidCursor)
	})

	t.Run("NoGroupsSeenIsNotUnrecorded", func(t *testing.T) {
		// A user whose token had no groups is recorded as such, apart
		// from a connection made before groups were recorded.
		s := newStore(t)
		with := Connection(store.ConnKey{OrgID: "org-1", UserID: "u-nogroups", Provider: provC})
		with.ConnectGroups = store.ConnectGroupsOf(nil)
		without := Connection(store.ConnKey{OrgID: "org-1", UserID: "u-legacy", Provider: provC})
		without.ConnectGroups = nil
		for _, c := range []store.Connection{with, without} {
			_, err := s.PutConnection(ctx(t), c, 0)
			must(t, "put", err)
		}
		got, _ := s.GetConnection(ctx(t), with.ConnKey)
		if got.ConnectGroups == nil || len(got.ConnectGroups.Groups) != 0 {
			t.Fatalf("recorded no groups, read back %+v", got.ConnectGroups)
		}
		got, _ = s.GetConnection(ctx(t), without.ConnKey)
		if got.ConnectGroups != nil {
			t.Fatalf("recorded nothing, read back %+v", got.ConnectGroups)
		}
	})

	t.Run("TestAccountKeyIsNoUsers", func(t *testing.T) {
		s := newStore(t)
		k := store.TestAccountKey("org-1", provA)
		if !k.IsTestAccount() || (store.ConnKey{OrgID: "org-1", UserID: "org:test-account", Provider: provA}).IsTestAccount() {
			t.Fatal("IsTestAccount is not exactly the test account's key")
		}
		c := Connection(k)
		_, err := s.PutConnection(ctx(t), c, 0)
		must(t, "put the test account", err)
		_, err = s.PutConnection(ctx(t), Connection(store.ConnKey{OrgID: "org-1", UserID: "u-1", Provider: provA}), 0)
		must(t, "put a user's", err)
		got, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		c.Version = 1
		mustEqual(t, "stored test account", got, c)
		// A user's listing never holds it; the provider's listing does.
		for _, u := range []string{"u-1", "org:test-account", "org", ""} {
			mine, err := s.ListUserConnections(ctx(t), "org-1", u)
			must(t, "list user", err)
			if slices.ContainsFunc(mine, func(x store.Connection) bool { return x.ConnKey.IsTestAccount() }) {
				t.Fatalf("user %q's listing holds the test account", u)
			}
		}
		all, _, err := s.ListProviderConnections(ctx(t), "org-1", provA, store.Page{})
		must(t, "list provider", err)
		if len(all) != 2 || !slices.ContainsFunc(all, func(x store.Connection) bool { return x.ConnKey == k }) {
			t.Fatalf("the provider's listing %v lacks the test account", all)
		}
	})
}
