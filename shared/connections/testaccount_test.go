package connections

import (
	"context"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/tokenseal"
)

// TestPurposeIsSealedIntoTheFlow: a state's PKCE verifier and a pending
// completion's tokens are bound to the flow's purpose, so a record whose
// purpose was changed where it is stored opens nothing; records of a
// user's connection keep the binding they had before purposes existed.
func TestPurposeIsSealedIntoTheFlow(t *testing.T) {
	db, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	v := &tokenseal.Vault{Secrets: db}
	ctx := context.Background()

	st := store.OAuthState{ID: "state-1", OrgID: "o1", UserID: "u-admin", Purpose: store.PurposeTestAccount}
	sealed, err := sealVerifier(ctx, v, st, "verifier-1")
	if err != nil {
		t.Fatal(err)
	}
	st.PKCEVerifier = sealed
	if got, err := OpenVerifier(ctx, v, st); err != nil || got != "verifier-1" {
		t.Fatalf("open: %q %v", got, err)
	}
	st.Purpose = store.PurposeConnection
	if _, err := OpenVerifier(ctx, v, st); err == nil {
		t.Fatal("a test account's verifier opened as a user connection's")
	}
	if (verifierKey(store.OAuthState{ID: "s", OrgID: "o", UserID: "u"}) != store.ConnKey{OrgID: "o", UserID: "u", Provider: "oauth-state/s"}) {
		t.Fatal("a user connection's verifier binding changed: states stored before purposes would not open")
	}

	pc := store.PendingCompletion{ID: "pc-1", OrgID: "o1", UserID: "u-admin", Provider: "google_workspace", Purpose: store.PurposeTestAccount}
	tokens, _, err := v.SealToken(ctx, pendingKey(pc), &oauth2.Token{AccessToken: "fake-access-token-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.OpenToken(ctx, pendingKey(pc), tokens); err != nil {
		t.Fatalf("open the pending tokens: %v", err)
	}
	pc.Purpose = store.PurposeConnection
	if _, err := v.OpenToken(ctx, pendingKey(pc), tokens); err == nil {
		t.Fatal("a test account's pending tokens opened as a user connection's")
	}
	pc.Purpose = "something_new"
	if mayComplete(pc, adminPrincipal(t)) {
		t.Fatal("a purpose this build does not know may be completed")
	}
}

// TestWhoMayComplete: a user connection's flow by its starting user, the
// test account's only by that user while an admin.
func TestWhoMayComplete(t *testing.T) {
	member := auth.Principal{UserID: "u-admin", OrgID: "o1"}
	for _, tc := range []struct {
		purpose string
		who     auth.Principal
		want    bool
	}{
		{store.PurposeConnection, member, true},
		{store.PurposeConnection, adminPrincipal(t), true},
		{store.PurposeTestAccount, adminPrincipal(t), true},
		{store.PurposeTestAccount, member, false},
	} {
		if got := mayComplete(store.PendingCompletion{Purpose: tc.purpose}, tc.who); got != tc.want {
			t.Errorf("purpose %q, admin %v: %v, want %v", tc.purpose, tc.who.IsAdmin(), got, tc.want)
		}
	}
	if targetUser(store.PurposeTestAccount, "u-admin") != store.TestAccountUserID || targetUser(store.PurposeConnection, "u-admin") != "u-admin" {
		t.Fatal("targetUser")
	}
}

func adminPrincipal(t *testing.T) auth.Principal {
	t.Helper()
	p, ok := auth.FromClaims(map[string]string{"sub": "u-admin", "org_id": "o1", "roles": "[org_admin]"}, auth.DefaultClaimNames())
	if !ok || !p.IsAdmin() {
		t.Fatal("admin principal")
	}
	return p
}

// TestFlowLifetime: the rollout view judges a start abandoned once
// store.ConnectFlowLifetime has passed, which must be how long the flow
// can take.
func TestFlowLifetime(t *testing.T) {
	if StateTTL+CompletionTTL != store.ConnectFlowLifetime {
		t.Fatalf("StateTTL %v + CompletionTTL %v != store.ConnectFlowLifetime %v", StateTTL, CompletionTTL, store.ConnectFlowLifetime)
	}
}
