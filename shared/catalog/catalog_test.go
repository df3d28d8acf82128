package catalog

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/hygiene"
)

func mustGet(t *testing.T, id string) Provider {
	t.Helper()
	p, ok := New().Get(id)
	if !ok {
		t.Fatalf("provider %s missing from the catalog", id)
	}
	return p
}

func TestCatalogProviders(t *testing.T) {
	c := New()
	if got := c.IDs(); !slices.Equal(got, []string{Microsoft365, GoogleWorkspace, Salesforce}) {
		t.Fatalf("IDs = %v", got)
	}
	if _, ok := c.Get("dropbox"); ok {
		t.Fatal("unknown provider found")
	}
	tests := []struct {
		id           string
		displayName  string
		registers    string // substring
		capabilities []Capability
		// scopes needed for a refresh token and for the account identity
		baseScopes []string
		authParams map[string]string
	}{
		{Microsoft365, "Microsoft 365", "Microsoft Entra app", []Capability{Email, Calendar, Files, Contacts},
			[]string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read"}, map[string]string{"response_mode": "query"}},
		{GoogleWorkspace, "Google Workspace", "Google Cloud OAuth client", []Capability{Email, Calendar, Files, Contacts},
			[]string{"openid", "email", "profile"}, map[string]string{"access_type": "offline", "prompt": "consent"}},
		{Salesforce, "Salesforce", "Salesforce connected app", []Capability{CRM},
			[]string{"refresh_token", "openid", "id"}, nil},
	}
	allowedPlaceholders := regexp.MustCompile(`^<(redirect-uri|client-id|client-secret|tenant-id|your-domain|my-domain|sandbox|consumer-key|number|id)>$`)
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			p := mustGet(t, tt.id)
			if p.ID != tt.id || p.DisplayName != tt.displayName || !strings.Contains(p.Registers, tt.registers) {
				t.Errorf("identity = %q %q %q", p.ID, p.DisplayName, p.Registers)
			}
			if u, err := url.Parse(p.DocsURL); err != nil || u.Scheme != "https" {
				t.Errorf("DocsURL %q is not https", p.DocsURL)
			}
			if !slices.Equal(p.CapabilityIDs(), tt.capabilities) {
				t.Errorf("capabilities = %v, want %v", p.CapabilityIDs(), tt.capabilities)
			}
			for _, s := range tt.baseScopes {
				if !slices.Contains(p.BaseScopes, s) {
					t.Errorf("BaseScopes %v lack %s", p.BaseScopes, s)
				}
			}
			for k, v := range tt.authParams {
				if p.AuthParams[k] != v {
					t.Errorf("AuthParams[%s] = %q, want %q", k, p.AuthParams[k], v)
				}
			}
			if p.PKCEMethod != "S256" {
				t.Errorf("PKCEMethod = %q, want S256", p.PKCEMethod)
			}
			if p.ClientIDLabel == "" || p.ClientIDExample == "" {
				t.Error("client id label and example are required")
			}
			// Setup guidance: placeholders only, nothing credential-shaped.
			if len(p.SetupSteps) < 3 {
				t.Errorf("only %d setup steps", len(p.SetupSteps))
			}
			texts := slices.Clone(p.SetupSteps)
			for _, f := range p.Fields {
				texts = append(texts, f.Help, f.Example, f.Label)
			}
			texts = append(texts, p.ClientIDExample)
			for _, s := range texts {
				for _, ph := range regexp.MustCompile(`<[^>]*>`).FindAllString(s, -1) {
					if !allowedPlaceholders.MatchString(ph) {
						t.Errorf("unexpected placeholder %s in %q", ph, s)
					}
				}
				if f, bad := hygiene.Check(s); bad {
					t.Errorf("guidance %q looks like %s", s, f.Describe())
				}
			}
			if !slices.ContainsFunc(p.SetupSteps, func(s string) bool { return strings.Contains(s, "<redirect-uri>") }) {
				t.Error("setup steps must say where the redirect URI goes")
			}
			if !slices.ContainsFunc(p.SetupSteps, func(s string) bool { return strings.Contains(s, "secure client secret field") }) {
				t.Error("setup steps must point the secret to the secure field")
			}
			for _, f := range p.Fields {
				if f.Name == "" || f.Label == "" || f.Help == "" || f.Example == "" {
					t.Errorf("field %+v is incomplete", f)
				}
			}
		})
	}
}

