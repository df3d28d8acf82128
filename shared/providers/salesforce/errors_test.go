package salesforce

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
		{"expired", 400, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`, oauthfail.Reconnect, "token_expired", oauthfail.OwnerUser},
		{"ip restricted", 400, `{"error":"invalid_grant","error_description":"ip restricted"}`, oauthfail.Reconnect, "ip_restricted", oauthfail.OwnerExternalAdmin},
		{"plain invalid_grant", 400, `{"error":"invalid_grant","error_description":"whatever"}`, oauthfail.Reconnect, "invalid_grant", oauthfail.OwnerUser},
		{"unauthorized client", 400, `{"error":"unauthorized_client"}`, oauthfail.ClientRefused, "unauthorized_client", oauthfail.OwnerAdmin},
		{"unknown consumer key", 400, `{"error":"invalid_client_id","error_description":"client identifier invalid"}`, oauthfail.ClientRefused, "invalid_client_id", oauthfail.OwnerAdmin},
		{"wrong consumer secret", 400, `{"error":"invalid_client_credentials","error_description":"client secret invalid"}`, oauthfail.ClientRefused, "invalid_client_credentials", oauthfail.OwnerAdmin},
		{"inactive user", 400, `{"error":"inactive_user","error_description":"user is inactive"}`, oauthfail.Blocked, "inactive_user", oauthfail.OwnerExternalAdmin},
		{"inactive user as invalid_grant", 400, `{"error":"invalid_grant","error_description":"inactive user"}`, oauthfail.Blocked, "inactive_user", oauthfail.OwnerExternalAdmin},
		{"inactive org", 400, `{"error":"inactive_org","error_description":"org is locked"}`, oauthfail.Blocked, "inactive_org", oauthfail.OwnerExternalAdmin},
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
	tests := []struct {
		code string
		kind oauthfail.Kind
		want string
	}{
		{"invalid_client_id", oauthfail.ClientRefused, "invalid_client_id"},
		{"inactive_user", oauthfail.Blocked, "inactive_user"},
		{"inactive_org", oauthfail.Blocked, "inactive_org"},
		{"access_denied", oauthfail.Reconnect, "access_denied"},
	}
	for _, tc := range tests {
		if f := New().Dialect.ClassifyAuthorize(tc.code, ""); f.Kind != tc.kind || f.Code != tc.want {
			t.Errorf("ClassifyAuthorize(%q) = %s/%s, want %s/%s", tc.code, f.Kind, f.Code, tc.kind, tc.want)
		}
	}
}
