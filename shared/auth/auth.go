// Package auth turns the API Gateway JWT authorizer's claims into the
// caller's identity, and answers the two questions every route asks: is the
// caller in this org, and may they administer it.
package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/sofie/integrations/shared/problem"
)

// ClaimNames says which JWT claims carry what. They are configurable because
// identity providers name them differently.
type ClaimNames struct {
	User   string // default "sub"
	Org    string // default "org_id"
	Roles  string // default "roles"
	Groups string // default "groups"
	// AdminRole is the role that may administer the org (default "org_admin").
	AdminRole string
}

// DefaultClaimNames are the names of DESIGN.md.
func DefaultClaimNames() ClaimNames {
	return ClaimNames{User: "sub", Org: "org_id", Roles: "roles", Groups: "groups", AdminRole: "org_admin"}
}

// Principal is the authenticated caller.
type Principal struct {
	UserID string
	OrgID  string
	Roles  []string
	Groups []string
	admin  bool
}

// IsAdmin reports whether the caller may administer their org.
func (p Principal) IsAdmin() bool { return p.admin }

// InGroup reports whether the caller's groups claim has g.
func (p Principal) InGroup(g string) bool { return slices.Contains(p.Groups, g) }

// FromClaims builds a principal from the authorizer's claims alone, for an
// event that carries no Authorization header (a direct invocation). API
// Gateway hands every claim over as a string and flattens a list claim to
// "[a b c]", which cannot tell the role "helpdesk org_admin" from the two
// roles "helpdesk" and "org_admin"; so a list claim is used only where that
// form is unambiguous (see unambiguousList), and is otherwise ignored: the
// caller then has no roles or groups. ok is false when the user or org claim
// is missing.
func FromClaims(claims map[string]string, names ClaimNames) (Principal, bool) {
	p := Principal{
		UserID: strings.TrimSpace(claims[names.User]),
		OrgID:  strings.TrimSpace(claims[names.Org]),
	}
	for _, c := range []struct {
		name string
		dst  *[]string
	}{{names.Roles, &p.Roles}, {names.Groups, &p.Groups}} {
		list, ok := unambiguousList(claims[c.name])
		if !ok {
			slog.Warn("list claim ignored: flattened by API Gateway and ambiguous, and no Authorization header to read it from", "claim", c.name)
		}
		*c.dst = list
	}
	p.admin = slices.Contains(p.Roles, names.AdminRole)
	return p, p.UserID != "" && p.OrgID != ""
}

// errBadToken: the Authorization header does not hold a JWT whose payload
// can be read, or its payload names another caller than the authorizer's
// claims.
var errBadToken = errors.New("the bearer token's payload cannot be read or disagrees with the authorizer's claims")

// FromRequest builds the caller of a request from the authorizer's claims
// and the bearer token of its Authorization header. The user and org come
// from the claims; the list claims (roles, groups) from the token's payload,
// with their JSON types, because API Gateway's flattened "[a b]" form splits
// values that contain a space or a comma.
//
// The token is only decoded, not verified: on every route with the JWT
// authorizer API Gateway has already checked its signature, issuer,
// audience and expiry before the function runs, and passes the header on
// unchanged. As defence in depth the payload must name the same user and
// org as the claims. Without a header, FromClaims decides.
func FromRequest(claims map[string]string, authorization string, names ClaimNames) (Principal, error) {
	if strings.TrimSpace(authorization) == "" {
		p, ok := FromClaims(claims, names)
		if !ok {
			return Principal{}, errNoIdentity
		}
		return p, nil
	}
	p := Principal{
		UserID: strings.TrimSpace(claims[names.User]),
		OrgID:  strings.TrimSpace(claims[names.Org]),
	}
	if p.UserID == "" || p.OrgID == "" {
		return Principal{}, errNoIdentity
	}
	payload, err := tokenPayload(authorization)
	if err != nil {
		return Principal{}, err
	}
	if scalar(payload[names.User]) != p.UserID || scalar(payload[names.Org]) != p.OrgID {
		return Principal{}, errBadToken
	}
	p.Roles = listClaim(payload[names.Roles])
	p.Groups = listClaim(payload[names.Groups])
	p.admin = slices.Contains(p.Roles, names.AdminRole)
	return p, nil
}

