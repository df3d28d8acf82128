package admin

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/hygiene"
	"github.com/sofie/integrations/shared/problem"
)

// Credential-shaped values are built at runtime: no source file holds one.
func googleSecret() string { return "GOCSPX-" + strings.Repeat("x", 28) }
func msSecret() string     { return "q7Z" + "8Q~" + strings.Repeat("aB3.", 8) + "k_" }
func jwtLike() string {
	return "eyJ" + "hbGciOiJSUzI1NiJ9" + "." + "eyJ" + "zdWIiOiJhZG1pbiJ9" + "." + strings.Repeat("Zm9v", 6)
}
func pemLike() string { return "-----BEGIN " + "RSA PRIV" + "ATE KEY-----" }

func enabled(b bool) *bool { return &b }

const msClientID = "00000000-0000-0000-0000-0000000000a1"

func TestValidate(t *testing.T) {
	ms := catalog.New().All()[0]
	gw, _ := catalog.New().Get(catalog.GoogleWorkspace)
	sf, _ := catalog.New().Get(catalog.Salesforce)
	base := func(mut func(*IntegrationInput)) IntegrationInput {
		in := IntegrationInput{Enabled: enabled(true), ConfigMode: "organization", ClientID: msClientID, Tenant: "contoso.onmicrosoft.com", Capabilities: []string{"email"}}
		if mut != nil {
			mut(&in)
		}
		return in
	}
	groups := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("pilot-%d", i)
		}
		return out
	}
	type fe struct{ field, code string }
	tests := []struct {
		name     string
		provider catalog.Provider
		in       IntegrationInput
		code     string // problem code, "" when valid
		errs     []fe
	}{
		{"valid organization", ms, base(nil), "", nil},
		{"valid default", ms, base(func(in *IntegrationInput) { in.ConfigMode, in.ClientID = "default", "" }), "", nil},
		{"default by omission", ms, base(func(in *IntegrationInput) { in.ConfigMode, in.ClientID = "", "" }), "", nil},
		{"tenant may be left for later", ms, base(func(in *IntegrationInput) { in.Tenant = "" }), "", nil},
		{"disabled without capabilities", ms, base(func(in *IntegrationInput) { in.Enabled, in.Capabilities = enabled(false), nil }), "", nil},
		{"enabled missing", ms, base(func(in *IntegrationInput) { in.Enabled = nil }), problem.CodeValidation, []fe{{"enabled", "required"}}},
		{"bad tenant", ms, base(func(in *IntegrationInput) { in.Tenant = "not a tenant!" }), problem.CodeValidation, []fe{{"tenant", "invalid_format"}}},
		{"consumers", ms, base(func(in *IntegrationInput) { in.Tenant = "consumers" }), problem.CodeValidation, []fe{{"tenant", "consumers_not_allowed"}}},
		{"google secret in tenant", ms, base(func(in *IntegrationInput) { in.Tenant = googleSecret() }), problem.CodeSecretInField, []fe{{"tenant", hygiene.Code}}},
		{"microsoft secret in tenant", ms, base(func(in *IntegrationInput) { in.Tenant = msSecret() }), problem.CodeSecretInField, []fe{{"tenant", hygiene.Code}}},
		{"microsoft secret as client id", ms, base(func(in *IntegrationInput) { in.ClientID = msSecret() }), problem.CodeSecretInField, []fe{{"clientId", hygiene.Code}}},
		{"client id not a GUID", ms, base(func(in *IntegrationInput) { in.ClientID = "my-app" }), problem.CodeValidation, []fe{{"clientId", "invalid_format"}}},
		{"organization without client id", ms, base(func(in *IntegrationInput) { in.ClientID = "" }), problem.CodeValidation, []fe{{"clientId", "required"}}},
		{"client id in default mode", ms, base(func(in *IntegrationInput) { in.ConfigMode = "default" }), problem.CodeValidation, []fe{{"clientId", "not_applicable"}}},
		{"unknown config mode", ms, base(func(in *IntegrationInput) { in.ConfigMode = "custom" }), problem.CodeValidation, []fe{{"configMode", "invalid_value"}}},
		{"unknown capability", ms, base(func(in *IntegrationInput) { in.Capabilities = []string{"email", "crm"} }), problem.CodeValidation, []fe{{"capabilities[1]", "unknown_capability"}}},
		{"duplicate capability", ms, base(func(in *IntegrationInput) { in.Capabilities = []string{"email", "email"} }), problem.CodeValidation, []fe{{"capabilities[1]", "duplicate"}}},
		{"enabled without capabilities", ms, base(func(in *IntegrationInput) { in.Capabilities = []string{} }), problem.CodeValidation, []fe{{"capabilities", "required"}}},
		{"field of another provider", ms, base(func(in *IntegrationInput) { in.HostedDomain = "example.com" }), problem.CodeValidation, []fe{{"hostedDomain", "not_applicable"}}},
		{"rollout groups", ms, base(func(in *IntegrationInput) {
			in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{"pilot", "Sales EMEA"}}
		}), "", nil},
		{"rollout everyone", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "everyone"} }), "", nil},
		{"rollout 50 groups", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "groups", Groups: groups(50)} }), "", nil},
		{"rollout 51 groups", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "groups", Groups: groups(51)} }), problem.CodeValidation, []fe{{"rollout.groups", "too_many"}}},
		{"rollout no groups", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "groups"} }), problem.CodeValidation, []fe{{"rollout.groups", "required"}}},
		{"rollout empty group", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{"a", " "}} }), problem.CodeValidation, []fe{{"rollout.groups[1]", "required"}}},
		{"rollout long group", ms, base(func(in *IntegrationInput) {
			in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{strings.Repeat("g", 129)}}
		}), problem.CodeValidation, []fe{{"rollout.groups[0]", "too_long"}}},
		{"rollout 128-char group", ms, base(func(in *IntegrationInput) {
			in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{strings.Repeat("g", 128)}}
		}), "", nil},
		{"rollout duplicate group", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{"a", "a"}} }), problem.CodeValidation, []fe{{"rollout.groups[1]", "duplicate"}}},
		{"rollout JWT as group", ms, base(func(in *IntegrationInput) {
			in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{"pilot", jwtLike()}}
		}), problem.CodeSecretInField, []fe{{"rollout.groups[1]", hygiene.Code}}},
		{"rollout everyone with groups", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "everyone", Groups: []string{"a"}} }), problem.CodeValidation, []fe{{"rollout.groups", "not_applicable"}}},
		{"rollout bad mode", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "some"} }), problem.CodeValidation, []fe{{"rollout.mode", "invalid_value"}}},
		// Invisible formatting characters (Unicode Cf): one clear error per
		// field, instead of that field's other checks.
		{"zero-width space in a group", ms, base(func(in *IntegrationInput) {
			in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{"pilot", "pilot\u200b"}}
		}), problem.CodeValidation, []fe{{"rollout.groups[1]", hygiene.InvisibleCode}}},
		{"bidi override in a group", ms, base(func(in *IntegrationInput) {
			in.Rollout = &RolloutInput{Mode: "groups", Groups: []string{"\u202etolip"}}
		}), problem.CodeValidation, []fe{{"rollout.groups[0]", hygiene.InvisibleCode}}},
		{"invisible in tenant", ms, base(func(in *IntegrationInput) { in.Tenant = "contoso\u200d.onmicrosoft.com" }), problem.CodeValidation, []fe{{"tenant", hygiene.InvisibleCode}}},
		{"invisible in client id", ms, base(func(in *IntegrationInput) { in.ClientID = msClientID + "\ufeff" }), problem.CodeValidation, []fe{{"clientId", hygiene.InvisibleCode}}},
		{"invisible in config mode", ms, base(func(in *IntegrationInput) { in.ConfigMode = "organization\u2060" }), problem.CodeValidation, []fe{{"configMode", hygiene.InvisibleCode}}},
		{"invisible in capability", ms, base(func(in *IntegrationInput) { in.Capabilities = []string{"email\u200b"} }), problem.CodeValidation, []fe{{"capabilities[0]", hygiene.InvisibleCode}}},
		{"invisible in rollout mode", ms, base(func(in *IntegrationInput) { in.Rollout = &RolloutInput{Mode: "\u200beveryone"} }), problem.CodeValidation, []fe{{"rollout.mode", hygiene.InvisibleCode}}},
		{"two errors at once", ms, base(func(in *IntegrationInput) { in.Tenant, in.Capabilities = "not a tenant!", nil }), problem.CodeValidation, []fe{{"tenant", "invalid_format"}, {"capabilities", "required"}}},

		{"google default", gw, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"files", "email"}, HostedDomain: "example.com"}, "", nil},
		{"google client id", gw, IntegrationInput{Enabled: enabled(true), ConfigMode: "organization", ClientID: "1234567890-abcdefghij0123456789.apps.googleusercontent.com", Capabilities: []string{"files"}}, "", nil},
		{"google secret as client id", gw, IntegrationInput{Enabled: enabled(true), ConfigMode: "organization", ClientID: googleSecret(), Capabilities: []string{"files"}}, problem.CodeSecretInField, []fe{{"clientId", hygiene.Code}}},
		{"google secret in hosted domain", gw, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"files"}, HostedDomain: googleSecret()}, problem.CodeSecretInField, []fe{{"hostedDomain", hygiene.Code}}},
		{"invisible in hosted domain", gw, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"files"}, HostedDomain: "example\u00ad.com"}, problem.CodeValidation, []fe{{"hostedDomain", hygiene.InvisibleCode}}},
		{"google bad hosted domain", gw, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"files"}, HostedDomain: "@example.com"}, problem.CodeValidation, []fe{{"hostedDomain", "invalid_format"}}},

		{"salesforce my domain", sf, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"crm"}, AuthBaseURL: "https://acme.my.salesforce.com"}, "", nil},
		{"invisible in auth base URL", sf, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"crm"}, AuthBaseURL: "https://login\u200b.salesforce.com"}, problem.CodeValidation, []fe{{"authBaseUrl", hygiene.InvisibleCode}}},
		{"salesforce evil", sf, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"crm"}, AuthBaseURL: "https://evil.example.com"}, problem.CodeValidation, []fe{{"authBaseUrl", "host_not_allowed"}}},
		{"salesforce lightning", sf, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"crm"}, AuthBaseURL: "https://acme.lightning.force.com"}, problem.CodeValidation, []fe{{"authBaseUrl", "lightning_url"}}},
		{"salesforce PEM in URL", sf, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"crm"}, AuthBaseURL: pemLike()}, problem.CodeSecretInField, []fe{{"authBaseUrl", hygiene.Code}}},
		{"salesforce consumer key", sf, IntegrationInput{Enabled: enabled(true), ConfigMode: "organization", ClientID: "3MVG9" + strings.Repeat("Qx7.Lm2_", 10), Capabilities: []string{"crm"}, AuthBaseURL: "https://login.salesforce.com"}, "", nil},
		{"salesforce consumer secret as key", sf, IntegrationInput{Enabled: enabled(true), ConfigMode: "organization", ClientID: strings.Repeat("A1B2C3D4", 8), Capabilities: []string{"crm"}, AuthBaseURL: "https://login.salesforce.com"}, problem.CodeSecretInField, []fe{{"clientId", hygiene.Code}}},
		{"salesforce long field", sf, IntegrationInput{Enabled: enabled(true), Capabilities: []string{"crm"}, AuthBaseURL: "https://" + strings.Repeat("a", 600)}, problem.CodeValidation, []fe{{"authBaseUrl", "too_long"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prob := validate(tt.provider, tt.in)
			if tt.code == "" {
				if prob != nil {
					t.Fatalf("want valid, got %s %+v", prob.Code, prob.Errors)
				}
				return
			}
			if prob == nil {
				t.Fatal("want a problem, got none")
			}
			if prob.Code != tt.code || prob.Status != 400 {
				t.Errorf("code = %s/%d, want %s/400", prob.Code, prob.Status, tt.code)
			}
			var got []fe
			for _, e := range prob.Errors {
				got = append(got, fe{e.Field, e.Code})
				// No message may quote what was sent.
				for _, v := range []string{tt.in.ClientID, tt.in.Tenant, tt.in.AuthBaseURL, tt.in.HostedDomain} {
					if len(v) > 10 && strings.Contains(e.Message, v) {
						t.Errorf("message of %s quotes the input: %q", e.Field, e.Message)
					}
				}
				if e.Code == hygiene.Code && !strings.Contains(e.Message, "client secret field") {
					t.Errorf("hygiene message must point to the secure field: %q", e.Message)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.errs) {
				t.Errorf("errors = %v, want %v", got, tt.errs)
			}
			if tt.code == problem.CodeSecretInField && prob.Extra["secureField"] != SecureField {
				t.Errorf("secureField = %v", prob.Extra["secureField"])
			}
		})
	}
}

