// Package storetest is the contract suite of the storage ports. Every
// adapter's tests run it, so the embedded adapter (boltstore) and the AWS
// adapters (dynamostore, awssecrets on moto_server) cannot drift apart:
//
//	func TestContract(t *testing.T) {
//		storetest.TestStore(t, func(t *testing.T) store.Store { return newEmptyStore(t) })
//		storetest.TestSecrets(t, func(t *testing.T, log *slog.Logger) storetest.SecretsHarness { ... })
//	}
//
// Each subtest asks the factory for a fresh, empty store, so subtests never
// share state. Times are UTC and fixed: the suite never depends on the wall
// clock.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// T0 is the suite's "now".
var T0 = time.Date(2031, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// NewStore returns a fresh, empty store for one subtest (cleaned up with
// t.Cleanup).
type NewStore func(t *testing.T) store.Store

// TestStore runs the contract of every table port.
func TestStore(t *testing.T, newStore NewStore) {
	t.Run("ScanConnections", func(t *testing.T) { TestScanConnections(t, newStore) })
	t.Run("RateLimits", func(t *testing.T) { TestRateLimits(t, newStore) })
	t.Run("Integrations", func(t *testing.T) { TestIntegrations(t, newStore) })
	t.Run("Audit", func(t *testing.T) { TestAudit(t, newStore) })
	t.Run("States", func(t *testing.T) { TestStates(t, newStore) })
	t.Run("Completions", func(t *testing.T) { TestCompletions(t, newStore) })
	t.Run("Connections", func(t *testing.T) { TestConnections(t, newStore) })
	t.Run("Grants", func(t *testing.T) { TestGrants(t, newStore) })
	t.Run("Health", func(t *testing.T) { TestHealth(t, newStore) })
	t.Run("Jobs", func(t *testing.T) { TestJobs(t, newStore) })
	t.Run("OffIndex", func(t *testing.T) { TestOffIndex(t, newStore) })
	t.Run("RolloutRecords", func(t *testing.T) { TestRolloutRecords(t, newStore) })
	t.Run("AuditedConnections", func(t *testing.T) { TestAuditedConnections(t, newStore) })
}

// --- helpers ---------------------------------------------------------------

func ctx(t *testing.T) context.Context { return t.Context() }

func mustEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func mustErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Provider ids the contract suite stores under. The stores know nothing of
// providers: any id of the form the service uses will do, and these are
// placeholders rather than the real ones (which only shared/providers
// names), in the real ones' sort order.
const (
	provA = "provider-a"
	provB = "provider-b"
	provC = "provider-c"
)

// Integration returns a fully populated integration (Version 0).
func Integration(org, provider string) store.Integration {
	return store.Integration{
		OrgID: org, Provider: provider, Enabled: true,
		ConfigMode: store.ConfigModeOrganization, ClientID: "client-" + provider,
		Tenant: "contoso.onmicrosoft.com", AuthBaseURL: "https://login.salesforce.com", HostedDomain: "example.com",
		Capabilities:      []string{"email", "calendar"},
		AllowWriteActions: true,
		Rollout:           store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot", "it"}},
		SupportContact:    &store.SupportContact{Name: "IT Help", Email: "it-help@example.com"},
		UserGuidance:      "Use it to find meetings.\nSending mail needs a review.",
		ClientSecretSetAt: T0.Add(-time.Hour),
		AdminConsent: &store.AdminConsent{Granted: true, Tenant: "00000000-0000-0000-0000-0000000000aa",
			Scopes: []string{"openid", "https://graph.microsoft.com/Mail.Read"}, At: T0.Add(-time.Minute), By: "admin-1"},
		UpdatedAt: T0, UpdatedBy: "admin-1",
	}
}

// Connection returns a fully populated connection (Version 0, not on the
// due-index unless NextRefreshAt is set).
func Connection(k store.ConnKey) store.Connection {
	return store.Connection{
		ConnKey:         k,
		Status:          store.StatusConnected,
		ClientRef:       store.ConfigModeDefault,
		ConfigVersion:   3,
		Account:         store.Account{ID: "ext-" + k.UserID, Email: k.UserID + "@example.com", Name: "User " + k.UserID, Tenant: "t-1"},
		RequestedScopes: []string{"openid", "Mail.Read"},
		GrantedScopes:   []string{"openid", "Mail.Read"},
		MissingScopes:   []string{"Calendars.Read"},
		SealedTokens:    []byte{1, 2, 3, 0, 255, 42},
		TokenKeyID:      "key-1",
		AccessExpiresAt: T0.Add(time.Hour),
		ConnectedAt:     T0.Add(-24 * time.Hour),
		LastRefreshAt:   T0.Add(-time.Minute),
		LastAttemptAt:   T0.Add(-time.Minute),
		LastUsedAt:      T0.Add(-2 * time.Minute),

		ConnectGroups: &store.GroupsSeen{Groups: []string{"pilot", "it"}, Truncated: true},

		ConsecutiveFailures: 2,
		FailureDays:         []string{"2031-03-03", "2031-03-04"},
		LastError:           &store.ConnError{Code: "provider_unavailable", Message: "The provider did not answer.", Owner: "none", At: T0.Add(-time.Minute)},
		UpdatedAt:           T0,
	}
}

// --- integrations ------------------------------------------------------------

// TestIntegrations is the contract of store.Integrations.
func TestIntegrations(t *testing.T, newStore NewStore) {
	t.Run("GetMissing", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetIntegration(ctx(t), "org-1", provB)
		mustErr(t, "get missing", err, store.ErrNotFound)
	})

	t.Run("VersionsAndConflicts", func(t *testing.T) {
		s := newStore(t)
		in := Integration("org-1", provB)

		_, err := s.PutIntegration(ctx(t), in, 1)
		mustErr(t, "update of a missing integration", err, store.ErrConflict)

		v1, err := s.PutIntegration(ctx(t), in, 0)
		must(t, "create", err)
		if v1.Version != 1 {
			t.Fatalf("created version %d, want 1", v1.Version)
		}
		got, err := s.GetIntegration(ctx(t), "org-1", provB)
		must(t, "get", err)
		want := in
		want.Version = 1
		mustEqual(t, "stored integration", got, want)
		mustEqual(t, "returned integration", v1, want)

		_, err = s.PutIntegration(ctx(t), in, 0)
		mustErr(t, "second create", err, store.ErrConflict)

		in2 := got
		in2.Enabled = false
		in2.Capabilities = []string{"files"}
		v2, err := s.PutIntegration(ctx(t), in2, 1)
		must(t, "update", err)
		if v2.Version != 2 {
			t.Fatalf("updated version %d, want 2", v2.Version)
		}

		stale := got
		stale.UpdatedBy = "someone-else"
		for _, expected := range []int64{0, 1, 3, 99} {
			_, err = s.PutIntegration(ctx(t), stale, expected)
			mustErr(t, fmt.Sprintf("update with expected version %d", expected), err, store.ErrConflict)
		}
		got, err = s.GetIntegration(ctx(t), "org-1", provB)
		must(t, "get after conflicts", err)
		mustEqual(t, "integration after refused writes", got, v2)
	})

	t.Run("ConcurrentWritersOneWins", func(t *testing.T) {
		s := newStore(t)
		v1, err := s.PutIntegration(ctx(t), Integration("org-1", provC), 0)
		must(t, "create", err)
		const n = 10
		var wins, conflicts int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				in := v1
				in.UpdatedBy = fmt.Sprintf("admin-%d", i)
				_, err := s.PutIntegration(context.Background(), in, v1.Version)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || conflicts != n-1 {
			t.Fatalf("%d writers won and %d conflicted, want 1 and %d", wins, conflicts, n-1)
		}
	})

	t.Run("AuditLandsWithTheChangeOnly", func(t *testing.T) {
		s := newStore(t)
		e1 := audit("org-1", "a-0001", T0, "integration.updated")
		e2 := audit("org-1", "a-0002", T0, "client_secret.set")
		v1, err := s.PutIntegration(ctx(t), Integration("org-1", provA), 0, e1, e2)
		must(t, "create with audit", err)
		got, _, err := s.ListAudit(ctx(t), "org-1", store.Page{})
		must(t, "list audit", err)
		mustEqual(t, "audit after create", got, []store.AuditEntry{e2, e1})

		// A refused change leaves no audit entry behind.
		e3 := audit("org-1", "a-0003", T0.Add(time.Second), "integration.updated")
		_, err = s.PutIntegration(ctx(t), v1, 0, e3)
		mustErr(t, "stale write with audit", err, store.ErrConflict)
		got, _, err = s.ListAudit(ctx(t), "org-1", store.Page{})
		must(t, "list audit", err)
		mustEqual(t, "audit after refused write", got, []store.AuditEntry{e2, e1})

		// A duplicate audit entry refuses the whole change.
		_, err = s.PutIntegration(ctx(t), v1, 1, e1)
		mustErr(t, "write with a duplicate audit entry", err, store.ErrConflict)
		cur, err := s.GetIntegration(ctx(t), "org-1", provA)
		must(t, "get", err)
		mustEqual(t, "integration after refused write", cur, v1)
	})

	t.Run("ListByOrg", func(t *testing.T) {
		s := newStore(t)
		var want []store.Integration
		for _, p := range []string{provA, provB, provC} {
			in, err := s.PutIntegration(ctx(t), Integration("org-1", p), 0)
			must(t, "create", err)
			want = append(want, in)
		}
		// Ids that extend org-1 must not leak into its listing.
		for _, org := range []string{"org-10", "org-1#x", "org-1%23x", "org-"} {
			_, err := s.PutIntegration(ctx(t), Integration(org, provC), 0)
			must(t, "create other org", err)
		}
		got, err := s.ListIntegrations(ctx(t), "org-1")
		must(t, "list", err)
		sort.Slice(got, func(i, j int) bool { return got[i].Provider < got[j].Provider })
		mustEqual(t, "integrations of org-1", got, want)

		got, err = s.ListIntegrations(ctx(t), "org-none")
		must(t, "list empty org", err)
		if len(got) != 0 {
			t.Fatalf("empty org lists %d integrations", len(got))
		}
	})
}

