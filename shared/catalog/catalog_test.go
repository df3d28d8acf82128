package catalog

import (
	"maps"
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
			[]string{"openid", "profile", "email", "offline_access", "https://graph.microsoft.com/User.Read"}, map[string]string{"prompt": "select_account", "response_mode": "query"}},
		{GoogleWorkspace, "Google Workspace", "Google Cloud OAuth client", []Capability{Email, Calendar, Files, Contacts},
			[]string{"openid", "email", "profile"}, map[string]string{"access_type": "offline", "include_granted_scopes": "true", "prompt": "consent"}},
		{Salesforce, "Salesforce", "Salesforce External Client App", []Capability{CRM},
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
			params := map[string]string{}
			for _, ap := range p.AuthParams {
				if _, dup := params[ap.Key]; dup {
					t.Errorf("AuthParams name %s twice", ap.Key)
				}
				params[ap.Key] = ap.Value
			}
			if !maps.Equal(params, tt.authParams) {
				t.Errorf("AuthParams = %v, want %v", params, tt.authParams)
			}
			if p.PKCEMethod != "S256" {
				t.Errorf("PKCEMethod = %q, want S256", p.PKCEMethod)
			}
			if p.ClientIDLabel == "" || p.ClientIDExample == "" {
				t.Error("client id label and example are required")
			}
			// Setup guidance: placeholders only, nothing credential-shaped.
			if len(p.SetupSteps()) < 3 {
				t.Errorf("only %d setup steps", len(p.SetupSteps()))
			}
			texts := slices.Clone(p.SetupSteps())
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
			if !slices.ContainsFunc(p.SetupSteps(), func(s string) bool { return strings.Contains(s, "<redirect-uri>") }) {
				t.Error("setup steps must say where the redirect URI goes")
			}
			if !slices.ContainsFunc(p.SetupSteps(), func(s string) bool { return strings.Contains(s, "secure client secret field") }) {
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
			// Every supported write action has its scopes, once; no other
			// action has any.
			named := map[Action]int{}
			for _, w := range cs.WriteScopes {
				named[w.Action]++
				if !w.Action.IsWrite() || !cs.Supports(w.Action) || len(w.Scopes) == 0 {
					t.Errorf("%s/%s: write scopes %v for action %s (write=%v, supported=%v)", p.ID, cs.ID, w.Scopes, w.Action, w.Action.IsWrite(), cs.Supports(w.Action))
				}
			}
			for _, a := range AllActions {
				want := 0
				if a.IsWrite() && cs.Supports(a) {
					want = 1
				}
				if named[a] != want {
					t.Errorf("%s/%s: action %s has %d write-scope entries", p.ID, cs.ID, a, named[a])
				}
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