func TestCapabilitiesAndScopesPerAction(t *testing.T) {
	g := func(s string) string { return "https://www.googleapis.com/auth/" + s }
	m := func(s string) string { return "https://graph.microsoft.com/" + s }
	tests := []struct {
		provider string
		cap      Capability
		action   Action
		want     []string // nil: the action is not supported
	}{
		{Microsoft365, Email, Read, []string{m("Mail.Read")}},
		{Microsoft365, Email, Create, []string{m("Mail.ReadWrite")}},
		{Microsoft365, Email, Update, []string{m("Mail.ReadWrite")}},
		{Microsoft365, Email, Send, []string{m("Mail.Send")}},
		{Microsoft365, Email, Delete, []string{m("Mail.ReadWrite")}},
		{Microsoft365, Calendar, Read, []string{m("Calendars.Read")}},
		{Microsoft365, Calendar, Create, []string{m("Calendars.ReadWrite")}},
		{Microsoft365, Calendar, Send, nil},
		{Microsoft365, Files, Read, []string{m("Files.Read.All")}},
		{Microsoft365, Files, Delete, []string{m("Files.ReadWrite.All")}},
		{Microsoft365, Contacts, Read, []string{m("Contacts.Read")}},
		{Microsoft365, Contacts, Update, []string{m("Contacts.ReadWrite")}},
		{Microsoft365, Contacts, Send, nil},
		{GoogleWorkspace, Email, Read, []string{g("gmail.readonly")}},
		{GoogleWorkspace, Email, Create, []string{g("gmail.compose")}},
		{GoogleWorkspace, Email, Update, []string{g("gmail.modify")}},
		{GoogleWorkspace, Email, Send, []string{g("gmail.send")}},
		{GoogleWorkspace, Email, Delete, []string{g("gmail.modify")}},
		{GoogleWorkspace, Calendar, Read, []string{g("calendar.readonly")}},
		{GoogleWorkspace, Calendar, Update, []string{g("calendar.events")}},
		{GoogleWorkspace, Calendar, Send, nil},
		{GoogleWorkspace, Files, Read, []string{g("drive.readonly")}},
		{GoogleWorkspace, Files, Create, []string{g("drive")}},
		{GoogleWorkspace, Contacts, Read, []string{g("contacts.readonly")}},
		{GoogleWorkspace, Contacts, Delete, []string{g("contacts")}},
		{Salesforce, CRM, Read, []string{"api"}},
		{Salesforce, CRM, Create, []string{"api"}},
		{Salesforce, CRM, Update, []string{"api"}},
		{Salesforce, CRM, Delete, []string{"api"}},
		{Salesforce, CRM, Send, nil},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+string(tt.cap)+"/"+string(tt.action), func(t *testing.T) {
			cs, ok := mustGet(t, tt.provider).Capability(tt.cap)
			if !ok {
				t.Fatalf("no capability %s", tt.cap)
			}
			if got := cs.Supports(tt.action); got != (tt.want != nil) {
				t.Fatalf("Supports(%s) = %v", tt.action, got)
			}
			if got := cs.ScopesFor(tt.action); !slices.Equal(got, tt.want) {
				t.Fatalf("ScopesFor(%s) = %v, want %v", tt.action, got, tt.want)
			}
		})
	}
	// Structure every capability must have, whichever the provider.
	for _, p := range New().All() {
		for _, cs := range p.Capabilities {
			if cs.Label == "" || !cs.Supports(Read) || len(cs.ReadScopes) == 0 {
				t.Errorf("%s/%s: label, read support and read scopes are required", p.ID, cs.ID)
			}
			for _, a := range AllActions {
				if a.IsWrite() && cs.Supports(a) != (len(cs.WriteScopes[a]) > 0) {
					t.Errorf("%s/%s: action %s supported=%v but write scopes %v", p.ID, cs.ID, a, cs.Supports(a), cs.WriteScopes[a])
				}
			}
			if _, ok := cs.WriteScopes[Read]; ok {
				t.Errorf("%s/%s: read is not a write action", p.ID, cs.ID)
			}
			for _, u := range []string{cs.Probe.ReadURL, cs.Probe.ItemURL} {
				if u == "" || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "{instance}/")) {
					t.Errorf("%s/%s: probe URL %q", p.ID, cs.ID, u)
				}
			}
			if !strings.Contains(cs.Probe.ItemURL, "{id}") || cs.Probe.ItemHint == "" {
				t.Errorf("%s/%s: item URL needs {id} and a hint", p.ID, cs.ID)
			}
			if (cs.ID == Files) != (cs.Probe.ContentURL != "") {
				t.Errorf("%s/%s: only files download content", p.ID, cs.ID)
			}
		}
	}
}