func audit(org, id string, at time.Time, action string) store.AuditEntry {
	return store.AuditEntry{
		OrgID: org, ID: id, At: at, Actor: "admin-1", Provider: provB, Action: action,
		Changes: []store.FieldChange{{Field: "enabled", Old: "false", New: "true"}, {Field: "clientSecret", Old: "", New: "set"}},
	}
}

// --- audit -------------------------------------------------------------------

// TestAudit is the contract of store.Audit.
func TestAudit(t *testing.T, newStore NewStore) {
	t.Run("PaginationNewestFirst", func(t *testing.T) {
		s := newStore(t)
		var all []store.AuditEntry
		for i := range 25 {
			// Two entries share each second: ids break the tie.
			e := audit("org-1", fmt.Sprintf("a-%04d", i), T0.Add(time.Duration(i/2)*time.Second), "integration.updated")
			must(t, "append", s.AppendAudit(ctx(t), e))
			all = append(all, e)
		}
		must(t, "append other org", s.AppendAudit(ctx(t), audit("org-10", "a-9999", T0.Add(time.Hour), "x")))
		slices.Reverse(all)

		for _, limit := range []int{1, 7, 10, 25, 100} {
			var got []store.AuditEntry
			cursor, pages := "", 0
			for {
				page, next, err := s.ListAudit(ctx(t), "org-1", store.Page{Cursor: cursor, Limit: limit})
				must(t, "list audit", err)
				if len(page) > limit {
					t.Fatalf("limit %d: page of %d", limit, len(page))
				}
				if next != "" && len(page) != limit {
					t.Fatalf("limit %d: short page (%d) with a next cursor", limit, len(page))
				}
				got = append(got, page...)
				pages++
				if next == "" {
					break
				}
				if pages > 30 {
					t.Fatal("pagination does not end")
				}
				cursor = next
			}
			mustEqual(t, fmt.Sprintf("all entries with limit %d", limit), got, all)
			if want := (25 + limit - 1) / limit; pages != want {
				t.Fatalf("limit %d: %d pages, want %d", limit, pages, want)
			}
		}
	})

	t.Run("DefaultLimit", func(t *testing.T) {
		s := newStore(t)
		for i := range 3 {
			must(t, "append", s.AppendAudit(ctx(t), audit("org-1", fmt.Sprintf("a-%d", i), T0, "x")))
		}
		got, next, err := s.ListAudit(ctx(t), "org-1", store.Page{Limit: 0})
		must(t, "list", err)
		if len(got) != 3 || next != "" {
			t.Fatalf("default limit: %d entries, cursor %q", len(got), next)
		}
	})

	t.Run("EmptyAndForeignCursor", func(t *testing.T) {
		s := newStore(t)
		got, next, err := s.ListAudit(ctx(t), "org-1", store.Page{})
		must(t, "list empty", err)
		if len(got) != 0 || next != "" {
			t.Fatalf("empty audit: %d entries, cursor %q", len(got), next)
		}
		for i := range 3 {
			must(t, "append", s.AppendAudit(ctx(t), audit("org-1", fmt.Sprintf("a-%d", i), T0.Add(time.Duration(i)*time.Second), "x")))
			must(t, "append", s.AppendAudit(ctx(t), audit("org-2", fmt.Sprintf("b-%d", i), T0.Add(time.Duration(i)*time.Second), "x")))
		}
		_, next, err = s.ListAudit(ctx(t), "org-1", store.Page{Limit: 1})
		must(t, "list", err)
		if next == "" {
			t.Fatal("no cursor for a partial listing")
		}
		_, _, err = s.ListAudit(ctx(t), "org-2", store.Page{Cursor: next, Limit: 1})
		mustErr(t, "another org's cursor", err, store.ErrInvalidCursor)
		_, _, err = s.ListAudit(ctx(t), "org-1", store.Page{Cursor: "not a cursor!", Limit: 1})
		mustErr(t, "garbage cursor", err, store.ErrInvalidCursor)
	})

	t.Run("DuplicateRefused", func(t *testing.T) {
		s := newStore(t)
		e := audit("org-1", "a-1", T0, "x")
		must(t, "append", s.AppendAudit(ctx(t), e))
		mustErr(t, "duplicate append", s.AppendAudit(ctx(t), e), store.ErrConflict)
	})
}

