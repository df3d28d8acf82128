// Package auth turns the API Gateway JWT authorizer's claims into the
// caller's identity, and answers the two questions every route asks: is the
// caller in this org, and may they administer it.
package auth

import (
	"context"
	"encoding/json"
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

// FromClaims builds a principal from authorizer claims. API Gateway hands
// every claim over as a string, and a list claim as "[a b c]", so both that
// form and a JSON array string are parsed. ok is false when the user or org
// claim is missing.
func FromClaims(claims map[string]string, names ClaimNames) (Principal, bool) {
	p := Principal{
		UserID: strings.TrimSpace(claims[names.User]),
		OrgID:  strings.TrimSpace(claims[names.Org]),
		Roles:  ParseList(claims[names.Roles]),
		Groups: ParseList(claims[names.Groups]),
	}
	p.admin = slices.Contains(p.Roles, names.AdminRole)
	return p, p.UserID != "" && p.OrgID != ""
}

// ParseList parses a list claim as API Gateway delivers it: "[a b c]"; also a
// JSON array ("[\"a\",\"b\"]"), a comma-separated string, or a single value.
func ParseList(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" || v == "[]" {
		return nil
	}
	if strings.HasPrefix(v, `["`) {
		var out []string
		if json.Unmarshal([]byte(v), &out) == nil {
			return compact(out)
		}
	}
	if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		v = v[1 : len(v)-1]
	}
	return compact(strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }))
}

func compact(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
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

// Middleware reads the authorizer's claims from the API Gateway v2 request
// context. API Gateway already refuses requests without a valid token on
// routes with the authorizer; this answers 401 again so that a handler is
// never reached without an identity (defence in depth, and local runs).
func Middleware(names ClaimNames, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var claims map[string]string
		if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.Authorizer != nil && rc.Authorizer.JWT != nil {
			claims = rc.Authorizer.JWT.Claims
		}
		p, ok := FromClaims(claims, names)
		if !ok {
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
