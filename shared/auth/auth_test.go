package auth

import (
	"slices"
	"testing"
)

func TestParseList(t *testing.T) {
	tests := map[string][]string{
		"":                      nil,
		"[]":                    nil,
		"[org_admin member]":    {"org_admin", "member"},
		"[org_admin]":           {"org_admin"},
		`["a","b c"]`:           {"a", "b c"},
		"a, b ,c":               {"a", "b", "c"},
		"solo":                  {"solo"},
		"[ pilot  pilot sales]": {"pilot", "sales"},
	}
	for in, want := range tests {
		if got := ParseList(in); !slices.Equal(got, want) {
			t.Errorf("ParseList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromClaims(t *testing.T) {
	names := DefaultClaimNames()
	p, ok := FromClaims(map[string]string{"sub": "u1", "org_id": "o1", "roles": "[member org_admin]", "groups": "[pilot]"}, names)
	if !ok || p.UserID != "u1" || p.OrgID != "o1" || !p.IsAdmin() || !p.InGroup("pilot") || p.InGroup("sales") {
		t.Fatalf("FromClaims = %+v, %v", p, ok)
	}
	if p, _ := FromClaims(map[string]string{"sub": "u1", "org_id": "o1", "roles": "[org_admins]"}, names); p.IsAdmin() {
		t.Error("a role that only starts with the admin role must not be admin")
	}
	if _, ok := FromClaims(map[string]string{"sub": "u1"}, names); ok {
		t.Error("missing org must not authenticate")
	}
	custom := ClaimNames{User: "uid", Org: "tenant", Roles: "r", Groups: "g", AdminRole: "owner"}
	p, ok = FromClaims(map[string]string{"uid": "x", "tenant": "t", "r": "[owner]"}, custom)
	if !ok || !p.IsAdmin() || p.UserID != "x" || p.OrgID != "t" {
		t.Fatalf("custom claim names: %+v %v", p, ok)
	}
}
