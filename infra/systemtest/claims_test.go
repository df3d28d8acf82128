package systemtest_test

import (
	"net/http"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
)

// TestListClaimsAreReadWhole: roles and groups are read from the token in
// the Authorization header, not from API Gateway's flattened "[a b]" form,
// so a value with a space (or a comma) is one value. Issue 11, finding 2.
func TestListClaimsAreReadWhole(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org = "o-claims"

		// A role "helpdesk org_admin" is not the admin role.
		helpdesk := w.env.Token("u-helpdesk", org, []string{"helpdesk org_admin"}, nil)
		want(t, w.do(t, "GET", "/v1/orgs/"+org+"/audit", helpdesk, nil, nil), 403, "forbidden")
		body := integrationBody(catalog.GoogleWorkspace)
		want(t, w.do(t, "PUT", integrationPath(org, catalog.GoogleWorkspace), helpdesk, body, nil), 403, "forbidden")
		if _, found := w.integration(t, org, catalog.GoogleWorkspace); found {
			t.Fatal("a helpdesk role saved an integration")
		}
		// The real admin role still is.
		want(t, w.do(t, "GET", "/v1/orgs/"+org+"/audit", w.admin(org), nil, nil), 200, "")

		// A rollout to "Pilot Team" admits "Pilot Team" and neither "Pilot"
		// nor "Team"; a rollout to "Pilot" does not admit "Pilot Team".
		body["rollout"] = map[string]any{"mode": "groups", "groups": []string{"Pilot Team", "Sales,EMEA"}}
		created := w.do(t, "PUT", integrationPath(org, catalog.GoogleWorkspace), w.admin(org), body, nil)
		want(t, created, 201, "")
		start := func(token string) int {
			return w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, token,
				map[string]any{"returnTo": "https://app.example.test/settings"}, nil).Status
		}
		for _, tc := range []struct {
			groups []string
			status int
		}{
			{[]string{"Pilot Team"}, 201},
			{[]string{"Sales,EMEA"}, 201},
			{[]string{"Pilot", "Team"}, 403},
			{[]string{"Pilot"}, 403},
			{[]string{"Team"}, 403},
			{[]string{"Sales", "EMEA"}, 403},
		} {
			if got := start(w.env.MemberToken("u-member", org, tc.groups...)); got != tc.status {
				t.Errorf("groups %q: start answered %d, want %d", tc.groups, got, tc.status)
			}
		}

		body["rollout"] = map[string]any{"mode": "groups", "groups": []string{"Pilot"}}
		want(t, w.do(t, "PUT", integrationPath(org, catalog.GoogleWorkspace), w.admin(org), body,
			http.Header{"If-Match": {created.Header.Get("ETag")}}), 200, "")
		resp := w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, w.env.MemberToken("u-member", org, "Pilot Team"),
			map[string]any{"returnTo": "https://app.example.test/settings"}, nil)
		want(t, resp, 403, connections.CodeNotInRollout)
		if got := start(w.env.MemberToken("u-member", org, "Pilot")); got != 201 {
			t.Errorf("group Pilot under a rollout to Pilot: %d, want 201", got)
		}
	})
}
