package systemtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

// TestReturnToDotSegments: a returnTo whose path climbs out of a
// path-limited allow-list entry with dot segments (plain or
// percent-encoded) is refused at the start, and the callback checks a
// stored returnTo again, so it never redirects to one. Issue 11,
// finding 3 (returnTo paths).
func TestReturnToDotSegments(t *testing.T) {
	t.Parallel()
	allowed := localtest.ReturnURL + "settings/integrations/"
	eachStore(t, func(t *testing.T, w *world) {
		const org, user = "o-return", "u-return"
		w.enable(t, org, catalog.GoogleWorkspace)
		start := func(returnTo string) *localtest.Response {
			return w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, w.member(org, user),
				map[string]any{"returnTo": returnTo}, nil)
		}
		want(t, start(allowed+"done"), 201, "")
		for _, climb := range []string{
			allowed + "../../logout",
			allowed + "%2e%2e/%2E%2E/logout",
			allowed + ".%2e/.%2E/logout",
			allowed + "./../../logout",
			allowed + "..%2f..%2flogout",
		} {
			resp := start(climb)
			if resp.Status != 400 || resp.Code() != "validation_failed" || !strings.Contains(string(resp.Body), `"field":"returnTo"`) {
				t.Errorf("start with returnTo %s: got %s, want 400 validation_failed naming returnTo", climb, resp)
			}
		}

		// A state stored with such a returnTo (before this check, or by
		// anything else) does not make the callback redirect there.
		const raw = "state-with-a-climbing-return-url-0123456789"
		now := w.env.Clock.Now()
		in, _ := w.integration(t, org, catalog.GoogleWorkspace)
		st := store.OAuthState{
			ID: connections.StateID(raw), OrgID: org, UserID: user, Provider: catalog.GoogleWorkspace,
			ConfigVersion: in.Version, ClientRef: in.ClientRef(), PKCEVerifier: "placeholder-verifier-not-secret-0123456789abcdef",
			RedirectURI: w.env.URL + connections.CallbackPath, ReturnTo: allowed + "../../logout",
			Scopes: []string{"openid"}, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute),
		}
		if err := w.env.Deps.Store.CreateState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		resp := w.do(t, "GET", connections.CallbackPath+"?state="+raw+"&code=placeholder-code-never-issued", "", nil, nil)
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Fatalf("the callback redirected to %q", loc)
		}
		if resp.Status < 400 {
			t.Fatalf("callback with an unredeemable code answered %s", resp)
		}
	}, localtest.WithEnv("ALLOWED_RETURN_URLS", allowed))
}
