package localserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sofie/integrations/shared/auth"
)

// Local tokens. API Gateway checks iss and aud against the template's
// JwtIssuer and JwtAudience parameters; local runs use these values instead.
const (
	LocalIssuer   = "http://127.0.0.1:3000/local-issuer"
	LocalAudience = "integrations-local"
	// DevJWTSecret signs local tokens when LOCAL_JWT_SECRET is not set. It
	// protects nothing: it is for a developer's own machine only.
	DevJWTSecret = "local-development-only-jwt-secret"
	// DefaultTokenTTL is the lifetime of a minted token.
	DefaultTokenTTL = time.Hour
)

// Claims describe a token to mint.
type Claims struct {
	User   string
	Org    string
	Roles  []string
	Groups []string
	// Names are the claim names (CLAIM_* settings); zero means the defaults.
	Names auth.ClaimNames
	// Issuer and Audience default to LocalIssuer and LocalAudience.
	Issuer   string
	Audience string
	// IssuedAt defaults to now; TTL to DefaultTokenTTL.
	IssuedAt time.Time
	TTL      time.Duration
	// Scope is the space-separated "scope" claim, if any.
	Scope string
	// Extra claims, added as they are (they may override the above).
	Extra map[string]any
}

// MintToken returns an HS256 JWT signed with secret, as the identity
// provider would issue it.
func MintToken(secret []byte, c Claims) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("mint token: empty secret")
	}
	names := c.Names
	def := auth.DefaultClaimNames()
	if names.User == "" {
		names.User = def.User
	}
	if names.Org == "" {
		names.Org = def.Org
	}
	if names.Roles == "" {
		names.Roles = def.Roles
	}
	if names.Groups == "" {
		names.Groups = def.Groups
	}
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	ttl := c.TTL
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	claims := jwt.MapClaims{
		"iss": cmpOr(c.Issuer, LocalIssuer),
		"aud": cmpOr(c.Audience, LocalAudience),
		"iat": iat.Unix(),
		"nbf": iat.Unix(),
		"exp": iat.Add(ttl).Unix(),
	}
	if c.User != "" {
		claims[names.User] = c.User
	}
	if c.Org != "" {
		claims[names.Org] = c.Org
	}
	if c.Roles != nil {
		claims[names.Roles] = c.Roles
	}
	if c.Groups != nil {
		claims[names.Groups] = c.Groups
	}
	if c.Scope != "" {
		claims["scope"] = c.Scope
	}
	maps.Copy(claims, c.Extra)
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// verifier checks bearer tokens the way API Gateway's JWT authorizer does:
// signature, exp (required), nbf and iat, issuer, and an audience among the
// configured ones.
type verifier struct {
	secret    []byte
	issuer    string
	audiences []string
	now       func() time.Time
}

// errNoToken and errBadToken become the two 401 answers of API Gateway.
var (
	errNoToken = errors.New("no bearer token")
)

// verify returns the claims API Gateway hands the function: every value a
// string, list claims as "[a b]"; and the token's scopes.
func (v *verifier) verify(header string) (map[string]string, []string, error) {
	tok := strings.TrimSpace(header)
	if tok == "" {
		return nil, nil, errNoToken
	}
	// API Gateway accepts the token with or without the Bearer prefix.
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(v.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(v.now),
		jwt.WithJSONNumber(),
	)
	claims := jwt.MapClaims{}
	if _, err := parser.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return v.secret, nil }); err != nil {
		return nil, nil, fmt.Errorf("invalid token: %w", err)
	}
	aud, err := claims.GetAudience()
	if err != nil {
		return nil, nil, fmt.Errorf("invalid token: %w", err)
	}
	if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(v.audiences, a) }) {
		// API Gateway also accepts client_id in place of aud.
		if cid, _ := claims["client_id"].(string); cid == "" || !slices.Contains(v.audiences, cid) {
			return nil, nil, errors.New("invalid token: audience not accepted")
		}
	}
	out := make(map[string]string, len(claims))
	for k, val := range claims {
		if val == nil {
			continue
		}
		out[k] = ClaimString(val)
	}
	var scopes []string
	if s, ok := claims["scope"].(string); ok {
		scopes = strings.Fields(s)
	} else if s, ok := claims["scp"].(string); ok {
		scopes = strings.Fields(s)
	}
	return out, scopes, nil
}

// ClaimString renders a decoded JWT claim value the way API Gateway's JWT
// authorizer passes it to the function: strings as they are, numbers as
// written in the token, and lists as "[a b c]" (space-separated, in
// brackets, no quotes).
func ClaimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, ClaimString(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		var b bytes.Buffer
		b.WriteString("map[")
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + ":" + ClaimString(x[k]))
		}
		b.WriteByte(']')
		return b.String()
	default:
		return fmt.Sprint(x)
	}
}
