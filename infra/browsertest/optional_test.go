package browsertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/webconsole"
)

// TestNewerAPIFieldsAreShown: fields other parts of the service are adding
// (the integration's client health; a connection's needsConsent) are shown
// when the API has them, beside the support contact, user guidance, test
// account and rollout figures. The real API runs behind a proxy that adds
// them to its answers (TestTestAccountSupportAndRollout drives the real
// ones).
func TestNewerAPIFieldsAreShown(t *testing.T) {
	env := localtest.New(t)
	seedGoogle(t, env)
	env.Connect(env.MemberToken("u-bob", org), org, google, nil)

	extra := map[string]any{
		"clientHealth":   map[string]any{"status": "failing", "cause": "invalid_client", "since": "2026-12-01T10:00:00Z", "lastSeen": "2026-12-02T10:00:00Z"},
		"supportContact": map[string]any{"name": "IT Help", "email": "it-help@example.com"},
		"userGuidance":   "Use it to find meetings; sending mail needs a review.",
		"testAccount":    map[string]any{"account": map[string]any{"email": "tester@example.com"}, "status": "connected"},
	}
	target, _ := url.Parse(env.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		p := resp.Request.URL.Path
		if resp.Request.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
			return nil
		}
		switch {
		case p == "/v1/orgs/"+org+"/integrations":
			return rewrite(resp, func(v map[string]any) {
				for _, c := range v["integrations"].([]any) {
					card := c.(map[string]any)
					if card["provider"] == google {
						if cfg, ok := card["configuration"].(map[string]any); ok {
							for k, x := range extra {
								cfg[k] = x
							}
						} else {
							card["supportContact"], card["userGuidance"] = extra["supportContact"], extra["userGuidance"]
						}
					}
				}
			})
		case p == "/v1/orgs/"+org+"/integrations/"+google:
			return rewrite(resp, func(v map[string]any) {
				v["supportContact"], v["userGuidance"] = extra["supportContact"], extra["userGuidance"]
			})
		case p == "/v1/orgs/"+org+"/connections":
			return rewrite(resp, func(v map[string]any) {
				for _, c := range v["connections"].([]any) {
					c.(map[string]any)["needsConsent"] = true
				}
			})
		}
		return nil
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/orgs/"+org+"/integrations/"+google+"/rollout" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"byStatus":{"connected":3,"needs_reconnect":1},"inRolloutConnected":3,"inRolloutFailing":1,"startedNotCompleted":2,
				"topCauses":[{"cause":"token_revoked","count":1,"owner":"user"}]}`))
			return
		}
		proxy.ServeHTTP(w, r)
	})
	console := consoleBefore(t, env, api)

	admin := newPage(t, "admin")
	admin.navigate(console.URL + "/")
	admin.devSignIn("u-alice", org, true, "")
	facts := admin.waitText(googleCard+" .facts", "Client health")
	for _, want := range []string{"Failing (invalid_client) since", "IT Help, it-help@example.com", "Use it to find meetings", "tester@example.com (connected)"} {
		if !strings.Contains(facts, want) {
			t.Errorf("the Google card lacks %q:\n%s", want, facts)
		}
	}
	admin.click(googleCard + " details.rollout summary")
	rollout := admin.waitText(googleCard+" details.rollout", "Connected: 3")
	for _, want := range []string{"Needs reconnect: 1", "Users who started connecting but never finished\n2", "token_revoked: 1 (fixed by the user"} {
		if !strings.Contains(rollout, want) {
			t.Errorf("the rollout figures lack %q:\n%s", want, rollout)
		}
	}
	if bars := eval[int](admin, `document.querySelectorAll("#integration-google_workspace figure.bars .bar").length`); bars != 2 {
		t.Errorf("%d bars, want one per status", bars)
	}
	admin.click(googleCard + " button[data-action=edit]")
	admin.waitFor("the support fields", `!!document.querySelector("#ed-google_workspace-supportContact-email")`)
	if v := eval[string](admin, `document.querySelector("#ed-google_workspace-userGuidance").value`); !strings.HasPrefix(v, "Use it to find meetings") {
		t.Errorf("the guidance field holds %q", v)
	}
	admin.checkAccessible("settings with support fields")

	bob := newPage(t, "bob")
	bob.navigate(console.URL + "/")
	bob.devSignIn("u-bob", org, false, "")
	bob.waitText(googleApp+" .missing", "Your organization asks for more permissions than you granted.")
	bob.waitText(googleApp+" .support", "IT Help, it-help@example.com")
	bob.waitText(googleApp+" .guidance", "Use it to find meetings")

	admin.noExceptions()
	bob.noExceptions()
}

// rewrite edits a JSON answer in place.
func rewrite(resp *http.Response, edit func(map[string]any)) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	edit(v)
	if body, err = json.Marshal(v); err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// consoleBefore serves the console, with the development sign-in of env, in
// front of api (a handler standing between the console and env's API).
func consoleBefore(t *testing.T, env *localtest.Env, api http.Handler) *httptest.Server {
	t.Helper()
	h, err := webconsole.Handler(api, webconsole.Options{
		Dir: consoleDir(t), Config: webconsole.LocalConfig(env.Config.Claims),
		DevSignIn: func(id webconsole.DevIdentity) (string, error) {
			return env.Token(id.User, id.Org, id.Roles, id.Groups), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	console := httptest.NewServer(h)
	t.Cleanup(console.Close)
	return console
}

// TestExpiredSessionAsksToSignInAgain: when the API stops accepting the
// token (it expired), the console drops it and shows the sign-in, and the
// view that was loading does not paint over it.
func TestExpiredSessionAsksToSignInAgain(t *testing.T) {
	env := localtest.New(t)
	target, _ := url.Parse(env.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var expired atomic.Bool
	console := consoleBefore(t, env, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if expired.Load() {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":401,"title":"Unauthorized","code":"unauthorized"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	p := newPage(t, "admin")
	p.navigate(console.URL + "/")
	p.devSignIn("u-alice", org, true, "")
	p.waitText(googleCard+" .status", "Status:")
	expired.Store(true)
	p.click(`nav a[href="#/audit"]`)
	p.waitText("#main", "Your session has ended: sign in again.")
	p.waitFor("the sign-in to stay", `new Promise(r => setTimeout(() => r(!!document.querySelector("#dev-sign-in") && !document.querySelector("#identity")), 300))`)
	p.noExceptions()
}
