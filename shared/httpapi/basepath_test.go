package httpapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/problem"
)

// TestAPIMappingKey: behind a custom domain with an API mapping key, API
// Gateway matches the route without the key but the event's path keeps it
// (see basepath.go; https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html).
// The handler routes such events as the others, and the base URL it hands
// out (the OAuth redirect URI's) carries the key. An event whose path has
// no key, or already lost it, is routed as it is.
func TestAPIMappingKey(t *testing.T) {
	seen := func(w http.ResponseWriter, r *http.Request) {
		base, _ := PublicBaseURL(r, "")
		WriteJSON(w, http.StatusOK, map[string]string{"path": r.URL.Path, "org": r.PathValue("orgId"), "basePath": BasePath(r), "publicBase": base})
	}
	routes := []Route{
		{Method: "GET", Path: "/v1/orgs/{orgId}/things", Handler: seen},
		{Method: "GET", Path: "/v1/providers", Handler: seen},
		{Method: "GET", Path: "/oauth/callback", Handler: seen, Public: true},
	}
	h := LambdaHandler(NewRouter(routes, auth.DefaultClaimNames()))
	member := map[string]string{"sub": "u1", "org_id": "o1"}
	cases := []struct {
		name, routeKey, rawPath  string
		status                   int
		path, org, base, baseURL string
	}{
		{name: "no mapping key", routeKey: "GET /v1/orgs/{orgId}/things", rawPath: "/v1/orgs/o1/things",
			status: 200, path: "/v1/orgs/o1/things", org: "o1", baseURL: "https://api.example.test"},
		{name: "mapping key", routeKey: "GET /v1/orgs/{orgId}/things", rawPath: "/integrations/v1/orgs/o1/things",
			status: 200, path: "/v1/orgs/o1/things", org: "o1", base: "/integrations", baseURL: "https://api.example.test/integrations"},
		{name: "multi-level mapping key", routeKey: "GET /v1/providers", rawPath: "/apps/integrations/v1/providers",
			status: 200, path: "/v1/providers", base: "/apps/integrations", baseURL: "https://api.example.test/apps/integrations"},
		{name: "public route under a mapping key", routeKey: "GET /oauth/callback", rawPath: "/integrations/oauth/callback",
			status: 200, path: "/oauth/callback", base: "/integrations", baseURL: "https://api.example.test/integrations"},
		{name: "mapping key equal to the route's first segment", routeKey: "GET /v1/providers", rawPath: "/v1/v1/providers",
			status: 200, path: "/v1/providers", base: "/v1", baseURL: "https://api.example.test/v1"},
		{name: "path already without the key", routeKey: "GET /v1/providers", rawPath: "/v1/providers",
			status: 200, path: "/v1/providers", baseURL: "https://api.example.test"},
		{name: "org id that looks like a route segment", routeKey: "GET /v1/orgs/{orgId}/things", rawPath: "/v1/orgs/v1/things",
			status: 200, path: "/v1/orgs/v1/things", org: "v1", baseURL: "https://api.example.test"},
		{name: "rest of the path is not the route", routeKey: "GET /v1/providers", rawPath: "/integrations/v2/providers", status: 404},
		{name: "a literal segment differs", routeKey: "GET /v1/orgs/{orgId}/things", rawPath: "/integrations/v1/orgs/o1/other", status: 404},
		{name: "no route key", rawPath: "/integrations/v1/providers", status: 404},
		{name: "$default route", routeKey: "$default", rawPath: "/integrations/v1/providers", status: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := v2Event("GET", tc.rawPath, "", member)
			ev.RouteKey, ev.RequestContext.RouteKey = tc.routeKey, tc.routeKey
			resp := invoke(t, h, ev)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status != 200 {
				var p problem.Problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Code != problem.CodeNotFound {
					t.Fatalf("not a not_found problem: %s", resp.Body)
				}
				return
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			if got["path"] != tc.path || got["org"] != tc.org || got["basePath"] != tc.base || got["publicBase"] != tc.baseURL {
				t.Fatalf("handler saw %v; want path %q org %q base %q public base %q", got, tc.path, tc.org, tc.base, tc.baseURL)
			}
		})
	}
}

func TestPublicBaseURLPrefersConfiguration(t *testing.T) {
	r, _ := http.NewRequest("GET", "/v1/providers", nil)
	if got, ok := PublicBaseURL(r, "https://api.example.com/integrations"); !ok || got != "https://api.example.com/integrations" {
		t.Fatalf("configured: %q %v", got, ok)
	}
	if got, ok := PublicBaseURL(r, ""); ok {
		t.Fatalf("neither configured nor from API Gateway: %q", got)
	}
}