func TestRequestedScopes(t *testing.T) {
	ms := mustGet(t, Microsoft365)
	read := ms.RequestedScopes([]Capability{Email, Calendar}, false)
	want := []string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read",
		"https://graph.microsoft.com/Mail.Read", "https://graph.microsoft.com/Calendars.Read"}
	if !slices.Equal(read, want) {
		t.Fatalf("read-only scopes = %v", read)
	}
	write := ms.RequestedScopes([]Capability{Email}, true)
	for _, s := range []string{"https://graph.microsoft.com/Mail.ReadWrite", "https://graph.microsoft.com/Mail.Send"} {
		if !slices.Contains(write, s) {
			t.Errorf("write scopes %v lack %s", write, s)
		}
	}
	if n := len(write); n != len(slices.Compact(slices.Sorted(slices.Values(write)))) {
		t.Errorf("duplicates in %v", write)
	}
	// Granted scopes come back in the providers' own forms.
	if miss := ms.MissingScopes(read, []string{"Mail.Read", "calendars.read", "User.Read"}); len(miss) != 0 {
		t.Errorf("Microsoft short-form grants: missing %v", miss)
	}
	gw := mustGet(t, GoogleWorkspace)
	req := gw.RequestedScopes([]Capability{Files}, false)
	granted := []string{"https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"}
	if miss := gw.MissingScopes(req, granted); !slices.Equal(miss, []string{"https://www.googleapis.com/auth/drive.readonly"}) {
		t.Errorf("Google partial grant: missing %v", miss)
	}
	sf := mustGet(t, Salesforce)
	if !sf.Covers([]string{"api", "offline_access"}, []string{"api", "refresh_token"}) {
		t.Error("Salesforce offline_access stands for refresh_token")
	}
}

