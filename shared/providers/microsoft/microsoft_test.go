package microsoft

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

func TestEndpointsFromTenant(t *testing.T) {
	tests := []struct {
		tenant string
		want   providers.Endpoints
	}{
		{"Contoso.onmicrosoft.com", providers.Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
				TokenURL:  "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			UserInfoURL: "https://graph.microsoft.com/v1.0/me?$select=id,displayName,mail,userPrincipalName",
		}},
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", providers.Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize",
				TokenURL:  "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			UserInfoURL: "https://graph.microsoft.com/v1.0/me?$select=id,displayName,mail,userPrincipalName",
		}},
	}
	for _, tt := range tests {
		if got := New().Endpoints(providers.Settings{Tenant: tt.tenant}); got != tt.want {
			t.Errorf("Endpoints(%q) =\n%+v\nwant\n%+v", tt.tenant, got, tt.want)
		}
	}
}

func TestTenantValidation(t *testing.T) {
	tests := []struct {
		name     string
		settings providers.Settings
		field    string // "" when valid
		code     string
		message  string // substring of the message
	}{
		{"GUID", providers.Settings{Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "", "", ""},
		{"verified domain", providers.Settings{Tenant: "contoso.onmicrosoft.com"}, "", "", ""},
		{"custom domain", providers.Settings{Tenant: "contoso.com"}, "", "", ""},
		{"organizations", providers.Settings{Tenant: "organizations"}, "", "", ""},
		{"common", providers.Settings{Tenant: "common"}, "", "", ""},
		{"consumers", providers.Settings{Tenant: "consumers"}, "tenant", "consumers_not_allowed", "personal Microsoft accounts"},
		{"Consumers", providers.Settings{Tenant: "Consumers"}, "tenant", "consumers_not_allowed", ""},
		{"not a tenant!", providers.Settings{Tenant: "not a tenant!"}, "tenant", "invalid_format", "verified domain"},
		{"GUID with a bad digit", providers.Settings{Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db4g"}, "tenant", "invalid_format", ""},
		{"single label", providers.Settings{Tenant: "contoso"}, "tenant", "invalid_format", ""},
		{"label ending in a hyphen", providers.Settings{Tenant: "contoso-.com"}, "tenant", "invalid_format", ""},
		{"numeric top-level label", providers.Settings{Tenant: "contoso.123"}, "tenant", "invalid_format", ""},
		{"label of 64 characters", providers.Settings{Tenant: strings.Repeat("a", 64) + ".com"}, "tenant", "invalid_format", ""},
		{"name of 254 characters", providers.Settings{Tenant: strings.Repeat("a.", 126) + "co"}, "tenant", "invalid_format", ""},
		{"with spaces", providers.Settings{Tenant: " contoso.com"}, "tenant", "invalid_format", ""},
		{"URL", providers.Settings{Tenant: "https://login.microsoftonline.com/contoso.com"}, "tenant", "invalid_format", ""},
		{"missing", providers.Settings{}, "tenant", "required", ""},
		{"hosted domain is not Microsoft's", providers.Settings{Tenant: "contoso.com", HostedDomain: "contoso.com"}, "hostedDomain", "not_applicable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := New().Validate(tt.settings)
			if tt.field == "" {
				if len(errs) != 0 {
					t.Fatalf("want valid, got %+v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tt.field || errs[0].Code != tt.code || !strings.Contains(errs[0].Message, tt.message) {
				t.Fatalf("got %+v, want one %s/%s error containing %q", errs, tt.field, tt.code, tt.message)
			}
		})
	}
}

func TestValidateClientID(t *testing.T) {
	tests := []struct {
		id   string
		code string // "" when valid
	}{
		{"00000000-0000-0000-0000-000000000001", ""},
		{"ABCDEF00-0000-0000-0000-00000000000a", ""},
		{"not-a-guid", "invalid_format"},
		{"00000000-0000-0000-0000-00000000000", "invalid_format"},
		{"00000000_0000-0000-0000-000000000001", "invalid_format"},
		{"contoso.onmicrosoft.com", "invalid_format"},
		{"", "required"},
		{" 00000000-0000-0000-0000-000000000001", "invalid_format"},
	}
	for _, tt := range tests {
		errs := New().ValidateClientID(tt.id)
		if tt.code == "" && len(errs) != 0 || tt.code != "" && (len(errs) != 1 || errs[0].Field != "clientId" || errs[0].Code != tt.code) {
			t.Errorf("ValidateClientID(%q) = %+v, want %q", tt.id, errs, tt.code)
		}
	}
}

func TestCredentialCheckMethod(t *testing.T) {
	tests := []struct {
		tenant string
		want   providers.CredentialCheck
	}{
		{"contoso.onmicrosoft.com", providers.CredentialCheck{Method: providers.CheckClientCredentials, Scope: "https://graph.microsoft.com/.default"}},
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", providers.CredentialCheck{Method: providers.CheckClientCredentials, Scope: "https://graph.microsoft.com/.default"}},
		{"common", providers.CredentialCheck{Method: providers.CheckDummyCode}},
		{"Organizations", providers.CredentialCheck{Method: providers.CheckDummyCode}},
	}
	for _, tt := range tests {
		if got := New().CredentialCheckFor(providers.Settings{Tenant: tt.tenant}); got != tt.want {
			t.Errorf("tenant %q: %+v, want %+v", tt.tenant, got, tt.want)
		}
	}
}
