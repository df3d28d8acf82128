package systemtest_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// sealFormat1 seals tok for k the way tokens were sealed before format 2
// (package tokenseal's old layout, written out here independently of the
// code under test): format byte 1, the key id, a nonce, and AES-GCM with the
// header followed by "org/user/provider" as additional data.
func sealFormat1(t testing.TB, w *world, k store.ConnKey, tok any) []byte {
	t.Helper()
	kr, err := w.env.Deps.Secrets.TokenKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(kr.Keys[kr.Current])
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	head := append([]byte{1, byte(len(kr.Current))}, kr.Current...)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	aad := append(bytes.Clone(head), k.OrgID+"/"+k.UserID+"/"+k.Provider...)
	return gcm.Seal(append(bytes.Clone(head), nonce...), nonce, plain, aad)
}

// TestSealedTokensBoundUnambiguously: sealed tokens are bound to their
// connection's org, user and provider as separate fields. Sealed tokens
// moved to a connection whose key joins to the same "org/user/provider"
// (org "o-seal/a", user "b" versus org "o-seal", user "a/b") do not open
// there, so a refresh run does not hand the victim's account to the other
// org. Tokens sealed in the old format still open and are sealed in the new
// one on their next write. Issue 11, finding 3 (sealing additional data).
func TestSealedTokensBoundUnambiguously(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		const org, victim = "o-seal", "a/b"
		w.enable(t, org, catalog.GoogleWorkspace)
		w.connect(t, org, victim, catalog.GoogleWorkspace, "")
		stolen := w.conn(org, victim, catalog.GoogleWorkspace)
		if stolen.SealedTokens[0] != 2 {
			t.Errorf("a new connection's tokens are in format %d, want 2", stolen.SealedTokens[0])
		}

		// Someone with write access to the table copies the sealed tokens
		// into a connection of org "o-seal/a", user "b" (whose integration
		// they also wrote), due for refresh now.
		planted := store.ConnKey{OrgID: org + "/a", UserID: "b", Provider: catalog.GoogleWorkspace}
		if planted.String() != stolen.ConnKey.String() {
			t.Fatalf("%s and %s do not collide", planted, stolen.ConnKey)
		}
		in, _ := w.integration(t, org, catalog.GoogleWorkspace)
		in.OrgID, in.Version = planted.OrgID, 0
		if _, err := w.env.Deps.Store.PutIntegration(ctx, in, 0); err != nil {
			t.Fatal(err)
		}
		c := *stolen
		c.ConnKey, c.Version, c.NextRefreshAt = planted, 0, w.env.Clock.Now()
		if _, err := w.env.Deps.Store.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := w.env.Deps.Tokens.OpenToken(ctx, planted, c.SealedTokens); err == nil {
			t.Error("the victim's sealed tokens open for the planted connection")
		}
		res := w.refresh(t)
		got := w.conn(planted.OrgID, planted.UserID, planted.Provider)
		if res.Refreshed != 0 || !bytes.Equal(got.SealedTokens, stolen.SealedTokens) || !got.LastRefreshAt.Equal(stolen.LastRefreshAt) {
			t.Errorf("the planted connection was refreshed with the victim's tokens (refresh %+v)", res)
		}

		// Migration: a token sealed in format 1 opens, and its next write
		// (a refresh) seals it in format 2.
		const user = "u-old-format"
		w.connect(t, org, user, catalog.GoogleWorkspace, "")
		cur := w.conn(org, user, catalog.GoogleWorkspace)
		tok := w.tokens(t, cur)
		cur.SealedTokens = sealFormat1(t, w, cur.ConnKey, tok)
		if _, err := w.env.Deps.Store.PutConnection(ctx, *cur, cur.Version); err != nil {
			t.Fatal(err)
		}
		old := w.conn(org, user, catalog.GoogleWorkspace)
		if old.SealedTokens[0] != 1 || w.tokens(t, old).RefreshToken != tok.RefreshToken {
			t.Fatal("the format-1 token does not open")
		}
		w.env.Clock.Advance(55 * time.Minute)
		w.refresh(t)
		fresh := w.conn(org, user, catalog.GoogleWorkspace)
		if fresh.SealedTokens[0] != 2 {
			t.Errorf("after a refresh the token is still in format %d", fresh.SealedTokens[0])
		}
		if nt := w.tokens(t, fresh); nt.AccessToken == tok.AccessToken || !w.live(nt.AccessToken) {
			t.Error("the refresh did not store a new, live access token")
		}
	})
}
