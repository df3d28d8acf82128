package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The router replaces net/http's ServeMux: for the pattern shapes routes
// use it must dispatch exactly as ServeMux does, which this test checks by
// serving the same requests with both.
func TestRouterAgreesWithServeMux(t *testing.T) {
	paths := []string{
		"/v1/providers",
		"/v1/orgs/{orgId}/integrations",
		"/v1/orgs/{orgId}/integrations/{provider}",
		"/v1/orgs/{orgId}/integrations/{provider}/client-secret",
		"/v1/orgs/{orgId}/integrations/mine",
		"/v1/orgs/{orgId}/connections/{provider}/complete",
		"/oauth/callback",
	}
	var routes []Route
	for _, p := range paths {
		for _, m := range []string{"GET", "PUT", "DELETE"} {
			if m != "GET" && !strings.Contains(p, "{provider}") {
				continue
			}
			routes = append(routes, Route{Method: m, Path: p})
		}
	}
	routes = append(routes, Route{Method: "POST", Path: "/v1/orgs/{orgId}/connections/{provider}/complete"})

	// what a handler records: the pattern and the wildcards it saw
	echo := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Pattern", r.Pattern)
		w.Header().Set("X-Values", r.PathValue("orgId")+"|"+r.PathValue("provider"))
		w.WriteHeader(299)
	}
	// the fallback both share, Allow as NewRouter computes it
	var rt *router
	rt = newRouter(routes, func(Route) http.Handler { return http.HandlerFunc(echo) }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Pattern", r.Pattern)
		w.Header().Set("Allow", strings.Join(rt.allowed(r), ", "))
		w.WriteHeader(404)
	}))
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.HandleFunc(r.Pattern(), echo)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// the ServeMux way: probe each other method
		var allowed []string
		for _, rt := range routes {
			if rt.Method == r.Method || strings.Contains(strings.Join(allowed, ","), rt.Method) {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = rt.Method
			if _, p := mux.Handler(probe); p != "/" && p != "" {
				allowed = append(allowed, rt.Method)
			}
		}
		w.Header().Set("X-Pattern", r.Pattern)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		w.WriteHeader(404)
	})

	for _, target := range []string{
		"/v1/providers", "/v1/providers/", "/v1/providers?x=1", "/v1/Providers", "/v1/provider", "/", "/v1", "/v1/",
		"/v1/orgs/o1/integrations", "/v1/orgs//integrations", "/v1/orgs/o1/integrations/",
		"/v1/orgs/o1/integrations/microsoft", "/v1/orgs/o%2F1/integrations/micro%20soft", "/v1/orgs/o1/integrations/%7Bprovider%7D",
		"/v1/orgs/o1/integrations/mine", "/v1/orgs/o1/integrations/min%65",
		"/v1/orgs/o1/integrations/google/client-secret", "/v1/orgs/o1/integrations/google/client-secret/x",
		"/v1/orgs/o1/connections/google/complete", "/v1//orgs/o1/integrations?a=b", "/v1/./providers", "/v1/x/../providers",
		"/oauth/callback?code=c&state=s", "/oauth/callback/",
	} {
		for _, method := range []string{"GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"} {
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			mux.ServeHTTP(want, httptest.NewRequest(method, target, nil))
			rt.ServeHTTP(got, httptest.NewRequest(method, target, nil))
			for _, h := range []string{"X-Pattern", "X-Values", "Allow", "Location"} {
				if g, w := got.Header().Get(h), want.Header().Get(h); g != w {
					t.Errorf("%s %s: %s %q, ServeMux %q", method, target, h, g, w)
				}
			}
			if got.Code != want.Code {
				t.Errorf("%s %s: status %d, ServeMux %d", method, target, got.Code, want.Code)
			}
		}
	}
}

// Patterns ServeMux would refuse, or that the router does not support,
// panic when the router is built rather than misroute later.
func TestRouterRefusesConflictsAndUnsupportedPatterns(t *testing.T) {
	for _, tc := range []struct {
		name   string
		routes []Route
	}{
		{"duplicate", []Route{{Method: "GET", Path: "/a/{x}"}, {Method: "GET", Path: "/a/{y}"}}},
		{"neither more specific", []Route{{Method: "GET", Path: "/a/{x}"}, {Method: "GET", Path: "/{y}/b"}}},
		{"remainder wildcard", []Route{{Method: "GET", Path: "/a/{x...}"}}},
		{"end anchor", []Route{{Method: "GET", Path: "/a/{$}"}}},
		{"trailing slash", []Route{{Method: "GET", Path: "/a/"}}},
		{"no method", []Route{{Path: "/a"}}},
		{"partial wildcard", []Route{{Method: "GET", Path: "/a/x{y}"}}},
		{"repeated name", []Route{{Method: "GET", Path: "/{x}/{x}"}}},
		{"empty segment", []Route{{Method: "GET", Path: "/a//b"}}},
		{"escaped literal", []Route{{Method: "GET", Path: "/a%20b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic for %v", tc.routes)
				}
			}()
			newRouter(tc.routes, func(Route) http.Handler { return http.NotFoundHandler() }, http.NotFoundHandler())
		})
	}
	// Overlapping patterns where one is more specific, and the same path
	// with other methods, are fine.
	newRouter([]Route{{Method: "GET", Path: "/a/{x}"}, {Method: "GET", Path: "/a/b"}, {Method: "PUT", Path: "/a/{y}"}},
		func(Route) http.Handler { return http.NotFoundHandler() }, http.NotFoundHandler())
}
