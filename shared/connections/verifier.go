package connections

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
)

// The PKCE verifier is a secret until its code is redeemed: whoever holds it
// and intercepts the code can redeem the code. A pending state therefore
// keeps it sealed with the token-encryption key (package tokenseal), bound
// to the state (its id is part of the additional data), so a reader of the
// table learns nothing from it and a sealed verifier cannot be moved to
// another state. It is stored as sealedVerifierPrefix + base64url.
const sealedVerifierPrefix = "sealed1:"

// verifierKey is the binding of a state's sealed verifier: a key no
// connection has (provider ids never contain '/'), naming the flow's
// purpose, so a state whose purpose was changed in the table cannot open
// its verifier.
func verifierKey(st store.OAuthState) store.ConnKey {
	return store.ConnKey{OrgID: st.OrgID, UserID: st.UserID, Provider: "oauth-state/" + purposeTag(st.Purpose) + st.ID}
}

// sealVerifier returns the stored form of st's PKCE verifier.
func sealVerifier(ctx context.Context, v Vault, st store.OAuthState, verifier string) (string, error) {
	sealed, _, err := v.SealToken(ctx, verifierKey(st), &oauth2.Token{AccessToken: verifier})
	if err != nil {
		return "", fmt.Errorf("seal the PKCE verifier: %w", err)
	}
	return sealedVerifierPrefix + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// OpenVerifier returns the PKCE verifier a state holds. A state stored
// before verifiers were sealed holds it as it is.
func OpenVerifier(ctx context.Context, v Vault, st store.OAuthState) (string, error) {
	enc, sealed := strings.CutPrefix(st.PKCEVerifier, sealedVerifierPrefix)
	if !sealed {
		return st.PKCEVerifier, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", errors.New("open the PKCE verifier: not base64url")
	}
	tok, err := v.OpenToken(ctx, verifierKey(st), b)
	if err != nil {
		return "", fmt.Errorf("open the PKCE verifier: %w", err)
	}
	return tok.AccessToken, nil
}