// --- states ------------------------------------------------------------------

// State returns a pending state expiring ten minutes after T0.
func State(id string) store.OAuthState {
	return store.OAuthState{
		ID: id, OrgID: "org-1", UserID: "user-1", Provider: provB,
		ConfigVersion: 4, ClientRef: "organization:client-1",
		PKCEVerifier: "verifier-" + id, RedirectURI: "https://api.example.com/oauth/callback",
		ReturnTo: "https://app.example.com/settings", Scopes: []string{"openid", "offline_access"},
		CreatedAt: T0, ExpiresAt: T0.Add(10 * time.Minute), Purpose: store.PurposeTestAccount,
	}
}

// TestStates is the contract of store.States.
func TestStates(t *testing.T, newStore NewStore) {
	t.Run("ConsumeOnce", func(t *testing.T) {
		s := newStore(t)
		st := State("3f1c0ffee")
		must(t, "create", s.CreateState(ctx(t), st))
		mustErr(t, "create with an existing id", s.CreateState(ctx(t), st), store.ErrConflict)

		got, err := s.ConsumeState(ctx(t), st.ID, T0.Add(time.Minute))
		must(t, "consume", err)
		mustEqual(t, "consumed state", got, st)

		_, err = s.ConsumeState(ctx(t), st.ID, T0.Add(time.Minute))
		mustErr(t, "second consume", err, store.ErrNotFound)
		_, err = s.ConsumeState(ctx(t), "unknown", T0)
		mustErr(t, "unknown state", err, store.ErrNotFound)
	})

	t.Run("ExpiredRefusedBeforeTTLDeletion", func(t *testing.T) {
		s := newStore(t)
		for name, at := range map[string]time.Time{
			"at expiry":    T0.Add(10 * time.Minute),
			"after expiry": T0.Add(10*time.Minute + time.Nanosecond),
			"much later":   T0.Add(48 * time.Hour),
		} {
			st := State("s-" + strings.ReplaceAll(name, " ", "-"))
			must(t, "create", s.CreateState(ctx(t), st))
			_, err := s.ConsumeState(ctx(t), st.ID, at)
			mustErr(t, "consume "+name, err, store.ErrNotFound)
		}
		st := State("s-just-before")
		must(t, "create", s.CreateState(ctx(t), st))
		_, err := s.ConsumeState(ctx(t), st.ID, st.ExpiresAt.Add(-time.Millisecond))
		must(t, "consume just before expiry", err)
	})

	t.Run("FiftyConsumersOneWins", func(t *testing.T) {
		s := newStore(t)
		st := State("contended")
		must(t, "create", s.CreateState(ctx(t), st))
		const n = 50
		var wins, notFound int
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				got, err := s.ConsumeState(context.Background(), st.ID, T0.Add(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					if got.PKCEVerifier != st.PKCEVerifier {
						t.Errorf("winner got state %+v", got)
					}
				case errors.Is(err, store.ErrNotFound):
					notFound++
				default:
					t.Errorf("consumer %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 || notFound != n-1 {
			t.Fatalf("%d consumers won, %d were refused; want 1 and %d", wins, notFound, n-1)
		}
	})
}

// --- connections -------------------------------------------------------------

// TestConnections is the contract of store.Connections.
func TestConnections(t *testing.T, newStore NewStore) {
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: provB}

	t.Run("VersionsAndConflicts", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetConnection(ctx(t), k)
		mustErr(t, "get missing", err, store.ErrNotFound)

		c := Connection(k)
		_, err = s.PutConnection(ctx(t), c, 2)
		mustErr(t, "update of a missing connection", err, store.ErrConflict)
		v1, err := s.PutConnection(ctx(t), c, 0)
		must(t, "create", err)
		want := c
		want.Version = 1
		mustEqual(t, "returned connection", v1, want)
		got, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		mustEqual(t, "stored connection", got, want)

		_, err = s.PutConnection(ctx(t), c, 0)
		mustErr(t, "second create", err, store.ErrConflict)
		c2 := got
		c2.Status = store.StatusNeedsReconnect
		c2.StatusReason = "client_changed"
		c2.LastError = nil
		c2.FailureDays = nil
		v2, err := s.PutConnection(ctx(t), c2, 1)
		must(t, "update", err)
		if v2.Version != 2 {
			t.Fatalf("version %d after update, want 2", v2.Version)
		}
		_, err = s.PutConnection(ctx(t), got, 1)
		mustErr(t, "stale update", err, store.ErrConflict)
		got, err = s.GetConnection(ctx(t), k)
		must(t, "get", err)
		mustEqual(t, "connection after refused write", got, v2)
	})

	t.Run("ListByUserAndDelete", func(t *testing.T) {
		s := newStore(t)
		var want []store.Connection
		for _, p := range []string{provA, provB, provC} {
			c, err := s.PutConnection(ctx(t), Connection(store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: p}), 0)
			must(t, "create", err)
			want = append(want, c)
		}
		// Neighbours whose ids extend user-1's must not show up.
		for _, ck := range []store.ConnKey{
			{OrgID: "org-1", UserID: "user-10", Provider: provB},
			{OrgID: "org-1", UserID: "user-1#x", Provider: provB},
			{OrgID: "org-1#user-1", UserID: "x", Provider: provB},
			{OrgID: "org-10", UserID: "user-1", Provider: provB},
		} {
			_, err := s.PutConnection(ctx(t), Connection(ck), 0)
			must(t, "create neighbour", err)
		}
		got, err := s.ListUserConnections(ctx(t), "org-1", "user-1")
		must(t, "list", err)
		sort.Slice(got, func(i, j int) bool { return got[i].Provider < got[j].Provider })
		mustEqual(t, "connections of user-1", got, want)

		must(t, "delete", s.DeleteConnection(ctx(t), want[1].ConnKey))
		must(t, "delete again", s.DeleteConnection(ctx(t), want[1].ConnKey))
		_, err = s.GetConnection(ctx(t), want[1].ConnKey)
		mustErr(t, "get deleted", err, store.ErrNotFound)
		got, err = s.ListUserConnections(ctx(t), "org-1", "user-1")
		must(t, "list", err)
		if len(got) != 2 {
			t.Fatalf("%d connections after delete, want 2", len(got))
		}
		// A deleted connection can be made again from version 0.
		_, err = s.PutConnection(ctx(t), Connection(want[1].ConnKey), 0)
		must(t, "recreate", err)
	})

	t.Run("ListByProviderPaginated", func(t *testing.T) {
		s := newStore(t)
		want := map[string]bool{}
		for i := range 23 {
			ck := store.ConnKey{OrgID: "org-1", UserID: fmt.Sprintf("user-%02d", i), Provider: provC}
			_, err := s.PutConnection(ctx(t), Connection(ck), 0)
			must(t, "create", err)
			want[ck.UserID] = true
			_, err = s.PutConnection(ctx(t), Connection(store.ConnKey{OrgID: "org-1", UserID: ck.UserID, Provider: provB}), 0)
			must(t, "create other provider", err)
			_, err = s.PutConnection(ctx(t), Connection(store.ConnKey{OrgID: "org-2", UserID: ck.UserID, Provider: provC}), 0)
			must(t, "create other org", err)
		}
		got := map[string]bool{}
		cursor, pages := "", 0
		for {
			page, next, err := s.ListProviderConnections(ctx(t), "org-1", provC, store.Page{Cursor: cursor, Limit: 5})
			must(t, "list", err)
			if len(page) > 5 || (next != "" && len(page) != 5) {
				t.Fatalf("page of %d with cursor %q", len(page), next)
			}
			for _, c := range page {
				if c.OrgID != "org-1" || c.Provider != provC || got[c.UserID] {
					t.Fatalf("unexpected or repeated connection %s", c.ConnKey)
				}
				if c.Account.Email == "" || len(c.SealedTokens) == 0 {
					t.Fatalf("listing returned a partial connection: %+v", c)
				}
				got[c.UserID] = true
			}
			pages++
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			cursor = next
		}
		mustEqual(t, "users listed", got, want)
		if pages != 5 {
			t.Fatalf("%d pages, want 5", pages)
		}

		_, next, err := s.ListProviderConnections(ctx(t), "org-1", provC, store.Page{Limit: 1})
		must(t, "list", err)
		_, _, err = s.ListProviderConnections(ctx(t), "org-2", provC, store.Page{Cursor: next})
		mustErr(t, "another org's cursor", err, store.ErrInvalidCursor)
		_, _, err = s.ListProviderConnections(ctx(t), "org-1", provB, store.Page{Cursor: next})
		mustErr(t, "another provider's cursor", err, store.ErrInvalidCursor)
	})

	t.Run("LeaseExclusive", func(t *testing.T) {
		s := newStore(t)
		_, err := s.ClaimLease(ctx(t), k, "w-0", T0, T0.Add(time.Minute))
		mustErr(t, "claim on a missing connection", err, store.ErrNotFound)
		v1, err := s.PutConnection(ctx(t), Connection(k), 0)
		must(t, "create", err)

		const n = 20
		until := T0.Add(2 * time.Minute)
		var winners []string
		var winner store.Connection
		held := 0
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				owner := fmt.Sprintf("w-%d", i)
				c, err := s.ClaimLease(context.Background(), k, owner, T0, until)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, owner)
					winner = c
				case errors.Is(err, store.ErrLeaseHeld):
					held++
				default:
					t.Errorf("claimer %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 || held != n-1 {
			t.Fatalf("winners %v, %d refused; want one winner and %d refused", winners, held, n-1)
		}
		owner := winners[0]
		if winner.LeaseOwner != owner || !winner.LeaseUntil.Equal(until) || winner.Version != v1.Version+1 {
			t.Fatalf("claim returned lease %q until %v version %d", winner.LeaseOwner, winner.LeaseUntil, winner.Version)
		}
		stored, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		mustEqual(t, "claim's re-read", winner, stored)

		// Held until it expires, also for a claim just before expiry.
		_, err = s.ClaimLease(ctx(t), k, "late", until.Add(-time.Nanosecond), until.Add(time.Minute))
		mustErr(t, "claim before expiry", err, store.ErrLeaseHeld)
		// The holder may extend its own lease.
		ext, err := s.ClaimLease(ctx(t), k, owner, T0.Add(time.Minute), until.Add(time.Minute))
		must(t, "holder extends", err)
		if !ext.LeaseUntil.Equal(until.Add(time.Minute)) {
			t.Fatalf("extended until %v", ext.LeaseUntil)
		}

		// After expiry someone else takes it, and the first owner has lost it.
		after := until.Add(time.Minute)
		taken, err := s.ClaimLease(ctx(t), k, "next", after, after.Add(time.Minute))
		must(t, "claim after expiry", err)
		if taken.LeaseOwner != "next" {
			t.Fatalf("lease owner %q after takeover", taken.LeaseOwner)
		}
		outcome := ext
		outcome.Status = store.StatusRefreshFailing
		_, err = s.CompleteLease(ctx(t), outcome, owner)
		mustErr(t, "complete after the lease was taken", err, store.ErrLeaseLost)
		got, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		mustEqual(t, "connection after a lost completion", got, taken)
	})

	t.Run("CompleteLease", func(t *testing.T) {
		s := newStore(t)
		c := Connection(k)
		c.NextRefreshAt = T0
		_, err := s.PutConnection(ctx(t), c, 0)
		must(t, "create", err)
		claimed, err := s.ClaimLease(ctx(t), k, "w-1", T0, T0.Add(time.Minute))
		must(t, "claim", err)

		outcome := claimed
		outcome.LastRefreshAt = T0.Add(time.Second)
		outcome.AccessExpiresAt = T0.Add(time.Hour)
		outcome.NextRefreshAt = T0.Add(45 * time.Minute)
		outcome.ConsecutiveFailures, outcome.FailureDays, outcome.LastError = 0, nil, nil
		outcome.SealedTokens = []byte("sealed-v2")

		_, err = s.CompleteLease(ctx(t), outcome, "w-other")
		mustErr(t, "complete by a non-owner", err, store.ErrLeaseLost)
		stale := outcome
		stale.Version--
		_, err = s.CompleteLease(ctx(t), stale, "w-1")
		mustErr(t, "complete with a stale version", err, store.ErrLeaseLost)

		done, err := s.CompleteLease(ctx(t), outcome, "w-1")
		must(t, "complete", err)
		want := outcome
		want.LeaseOwner, want.LeaseUntil, want.Version = "", time.Time{}, claimed.Version+1
		mustEqual(t, "completed connection", done, want)
		got, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		mustEqual(t, "stored after completion", got, want)
		_, err = s.CompleteLease(ctx(t), outcome, "w-1")
		mustErr(t, "second completion", err, store.ErrLeaseLost)

		// Released: anyone may claim at once.
		_, err = s.ClaimLease(ctx(t), k, "w-2", T0.Add(time.Second), T0.Add(time.Minute))
		must(t, "claim after release", err)
	})

	t.Run("CompleteLeaseRefusedAfterConcurrentWrite", func(t *testing.T) {
		s := newStore(t)
		_, err := s.PutConnection(ctx(t), Connection(k), 0)
		must(t, "create", err)
		claimed, err := s.ClaimLease(ctx(t), k, "w-1", T0, T0.Add(time.Minute))
		must(t, "claim", err)
		// The user reconnects meanwhile (keeping the lease fields it read).
		reconnected := claimed
		reconnected.SealedTokens = []byte("fresh-from-reconnect")
		_, err = s.PutConnection(ctx(t), reconnected, claimed.Version)
		must(t, "reconnect", err)
		_, err = s.CompleteLease(ctx(t), claimed, "w-1")
		mustErr(t, "complete after a concurrent write", err, store.ErrLeaseLost)
		got, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		if string(got.SealedTokens) != "fresh-from-reconnect" {
			t.Fatal("a lost completion overwrote the reconnect")
		}
		// A deleted connection's lease is lost too.
		must(t, "delete", s.DeleteConnection(ctx(t), k))
		_, err = s.CompleteLease(ctx(t), got, "w-1")
		mustErr(t, "complete on a deleted connection", err, store.ErrLeaseLost)
	})

	t.Run("DueIndex", func(t *testing.T) { testDue(t, newStore) })
}

