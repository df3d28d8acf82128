package localtest_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/catalog"
)

func TestMain(m *testing.M) { moto.Main(m) }

func TestEnvServesTheTemplateRoutes(t *testing.T) {
	t.Parallel()
	env := localtest.New(t)

	// Every template route: 401 problem+json without a token, except the
	// provider's redirect; with a token, the function's own answer.
	token := env.AdminToken("u-admin", "o1")
	tmpl := env.Server.Template()
	for _, id := range tmpl.FunctionIDs() {
		for _, rt := range tmpl.Functions[id].Routes {
			path := strings.NewReplacer("{orgId}", "o1", "{provider}", catalog.GoogleWorkspace).Replace(rt.Path)
			anon := env.Do(rt.Method, path, "", nil)
			if rt.Authorizer == "" {
				if anon.Status == 401 {
					t.Errorf("%s %s: the public route answered 401", rt.Method, path)
				}
				continue
			}
			if anon.Status != 401 || anon.Code() != "unauthorized" || anon.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s without a token: %s", rt.Method, path, anon)
			}
			resp := env.Do(rt.Method, path, token, nil)
			if resp.Status == 401 || resp.Header.Get("Apigw-Requestid") == "" || resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("%s %s with a token: %s (headers %v)", rt.Method, path, resp, resp.Header)
			}
		}
	}
	if !strings.Contains(env.LogText(), `"msg":"api request"`) {
		t.Errorf("the server's log lines were not captured")
	}
}

func TestEnvWiring(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env := localtest.New(t, localtest.WithClock(start), localtest.WithEnv("REFRESH_CONCURRENCY", "3"))
	ctx := context.Background()

	if env.Config.Environment != "test" || env.Config.Store != "embedded" || env.Config.RefreshConcurrency != 3 {
		t.Errorf("config %+v", env.Config)
	}
	if got := env.Deps.Now(); !got.Equal(start) {
		t.Errorf("Deps.Now = %v, want the test clock", got)
	}
	env.Clock.Advance(90 * time.Minute)
	if got := env.Deps.Now(); !got.Equal(start.Add(90 * time.Minute)) {
		t.Errorf("Deps.Now after Advance = %v", got)
	}

	// The fake's default clients are the platform's default clients.
	for provider, want := range fakeprovider.DefaultClients() {
		got, err := env.Deps.Secrets.DefaultClient(ctx, provider)
		if err != nil || got.ClientID != want.ClientID {
			t.Errorf("default client %s = %+v, %v", provider, got.ClientID, err)
		}
	}

	// Provider calls reach the fake provider through the rewrite.
	resp, err := env.Deps.HTTPClient.PostForm("https://oauth2.googleapis.com/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}})
	if err != nil {
		t.Fatalf("provider call: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 && resp.StatusCode != 401 {
		t.Errorf("fake token endpoint answered %d to an unknown client", resp.StatusCode)
	}

	// RefreshFunction runs through the Invoke API and answers JSON.
	out, err := env.InvokeRefresh(ctx)
	if err != nil {
		t.Fatalf("InvokeRefresh: %v", err)
	}
	var result any
	if err := json.Unmarshal(out, &result); err != nil {
		t.Errorf("refresh result is not JSON: %s", out)
	}
	if _, err := env.Invoke(ctx, "NoSuchFunction", map[string]any{}); err == nil {
		t.Errorf("invoking an unknown function did not fail")
	}

	// Tokens are checked against real time: moving the test clock a week
	// on does not expire them.
	env.Clock.Advance(7 * 24 * time.Hour)
	if r := env.Do("GET", "/v1/providers", env.MemberToken("u1", "o1"), nil); r.Status == 401 {
		t.Errorf("token refused after advancing the test clock: %s", r)
	}
}

// Authorize plays the browser from an authorization URL to the callback.
func TestAuthorizeReachesTheCallback(t *testing.T) {
	t.Parallel()
	env := localtest.New(t)
	client := fakeprovider.DefaultClients()[catalog.GoogleWorkspace]
	q := url.Values{
		"client_id":             {client.ClientID},
		"redirect_uri":          {env.URL + "/oauth/callback"},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"test-state"},
		"code_challenge":        {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"},
		"access_type":           {"offline"},
	}
	authURL := env.Deps.Rewriter.URL("https://accounts.google.com/o/oauth2/v2/auth?" + q.Encode())
	resp := env.Authorize(authURL)
	if resp.Header.Get("Apigw-Requestid") == "" {
		t.Fatalf("Authorize did not end at the API: %s", resp)
	}
	if resp.Status == 401 || resp.Status == 404 {
		t.Errorf("callback answered %s", resp)
	}
}

func TestEnvWithAWS(t *testing.T) {
	t.Parallel()
	env := localtest.New(t, localtest.WithAWS())
	if env.Config.Store != "aws" {
		t.Fatalf("store %q", env.Config.Store)
	}
	ctx := context.Background()
	got, err := env.Deps.Secrets.DefaultClient(ctx, catalog.Salesforce)
	if err != nil || got.ClientID != fakeprovider.DefaultClients()[catalog.Salesforce].ClientID {
		t.Errorf("default client on Secrets Manager: %+v, %v", got.ClientID, err)
	}
	if r := env.Do("GET", "/v1/providers", env.MemberToken("u1", "o1"), nil); r.Status == 401 || r.Status >= 500 && r.Status != 501 {
		t.Errorf("GET /v1/providers: %s", r)
	}
	if _, err := env.InvokeRefresh(ctx); err != nil {
		t.Errorf("InvokeRefresh: %v", err)
	}
}
