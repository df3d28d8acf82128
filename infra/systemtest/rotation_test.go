package systemtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

// retiringSecrets is the functions' store.Secrets with token key versions
// that can be retired: a retired version is neither in the keyring nor
// found by id, as after an operator removed it (README: rotating the token
// key).
type retiringSecrets struct {
	store.Secrets
	mu      sync.Mutex
	retired map[string]bool
}

func (r *retiringSecrets) TokenKeys(ctx context.Context) (store.Keyring, error) {
	kr, err := r.Secrets.TokenKeys(ctx)
	if err != nil {
		return kr, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := maps.Clone(kr.Keys)
	for id := range r.retired {
		delete(keys, id)
	}
	kr.Keys = keys
	return kr, nil
}

func (r *retiringSecrets) TokenKey(ctx context.Context, id string) ([]byte, error) {
	r.mu.Lock()
	gone := r.retired[id]
	r.mu.Unlock()
	if gone {
		return nil, fmt.Errorf("token key %q retired: %w", id, store.ErrNotFound)
	}
	return r.Secrets.TokenKey(ctx, id)
}

// PutDefaultClient lets localtest seed the fake provider's default clients.
func (r *retiringSecrets) PutDefaultClient(ctx context.Context, provider string, c store.DefaultClient) error {
	return r.Secrets.(localserver.DefaultClientSeeder).PutDefaultClient(ctx, provider, c)
}

func (r *retiringSecrets) retire(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retired == nil {
		r.retired = map[string]bool{}
	}
	r.retired[id] = true
}

// rotate makes a new token key version current, as an operator's
// put-secret-value does (both adapters can).
func (r *retiringSecrets) rotate(t testing.TB) string {
	t.Helper()
	rot, ok := r.Secrets.(interface {
		RotateTokenKey(context.Context) (string, error)
	})
	if !ok {
		t.Fatalf("%T cannot rotate its token key", r.Secrets)
	}
	id, err := rot.RotateTokenKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// withRetiringSecrets puts a retiringSecrets (kept in *into) under the
// functions.
func withRetiringSecrets(into **retiringSecrets) localtest.Option {
	return localtest.WithDeps(func(d *app.Deps) {
		r := &retiringSecrets{Secrets: d.Secrets}
		*into = r
		d.Secrets = r
		d.Tokens = &tokenseal.Vault{Secrets: r}
	})
}

// reseal invokes RefreshFunction with the re-seal payload.
func (w *world) reseal(t testing.TB, cursor string) refresh.ResealResult {
	t.Helper()
	out, err := w.env.Invoke(context.Background(), config.RefreshFunction, map[string]any{"action": "reseal", "cursor": cursor})
	if err != nil {
		t.Fatalf("reseal: %v", err)
	}
	var r refresh.ResealResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("reseal result %s: %v", out, err)
	}
	return r
}

// TestTokenKeyRotation: after the token key rotates, the re-seal
// invocation seals every stored connection under the new version, those off
// the refresh schedule included, never while another holds a connection's
// lease; then the old version can be retired and every connection still
// works. Issue 11, finding 3 (token key rotation).
func TestTokenKeyRotation(t *testing.T) {
	t.Parallel()
	secrets := map[string]**retiringSecrets{"embedded": new(*retiringSecrets), "aws": new(*retiringSecrets)}
	eachStoreWith(t, func(name string) []localtest.Option {
		return []localtest.Option{localtest.WithClock(morning), withRetiringSecrets(secrets[name])}
	}, func(t *testing.T, name string, w *world) {
		sec := *secrets[name]
		ctx := context.Background()
		const org = "o-rotate"
		for _, p := range []string{catalog.GoogleWorkspace, catalog.Microsoft365} {
			w.enable(t, org, p)
		}
		users := map[string]string{"u-on": catalog.GoogleWorkspace, "u-off": catalog.Microsoft365, "u-held": catalog.GoogleWorkspace}
		for u, p := range users {
			// Each its own account: two connections of one Google account
			// would share a grant, which a disconnect keeps.
			w.connect(t, org, u, p, w.account(p, u))
		}
		// u-off is off the refresh schedule (as a connection waiting for
		// its user to reconnect is).
		off := w.conn(org, "u-off", catalog.Microsoft365)
		off.NextRefreshAt, off.OffIndexReason = time.Time{}, store.ReasonNeedsReconnect
		if _, err := w.env.Deps.Store.PutConnection(ctx, *off, off.Version); err != nil {
			t.Fatal(err)
		}
		kr, err := sec.TokenKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k1 := kr.Current
		k2 := sec.rotate(t)
		if k2 == k1 {
			t.Fatal("rotation kept the key id")
		}

		// Another holds u-held's refresh lease: the re-seal leaves it.
		heldKey := store.ConnKey{OrgID: org, UserID: "u-held", Provider: catalog.GoogleWorkspace}
		if _, err := w.env.Deps.Store.ClaimLease(ctx, heldKey, "another-run", w.env.Clock.Now(), w.env.Clock.Now().Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		heldBefore := w.conn(org, "u-held", catalog.GoogleWorkspace)
		res := w.reseal(t, "")
		if res.KeyID != k2 || res.Cursor != "" || res.Resealed != 2 || res.LeaseHeld != 1 || res.Failed != 0 {
			t.Fatalf("first re-seal %+v, want 2 resealed and 1 lease held under %s", res, k2)
		}
		if held := w.conn(org, "u-held", catalog.GoogleWorkspace); held.Version != heldBefore.Version || held.LeaseOwner != "another-run" {
			t.Fatalf("the re-seal wrote a connection whose lease was held (version %d → %d, lease %q)", heldBefore.Version, held.Version, held.LeaseOwner)
		}
		// Once the lease expired, a second walk finishes; a third finds
		// everything current.
		w.env.Clock.Advance(3 * time.Minute)
		if res = w.reseal(t, ""); res.Resealed != 1 || res.Current != 2 || res.LeaseHeld != 0 || res.Failed != 0 {
			t.Fatalf("second re-seal %+v, want the held one resealed", res)
		}
		if res = w.reseal(t, ""); res.Resealed != 0 || res.Current != 3 {
			t.Fatalf("third re-seal %+v, want all current", res)
		}
		for u, p := range users {
			c := w.conn(org, u, p)
			if id, _ := tokenseal.KeyID(c.SealedTokens); id != k2 || c.TokenKeyID != k2 {
				t.Errorf("%s is sealed under %q (record says %q), want %s", u, id, c.TokenKeyID, k2)
			}
		}

		// Retire k1: every connection still opens, refreshes and
		// disconnects with a revocation at the provider.
		sec.retire(k1)
		if _, err := sec.TokenKey(ctx, k1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("k1 still there: %v", err)
		}
		for u, p := range users {
			if tok := w.tokens(t, w.conn(org, u, p)); tok.RefreshToken == "" {
				t.Errorf("%s: no refresh token", u)
			}
		}
		w.env.Clock.Advance(55 * time.Minute)
		if r := w.refresh(t); r.Refreshed != 2 || r.Errors != 0 {
			t.Errorf("refresh after retiring k1: %+v, want the 2 scheduled connections refreshed", r)
		}
		resp := w.do(t, "DELETE", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, w.member(org, "u-on"), nil, nil)
		if want(t, resp, 200, ""); resp.Object()["revocation"] != "revoked" {
			t.Errorf("disconnect after retiring k1: %s", resp)
		}
	})
}
