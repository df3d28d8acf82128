package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUnknownFieldNameIsNamedOnlyWhenItIsAName: an unknown field is named
// back when its name reads like a field name, and withheld when it could be
// a credential pasted as a key, or is not a name at all.
func TestUnknownFieldNameIsNamedOnlyWhenItIsAName(t *testing.T) {
	secretLike := "GOCSPX-" + strings.Repeat("Ab1_", 7) // built here: no credential literal in the source
	cases := []struct {
		name, key, wantField string
	}{
		{"a field name", "clientSecrt", "clientSecrt"},
		{"a dotted name", "rollout.group", "rollout.group"},
		{"a credential as the key", secretLike, "body"},
		{"spaces and quotes", `a "b" c`, "body"},
		{"too long", strings.Repeat("a", 65), "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/x", strings.NewReader(`{"`+strings.ReplaceAll(tc.key, `"`, `\"`)+`": 1}`))
			r.Header.Set("Content-Type", "application/json")
			var v struct{ Known string }
			p := DecodeJSON(r, &v, false)
			if p == nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Code != "unknown_field" || p.Errors[0].Field != tc.wantField {
				t.Fatalf("got %+v", p)
			}
			if tc.wantField == "body" && (strings.Contains(p.Detail+p.Errors[0].Message, tc.key)) {
				t.Fatal("the withheld name is in the problem")
			}
		})
	}
}