// testDue fills a store with connections due at different times, off the
// index, and due later, and checks that ListDue returns exactly the due
// ones across pages (and, in DynamoDB, across shards).
func testDue(t *testing.T, newStore NewStore) {
	s := newStore(t)
	before := T0
	due := map[store.ConnKey]time.Time{}
	var keys []store.ConnKey
	for i := range 90 {
		ck := store.ConnKey{OrgID: fmt.Sprintf("org-%d", i%4), UserID: fmt.Sprintf("user-%03d", i), Provider: []string{provB, provA, provC}[i%3]}
		keys = append(keys, ck)
		c := Connection(ck)
		switch i % 3 {
		case 0: // due, some long overdue, some exactly at `before`
			c.NextRefreshAt = before.Add(-time.Duration(i) * time.Minute)
			due[ck] = c.NextRefreshAt
		case 1: // due later
			c.NextRefreshAt = before.Add(time.Duration(i+1) * time.Nanosecond)
		case 2: // off the index
			c.OffIndexReason = "refresh_exhausted"
		}
		_, err := s.PutConnection(ctx(t), c, 0)
		must(t, "create", err)
	}

	list := func(limit int) map[store.ConnKey]time.Time {
		got := map[store.ConnKey]time.Time{}
		cursor, pages := "", 0
		for {
			page, next, err := s.ListDue(ctx(t), before, store.Page{Cursor: cursor, Limit: limit})
			must(t, "list due", err)
			if len(page) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(page))
			}
			for _, r := range page {
				if _, dup := got[r.ConnKey]; dup {
					t.Fatalf("limit %d: %s listed twice", limit, r.ConnKey)
				}
				got[r.ConnKey] = r.DueAt
			}
			if pages++; pages > 200 {
				t.Fatal("pagination does not end")
			}
			if next == "" {
				return got
			}
			cursor = next
		}
	}
	for _, limit := range []int{1, 7, 30, 100} {
		got := list(limit)
		if len(got) != len(due) {
			t.Fatalf("limit %d: %d due listed, want %d", limit, len(got), len(due))
		}
		for ck, at := range due {
			if !got[ck].Equal(at) {
				t.Fatalf("limit %d: %s due at %v, listed %v", limit, ck, at, got[ck])
			}
		}
	}

	// Moving a due connection later, off the index, or deleting it takes it
	// off the due listing; moving another one earlier adds it.
	moveLater, offIndex, del, moveEarlier := keys[0], keys[3], keys[6], keys[1]
	update := func(ck store.ConnKey, f func(*store.Connection)) {
		c, err := s.GetConnection(ctx(t), ck)
		must(t, "get", err)
		f(&c)
		_, err = s.PutConnection(ctx(t), c, c.Version)
		must(t, "update", err)
	}
	update(moveLater, func(c *store.Connection) { c.NextRefreshAt = before.Add(time.Hour) })
	update(offIndex, func(c *store.Connection) { c.NextRefreshAt = time.Time{}; c.OffIndexReason = "needs_reconnect" })
	update(moveEarlier, func(c *store.Connection) { c.NextRefreshAt = before.Add(-time.Second) })
	must(t, "delete", s.DeleteConnection(ctx(t), del))
	delete(due, moveLater)
	delete(due, offIndex)
	delete(due, del)
	due[moveEarlier] = before.Add(-time.Second)
	// A claim and a completion keep the index in step as well.
	claimed, err := s.ClaimLease(ctx(t), keys[9], "w", T0, T0.Add(time.Minute))
	must(t, "claim", err)
	claimed.NextRefreshAt = before.Add(30 * time.Minute)
	_, err = s.CompleteLease(ctx(t), claimed, "w")
	must(t, "complete", err)
	delete(due, keys[9])

	got := list(4)
	if len(got) != len(due) {
		t.Fatalf("after updates: %d due listed, want %d", len(got), len(due))
	}
	for ck := range due {
		if _, ok := got[ck]; !ok {
			t.Fatalf("after updates: %s missing from the due listing", ck)
		}
	}

	_, _, err = s.ListDue(ctx(t), before, store.Page{Cursor: "%%%"})
	mustErr(t, "garbage cursor", err, store.ErrInvalidCursor)
}
