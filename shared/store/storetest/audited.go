package storetest

import (
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// TestAuditedConnections is the contract of store.AuditedConnections: the
// connection and its audit entries are written together or not at all.
func TestAuditedConnections(t *testing.T, newStore NewStore) {
	auditIDs := func(t *testing.T, s store.Store) []string {
		t.Helper()
		entries, _, err := s.ListAudit(ctx(t), "org-1", store.Page{Limit: 100})
		must(t, "list audit", err)
		var ids []string
		for _, e := range entries {
			ids = append(ids, e.ID)
		}
		return ids
	}
	k := store.TestAccountKey("org-1", provA)

	t.Run("PutWithAudit", func(t *testing.T) {
		s := newStore(t)
		c := Connection(k)
		c.NextRefreshAt = T0.Add(-time.Minute)
		got, err := s.PutConnectionAudited(ctx(t), c, 0, audit("org-1", "a-1", T0, "test_account.connected"))
		must(t, "put", err)
		if got.Version != 1 {
			t.Fatalf("version %d, want 1", got.Version)
		}
		stored, err := s.GetConnection(ctx(t), k)
		must(t, "get", err)
		c.Version = 1
		mustEqual(t, "stored", stored, c)
		mustEqual(t, "audit", auditIDs(t, s), []string{"a-1"})
		due, _, err := s.ListDue(ctx(t), T0, store.Page{})
		must(t, "list due", err)
		if len(due) != 1 || due[0].ConnKey != k {
			t.Fatalf("due %v, want the test account", due)
		}

		// A stale version, and an audit id that exists: nothing written.
		c2 := c
		c2.Account.Email = "other@example.com"
		_, err = s.PutConnectionAudited(ctx(t), c2, 0, audit("org-1", "a-2", T0.Add(time.Second), "test_account.connected"))
		mustErr(t, "stale version", err, store.ErrConflict)
		_, err = s.PutConnectionAudited(ctx(t), c2, 1, audit("org-1", "a-1", T0, "test_account.connected"))
		mustErr(t, "existing audit id", err, store.ErrConflict)
		stored, _ = s.GetConnection(ctx(t), k)
		mustEqual(t, "after refused writes", stored, c)
		mustEqual(t, "audit after refused writes", auditIDs(t, s), []string{"a-1"})

		_, err = s.PutConnectionAudited(ctx(t), c2, 1, audit("org-1", "a-2", T0.Add(time.Second), "test_account.connected"))
		must(t, "replace", err)
		stored, _ = s.GetConnection(ctx(t), k)
		if stored.Account.Email != "other@example.com" || stored.Version != 2 {
			t.Fatalf("replaced: %+v", stored)
		}
		mustEqual(t, "audit, newest first", auditIDs(t, s), []string{"a-2", "a-1"})
	})

	t.Run("DeleteWithAudit", func(t *testing.T) {
		s := newStore(t)
		c := Connection(k)
		c.NextRefreshAt = T0.Add(-time.Minute)
		_, err := s.PutConnection(ctx(t), c, 0)
		must(t, "put", err)
		err = s.DeleteConnectionAudited(ctx(t), k, 2, audit("org-1", "a-1", T0, "test_account.disconnected"))
		mustErr(t, "delete a changed version", err, store.ErrConflict)
		if _, err := s.GetConnection(ctx(t), k); err != nil {
			t.Fatalf("a refused delete removed the connection: %v", err)
		}
		if ids := auditIDs(t, s); len(ids) != 0 {
			t.Fatalf("a refused delete was audited: %v", ids)
		}
		must(t, "delete", s.DeleteConnectionAudited(ctx(t), k, 1, audit("org-1", "a-1", T0, "test_account.disconnected")))
		_, err = s.GetConnection(ctx(t), k)
		mustErr(t, "get after delete", err, store.ErrNotFound)
		mustEqual(t, "audit", auditIDs(t, s), []string{"a-1"})
		due, _, _ := s.ListDue(ctx(t), T0, store.Page{})
		all, _, _ := s.ListProviderConnections(ctx(t), "org-1", provA, store.Page{})
		keys, _ := s.ListGrantConnections(ctx(t), store.GrantRef{Provider: provA, ClientRef: c.ClientRef, AccountID: c.Account.ID}, 10)
		if len(due)+len(all)+len(keys) != 0 {
			t.Fatalf("indexes still list the deleted connection: due %v, provider %v, grant %v", due, all, keys)
		}
		err = s.DeleteConnectionAudited(ctx(t), k, 1, audit("org-1", "a-2", T0, "test_account.disconnected"))
		mustErr(t, "delete a missing connection", err, store.ErrConflict)
		mustEqual(t, "audit after the refused delete", auditIDs(t, s), []string{"a-1"})
	})
}
