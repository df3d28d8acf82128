package refresh_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

// resealStore wraps the refresh service's store to cancel the run after
// its first page, or to slip a concurrent write in before a re-seal's.
type resealStore struct {
	refresh.Stores
	mu          sync.Mutex
	afterScan   func()
	beforeWrite func(store.Connection)
}

func (r *resealStore) ScanConnections(ctx context.Context, p store.Page) ([]store.Connection, string, error) {
	out, next, err := r.Stores.ScanConnections(ctx, p)
	r.mu.Lock()
	f := r.afterScan
	r.afterScan = nil
	r.mu.Unlock()
	if f != nil {
		f()
	}
	return out, next, err
}

func (r *resealStore) PutConnection(ctx context.Context, c store.Connection, v int64) (store.Connection, error) {
	r.mu.Lock()
	f := r.beforeWrite
	r.beforeWrite = nil
	r.mu.Unlock()
	if f != nil {
		f(c)
	}
	return r.Stores.PutConnection(ctx, c, v)
}

// rotate makes a new token key current and returns its id.
func (f *fixture) rotate() string {
	f.t.Helper()
	id, err := f.env.Deps.Secrets.(interface {
		RotateTokenKey(context.Context) (string, error)
	}).RotateTokenKey(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func keyOf(t testing.TB, c store.Connection) string {
	t.Helper()
	id, err := tokenseal.KeyID(c.SealedTokens)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestResealWalksInPagesAndContinues: a run cancelled after its first page
// finishes that page and answers the cursor; the next run continues from it
// and reaches the end; a run from the start then finds everything current.
func TestResealWalksInPagesAndContinues(t *testing.T) {
	f := newFixture(t)
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
	seeded := f.seed(in, "u", 25, f.env.Clock.Now().Add(time.Hour))
	k2 := f.rotate()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &resealStore{Stores: f.env.Deps.Store, afterScan: cancel}
	svc := f.service(func(o *refresh.Options) { o.Store, o.PageSize = st, 10 })
	first, err := svc.Reseal(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Resealed != 10 || first.Cursor == "" || first.KeyID != k2 {
		t.Fatalf("first run %+v, want one page of 10 resealed under %s and a cursor", first, k2)
	}
	second, err := svc.Reseal(context.Background(), first.Cursor)
	if err != nil {
		t.Fatal(err)
	}
	if second.Resealed != 15 || second.Current != 0 || second.Cursor != "" {
		t.Fatalf("second run %+v, want the other 15 and no cursor", second)
	}
	for _, s := range seeded {
		c := f.conn(s.key)
		if keyOf(t, c) != k2 || c.TokenKeyID != k2 || f.tokens(c).RefreshToken != s.refreshToken {
			t.Fatalf("%s: sealed under %s (record %s)", s.key, keyOf(t, c), c.TokenKeyID)
		}
	}
	again, err := svc.Reseal(context.Background(), "")
	if err != nil || again.Resealed != 0 || again.Current != 25 {
		t.Fatalf("third run %+v %v, want all 25 current", again, err)
	}
	if _, err := svc.Reseal(context.Background(), "not-a-cursor"); !errors.Is(err, store.ErrInvalidCursor) {
		t.Fatalf("foreign cursor: %v", err)
	}
}

// TestResealNeverOverwritesAConcurrentWrite: a write landing between the
// re-seal's read and its write (a refresh claiming the lease) makes the
// re-seal's write fail; it reads the record again and seals that, so the
// other write is kept. A token that cannot be opened is counted as failed
// and left as it is.
func TestResealNeverOverwritesAConcurrentWrite(t *testing.T) {
	f := newFixture(t)
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
	seeded := f.seed(in, "u", 2, f.env.Clock.Now().Add(time.Hour))
	f.rotate()

	broken := f.conn(seeded[1].key)
	broken.SealedTokens = append([]byte{}, broken.SealedTokens...)
	broken.SealedTokens[len(broken.SealedTokens)-1] ^= 1
	if _, err := f.env.Deps.Store.PutConnection(f.ctx, broken, broken.Version); err != nil {
		t.Fatal(err)
	}
	broken = f.conn(seeded[1].key)

	used := f.env.Clock.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	st := &resealStore{Stores: f.env.Deps.Store}
	st.beforeWrite = func(c store.Connection) {
		cur := f.conn(c.ConnKey)
		cur.LastUsedAt = used
		if _, err := f.env.Deps.Store.PutConnection(f.ctx, cur, cur.Version); err != nil {
			t.Error(err)
		}
	}
	svc := f.service(func(o *refresh.Options) { o.Store, o.Concurrency = st, 1 })
	res, err := svc.Reseal(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Resealed != 1 || res.Failed != 1 || res.Scanned != 2 {
		t.Fatalf("%+v, want 1 resealed and 1 failed", res)
	}
	var good store.Connection
	for _, s := range seeded {
		if s.key != broken.ConnKey {
			good = f.conn(s.key)
		}
	}
	if !good.LastUsedAt.Equal(used) || keyOf(t, good) != good.TokenKeyID {
		t.Errorf("the concurrent write was lost (last used %v) or the key id disagrees", good.LastUsedAt)
	}
	if after := f.conn(broken.ConnKey); after.Version != broken.Version {
		t.Errorf("the unopenable connection was written")
	}
}
