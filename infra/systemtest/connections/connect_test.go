package connections_test

// End-to-end tests of user connections: the real OAuthFunction behind the
// local server's emulated API Gateway, the embedded store, and the fake
// provider (infra/localtest). Every refusal is checked against the fake's
// counters: where the issue says "no token exchange", the fake must have
// received none.

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/apispec"
	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

const org = "org-1"

var (
	specOnce sync.Mutex
	specDoc  *apispec.Spec
)

// conforms checks an answer against openapi.yaml (method and document path).
func conforms(t *testing.T, method, docPath string, resp *localtest.Response) {
	t.Helper()
	specOnce.Lock()
	if specDoc == nil {
		specDoc = apispec.Repo(t)
	}
	spec := specDoc
	specOnce.Unlock()
	if err := spec.ValidateResponse(method, docPath, resp.Status, resp.Header, resp.Body); err != nil {
		t.Errorf("openapi.yaml: %v", err)
	}
}

var providers = []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce}

// defaultUser is the fake's account that signs in when there is no hint.
var defaultUser = map[string]string{
	catalog.Microsoft365:    fakeprovider.DefaultMicrosoftUser,
	catalog.GoogleWorkspace: fakeprovider.DefaultGoogleUser,
	catalog.Salesforce:      fakeprovider.DefaultSalesforceUser,
}

// realHost is the provider host the authorization URL names (before the
// local rewrite to the fake).
var realHost = map[string]string{
	catalog.Microsoft365:    "login.microsoftonline.com",
	catalog.GoogleWorkspace: "accounts.google.com",
	catalog.Salesforce:      "login.salesforce.com",
}

// enable stores an enabled integration for org (as an admin's save would),
// with mut applied, and returns it as stored.
func enable(t *testing.T, env *localtest.Env, provider string, mut func(*store.Integration)) store.Integration {
	t.Helper()
	ctx := context.Background()
	in := store.Integration{
		OrgID: org, Provider: provider, Enabled: true, ConfigMode: store.ConfigModeDefault,
		Rollout: store.Rollout{Mode: store.RolloutEveryone}, UpdatedAt: env.Clock.Now(), UpdatedBy: "u-admin",
	}
	switch provider {
	case catalog.Microsoft365:
		in.Tenant, in.Capabilities = fakeprovider.DefaultMicrosoftTenantID, []string{"email", "calendar"}
	case catalog.GoogleWorkspace:
		in.Capabilities = []string{"email", "calendar"}
	case catalog.Salesforce:
		in.AuthBaseURL, in.Capabilities = "https://login.salesforce.com", []string{"crm"}
	}
	var expected int64
	if cur, err := env.Deps.Store.GetIntegration(ctx, org, provider); err == nil {
		in, expected = cur, cur.Version
	}
	if mut != nil {
		mut(&in)
	}
	saved, err := env.Deps.Store.PutIntegration(ctx, in, expected)
	if err != nil {
		t.Fatalf("store integration: %v", err)
	}
	return saved
}

type startAnswer struct {
	AuthorizationURL string    `json:"authorizationUrl"`
	ExpiresAt        time.Time `json:"expiresAt"`
	Provider         string    `json:"provider"`
	Scopes           []string  `json:"scopes"`
}

