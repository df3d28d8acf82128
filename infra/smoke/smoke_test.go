package smoke_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/smoke"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/config"
)

const org = "o-smoke"

// run runs the smoke test against env as an operator would against make
// run: the API's URL, the local Invoke API through the SDK's Lambda client.
func run(t *testing.T, env *localtest.Env, token, function string, returnTo ...string) ([]smoke.Step, string, error) {
	t.Helper()
	inv, err := smoke.NewLambdaInvoker(t.Context(), env.InvokeURL)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := &smoke.Runner{
		Config: smoke.Config{API: env.URL, Token: token, Org: org, RefreshFunction: function, InvokeEndpoint: env.InvokeURL,
			ReturnTo: strings.Join(returnTo, "")},
		Lambda: inv, Out: &out,
	}
	steps, err := r.Run(t.Context())
	if strings.Contains(out.String(), token) {
		t.Fatalf("the output shows the token:\n%s", out.String())
	}
	return steps, out.String(), err
}

// enable turns Google Workspace on for the org, with the platform's client.
func enable(t *testing.T, env *localtest.Env) {
	t.Helper()
	resp := env.Do("PUT", "/v1/orgs/"+org+"/integrations/"+catalog.GoogleWorkspace, env.AdminToken("u-smoke-admin", org), map[string]any{
		"enabled": true, "configMode": "default", "capabilities": []string{"email", "calendar"}, "rollout": map[string]any{"mode": "everyone"},
	})
	if resp.Status != http.StatusCreated {
		t.Fatalf("enable: %s", resp)
	}
}

func outcomes(steps []smoke.Step) []string {
	var o []string
	for _, s := range steps {
		o = append(o, s.Outcome)
	}
	return o
}