func TestEndpointsFromFields(t *testing.T) {
	tests := []struct {
		provider string
		settings Settings
		want     Endpoints
	}{
		{Microsoft365, Settings{Tenant: "Contoso.onmicrosoft.com"}, Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
				TokenURL:  "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			UserInfoURL: "https://graph.microsoft.com/v1.0/me?$select=id,displayName,mail,userPrincipalName",
		}},
		{Microsoft365, Settings{Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47"}, Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize",
				TokenURL:  "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			UserInfoURL: "https://graph.microsoft.com/v1.0/me?$select=id,displayName,mail,userPrincipalName",
		}},
		{GoogleWorkspace, Settings{HostedDomain: "example.com"}, Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://accounts.google.com/o/oauth2/v2/auth",
				TokenURL:  "https://oauth2.googleapis.com/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RevokeURL:   "https://oauth2.googleapis.com/revoke",
			UserInfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
		}},
		{Salesforce, Settings{AuthBaseURL: "https://acme.my.salesforce.com/"}, Endpoints{
			OAuth2: oauth2.Endpoint{
				AuthURL:   "https://acme.my.salesforce.com/services/oauth2/authorize",
				TokenURL:  "https://acme.my.salesforce.com/services/oauth2/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
			RevokeURL:     "https://acme.my.salesforce.com/services/oauth2/revoke",
			UserInfoURL:   "https://acme.my.salesforce.com/services/oauth2/userinfo",
			IntrospectURL: "https://acme.my.salesforce.com/services/oauth2/introspect",
		}},
		{Salesforce, Settings{AuthBaseURL: "https://test.salesforce.com"}, Endpoints{
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
		t.Run(tt.provider, func(t *testing.T) {
			if got := mustGet(t, tt.provider).Endpoints(tt.settings); got != tt.want {
				t.Fatalf("Endpoints =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestAuthorizationURLParameters(t *testing.T) {
	tests := []struct {
		provider string
		settings Settings
		want     map[string]string
		absent   []string
	}{
		{GoogleWorkspace, Settings{}, map[string]string{"access_type": "offline", "prompt": "consent", "code_challenge_method": "S256"}, []string{"hd"}},
		{GoogleWorkspace, Settings{HostedDomain: "example.com"}, map[string]string{"hd": "example.com"}, nil},
		{Microsoft365, Settings{Tenant: "organizations"}, map[string]string{"response_mode": "query", "code_challenge_method": "S256"}, []string{"access_type"}},
		{Salesforce, Settings{AuthBaseURL: "https://login.salesforce.com"}, map[string]string{"code_challenge_method": "S256"}, []string{"access_type", "prompt"}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			p := mustGet(t, tt.provider)
			cfg := oauth2.Config{ClientID: "client-id-placeholder", Endpoint: p.Endpoints(tt.settings).OAuth2, Scopes: p.BaseScopes}
			opts := append(p.AuthCodeOptionsFor(tt.settings), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
			u, err := url.Parse(cfg.AuthCodeURL("state", opts...))
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			for k, v := range tt.want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q (url %s)", k, q.Get(k), v, u)
				}
			}
			for _, k := range tt.absent {
				if q.Has(k) {
					t.Errorf("%s must not be sent", k)
				}
			}
		})
	}
}

func TestFieldValidation(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		settings Settings
		field    string // "" when valid
		code     string
		message  string // substring of the message
	}{
		{"tenant GUID", Microsoft365, Settings{Tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47"}, "", "", ""},
		{"tenant verified domain", Microsoft365, Settings{Tenant: "contoso.onmicrosoft.com"}, "", "", ""},
		{"tenant custom domain", Microsoft365, Settings{Tenant: "contoso.com"}, "", "", ""},
		{"tenant organizations", Microsoft365, Settings{Tenant: "organizations"}, "", "", ""},
		{"tenant common", Microsoft365, Settings{Tenant: "common"}, "", "", ""},
		{"tenant consumers", Microsoft365, Settings{Tenant: "consumers"}, "tenant", "consumers_not_allowed", "personal Microsoft accounts"},
		{"tenant Consumers", Microsoft365, Settings{Tenant: "Consumers"}, "tenant", "consumers_not_allowed", ""},
		{"tenant not a tenant!", Microsoft365, Settings{Tenant: "not a tenant!"}, "tenant", "invalid_format", "verified domain"},
		{"tenant with spaces", Microsoft365, Settings{Tenant: " contoso.com"}, "tenant", "invalid_format", ""},
		{"tenant URL", Microsoft365, Settings{Tenant: "https://login.microsoftonline.com/contoso.com"}, "tenant", "invalid_format", ""},
		{"tenant missing", Microsoft365, Settings{}, "tenant", "required", ""},
		{"tenant on google", GoogleWorkspace, Settings{Tenant: "contoso.com"}, "tenant", "not_applicable", ""},

		{"authBaseUrl login", Salesforce, Settings{AuthBaseURL: "https://login.salesforce.com"}, "", "", ""},
		{"authBaseUrl test", Salesforce, Settings{AuthBaseURL: "https://test.salesforce.com"}, "", "", ""},
		{"authBaseUrl My Domain", Salesforce, Settings{AuthBaseURL: "https://acme.my.salesforce.com"}, "", "", ""},
		{"authBaseUrl My Domain trailing slash", Salesforce, Settings{AuthBaseURL: "https://acme.my.salesforce.com/"}, "", "", ""},
		{"authBaseUrl sandbox My Domain", Salesforce, Settings{AuthBaseURL: "https://acme--uat.sandbox.my.salesforce.com"}, "", "", ""},
		{"authBaseUrl http", Salesforce, Settings{AuthBaseURL: "http://login.salesforce.com"}, "authBaseUrl", "https_required", "https"},
		{"authBaseUrl evil", Salesforce, Settings{AuthBaseURL: "https://evil.example.com"}, "authBaseUrl", "host_not_allowed", "my.salesforce.com"},
		{"authBaseUrl lookalike", Salesforce, Settings{AuthBaseURL: "https://acme.my.salesforce.com.evil.example.com"}, "authBaseUrl", "host_not_allowed", ""},
		{"authBaseUrl lightning", Salesforce, Settings{AuthBaseURL: "https://acme.lightning.force.com"}, "authBaseUrl", "lightning_url", "https://<my-domain>.my.salesforce.com"},
		{"authBaseUrl with path", Salesforce, Settings{AuthBaseURL: "https://acme.my.salesforce.com/services/oauth2"}, "authBaseUrl", "invalid_format", ""},
		{"authBaseUrl with credentials", Salesforce, Settings{AuthBaseURL: "https://user:pw@acme.my.salesforce.com"}, "authBaseUrl", "invalid_format", ""},
		{"authBaseUrl with port", Salesforce, Settings{AuthBaseURL: "https://acme.my.salesforce.com:8443"}, "authBaseUrl", "invalid_format", ""},
		{"authBaseUrl missing", Salesforce, Settings{}, "authBaseUrl", "required", ""},
		{"authBaseUrl not a URL", Salesforce, Settings{AuthBaseURL: "acme"}, "authBaseUrl", "invalid_format", ""},

		{"hostedDomain empty", GoogleWorkspace, Settings{}, "", "", ""},
		{"hostedDomain domain", GoogleWorkspace, Settings{HostedDomain: "example.com"}, "", "", ""},
		{"hostedDomain email", GoogleWorkspace, Settings{HostedDomain: "admin@example.com"}, "hostedDomain", "invalid_format", "without @"},
		{"hostedDomain URL", GoogleWorkspace, Settings{HostedDomain: "https://example.com"}, "hostedDomain", "invalid_format", ""},
		{"hostedDomain single label", GoogleWorkspace, Settings{HostedDomain: "localhost"}, "hostedDomain", "invalid_format", ""},
		{"hostedDomain on salesforce", Salesforce, Settings{AuthBaseURL: "https://login.salesforce.com", HostedDomain: "example.com"}, "hostedDomain", "not_applicable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := mustGet(t, tt.provider).Validate(tt.settings)
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

func TestLightningMessageNamesMyDomain(t *testing.T) {
	errs := mustGet(t, Salesforce).Validate(Settings{AuthBaseURL: "https://acme.lightning.force.com"})
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "My Domain") {
		t.Fatalf("got %+v", errs)
	}
}

func TestValidateClientID(t *testing.T) {
	tests := []struct {
		provider string
		id       string
		code     string // "" when valid
	}{
		{Microsoft365, "00000000-0000-0000-0000-000000000001", ""},
		{Microsoft365, "not-a-guid", "invalid_format"},
		{Microsoft365, "contoso.onmicrosoft.com", "invalid_format"},
		{Microsoft365, "", "required"},
		{Microsoft365, " 00000000-0000-0000-0000-000000000001", "invalid_format"},
		{GoogleWorkspace, "1234567890-abcdefghijklmnop0123456789abcdef.apps.googleusercontent.com", ""},
		{GoogleWorkspace, "1234567890-abcdefghijklmnop0123456789abcdef", "invalid_format"},
		{GoogleWorkspace, "my-client", "invalid_format"},
		{Salesforce, "3MVG9" + strings.Repeat("A1b2.", 16), ""},
		{Salesforce, "short", "invalid_format"},
		{Salesforce, "3MVG9 has spaces in it, not a key", "invalid_format"},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.id, func(t *testing.T) {
			errs := mustGet(t, tt.provider).ValidateClientID(tt.id)
			if tt.code == "" {
				if len(errs) != 0 {
					t.Fatalf("want valid, got %+v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != "clientId" || errs[0].Code != tt.code {
				t.Fatalf("got %+v, want clientId/%s", errs, tt.code)
			}
		})
	}
}

func TestCredentialCheckMethod(t *testing.T) {
	tests := []struct {
		provider string
		tenant   string
		want     CredentialCheck
	}{
		{Microsoft365, "contoso.onmicrosoft.com", CheckClientCredentials},
		{Microsoft365, "72f988bf-86f1-41af-91ab-2d7cd011db47", CheckClientCredentials},
		{Microsoft365, "common", CheckDummyCode},
		{Microsoft365, "Organizations", CheckDummyCode},
		{GoogleWorkspace, "", CheckDummyCode},
		{Salesforce, "", CheckDummyCode},
	}
	for _, tt := range tests {
		p := mustGet(t, tt.provider)
		if got := p.CredentialCheckFor(Settings{Tenant: tt.tenant}); got != tt.want {
			t.Errorf("%s tenant %q: %s, want %s", tt.provider, tt.tenant, got, tt.want)
		}
	}
	if ms := mustGet(t, Microsoft365); ms.CredentialCheckScope != "https://graph.microsoft.com/.default" {
		t.Errorf("client-credentials scope = %q", ms.CredentialCheckScope)
	}
}

func TestSalesforceInstanceURL(t *testing.T) {
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
		got, err := SalesforceInstanceURL(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInstanceURL) {
				t.Errorf("SalesforceInstanceURL(%q) = %q, %v; want refused", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("SalesforceInstanceURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