// start starts a connection and fails the test unless it is 201.
func start(t *testing.T, env *localtest.Env, token, provider string, body any) startAnswer {
	t.Helper()
	resp := env.Do("POST", "/v1/orgs/"+org+"/connections/"+provider, token, body)
	conforms(t, "POST", "/v1/orgs/{orgId}/connections/{provider}", resp)
	if resp.Status != 201 {
		t.Fatalf("start %s: %s", provider, resp)
	}
	var a startAnswer
	if err := resp.Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// atProvider plays the browser at the fake provider: GET the authorization
// URL (without following redirects) and return where the provider sends the
// browser back to, which must be the service's callback.
func atProvider(t *testing.T, env *localtest.Env, authorizationURL string) string {
	t.Helper()
	resp := env.Do("GET", authorizationURL, "", nil)
	loc := resp.Location()
	if resp.Status != 302 || loc == nil {
		t.Fatalf("the fake provider answered %s, not a redirect", resp)
	}
	if !strings.HasPrefix(loc.String(), env.URL+connections.CallbackPath+"?") {
		t.Fatalf("the provider redirected to %s, not to the callback", loc)
	}
	return loc.String()
}

// connect runs start, the provider and the callback, and returns the
// callback's answer.
func connect(t *testing.T, env *localtest.Env, token, provider string, body any) *localtest.Response {
	t.Helper()
	return env.Do("GET", atProvider(t, env, start(t, env, token, provider, body).AuthorizationURL), "", nil)
}

// completeAs does what the app's page at returnTo does with the callback's
// answer cb: it posts the completion handle with token, and returns the
// answer (checked against openapi.yaml).
func completeAs(t *testing.T, env *localtest.Env, token string, cb *localtest.Response) *localtest.Response {
	t.Helper()
	resp := env.Complete(token, org, cb)
	conforms(t, "POST", "/v1/orgs/{orgId}/connections/{provider}/complete", resp)
	return resp
}

// mustConnect runs start, the provider, the callback and the completion
// as the user of token, and fails the test unless it connected.
func mustConnect(t *testing.T, env *localtest.Env, token, provider string, body any) {
	t.Helper()
	cb := connect(t, env, token, provider, body)
	if got := outcome(t, cb); got.Get("status") != "pending" {
		t.Fatalf("connect %s: callback outcome %v", provider, got)
	}
	if resp := completeAs(t, env, token, cb); resp.Status != 200 {
		t.Fatalf("complete %s: %s", provider, resp)
	}
}

func count(env *localtest.Env, provider string, kind fakeprovider.Kind, outcome fakeprovider.Outcome) int {
	return env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: kind, Outcome: outcome})
}

// outcome reads the status, code and provider a callback redirect carries.
func outcome(t *testing.T, resp *localtest.Response) url.Values {
	t.Helper()
	conforms(t, "GET", "/oauth/callback", resp)
	loc := resp.Location()
	if resp.Status != 302 || loc == nil {
		t.Fatalf("callback answered %s, want a redirect to returnTo", resp)
	}
	if !strings.HasPrefix(loc.String(), localtest.ReturnURL) {
		t.Fatalf("callback redirected to %s, not to the returnTo", loc)
	}
	return loc.Query()
}

type listAnswer struct {
	Connections []struct {
		Provider string `json:"provider"`
		Status   string `json:"status"`
		Account  struct {
			ID          string `json:"id"`
			Email       string `json:"email"`
			Tenant      string `json:"tenant"`
			Domain      string `json:"domain"`
			InstanceURL string `json:"instanceUrl"`
			ExternalOrg string `json:"externalOrg"`
		} `json:"account"`
		RequestedScopes    []string   `json:"requestedScopes"`
		GrantedScopes      []string   `json:"grantedScopes"`
		MissingScopes      []string   `json:"missingScopes"`
		UsableCapabilities []string   `json:"usableCapabilities"`
		ConnectedAt        time.Time  `json:"connectedAt"`
		AccessExpiresAt    *time.Time `json:"accessExpiresAt"`
		LastError          *struct {
			Code string `json:"code"`
		} `json:"lastError"`
	} `json:"connections"`
}

