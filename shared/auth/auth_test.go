package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// bearer returns an Authorization header value whose token carries claims.
// The signature is a placeholder: API Gateway verifies it, the function
// only decodes the payload.
func bearer(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	return "Bearer " + head + "." + base64.RawURLEncoding.EncodeToString(b) + ".placeholder-signature"
}

func TestUnambiguousList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"[]", nil, true},
		{"[org_admin]", []string{"org_admin"}, true},
		{"org_admin", []string{"org_admin"}, true},
		{`["a","b c","a"]`, []string{"a", "b c"}, true},
		// Two roles, or one role with a space? API Gateway's form cannot say.
		{"[helpdesk org_admin]", nil, false},
		{"[org_admin member]", nil, false},
		{"helpdesk org_admin", nil, false},
		{"Sales, EMEA", nil, false},
		{"[a,b]", nil, false},
		{`["a",`, nil, false},
		{"[ ]", nil, false},
	}
	for _, tc := range tests {
		got, ok := unambiguousList(tc.in)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("unambiguousList(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFromRequest(t *testing.T) {
	names := DefaultClaimNames()
	claims := map[string]string{"sub": "u1", "org_id": "o1", "roles": "[helpdesk org_admin]", "groups": "[Pilot Team]"}
	tests := []struct {
		name      string
		claims    map[string]string
		header    map[string]any // nil: no Authorization header
		rawHeader string         // used when header is nil
		admin     bool
		groups    []string
		err       error
	}{
		{name: "a role with a space is one role, not the admin role",
			claims: claims, header: map[string]any{"sub": "u1", "org_id": "o1", "roles": []string{"helpdesk org_admin"}, "groups": []string{"Pilot Team"}},
			groups: []string{"Pilot Team"}},
		{name: "admin role in an array",
			claims: map[string]string{"sub": "u1", "org_id": "o1", "roles": "[member org_admin]"},
			header: map[string]any{"sub": "u1", "org_id": "o1", "roles": []string{"member", "org_admin"}}, admin: true},
		{name: "a single string claim is one value",
			claims: map[string]string{"sub": "u1", "org_id": "o1", "roles": "org_admin", "groups": "Sales, EMEA"},
			header: map[string]any{"sub": "u1", "org_id": "o1", "roles": "org_admin", "groups": "Sales, EMEA"}, admin: true, groups: []string{"Sales, EMEA"}},
		{name: "a group with a comma stays whole",
			claims: map[string]string{"sub": "u1", "org_id": "o1", "groups": "[Sales,EMEA Pilot]"},
			header: map[string]any{"sub": "u1", "org_id": "o1", "groups": []any{"Sales,EMEA", "Pilot", 7, nil, ""}}, groups: []string{"Sales,EMEA", "Pilot"}},
		{name: "a role that only starts with the admin role",
			claims: map[string]string{"sub": "u1", "org_id": "o1", "roles": "[org_admins]"},
			header: map[string]any{"sub": "u1", "org_id": "o1", "roles": []string{"org_admins"}}},
		{name: "numeric org id",
			claims: map[string]string{"sub": "u1", "org_id": "42"},
			header: map[string]any{"sub": "u1", "org_id": 42, "roles": []string{"org_admin"}}, admin: true},
		{name: "payload names another user",
			claims: claims, header: map[string]any{"sub": "u2", "org_id": "o1", "roles": []string{"org_admin"}}, err: errBadToken},
		{name: "payload names another org",
			claims: claims, header: map[string]any{"sub": "u1", "org_id": "o2"}, err: errBadToken},
		{name: "not a JWT", claims: claims, rawHeader: "Bearer PLACEHOLDER.NOT-BASE64!.x", err: errBadToken},
		{name: "two segments", claims: claims, rawHeader: "Bearer abc.def", err: errBadToken},
		{name: "payload not an object", claims: claims, rawHeader: "Bearer e30." + base64.RawURLEncoding.EncodeToString([]byte(`["sub"]`)) + ".s", err: errBadToken},
		{name: "missing org claim", claims: map[string]string{"sub": "u1"}, header: map[string]any{"sub": "u1"}, err: errNoIdentity},
		{name: "no header: ambiguous flattened claims give no roles or groups", claims: claims},
		{name: "no header: one bracketed role is unambiguous",
			claims: map[string]string{"sub": "u1", "org_id": "o1", "roles": "[org_admin]", "groups": "[pilot]"}, admin: true, groups: []string{"pilot"}},
		{name: "no header, no org", claims: map[string]string{"sub": "u1"}, err: errNoIdentity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.rawHeader
			if tc.header != nil {
				h = bearer(t, tc.header)
			}
			p, err := FromRequest(tc.claims, h, names)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != tc.claims["sub"] || p.OrgID != tc.claims["org_id"] {
				t.Errorf("identity %s/%s", p.UserID, p.OrgID)
			}
			if p.IsAdmin() != tc.admin {
				t.Errorf("IsAdmin = %v, want %v (roles %q)", p.IsAdmin(), tc.admin, p.Roles)
			}
			if !slices.Equal(p.Groups, tc.groups) {
				t.Errorf("groups %q, want %q", p.Groups, tc.groups)
			}
		})
	}
}

// TestGroupMatchesWhole: a group with a space matches itself only.
func TestGroupMatchesWhole(t *testing.T) {
	h := bearer(t, map[string]any{"sub": "u1", "org_id": "o1", "groups": []string{"Pilot Team"}})
	p, err := FromRequest(map[string]string{"sub": "u1", "org_id": "o1", "groups": "[Pilot Team]"}, h, DefaultClaimNames())
	if err != nil {
		t.Fatal(err)
	}
	if !p.InGroup("Pilot Team") || p.InGroup("Pilot") || p.InGroup("Team") {
		t.Fatalf("groups %q", p.Groups)
	}
}

func TestFromClaimsCustomNames(t *testing.T) {
	custom := ClaimNames{User: "uid", Org: "tenant", Roles: "r", Groups: "g", AdminRole: "owner"}
	p, ok := FromClaims(map[string]string{"uid": "x", "tenant": "t", "r": "[owner]"}, custom)
	if !ok || !p.IsAdmin() || p.UserID != "x" || p.OrgID != "t" {
		t.Fatalf("custom claim names: %+v %v", p, ok)
	}
	h := bearer(t, map[string]any{"uid": "x", "tenant": "t", "r": []string{"owner"}, "roles": []string{"nobody"}})
	if p, err := FromRequest(map[string]string{"uid": "x", "tenant": "t"}, h, custom); err != nil || !p.IsAdmin() {
		t.Fatalf("custom claim names from the token: %+v %v", p, err)
	}
	if _, ok := FromClaims(map[string]string{"sub": "u1"}, DefaultClaimNames()); ok {
		t.Error("missing org must not authenticate")
	}
}