var errNoIdentity = errors.New("no user or organization claim")

// maxTokenLen bounds the header decoded (API Gateway accepts at most 10 KB
// of request headers in all).
const maxTokenLen = 16 << 10

// tokenPayload decodes the payload of a JWS compact serialization
// (header.payload.signature, each base64url), with or without the "Bearer"
// prefix, as API Gateway's identity source accepts both.
func tokenPayload(authorization string) (map[string]any, error) {
	tok := strings.TrimSpace(authorization)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	parts := strings.Split(tok, ".")
	if len(tok) > maxTokenLen || len(parts) != 3 || parts[1] == "" {
		return nil, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errBadToken
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var payload map[string]any
	if err := dec.Decode(&payload); err != nil || payload == nil || dec.More() {
		return nil, errBadToken
	}
	return payload, nil
}

// scalar is a string or number claim as API Gateway renders it ("" for
// anything else).
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	}
	return ""
}

// listClaim reads a list claim of the token: an array of strings, or a
// single string, which is one value whatever it contains. Other element
// types are not names and are skipped.
func listClaim(v any) []string {
	switch x := v.(type) {
	case string:
		return compact([]string{x})
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return compact(out)
	}
	return nil
}

// unambiguousList reads a list claim as API Gateway flattened it, when the
// flattened form has only one reading: empty ("" or "[]"); a JSON array of
// strings (a Lambda authorizer or a test may pass one); or one value with
// neither a space nor a comma, bracketed ("[org_admin]") or not. Anything
// else ("[helpdesk org_admin]": two roles, or one with a space?) is
// ambiguous: ok is false and no value is returned.
func unambiguousList(v string) (list []string, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" || v == "[]" {
		return nil, true
	}
	if strings.HasPrefix(v, `["`) {
		var out []string
		if json.Unmarshal([]byte(v), &out) == nil {
			return compact(out), true
		}
		return nil, false
	}
	inner := v
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		inner = v[1 : len(v)-1]
	}
	if inner == "" || strings.ContainsAny(inner, " ,[]\t") {
		return nil, false
	}
	return []string{inner}, true
}

// compact drops empty values and repeats, keeping order. Values are kept
// exactly as issued: " pilot" is not "pilot".
func compact(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller put there by Middleware.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Middleware reads the caller from the API Gateway v2 request context's
// authorizer claims and the Authorization header (FromRequest). API Gateway
// already refuses requests without a valid token on routes with the
// authorizer; this answers 401 again so that a handler is never reached
// without an identity (defence in depth, and local runs).
func Middleware(names ClaimNames, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var claims map[string]string
		if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.Authorizer != nil && rc.Authorizer.JWT != nil {
			claims = rc.Authorizer.JWT.Claims
		}
		p, err := FromRequest(claims, r.Header.Get("Authorization"), names)
		if err != nil {
			if errors.Is(err, errBadToken) {
				slog.WarnContext(r.Context(), "bearer token refused", "reason", err.Error())
			}
			w.Header().Set("WWW-Authenticate", "Bearer")
			problem.Write(w, r, problem.New(http.StatusUnauthorized, problem.CodeUnauthorized, "A valid bearer token with user and organization claims is required."))
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// OrgMember returns the caller if they belong to the path's org. Another
// org's id is answered 404, so callers cannot probe which orgs exist.
func OrgMember(r *http.Request) (Principal, *problem.Problem) {
	p, ok := PrincipalFrom(r.Context())
	if !ok {
		return Principal{}, problem.New(http.StatusUnauthorized, problem.CodeUnauthorized, "A valid bearer token is required.")
	}
	if org := r.PathValue("orgId"); org == "" || org != p.OrgID {
		return Principal{}, problem.New(http.StatusNotFound, problem.CodeNotFound, "No such organization.")
	}
	return p, nil
}

// OrgAdmin is OrgMember plus the admin role: a member gets 403.
func OrgAdmin(r *http.Request) (Principal, *problem.Problem) {
	p, prob := OrgMember(r)
	if prob != nil {
		return p, prob
	}
	if !p.IsAdmin() {
		return Principal{}, problem.New(http.StatusForbidden, problem.CodeForbidden, "Only organization admins may do this.")
	}
	return p, nil
}
