package systemtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
)

// TestCustomDomainAPIMappingKey: the API behind a custom domain with an API
// mapping key ("integrations"), as API Gateway serves it: routes matched
// without the key, events whose rawPath keeps it
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html;
// shared/httpapi/basepath.go). Every function still routes, and the
// redirect URI the start route sends to the provider (and shows admins)
// carries the key, from PUBLIC_BASE_URL or, when that is unset, from the
// request; the provider's redirect then reaches the callback through the
// mapping. Without a mapping key nothing changes.
func TestCustomDomainAPIMappingKey(t *testing.T) {
	cases := []struct {
		name   string
		opts   []localtest.Option
		prefix string
		// redirect is the expected redirect URI given the API's URL.
		redirect func(apiURL string) string
		// follow: the redirect URI is reachable here (http), so the whole
		// flow runs through the callback.
		follow bool
	}{
		{name: "no mapping key", redirect: func(u string) string { return u + "/oauth/callback" }, follow: true},
		{name: "mapping key in PUBLIC_BASE_URL", opts: []localtest.Option{localtest.WithAPIMappingKey("integrations")}, prefix: "/integrations",
			redirect: func(u string) string { return u + "/integrations/oauth/callback" }, follow: true},
		{name: "multi-level mapping key in PUBLIC_BASE_URL", opts: []localtest.Option{localtest.WithAPIMappingKey("apps/integrations")}, prefix: "/apps/integrations",
			redirect: func(u string) string { return u + "/apps/integrations/oauth/callback" }, follow: true},
		{name: "mapping key, base URL from the request", opts: []localtest.Option{localtest.WithAPIMappingKey("integrations"), localtest.WithEnv("PUBLIC_BASE_URL", "")}, prefix: "/integrations",
			redirect: func(u string) string {
				return "https://" + strings.TrimPrefix(u, "http://") + "/integrations/oauth/callback"
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := localtest.New(t, tc.opts...)
			const org, provider = "o-domain", catalog.GoogleWorkspace
			adminTok, member := env.AdminToken("u-admin", org), env.MemberToken("u-bob", org)
			want := tc.redirect(env.URL)

			resp := env.Do("PUT", tc.prefix+integrationPath(org, provider), adminTok, integrationBody(provider))
			if resp.Status != http.StatusCreated {
				t.Fatalf("enable through the mapping: %s", resp)
			}
			var v admin.IntegrationView
			if err := resp.Decode(&v); err != nil || v.RedirectURI != want {
				t.Fatalf("the admin's view shows redirect URI %q (%v), want %q", v.RedirectURI, err, want)
			}
			for _, path := range []string{"/v1/providers", "/v1/orgs/" + org + "/connections", "/v1/orgs/" + org + "/diagnostics/" + provider + "?capability=email"} {
				if r := env.Do("GET", tc.prefix+path, member, nil); r.Status != http.StatusOK {
					t.Errorf("GET %s%s: %s", tc.prefix, path, r)
				}
			}
			if tc.prefix != "" {
				if r := env.Do("GET", "/v1/providers", member, nil); r.Status != http.StatusNotFound {
					t.Errorf("outside the mapping: %s, want 404", r)
				}
			}

			start := env.Do("POST", tc.prefix+"/v1/orgs/"+org+"/connections/"+provider, member, map[string]any{"returnTo": localtest.ReturnURL + "settings"})
			if start.Status != http.StatusCreated {
				t.Fatalf("start: %s", start)
			}
			authURL, _ := start.Object()["authorizationUrl"].(string)
			u, err := url.Parse(authURL)
			if err != nil {
				t.Fatalf("authorization URL %q: %v", authURL, err)
			}
			if got := u.Query().Get("redirect_uri"); got != want {
				t.Fatalf("the start route sends redirect_uri %q to the provider, want %q", got, want)
			}
			if !tc.follow {
				return
			}
			back := env.Authorize(authURL) // the provider approves and redirects to the callback
			loc := back.Location()
			if back.Status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), localtest.ReturnURL) {
				t.Fatalf("the callback answered %s, want a redirect to returnTo", back)
			}
			if s := loc.Query().Get("status"); s != "connected" && s != "pending" {
				t.Fatalf("callback outcome %v", loc.Query())
			}
		})
	}
}
