package google

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

func TestEndpoints(t *testing.T) {
	want := providers.Endpoints{
		OAuth2: oauth2.Endpoint{
			AuthURL:   "https://accounts.google.com/o/oauth2/v2/auth",
			TokenURL:  "https://oauth2.googleapis.com/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RevokeURL:   "https://oauth2.googleapis.com/revoke",
		UserInfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
	}
	if got := New().Endpoints(providers.Settings{HostedDomain: "example.com"}); got != want {
		t.Fatalf("Endpoints =\n%+v\nwant\n%+v", got, want)
	}
}

func TestHostedDomainValidation(t *testing.T) {
	tests := []struct {
		name     string
		settings providers.Settings
		field    string // "" when valid
		code     string
		message  string
	}{
		{"empty", providers.Settings{}, "", "", ""},
		{"domain", providers.Settings{HostedDomain: "example.com"}, "", "", ""},
		{"subdomain", providers.Settings{HostedDomain: "eu.example.co.uk"}, "", "", ""},
		{"email", providers.Settings{HostedDomain: "admin@example.com"}, "hostedDomain", "invalid_format", "without @"},
		{"URL", providers.Settings{HostedDomain: "https://example.com"}, "hostedDomain", "invalid_format", ""},
		{"single label", providers.Settings{HostedDomain: "localhost"}, "hostedDomain", "invalid_format", ""},
		{"trailing dot", providers.Settings{HostedDomain: "example.com."}, "hostedDomain", "invalid_format", ""},
		{"spaces", providers.Settings{HostedDomain: "example.com "}, "hostedDomain", "invalid_format", ""},
		{"tenant is not Google's", providers.Settings{Tenant: "contoso.com"}, "tenant", "not_applicable", ""},
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
		{"1234567890-abcdefghijklmnop0123456789abcdef.apps.googleusercontent.com", ""},
		{"1234-abcdefgh.apps.googleusercontent.com", ""},
		{"123-abcdefgh.apps.googleusercontent.com", "invalid_format"},
		{"1234-abcdefg.apps.googleusercontent.com", "invalid_format"},
		{"1234-ABCDEFGH.apps.googleusercontent.com", "invalid_format"},
		{"1234-abcd-efgh.apps.googleusercontent.com", "invalid_format"},
		{"1234567890-abcdefghijklmnop0123456789abcdef", "invalid_format"},
		{"my-client", "invalid_format"},
	}
	for _, tt := range tests {
		errs := New().ValidateClientID(tt.id)
		if tt.code == "" && len(errs) != 0 || tt.code != "" && (len(errs) != 1 || errs[0].Field != "clientId" || errs[0].Code != tt.code) {
			t.Errorf("ValidateClientID(%q) = %+v, want %q", tt.id, errs, tt.code)
		}
	}
}

func TestCredentialCheckMethod(t *testing.T) {
	if got := New().CredentialCheckFor(providers.Settings{}); got != (providers.CredentialCheck{Method: providers.CheckDummyCode}) {
		t.Fatalf("credential check %+v", got)
	}
}