func TestHygieneCodeIsTheSharedCode(t *testing.T) {
	if hygiene.Code != problem.CodeSecretInField {
		t.Fatalf("hygiene.Code %q != problem.CodeSecretInField %q", hygiene.Code, problem.CodeSecretInField)
	}
}

func TestValidateSecret(t *testing.T) {
	tests := []struct {
		name, secret, clientID, code string
	}{
		{"ok", "fake-client-secret-1", msClientID, ""},
		{"empty", "", "", "required"},
		{"short", "abc", "", "too_short"},
		{"long", strings.Repeat("s", MaxClientSecretLen+1), "", "too_long"},
		{"inner space", "fake client secret", "", "invalid_format"},
		{"newline", "fake-client-secret-1\n", "", "invalid_format"},
		{"tab", "\tfake-client-secret-1", "", "invalid_format"},
		{"client id", msClientID, msClientID, "same_as_client_id"},
		{"zero-width space", "fake-client-\u200bsecret-1", "", hygiene.InvisibleCode},
		{"bidi override", "\u202efake-client-secret-1", "", hygiene.InvisibleCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prob := validateSecret(SecretInput{ClientSecret: tt.secret}, tt.clientID)
			if tt.code == "" {
				if prob != nil {
					t.Fatalf("got %+v", prob.Errors)
				}
				return
			}
			if prob == nil || len(prob.Errors) != 1 || prob.Errors[0].Code != tt.code || prob.Errors[0].Field != SecureField {
				t.Fatalf("got %+v, want clientSecret/%s", prob, tt.code)
			}
			if tt.secret != "" && strings.Contains(prob.Errors[0].Message+prob.Detail, strings.TrimSpace(tt.secret)) {
				t.Error("the problem quotes the secret")
			}
		})
	}
}
