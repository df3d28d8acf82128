package localapp_test

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/apispec"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
)

// TestOpenAPIMatchesRouters: every route a function's router serves is in
// openapi.yaml with the same method, path and authorizer, and every
// operation of the document is served. The response bodies themselves are
// checked against the document by the end-to-end tests (apispec.ValidateResponse).
func TestOpenAPIMatchesRouters(t *testing.T) {
	spec := apispec.Repo(t)
	served := map[string]bool{} // "GET /path" → public
	for fn, routes := range localapp.Routes(&app.Deps{Catalog: catalog.New()}) {
		for _, r := range routes {
			key := r.Method + " " + r.Path
			if _, dup := served[key]; dup {
				t.Errorf("%s: %s served twice", fn, key)
			}
			served[key] = r.Public
		}
	}
	documented := map[string]apispec.Operation{}
	for _, op := range spec.Operations() {
		documented[op.Method+" "+op.Path] = op
	}
	for key, public := range served {
		op, ok := documented[key]
		if !ok {
			t.Errorf("served but not in openapi.yaml: %s", key)
			continue
		}
		if op.Public != public {
			t.Errorf("%s: router public=%v, document public=%v (security: [])", key, public, op.Public)
		}
	}
	for key := range documented {
		if _, ok := served[key]; !ok {
			t.Errorf("in openapi.yaml but served by no function: %s", key)
		}
	}
	if len(served) == 0 {
		t.Fatal("no routes")
	}
}

// TestOpenAPIOperationsAreComplete checks what every operation must declare:
// a unique operationId, its path parameters, a success response, 401 unless
// public, 500, and problem+json for every error.
func TestOpenAPIOperationsAreComplete(t *testing.T) {
	spec := apispec.Repo(t)
	ids := map[string]string{}
	for _, op := range spec.Operations() {
		name := op.Method + " " + op.Path
		if op.ID == "" {
			t.Errorf("%s: no operationId", name)
		} else if other, dup := ids[op.ID]; dup {
			t.Errorf("%s: operationId %s also used by %s", name, op.ID, other)
		}
		ids[op.ID] = name

		var declared []string
		for _, p := range op.Params {
			if n, ok := strings.CutPrefix(p, "path:"); ok {
				declared = append(declared, n)
			}
		}
		want := apispec.PathParams(op.Path)
		sort.Strings(declared)
		sort.Strings(want)
		if !slices.Equal(declared, want) {
			t.Errorf("%s: path parameters declared %v, path has %v", name, declared, want)
		}
		if !slices.ContainsFunc(op.Statuses, func(s string) bool { return s[0] == '2' || s[0] == '3' }) {
			t.Errorf("%s: no success response", name)
		}
		if !op.Public {
			for _, s := range []string{"401", "500"} {
				if !slices.Contains(op.Statuses, s) {
					t.Errorf("%s: no %s response", name, s)
				}
			}
		}
		// Every error response is problem+json: a sample problem validates.
		for _, s := range op.Statuses {
			if s[0] != '4' && s[0] != '5' || op.Public {
				continue
			}
			status := 0
			if _, err := fmt.Sscan(s, &status); err != nil {
				t.Fatalf("%s: status %q", name, s)
			}
			code := map[int]string{412: "precondition_failed", 428: "precondition_required"}[status]
			if code == "" {
				code = "some_code"
			}
			body := fmt.Sprintf(`{"type":"urn:problem:%s","title":"t","status":%d,"code":%q,"currentVersion":1}`, code, status, code)
			h := http.Header{"Content-Type": {"application/problem+json"}}
			if err := spec.ValidateResponse(op.Method, op.Path, status, h, []byte(body)); err != nil {
				t.Errorf("%s %s: %v", name, s, err)
			}
		}
	}
}
