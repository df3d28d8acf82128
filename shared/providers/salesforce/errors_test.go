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
