package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// Completion returns a pending completion expiring ten minutes after T0.
func Completion(id string) store.PendingCompletion {
	return store.PendingCompletion{
		ID: id, OrgID: "org-1", UserID: "user-1", Provider: provA,
		ClientRef: "default", ConfigVersion: 7, Purpose: store.PurposeTestAccount,
		Account:         store.Account{ID: "ext-1", Email: "user-1@example.com", Domain: "example.com"},
		RequestedScopes: []string{"openid", "email", "scope-a", "scope-b"},
		GrantedScopes:   []string{"openid", "email", "scope-a"},
		MissingScopes:   []string{"scope-b"},
		SealedTokens:    []byte{9, 8, 7, 0, 255},
		TokenKeyID:      "key-1",
		AccessExpiresAt: T0.Add(time.Hour),
		ExpiryAssumed:   true,
		CreatedAt:       T0, ExpiresAt: T0.Add(10 * time.Minute),
	}
}

// TestCompletions is the contract of store.Completions: the same single
// use and expiry as states, and every field kept.
func TestCompletions(t *testing.T, newStore NewStore) {
	t.Run("ConsumeOnce", func(t *testing.T) {
		s := newStore(t)
		c := Completion("c0ffee")
		must(t, "create", s.CreateCompletion(ctx(t), c))
		mustErr(t, "create with an existing id", s.CreateCompletion(ctx(t), c), store.ErrConflict)

		got, err := s.ConsumeCompletion(ctx(t), c.ID, T0.Add(time.Minute))
		must(t, "consume", err)
		mustEqual(t, "consumed completion", got, c)

		_, err = s.ConsumeCompletion(ctx(t), c.ID, T0.Add(time.Minute))
		mustErr(t, "second consume", err, store.ErrNotFound)
		_, err = s.ConsumeCompletion(ctx(t), "unknown", T0)
		mustErr(t, "unknown completion", err, store.ErrNotFound)
	})

	t.Run("NotAState", func(t *testing.T) {
		// The two kinds of record never answer for each other, even under
		// the same id.
		s := newStore(t)
		must(t, "create state", s.CreateState(ctx(t), State("same-id")))
		_, err := s.ConsumeCompletion(ctx(t), "same-id", T0.Add(time.Minute))
		mustErr(t, "consume a state as a completion", err, store.ErrNotFound)
		must(t, "create completion", s.CreateCompletion(ctx(t), Completion("same-id")))
		st, err := s.ConsumeState(ctx(t), "same-id", T0.Add(time.Minute))
		must(t, "consume the state", err)
		mustEqual(t, "state provider", st.Provider, State("same-id").Provider)
	})

	t.Run("ExpiredRefusedBeforeTTLDeletion", func(t *testing.T) {
		s := newStore(t)
		for name, at := range map[string]time.Time{
			"at expiry":    T0.Add(10 * time.Minute),
			"after expiry": T0.Add(10*time.Minute + time.Nanosecond),
			"much later":   T0.Add(48 * time.Hour),
		} {
			c := Completion("c-" + strings.ReplaceAll(name, " ", "-"))
			must(t, "create", s.CreateCompletion(ctx(t), c))
			_, err := s.ConsumeCompletion(ctx(t), c.ID, at)
			mustErr(t, "consume "+name, err, store.ErrNotFound)
		}
		c := Completion("c-just-before")
		must(t, "create", s.CreateCompletion(ctx(t), c))
		_, err := s.ConsumeCompletion(ctx(t), c.ID, c.ExpiresAt.Add(-time.Millisecond))
		must(t, "consume just before expiry", err)
	})

	t.Run("TwentyConsumersOneWins", func(t *testing.T) {
		s := newStore(t)
		c := Completion("contended")
		must(t, "create", s.CreateCompletion(ctx(t), c))
		const n = 20
		var wins, notFound int
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := s.ConsumeCompletion(context.Background(), c.ID, T0.Add(time.Minute))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
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

// TestGrants is the contract of store.Grants: the connections holding
// tokens of one grant, kept in step with every write and delete.
func TestGrants(t *testing.T, newStore NewStore) {
	s := newStore(t)
	shared := store.Account{ID: "support-mailbox", Email: "support@example.com"}
	put := func(org, user, provider, clientRef string, acct store.Account) store.Connection {
		c := Connection(store.ConnKey{OrgID: org, UserID: user, Provider: provider})
		c.ClientRef, c.Account, c.LastError = clientRef, acct, nil
		saved, err := s.PutConnection(ctx(t), c, 0)
		must(t, "put "+c.ConnKey.String(), err)
		return saved
	}
	a := put("org-1", "alice", provA, "default", shared)
	put("org-2", "bob#x", provA, "default", shared)                               // another org, same platform client
	put("org-1", "carol", provA, "organization:client-1", shared)                 // same account, another client
	put("org-1", "dave", provB, "default", shared)                                // same account id, another provider
	put("org-1", "erin", provA, "default", store.Account{ID: "support-mailbox2"}) // an id sharing a prefix
	put("org-1", "frank", provA, "default", store.Account{Email: "no-id@example.com"})

	list := func(g store.GrantRef) []string {
		t.Helper()
		var keys []store.ConnKey
		// The AWS index is eventually consistent: allow it a moment.
		for range 50 {
			var err error
			keys, err = s.ListGrantConnections(ctx(t), g, 0)
			must(t, "list grant", err)
			if len(keys) > 0 || g.AccountID == "nobody" {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = k.String()
		}
		slices.Sort(out)
		return out
	}
	g := store.GrantRef{Provider: provA, ClientRef: "default", AccountID: "support-mailbox"}
	mustEqual(t, "holders of the shared grant", list(g), []string{"org-1/alice/" + provA, "org-2/bob#x/" + provA})
	mustEqual(t, "holders of the org client's grant", list(store.GrantRef{Provider: provA, ClientRef: "organization:client-1", AccountID: "support-mailbox"}),
		[]string{"org-1/carol/" + provA})
	mustEqual(t, "holders of an unknown grant", list(store.GrantRef{Provider: provA, ClientRef: "default", AccountID: "nobody"}), []string{})

	// A reconnect with another account moves the entry; a delete removes it.
	a.Account = store.Account{ID: "alice-own"}
	_, err := s.PutConnection(ctx(t), a, a.Version)
	must(t, "reconnect alice with her own account", err)
	must(t, "delete bob", s.DeleteConnection(ctx(t), store.ConnKey{OrgID: "org-2", UserID: "bob#x", Provider: provA}))
	var keys []store.ConnKey
	for range 50 {
		keys, err = s.ListGrantConnections(ctx(t), g, 0)
		must(t, "list grant", err)
		if len(keys) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(keys) != 0 {
		t.Fatalf("after a reconnect and a delete the shared grant still lists %v", keys)
	}
	mustEqual(t, "alice's own grant", list(store.GrantRef{Provider: provA, ClientRef: "default", AccountID: "alice-own"}), []string{"org-1/alice/" + provA})
}
