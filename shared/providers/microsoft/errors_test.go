package microsoft

import (
	"strings"
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
		{"password change", 400, `{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173]}`, oauthfail.Reconnect, "grant_revoked", oauthfail.OwnerUser},
		{"inactive refresh token", 400, `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}`, oauthfail.Reconnect, "refresh_token_inactive", oauthfail.OwnerUser},
		{"sign-in frequency", 400, `{"error":"invalid_grant","error_description":"AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.","error_codes":[70043]}`, oauthfail.Reconnect, "sign_in_frequency", oauthfail.OwnerUser},
		{"expired client secret", 401, `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app are expired.","error_codes":[7000222]}`, oauthfail.ClientRefused, "client_secret_expired", oauthfail.OwnerAdmin},
		{"wrong client secret", 401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`, oauthfail.ClientRefused, "invalid_client_secret", oauthfail.OwnerAdmin},
		{"app not found", 400, `{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.","error_codes":[700016]}`, oauthfail.ClientRefused, "client_not_found", oauthfail.OwnerAdmin},
		{"consent: the user, or the tenant admin", 400, `{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application.","error_codes":[65001]}`, oauthfail.Reconnect, "consent_required", oauthfail.OwnerUser},
		{"not assigned", 400, `{"error":"invalid_grant","error_description":"AADSTS50105: The signed in user is not assigned to a role for the application."}`, oauthfail.Blocked, "user_not_assigned", oauthfail.OwnerExternalAdmin},
		{"external user required", 400, `{"error":"invalid_grant","error_description":"AADSTS90072: User account does not exist in tenant."}`, oauthfail.Blocked, "external_user_required", oauthfail.OwnerExternalAdmin},
		{"device not compliant", 400, `{"error":"invalid_grant","error_description":"AADSTS53000: Device is not in required device state."}`, oauthfail.Blocked, "device_not_compliant", oauthfail.OwnerExternalAdmin},
		{"device not managed", 400, `{"error":"invalid_grant","error_description":"AADSTS530003: Your device is required to be managed."}`, oauthfail.Blocked, "device_not_managed", oauthfail.OwnerExternalAdmin},
		{"conditional access", 400, `{"error":"invalid_grant","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies."}`, oauthfail.Blocked, "conditional_access_blocked", oauthfail.OwnerExternalAdmin},
		{"single-tenant app under organizations", 400, `{"error":"invalid_request","error_description":"AADSTS50194: Application 'x' is not configured as a multi-tenant application."}`, oauthfail.AdminAction, "single_tenant_app", oauthfail.OwnerAdmin},
		{"unknown AADSTS: the OAuth code decides", 400, `{"error":"invalid_grant","error_description":"AADSTS1234567: something new"}`, oauthfail.Reconnect, "invalid_grant", oauthfail.OwnerUser},
		{"transient", 503, `{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error has occurred."}`, oauthfail.Transient, "provider_unavailable", oauthfail.OwnerNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := New().Dialect.ClassifyToken(providertest.TokenError(t, tc.status, nil, tc.body, 0), providers.TokenCall{Grant: providers.GrantRefresh})
			if f.Kind != tc.kind || f.Code != tc.code || f.Owner != tc.owner || f.Cause == "" {
				t.Fatalf("ClassifyToken = %+v, want {%s %s %s}", f, tc.kind, tc.code, tc.owner)
			}
			if f.Kind == oauthfail.Blocked && strings.Contains(strings.ToLower(f.Cause), "reconnect") {
				t.Fatalf("a tenant policy asks for a reconnect: %q", f.Cause)
			}
		})
	}
}

func TestClassifyAuthorize(t *testing.T) {
	tests := []struct {
		code, desc string
		kind       oauthfail.Kind
		want       string
	}{
		{"access_denied", "AADSTS65004: User declined to consent", oauthfail.Reconnect, "access_denied"},
		{"access_denied", "AADSTS53003: blocked by conditional access", oauthfail.Blocked, "conditional_access_blocked"},
		{"access_denied", "AADSTS50105: The signed in user is not assigned to the app", oauthfail.Blocked, "user_not_assigned"},
		{"access_denied", "AADSTS50020: User account from identity provider does not exist in tenant", oauthfail.Reconnect, "account_not_in_tenant"},
		{"invalid_request", "AADSTS50011: The redirect URI does not match", oauthfail.AdminAction, "invalid_request"},
		{"invalid_request", "AADSTS50194: Application is not configured as a multi-tenant application", oauthfail.AdminAction, "single_tenant_app"},
	}
	for _, tc := range tests {
		f := New().Dialect.ClassifyAuthorize(tc.code, tc.desc)
		if f.Kind != tc.kind || f.Code != tc.want {
			t.Errorf("ClassifyAuthorize(%q, %q) = %s/%s, want %s/%s", tc.code, tc.desc, f.Kind, f.Code, tc.kind, tc.want)
		}
	}
}

func TestAADSTSCode(t *testing.T) {
	for in, want := range map[string]string{
		"AADSTS50173: revoked":                    "50173",
		"Error validating. AADSTS50011: redirect": "50011",
		"AADSTS":               "",
		"no code":              "",
		"AADSTS12345678901234": "1234567890",
	} {
		if got := aadstsCode(in); got != want {
			t.Errorf("aadstsCode(%q) = %q, want %q", in, got, want)
		}
	}
}
