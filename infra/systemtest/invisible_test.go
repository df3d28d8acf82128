package systemtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/hygiene"
	"github.com/sofie/integrations/shared/store"
)

// TestInvisibleCharactersRefused: group names and every admin text field
// refuse Unicode format characters (zero-width, bidi controls) with a field
// error, and nothing is stored or audited. Issue 11, finding 3 (invisible
// characters).
func TestInvisibleCharactersRefused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org = "o-invisible"
		admin := w.admin(org)
		cases := []struct {
			name, provider, field string
			mutate                func(body map[string]any)
		}{
			{"zero-width space in a group", catalog.GoogleWorkspace, "rollout.groups[0]", func(b map[string]any) {
				b["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot\u200b"}}
			}},
			{"right-to-left override in a group", catalog.GoogleWorkspace, "rollout.groups[1]", func(b map[string]any) {
				b["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot", "\u202etolip"}}
			}},
			{"zero-width joiner in the tenant", catalog.Microsoft365, "tenant", func(b map[string]any) {
				b["tenant"] = "contoso\u200d.onmicrosoft.com"
			}},
			{"byte-order mark in the client id", catalog.Microsoft365, "clientId", func(b map[string]any) {
				b["configMode"], b["clientId"] = "organization", "00000000-0000-0000-0000-0000000000a1\ufeff"
			}},
			{"soft hyphen in the hosted domain", catalog.GoogleWorkspace, "hostedDomain", func(b map[string]any) {
				b["hostedDomain"] = "exam\u00adple.com"
			}},
			{"zero-width space in the auth base URL", catalog.Salesforce, "authBaseUrl", func(b map[string]any) {
				b["authBaseUrl"] = "https://login\u200b.salesforce.com"
			}},
			{"word joiner in a capability", catalog.GoogleWorkspace, "capabilities[0]", func(b map[string]any) {
				b["capabilities"] = []string{"email\u2060"}
			}},
		}
		for _, tc := range cases {
			body := integrationBody(tc.provider)
			tc.mutate(body)
			resp := w.do(t, "PUT", integrationPath(org, tc.provider), admin, body, nil)
			if resp.Status != 400 || resp.Code() != "validation_failed" ||
				!strings.Contains(string(resp.Body), `"field":"`+tc.field+`","code":"`+hygiene.InvisibleCode+`"`) {
				t.Errorf("%s: got %s, want 400 validation_failed with %s %s", tc.name, resp, tc.field, hygiene.InvisibleCode)
			}
			if _, found := w.integration(t, org, tc.provider); found {
				t.Fatalf("%s: the integration was saved", tc.name)
			}
		}

		// The secure field too, and the secret is not stored.
		resp := w.do(t, "PUT", integrationPath(org, catalog.GoogleWorkspace)+"/client-secret", admin,
			map[string]string{"clientSecret": "fake-client-\u200bsecret-invisible"}, nil)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), `"code":"`+hygiene.InvisibleCode+`"`) {
			t.Errorf("client secret with a zero-width space: got %s", resp)
		}
		if _, err := w.env.Deps.Secrets.GetClientSecret(context.Background(), org, catalog.GoogleWorkspace); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a refused client secret was stored (%v)", err)
		}
		if entries := w.audit(t, org); len(entries) != 0 {
			t.Errorf("refused saves were audited: %+v", entries)
		}
	})
}
