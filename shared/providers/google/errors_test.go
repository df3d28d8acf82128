package google

import (
	"testing"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/providertest"
)

func TestClassifyToken(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		kind   oauthfail.Kind
		code   string
		owner  oauthfail.Owner
	}{
		{"revoked", 400, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, oauthfail.Reconnect, "token_revoked", oauthfail.OwnerUser},
		{"rapt", 400, `{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_subtype":"invalid_rapt"}`, oauthfail.Reconnect, "reauth_required", oauthfail.OwnerUser},
		{"bad code", 400, `{"error":"invalid_grant","error_description":"Bad Request"}`, oauthfail.Reconnect, "invalid_grant", oauthfail.OwnerUser},
		{"client", 401, `{"error":"invalid_client","error_description":"Unauthorized"}`, oauthfail.ClientRefused, "invalid_client", oauthfail.OwnerAdmin},
		// A Workspace administrator's API controls: blocked, not a dead grant.
		{"admin policy", 400, `{"error":"admin_policy_enforced","error_description":"restricted by policies"}`, oauthfail.Blocked, "admin_policy_enforced", oauthfail.OwnerExternalAdmin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := New().Dialect.ClassifyToken(providertest.TokenError(t, tc.status, nil, tc.body, 0), providers.TokenCall{Grant: providers.GrantRefresh})
			if f.Kind != tc.kind || f.Code != tc.code || f.Owner != tc.owner || f.Cause == "" {
				t.Fatalf("ClassifyToken = %+v, want {%s %s %s}", f, tc.kind, tc.code, tc.owner)
			}
		})
	}
}

func TestClassifyAuthorize(t *testing.T) {
	if f := New().Dialect.ClassifyAuthorize("admin_policy_enforced", ""); f.Kind != oauthfail.Blocked || f.Owner != oauthfail.OwnerExternalAdmin || f.NeedsReconnect() {
		t.Fatalf("admin_policy_enforced at sign-in: %+v", f)
	}
	if f := New().Dialect.ClassifyAuthorize("access_denied", ""); f.Code != "access_denied" {
		t.Fatalf("access_denied: %+v", f)
	}
}
