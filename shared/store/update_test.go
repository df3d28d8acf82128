package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
)

// The helpers run on the embedded store (its versioned writes are the
// contract suite's); racing writers are played by a wrapper that writes
// first.

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func put(t *testing.T, st store.Connections, org, user, provider string) store.Connection {
	t.Helper()
	c, err := st.PutConnection(context.Background(), store.Connection{
		ConnKey: store.ConnKey{OrgID: org, UserID: user, Provider: provider},
		Status:  store.StatusConnected, ClientRef: store.ConfigModeDefault,
		NextRefreshAt: t0.Add(time.Hour), UpdatedAt: t0,
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// racer writes to one connection before each of the first `times` writes
// of the helper, as a refresh finishing or a user reconnecting would.
type racer struct {
	*boltstore.Store
	user   string
	times  int
	delete bool
	writes int
}

func (r *racer) PutConnection(ctx context.Context, c store.Connection, v int64) (store.Connection, error) {
	if c.UserID == r.user && r.writes < r.times {
		r.writes++
		cur, err := r.Store.GetConnection(ctx, c.ConnKey)
		if err != nil {
			return store.Connection{}, err
		}
		if r.delete {
			if err := r.Store.DeleteConnection(ctx, c.ConnKey); err != nil {
				return store.Connection{}, err
			}
		} else {
			cur.LastRefreshAt = t0.Add(time.Duration(r.writes) * time.Minute)
			if _, err := r.Store.PutConnection(ctx, cur, cur.Version); err != nil {
				return store.Connection{}, err
			}
		}
	}
	return r.Store.PutConnection(ctx, c, v)
}

// offIndex takes a connected connection off the index; already-off ones
// are left alone.
func offIndex(c *store.Connection) bool {
	if c.NextRefreshAt.IsZero() {
		return false
	}
	c.NextRefreshAt, c.OffIndexReason = time.Time{}, store.ReasonProviderDisabled
	return true
}

func TestUpdateConnection(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		racer     racer
		wantWrote bool
		wantErr   error
		// wantLastRefresh: the racing writes survived (decided on a re-read).
		wantLastRefresh time.Time
		gone            bool
	}{
		{name: "no race", wantWrote: true},
		{name: "one race: re-read and write", racer: racer{times: 1}, wantWrote: true, wantLastRefresh: t0.Add(time.Minute)},
		{name: "races up to the bound", racer: racer{times: store.MaxUpdateAttempts - 1}, wantWrote: true, wantLastRefresh: t0.Add(time.Duration(store.MaxUpdateAttempts-1) * time.Minute)},
		{name: "keeps changing: conflict", racer: racer{times: store.MaxUpdateAttempts}, wantErr: store.ErrConflict, wantLastRefresh: t0.Add(time.Duration(store.MaxUpdateAttempts) * time.Minute)},
		{name: "deleted meanwhile: nothing to do", racer: racer{times: 1, delete: true}, gone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			c := put(t, st, "o1", "u1", "google_workspace")
			r := tc.racer
			r.Store, r.user = st, "u1"
			calls := 0
			got, wrote, err := store.UpdateConnection(ctx, &r, c, func(c *store.Connection) bool { calls++; return offIndex(c) })
			if !errors.Is(err, tc.wantErr) || (err != nil) != (tc.wantErr != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if wrote != tc.wantWrote {
				t.Fatalf("wrote = %v, want %v", wrote, tc.wantWrote)
			}
			if want := min(tc.racer.times+1, store.MaxUpdateAttempts); !tc.gone && calls != want {
				t.Fatalf("mutate called %d times, want %d", calls, want)
			}
			stored, gerr := st.GetConnection(ctx, c.ConnKey)
			if tc.gone {
				if !errors.Is(gerr, store.ErrNotFound) {
					t.Fatalf("the deleted connection came back: %+v %v", stored, gerr)
				}
				return
			}
			if gerr != nil {
				t.Fatal(gerr)
			}
			if !stored.LastRefreshAt.Equal(tc.wantLastRefresh) {
				t.Fatalf("lastRefreshAt %v, want %v: a racing write was overwritten", stored.LastRefreshAt, tc.wantLastRefresh)
			}
			if wrote {
				if stored.OffIndexReason != store.ReasonProviderDisabled || !stored.NextRefreshAt.IsZero() || got.Version != stored.Version {
					t.Fatalf("stored %+v, returned version %d", stored, got.Version)
				}
			} else if stored.OffIndexReason != "" {
				t.Fatalf("written without a successful write: %+v", stored)
			}
		})
	}
}

func TestUpdateProviderConnections(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	const n = 230 // three pages
	for i := range n {
		put(t, st, "o1", fmt.Sprintf("u%03d", i), "google_workspace")
	}
	// Not this org's or this provider's: untouched.
	other := put(t, st, "o2", "u000", "google_workspace")
	otherProvider := put(t, st, "o1", "u000", "microsoft365")
	// One already off the index: mutate says no.
	already, err := st.GetConnection(ctx, store.ConnKey{OrgID: "o1", UserID: "u007", Provider: "google_workspace"})
	if err != nil {
		t.Fatal(err)
	}
	already.NextRefreshAt, already.OffIndexReason = time.Time{}, store.ReasonNeedsReconnect
	if _, err := st.PutConnection(ctx, already, already.Version); err != nil {
		t.Fatal(err)
	}
	r := &racer{Store: st, user: "u150", times: 2}

	got, err := store.UpdateProviderConnections(ctx, r, "o1", "google_workspace", offIndex)
	if err != nil || got != n-1 {
		t.Fatalf("UpdateProviderConnections = %d, %v; want %d", got, err, n-1)
	}
	for i := range n {
		c, err := st.GetConnection(ctx, store.ConnKey{OrgID: "o1", UserID: fmt.Sprintf("u%03d", i), Provider: "google_workspace"})
		if err != nil {
			t.Fatal(err)
		}
		want := store.ReasonProviderDisabled
		if i == 7 {
			want = store.ReasonNeedsReconnect
		}
		if !c.NextRefreshAt.IsZero() || c.OffIndexReason != want {
			t.Fatalf("%s: next %v off-index %q, want %q", c.ConnKey, c.NextRefreshAt, c.OffIndexReason, want)
		}
	}
	if raced, _ := st.GetConnection(ctx, store.ConnKey{OrgID: "o1", UserID: "u150", Provider: "google_workspace"}); !raced.LastRefreshAt.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("the raced connection lost the racing writes: %+v", raced)
	}
	for _, c := range []store.Connection{other, otherProvider} {
		got, _ := st.GetConnection(ctx, c.ConnKey)
		if got.Version != c.Version || got.NextRefreshAt.IsZero() {
			t.Fatalf("%s was changed: %+v", c.ConnKey, got)
		}
	}
	// Run again: everything is already as wanted, nothing is written.
	if again, err := store.UpdateProviderConnections(ctx, st, "o1", "google_workspace", offIndex); err != nil || again != 0 {
		t.Fatalf("second pass = %d, %v", again, err)
	}
}
