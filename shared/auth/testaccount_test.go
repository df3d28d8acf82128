package auth

import (
	"testing"

	"github.com/sofie/integrations/shared/store"
)

// TestNoCallerIsTheTestAccount: store.TestAccountUserID, the user id of an
// org's test account, is no caller's id, however the token spells its user
// claim: user ids are trimmed on every path.
func TestNoCallerIsTheTestAccount(t *testing.T) {
	names := DefaultClaimNames()
	for _, sub := range []string{store.TestAccountUserID, " " + store.TestAccountUserID, store.TestAccountUserID + " ", "\t" + store.TestAccountUserID[1:]} {
		claims := map[string]string{"sub": sub, "org_id": "o1", "roles": "[org_admin]"}
		if p, ok := FromClaims(claims, names); ok && p.UserID == store.TestAccountUserID {
			t.Errorf("FromClaims with sub %q is the test account", sub)
		}
		p, err := FromRequest(claims, bearer(t, map[string]any{"sub": sub, "org_id": "o1", "roles": []string{"org_admin"}}), names)
		if err == nil && p.UserID == store.TestAccountUserID {
			t.Errorf("FromRequest with sub %q is the test account", sub)
		}
	}
}
