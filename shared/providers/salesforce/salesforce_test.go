package salesforce

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

func TestEndpointsFromAuthBaseURL(t *testing.T) {
	tests := []struct {
		base string
		want providers.Endpoints
	}{
		{"https://acme.my.salesforce.com/", providers.Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://acme.my.salesforce.com/services/oauth2/authorize",
				TokenURL:  "https://acme.my.salesforce.com/services/oauth2/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RevokeURL:     "https://acme.my.salesforce.com/services/oauth2/revoke",
			UserInfoURL:   "https://acme.my.salesforce.com/services/oauth2/userinfo",
			IntrospectURL: "https://acme.my.salesforce.com/services/oauth2/introspect",
		}},
		{"https://test.salesforce.com", providers.Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://test.salesforce.com/services/oauth2/authorize",
				TokenURL:  "https://test.salesforce.com/services/oauth2/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RevokeURL:     "https://test.salesforce.com/services/oauth2/revoke",
			UserInfoURL:   "https://test.salesforce.com/services/oauth2/userinfo",
			IntrospectURL: "https://test.salesforce.com/services/oauth2/introspect",
		}},
	}
	for _, tt := range tests {
		if got := New().Endpoints(providers.Settings{AuthBaseURL: tt.base}); got != tt.want {
			t.Errorf("Endpoints(%q) =\n%+v\nwant\n%+v", tt.base, got, tt.want)
		}
	}
}

func TestAuthBaseURLValidation(t *testing.T) {
	tests := []struct {
		name    string
		base    string
		field   string // "" when valid
		code    string
		message string // substring of the message
	}{
		{"login", "https://login.salesforce.com", "", "", ""},
		{"test", "https://test.salesforce.com", "", "", ""},
		{"My Domain", "https://acme.my.salesforce.com", "", "", ""},
		{"My Domain trailing slash", "https://acme.my.salesforce.com/", "", "", ""},
		{"sandbox My Domain", "https://acme--uat.sandbox.my.salesforce.com", "", "", ""},
		{"sandbox without enhanced domains", "https://acme--uat.my.salesforce.com", "", "", ""},
		{"Developer Edition", "https://acme-dev-ed.develop.my.salesforce.com", "", "", ""},
		{"scratch org", "https://acme-sample.scratch.my.salesforce.com", "", "", ""},
		{"demo org", "https://acme.demo.my.salesforce.com", "", "", ""},
		{"Trailhead Playground", "https://curious-fox.trailblaze.my.salesforce.com", "", "", ""},
		{"sandbox partition without a sandbox name", "https://acme.sandbox.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"sandbox name in another partition", "https://acme--uat.develop.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"Salesforce's own partition", "https://acme.free.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"unknown partition", "https://acme.internal.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"empty sandbox name", "https://acme--.sandbox.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"http", "http://login.salesforce.com", "authBaseUrl", "https_required", "https"},
		{"evil", "https://evil.example.com", "authBaseUrl", "host_not_allowed", "my.salesforce.com"},
		{"lookalike", "https://acme.my.salesforce.com.evil.example.com", "authBaseUrl", "host_not_allowed", ""},
		{"My Domain label starting with a hyphen", "https://-acme.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"two labels before my", "https://a.b.my.salesforce.com", "authBaseUrl", "host_not_allowed", ""},
		{"lightning", "https://acme.lightning.force.com", "authBaseUrl", "lightning_url", "My Domain"},
		{"with path", "https://acme.my.salesforce.com/services/oauth2", "authBaseUrl", "invalid_format", ""},
		{"with credentials", "https://user:pw@acme.my.salesforce.com", "authBaseUrl", "invalid_format", ""},
		{"with port", "https://acme.my.salesforce.com:8443", "authBaseUrl", "invalid_format", ""},
		{"missing", "", "authBaseUrl", "required", ""},
		{"not a URL", "acme", "authBaseUrl", "invalid_format", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := New().Validate(providers.Settings{AuthBaseURL: tt.base})
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
	if errs := New().Validate(providers.Settings{AuthBaseURL: "https://login.salesforce.com", HostedDomain: "example.com"}); len(errs) != 1 || errs[0].Code != "not_applicable" {
		t.Errorf("a hosted domain on Salesforce: %+v", errs)
	}
}

func TestValidateClientID(t *testing.T) {
	tests := []struct {
		id   string
		code string // "" when valid
	}{
		{"3MVG9" + strings.Repeat("A1b2.", 16), ""},
		{"3MVG9_" + strings.Repeat("x", 14), ""},
		{"3MVG9_" + strings.Repeat("x", 13), "invalid_format"},
		{strings.Repeat("x", 257), "invalid_format"},
		{"short", "invalid_format"},
		{"3MVG9 has spaces in it, not a key", "invalid_format"},
	}
	for _, tt := range tests {
		errs := New().ValidateClientID(tt.id)
		if tt.code == "" && len(errs) != 0 || tt.code != "" && (len(errs) != 1 || errs[0].Field != "clientId" || errs[0].Code != tt.code) {
			t.Errorf("ValidateClientID(%q) = %+v, want %q", tt.id, errs, tt.code)
		}
	}
}

func TestInstanceURL(t *testing.T) {
	tests := []struct {
		in, want string // want "": refused
	}{
		{"https://example-dev-ed.my.salesforce.com", "https://example-dev-ed.my.salesforce.com"},
		{"https://na139.salesforce.com/", "https://na139.salesforce.com"},
		{"https://ACME--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"},
		{"https://acme.my.salesforce.mil", "https://acme.my.salesforce.mil"},
		{"https://acme.my.sfcrmproducts.cn", "https://acme.my.sfcrmproducts.cn"},
		{"https://acme.lightning.force.com", "https://acme.lightning.force.com"},
		{"https://acme.my.cloudforce.com", "https://acme.my.cloudforce.com"},
		{"", ""},
		{"https://evil.example", ""},
		{"https://salesforce.com.evil.example", ""},
		{"https://evil.example/.salesforce.com", ""},
		{"https://evilsalesforce.com", ""},
		{"https://salesforce.com", ""},
		{"https://-acme.my.salesforce.com", ""},
		{"https://acme..my.salesforce.com", ""},
		{"https://acme_x.my.salesforce.com", ""},
		{"http://na139.salesforce.com", ""},
		{"https://user:pw@na139.salesforce.com", ""},
		{"https://na139.salesforce.com:8443", ""},
		{"https://na139.salesforce.com/services", ""},
		{"https://na139.salesforce.com?x=1", ""},
		{"https://na139.salesforce.com?", ""},
		{"https://na139.salesforce.com#", ""},
		{"https://na139.salesforce.com.", ""},
		{"https://evil.example\\@na139.salesforce.com", ""},
		{"//na139.salesforce.com", ""},
		{"https:na139.salesforce.com", ""},
		{"https://na139.salesforce.com\u200b", ""},
	}
	for _, tc := range tests {
		got, err := InstanceURL(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInstanceURL) {
				t.Errorf("InstanceURL(%q) = %q, %v; want refused", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("InstanceURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