func list(t *testing.T, env *localtest.Env, token string) listAnswer {
	t.Helper()
	resp := env.Do("GET", "/v1/orgs/"+org+"/connections", token, nil)
	conforms(t, "GET", "/v1/orgs/{orgId}/connections", resp)
	if resp.Status != 200 {
		t.Fatalf("list: %s", resp)
	}
	var a listAnswer
	if err := resp.Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// The main flow, for each provider: start → fake authorize →
// callback → listed with account and granted scopes, and the token stored
// sealed (it opens to exactly what the fake issued).
func TestConnectEachProvider(t *testing.T) {
	for _, provider := range providers {
		t.Run(provider, func(t *testing.T) {
			env := localtest.New(t)
			in := enable(t, env, provider, nil)
			p, _ := env.Deps.Catalog.Get(provider)
			tok := env.MemberToken("u-1", org)

			a := start(t, env, tok, provider, map[string]any{"returnTo": localtest.ReturnURL + "settings/apps?tab=connected"})
			authURL, err := url.Parse(a.AuthorizationURL)
			if err != nil {
				t.Fatal(err)
			}
			q := authURL.Query()
			if !strings.HasPrefix(a.AuthorizationURL, env.FakeURL+"/"+realHost[provider]+"/") {
				t.Errorf("authorization URL %s does not go to %s (rewritten to the fake)", a.AuthorizationURL, realHost[provider])
			}
			if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
				t.Errorf("no PKCE S256 challenge: %v", q)
			}
			if len(q.Get("state")) != 43 {
				t.Errorf("state %q is not 256 bits base64url", q.Get("state"))
			}
			if q.Get("redirect_uri") != env.URL+"/oauth/callback" {
				t.Errorf("redirect_uri = %q", q.Get("redirect_uri"))
			}
			want := p.RequestedScopes([]catalog.Capability{"email", "calendar", "crm"}, false)
			if got := strings.Fields(q.Get("scope")); !slices.Equal(got, want) || !slices.Equal(a.Scopes, want) {
				t.Errorf("scopes = %v (answer %v), want %v", got, a.Scopes, want)
			}
			if !a.ExpiresAt.Equal(env.Clock.Now().Add(10 * time.Minute)) {
				t.Errorf("expiresAt = %v, want now + 10 minutes", a.ExpiresAt)
			}

			cbURL := atProvider(t, env, a.AuthorizationURL)
			if n := count(env, provider, fakeprovider.KindExchange, ""); n != 0 {
				t.Fatalf("%d token exchanges before the callback", n)
			}
			resp := env.Do("GET", cbURL, "", nil)
			got := outcome(t, resp)
			if got.Get("status") != "pending" || got.Get("provider") != provider || got.Get("tab") != "connected" || got.Has("code") || len(got.Get("completion")) < 22 {
				t.Fatalf("callback outcome = %v", got)
			}
			if resp.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("callback redirect without Referrer-Policy: no-referrer")
			}
			if n := count(env, provider, fakeprovider.KindExchange, fakeprovider.OutcomeOK); n != 1 {
				t.Fatalf("%d successful token exchanges, want 1", n)
			}
			// The callback made no connection: only the pending completion.
			if env.Connection(org, "u-1", provider) != nil || len(list(t, env, tok).Connections) != 0 {
				t.Fatal("the callback stored a connection before the user completed it")
			}
			done := completeAs(t, env, tok, resp)
			if done.Status != 200 {
				t.Fatalf("complete: %s", done)
			}
			var item struct {
				Provider string `json:"provider"`
				Status   string `json:"status"`
			}
			if err := done.Decode(&item); err != nil || item.Provider != provider || item.Status != "connected" {
				t.Fatalf("complete answered %s", done)
			}
			if again := completeAs(t, env, tok, resp); again.Status != 404 || again.Code() != "completion_not_found" {
				t.Fatalf("a second completion with the same handle: %s", again)
			}

			// Listed with account and granted scopes.
			l := list(t, env, tok)
			if len(l.Connections) != 1 {
				t.Fatalf("list = %+v", l)
			}
			c := l.Connections[0]
			if c.Provider != provider || c.Status != "connected" || !strings.EqualFold(c.Account.Email, defaultUser[provider]) || c.Account.ID == "" {
				t.Errorf("listed connection = %+v", c)
			}
			if len(c.GrantedScopes) == 0 || len(c.MissingScopes) != 0 || !slices.Equal(c.RequestedScopes, want) {
				t.Errorf("scopes: requested %v granted %v missing %v", c.RequestedScopes, c.GrantedScopes, c.MissingScopes)
			}
			if !slices.Equal(c.UsableCapabilities, in.Capabilities) {
				t.Errorf("usableCapabilities = %v, want %v", c.UsableCapabilities, in.Capabilities)
			}
			switch provider {
			case catalog.Microsoft365:
				if c.Account.Tenant != fakeprovider.DefaultMicrosoftTenantID {
					t.Errorf("tenant = %q", c.Account.Tenant)
				}
			case catalog.GoogleWorkspace:
				if c.Account.Domain != fakeprovider.DefaultGoogleDomain {
					t.Errorf("domain = %q", c.Account.Domain)
				}
			case catalog.Salesforce:
				if c.Account.InstanceURL != fakeprovider.DefaultSalesforceInstanceURL || c.Account.ExternalOrg != fakeprovider.DefaultSalesforceOrgID || !strings.HasPrefix(c.Account.ID, "005") {
					t.Errorf("salesforce account = %+v", c.Account)
				}
			}

			// Stored sealed: the record holds no token in the clear, and
			// the sealed bytes open to the live tokens the fake issued.
			stored := env.Connection(org, "u-1", provider)
			if stored == nil {
				t.Fatal("no connection stored")
			}
			opened, err := env.Deps.Tokens.OpenToken(context.Background(), stored.ConnKey, stored.SealedTokens)
			if err != nil {
				t.Fatalf("open sealed tokens: %v", err)
			}
			raw, _ := json.Marshal(stored)
			for _, secret := range []string{opened.AccessToken, opened.RefreshToken} {
				if secret == "" || strings.Contains(string(raw), secret) {
					t.Fatalf("stored record holds a token in the clear (or none was issued)")
				}
			}
			at, ok := env.Fake.TokenInfo(opened.AccessToken)
			if !ok || at.Type != "access_token" || !at.Active || at.Provider != provider || !strings.EqualFold(at.User, defaultUser[provider]) {
				t.Fatalf("stored access token is not the one the fake issued: %+v %v", at, ok)
			}
			rt, ok := env.Fake.TokenInfo(opened.RefreshToken)
			if !ok || rt.Type != "refresh_token" || !rt.Active {
				t.Fatalf("stored refresh token is not the one the fake issued: %+v %v", rt, ok)
			}
			if !stored.AccessExpiresAt.Equal(at.ExpiresAt) || !opened.Expiry.Equal(at.ExpiresAt) {
				t.Errorf("access expiry stored %v (sealed %v), fake says %v", stored.AccessExpiresAt, opened.Expiry, at.ExpiresAt)
			}
			if want := at.ExpiresAt.Add(-env.Config.RefreshMargin); !stored.NextRefreshAt.Equal(want) {
				t.Errorf("nextRefreshAt = %v, want %v", stored.NextRefreshAt, want)
			}
			if stored.ClientRef != "default" || stored.ConfigVersion != in.Version || stored.StatusReason != "" || stored.LastError != nil {
				t.Errorf("stored bookkeeping: %+v", stored)
			}

			// Nothing secret in the logs: not the tokens, the code or the state.
			cb, _ := url.Parse(cbURL)
			logs := env.LogText()
			secrets := map[string]string{"access token": opened.AccessToken, "refresh token": opened.RefreshToken, "code": cb.Query().Get("code"), "state": cb.Query().Get("state"),
				"completion handle": got.Get("completion"), "client secret": fakeprovider.DefaultClients()[provider].ClientSecret}
			for name, v := range secrets {
				if v == "" || strings.Contains(logs, v) {
					t.Errorf("the %s appears in the logs (or is empty)", name)
				}
			}
		})
	}
}