// TestSmokeAgainstTheLocalServer runs the operator's smoke test against the
// local server (the same routes, authorizer and Lambda Invoke API as a
// deployment): every step passes when the org has an integration to
// connect, and the connection it starts is left unfinished.
func TestSmokeAgainstTheLocalServer(t *testing.T) {
	env := localtest.New(t)
	admin := env.AdminToken("u-smoke-admin", org)
	enable(t, env)
	steps, out, err := run(t, env, admin, config.RefreshFunction)
	t.Log("\n" + out)
	if err != nil {
		t.Fatalf("smoke: %v", err)
	}
	if got := strings.Join(outcomes(steps), " "); got != "ok ok ok ok ok" {
		t.Fatalf("outcomes %s", got)
	}
	for _, want := range []string{
		"microsoft365 (default client)", // the fake provider's default clients are stored
		"google_workspace (enabled, ready, connectable)",
		"redirect_uri " + env.URL + "/oauth/callback",
		"PKCE S256",
		"due 0",
		"overall ",
		"provider_enabled pass",
		"5 steps, 0 failed, 0 skipped",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	if strings.Contains(out, "state=") {
		t.Error("the output shows the authorization URL's state")
	}
	if c := env.Connection(org, "u-smoke-admin", catalog.GoogleWorkspace); c != nil {
		t.Fatalf("the smoke test completed a connection: %+v", c.Status)
	}
}

// TestSmokeWithoutAnIntegration: a new deployment whose org has enabled
// nothing yet is not a failure. The start step says so and still checks
// that the OAuth function answers (with provider_disabled); every other
// step runs.
func TestSmokeWithoutAnIntegration(t *testing.T) {
	env := localtest.New(t)
	steps, out, err := run(t, env, env.AdminToken("u-smoke-admin", org), config.RefreshFunction)
	t.Log("\n" + out)
	if err != nil {
		t.Fatalf("smoke: %v", err)
	}
	if got := strings.Join(outcomes(steps), " "); got != "ok ok skip ok ok" {
		t.Fatalf("outcomes %s", got)
	}
	if !strings.Contains(out, "no integration is enabled for org "+org) || !strings.Contains(out, "provider_disabled as expected") {
		t.Errorf("the skip does not say why:\n%s", out)
	}
}

// TestSmokeOutcomes: every failure is reported with what was seen, the
// other steps still run, and the run fails; a caller who may not connect
// anything (a member's token by mistake) is a skip, not a failure.
func TestSmokeOutcomes(t *testing.T) {
	failing := lambda.NewHandler(func(context.Context) error { return errors.New("refresh could not read the due-index") })
	cases := []struct {
		name     string
		opts     []localtest.Option
		token    func(*localtest.Env) string
		function string
		returnTo string
		enable   bool
		outcomes string
		says     []string
	}{
		{name: "token refused", token: func(*localtest.Env) string { return "not-a-jwt" }, function: config.RefreshFunction,
			outcomes: "FAIL FAIL FAIL ok FAIL", says: []string{"401 unauthorized"}},
		{name: "a member's token", token: func(e *localtest.Env) string { return e.MemberToken("u-bob", org) }, function: config.RefreshFunction,
			outcomes: "ok ok skip ok ok", says: []string{"provider_disabled"}},
		{name: "no such function", token: func(e *localtest.Env) string { return e.AdminToken("u-a", org) }, function: "NoSuchFunction",
			outcomes: "ok ok skip FAIL ok", says: []string{"ResourceNotFoundException"}},
		{name: "the refresh run fails", opts: []localtest.Option{localtest.WithHandler(config.RefreshFunction, failing)},
			token: func(e *localtest.Env) string { return e.AdminToken("u-a", org) }, function: config.RefreshFunction,
			outcomes: "ok ok skip FAIL ok", says: []string{"RefreshFunction failed (Unhandled)", "could not read the due-index"}},
		{name: "returnTo not allowed", token: func(e *localtest.Env) string { return e.AdminToken("u-a", org) }, function: config.RefreshFunction,
			returnTo: "https://elsewhere.example/", enable: true, outcomes: "ok ok FAIL ok ok", says: []string{"set SMOKE_RETURN_TO"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := localtest.New(t, tc.opts...)
			if tc.enable {
				enable(t, env)
			}
			steps, out, err := run(t, env, tc.token(env), tc.function, tc.returnTo)
			if got := strings.Join(outcomes(steps), " "); got != tc.outcomes {
				t.Fatalf("outcomes %s, want %s:\n%s", got, tc.outcomes, out)
			}
			if strings.Contains(tc.outcomes, smoke.Fail) != errors.Is(err, smoke.ErrFailed) {
				t.Fatalf("error %v with outcomes %s", err, tc.outcomes)
			}
			for _, s := range tc.says {
				if !strings.Contains(out, s) {
					t.Errorf("the output lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	full := map[string]string{
		"SMOKE_API": "https://api.example.com/integrations/", "SMOKE_TOKEN": "Bearer placeholder-token", "SMOKE_ORG": "o1",
		"SMOKE_REFRESH_FUNCTION": "integrations-prod-RefreshFunction-AbC123",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range full {
			m[a] = b
		}
		m[k] = v
		return m
	}
	c, err := smoke.FromEnv(func(k string) string { return full[k] })
	if err != nil || c.API != "https://api.example.com/integrations" || c.Token != "placeholder-token" || c.InvokeEndpoint != "" || c.ReturnTo != "" {
		t.Fatalf("%+v %v", c, err)
	}
	for name, env := range map[string]map[string]string{
		"no API":             with("SMOKE_API", ""),
		"no token":           with("SMOKE_TOKEN", " "),
		"no org":             with("SMOKE_ORG", ""),
		"no function":        with("SMOKE_REFRESH_FUNCTION", ""),
		"API not a URL":      with("SMOKE_API", "api.example.com"),
		"endpoint not a URL": with("SMOKE_INVOKE_ENDPOINT", "127.0.0.1:3001"),
	} {
		if _, err := smoke.FromEnv(func(k string) string { return env[k] }); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "placeholder-token") {
			t.Errorf("%s: the error shows the token: %v", name, err)
		}
	}
}
