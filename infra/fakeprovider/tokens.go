package fakeprovider

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// family is everything one authorization (one code redemption) produced:
// its refresh tokens, successive under rotation, and their access tokens.
// Revoking it ends them all at once.
type family struct {
	provider, clientID string
	email              string // lower case
	scopes             []string
	tenant             string // Microsoft: the user's tenant id
	loginHost          string // Salesforce: login.salesforce.com or test.salesforce.com
	instanceHost       string // Salesforce: the REST API host
	revokedAt          time.Time
}

func (f *family) revoke(now time.Time) {
	if f.revokedAt.IsZero() {
		f.revokedAt = now
	}
}

func (f *family) revoked() bool { return !f.revokedAt.IsZero() }

// accessToken is an issued access token.
type accessToken struct {
	provider, clientID string
	email              string  // lower case; "" for an app-only (client credentials) token
	fam                *family // nil for app-only tokens
	scopes             []string
	tenant             string // Microsoft app-only tokens: the tenant
	issued, expires    time.Time
	revoked            bool
}

func (t *accessToken) active(now time.Time) bool {
	return !t.revoked && (t.fam == nil || !t.fam.revoked()) && now.Before(t.expires)
}

// refreshToken is an issued refresh token.
type refreshToken struct {
	fam      *family
	issued   time.Time
	lastUsed time.Time
	// replaced: a refresh rotated it; presenting it again is a reuse.
	replaced bool
	// redeemed counts successful refreshes with it.
	redeemed int
}

// authCode is an issued authorization code.
type authCode struct {
	provider, clientID, email string
	redirectURI               string
	scopes                    []string // granted
	challenge                 string
	nonce                     string
	offline                   bool
	tenant                    string // Microsoft: the user's tenant id
	loginHost                 string // Salesforce
	expires                   time.Time
	used                      bool
	fam                       *family // set when redeemed, revoked on a second redemption
}

// TokenInfo describes a token the fake issued.
type TokenInfo struct {
	Provider string
	ClientID string
	User     string // email; "" for an app-only token
	Type     string // "access_token" or "refresh_token"
	Scopes   []string
	// ExpiresAt is zero for refresh tokens.
	ExpiresAt time.Time
	// Active: usable now (not expired, revoked or replaced).
	Active bool
}

// TokenInfo tells whether token was issued by the fake and what it is, so a
// test can check that what the service stored is the live token.
func (s *Server) TokenInfo(token string) (TokenInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if at, ok := s.access[token]; ok {
		return TokenInfo{Provider: at.provider, ClientID: at.clientID, User: at.email, Type: "access_token",
			Scopes: slices.Clone(at.scopes), ExpiresAt: at.expires, Active: at.active(now)}, true
	}
	if rt, ok := s.refresh[token]; ok {
		return TokenInfo{Provider: rt.fam.provider, ClientID: rt.fam.clientID, User: rt.fam.email, Type: "refresh_token",
			Scopes: slices.Clone(rt.fam.scopes), Active: !rt.replaced && !rt.fam.revoked()}, true
	}
	return TokenInfo{}, false
}

// randToken returns prefix and 32 random bytes, base64url: unguessable.
func randToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// randGUID is a random version 4 GUID.
func randGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return formatGUID(b)
}

func formatGUID(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Stable ids derived from a seed, so a user keeps its ids across restarts of
// a local run.
func guidFrom(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return formatGUID(sum[:16])
}

func digitsFrom(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	out := make([]byte, n)
	out[0] = '1'
	for i := 1; i < n; i++ {
		out[i] = '0' + sum[i%len(sum)]%10
	}
	return string(out)
}

func alnumFrom(seed string, n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	sum := sha256.Sum256([]byte(seed))
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[int(sum[i%len(sum)])%len(alphabet)]
	}
	return string(out)
}

// unsignedJWT encodes claims as a JWT with alg "none" and an empty
// signature: the shape of the providers' ID tokens, which clients read
// without verifying when they come straight from the token endpoint.
func unsignedJWT(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	payload, err := json.Marshal(claims)
	if err != nil {
		panic(fmt.Sprintf("fakeprovider: id_token claims: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// s256 is the PKCE S256 transform of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier checks RFC 7636's code_verifier syntax.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~') {
			return false
		}
	}
	return true
}
