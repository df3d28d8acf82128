package storetest

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// TestScanConnections is the contract of store.ConnectionScan: every
// connection exactly once, as stored, across pages; nothing else of the
// table; cursors of other listings refused.
func TestScanConnections(t *testing.T, newStore NewStore) {
	t.Run("Empty", func(t *testing.T) {
		s := newStore(t)
		// Other records only.
		_, err := s.PutIntegration(ctx(t), Integration("org-1", provC), 0,
			store.AuditEntry{OrgID: "org-1", ID: "a1", At: T0, Actor: "admin-1", Provider: provC, Action: "integration.created"})
		must(t, "put integration", err)
		must(t, "create state", s.CreateState(ctx(t), State("s1")))
		_, err = s.Allow(ctx(t), "credential_check", "org-1", T0, 10, T0.Add(time.Hour))
		must(t, "count", err)
		got, next, err := s.ScanConnections(ctx(t), store.Page{})
		must(t, "scan", err)
		if len(got) != 0 || next != "" {
			t.Fatalf("scan of a table without connections: %d connections, cursor %q", len(got), next)
		}
	})

	t.Run("EveryConnectionOnce", func(t *testing.T) {
		s := newStore(t)
		want := map[store.ConnKey]store.Connection{}
		for i := range 11 {
			// Keys that share prefixes and hold the separators the
			// adapters escape.
			k := store.ConnKey{OrgID: fmt.Sprintf("org-%d", i%3), UserID: fmt.Sprintf("user#%d/x", i), Provider: []string{provB, provA, provC}[i%3]}
			c := Connection(k)
			if i%2 == 0 {
				c.NextRefreshAt = T0.Add(time.Duration(i) * time.Minute)
			}
			stored, err := s.PutConnection(ctx(t), c, 0)
			must(t, "put connection", err)
			want[k] = stored
			// Other records in between.
			_, err = s.PutIntegration(ctx(t), Integration(k.OrgID, fmt.Sprintf("p-%d", i)), 0,
				store.AuditEntry{OrgID: k.OrgID, ID: fmt.Sprintf("a-%d", i), At: T0, Actor: "admin-1", Provider: k.Provider, Action: "integration.created"})
			must(t, "put integration", err)
			must(t, "create state", s.CreateState(ctx(t), State(fmt.Sprintf("s-%d", i))))
		}
		for _, limit := range []int{1, 3, 11, 0} {
			got := map[store.ConnKey]store.Connection{}
			cursor, pages := "", 0
			for {
				page, next, err := s.ScanConnections(ctx(t), store.Page{Cursor: cursor, Limit: limit})
				must(t, "scan", err)
				pages++
				if limit > 0 && len(page) > limit {
					t.Fatalf("limit %d: a page of %d", limit, len(page))
				}
				for _, c := range page {
					if _, dup := got[c.ConnKey]; dup {
						t.Fatalf("limit %d: %s returned twice", limit, c.ConnKey)
					}
					got[c.ConnKey] = c
				}
				if next == "" {
					break
				}
				if pages > 100 {
					t.Fatalf("limit %d: the walk does not end", limit)
				}
				cursor = next
			}
			if len(got) != len(want) {
				keys := make([]string, 0, len(got))
				for k := range got {
					keys = append(keys, k.String())
				}
				sort.Strings(keys)
				t.Fatalf("limit %d: %d connections scanned (%v), want %d", limit, len(got), keys, len(want))
			}
			for k, c := range want {
				mustEqual(t, "scanned "+k.String(), got[k], c)
			}
		}
	})

	t.Run("ForeignCursor", func(t *testing.T) {
		s := newStore(t)
		for i := range 3 {
			_, err := s.PutConnection(ctx(t), Connection(store.ConnKey{OrgID: "org-1", UserID: fmt.Sprintf("u%d", i), Provider: provC}), 0)
			must(t, "put connection", err)
			must(t, "audit", s.AppendAudit(ctx(t), store.AuditEntry{OrgID: "org-1", ID: fmt.Sprintf("a%d", i), At: T0, Actor: "x", Provider: provC, Action: "x"}))
		}
		_, audit, err := s.ListAudit(ctx(t), "org-1", store.Page{Limit: 1})
		must(t, "list audit", err)
		_, byProvider, err := s.ListProviderConnections(ctx(t), "org-1", provC, store.Page{Limit: 1})
		must(t, "list provider connections", err)
		for _, c := range []string{audit, byProvider, "not-a-cursor", "e30"} {
			_, _, err := s.ScanConnections(ctx(t), store.Page{Cursor: c, Limit: 1})
			mustErr(t, "scan with cursor "+c, err, store.ErrInvalidCursor)
		}
	})
}
