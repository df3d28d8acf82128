package connections_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

// wantPage checks a callback answered with the error page carrying code
// (the state was not usable, so there is no returnTo to go back to).
func wantPage(t *testing.T, resp *localtest.Response, code string) {
	t.Helper()
	conforms(t, "GET", "/oauth/callback", resp)
	if resp.Status != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("callback answered %s, want the 400 error page", resp)
	}
	if !strings.Contains(string(resp.Body), code) {
		t.Fatalf("error page does not name %s: %s", code, resp.Body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("error page CSP = %q", csp)
	}
	if strings.Contains(strings.ToLower(string(resp.Body)), "<script") {
		t.Errorf("error page has a script")
	}
}

func TestReplayedStateIsRefusedWithoutExchange(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	tok := env.MemberToken("u-1", org)
	cb := atProvider(t, env, start(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}).AuthorizationURL)
	firstCB := env.Do("GET", cb, "", nil)
	if got := outcome(t, firstCB); got.Get("status") != "pending" {
		t.Fatalf("first callback: %v", got)
	}
	if resp := completeAs(t, env, tok, firstCB); resp.Status != 200 {
		t.Fatalf("complete: %s", resp)
	}
	first := env.Connection(org, "u-1", catalog.GoogleWorkspace)

	wantPage(t, env.Do("GET", cb, "", nil), "state_invalid")
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, ""); n != 1 {
		t.Fatalf("the fake received %d token exchanges, want only the first callback's", n)
	}
	if again := env.Connection(org, "u-1", catalog.GoogleWorkspace); again == nil || again.Version != first.Version {
		t.Fatal("the replay changed the stored connection")
	}
}

func TestUnknownOrMissingStateIsRefused(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Salesforce, nil)
	for _, q := range []string{"", "?code=abc", "?state=not-a-state&code=abc", "?state=" + strings.Repeat("x", 500) + "&code=abc", "?error=access_denied"} {
		wantPage(t, env.Do("GET", "/oauth/callback"+q, "", nil), "state_invalid")
	}
	if n := count(env, "", fakeprovider.KindExchange, ""); n != 0 {
		t.Fatalf("the fake received %d token exchanges", n)
	}
}

func TestExpiredStateIsRefusedWithoutExchange(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Microsoft365, nil)
	tok := env.MemberToken("u-1", org)
	a := start(t, env, tok, catalog.Microsoft365, map[string]any{"returnTo": localtest.ReturnURL})
	cb := atProvider(t, env, a.AuthorizationURL)
	env.Clock.Set(a.ExpiresAt) // a state is refused at its expiry, TTL deletion or not
	wantPage(t, env.Do("GET", cb, "", nil), "state_invalid")
	if n := count(env, catalog.Microsoft365, fakeprovider.KindExchange, ""); n != 0 {
		t.Fatalf("the fake received %d token exchanges", n)
	}
	if env.Connection(org, "u-1", catalog.Microsoft365) != nil {
		t.Fatal("a connection was stored")
	}
}

// The callback is public (the provider redirects a browser to it, with no
// bearer token), so it binds nothing to whoever's browser reaches it: the
// state was issued to one user of one org, and only that user, posting the
// completion with their own token, gets a connection, once.
func TestStateBelongsToTheUserWhoStartedIt(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	alice, bob := env.MemberToken("u-alice", org), env.MemberToken("u-bob", org)

	// Alice's authorization finished in someone else's browser (a forwarded
	// link): the callback connects nobody, and Bob's app posting the
	// completion gets nothing and spends it.
	cbURL := atProvider(t, env, start(t, env, alice, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}).AuthorizationURL)
	cb := env.Do("GET", cbURL, "", nil)
	if got := outcome(t, cb); got.Get("status") != "pending" {
		t.Fatalf("callback: %v", got)
	}
	if resp := completeAs(t, env, bob, cb); resp.Status != 404 || resp.Code() != "completion_not_found" {
		t.Fatalf("bob completing alice's connection: %s", resp)
	}
	if resp := completeAs(t, env, alice, cb); resp.Status != 404 || resp.Code() != "completion_not_found" {
		t.Fatalf("alice completing after bob spent it: %s", resp)
	}
	if n := len(list(t, env, alice).Connections) + len(list(t, env, bob).Connections); n != 0 {
		t.Fatalf("%d connections after a foreign completion, want none", n)
	}
	// The same state cannot be used again, by anyone.
	wantPage(t, env.Do("GET", cbURL, "", nil), "state_invalid")

	// Alice, completing her own, is connected.
	mustConnect(t, env, alice, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL})
	if n := len(list(t, env, alice).Connections); n != 1 {
		t.Fatalf("alice has %d connections, want 1", n)
	}

	// Bob cannot graft his own authorization code onto a state of Alice's:
	// the code is bound (PKCE) to the verifier of Bob's start, and the fake
	// refuses it with Alice's. Nothing is stored for either.
	env.Fake.ResetCounts()
	aliceCB, _ := url.Parse(atProvider(t, env, start(t, env, alice, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}).AuthorizationURL))
	bobCB, _ := url.Parse(atProvider(t, env, start(t, env, bob, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}).AuthorizationURL))
	mixed := url.Values{"state": {aliceCB.Query().Get("state")}, "code": {bobCB.Query().Get("code")}}
	before := env.Connection(org, "u-alice", catalog.GoogleWorkspace)
	if got := outcome(t, env.Do("GET", "/oauth/callback?"+mixed.Encode(), "", nil)); got.Get("status") != "error" || got.Get("code") != "invalid_grant" {
		t.Fatalf("grafted code: %v", got)
	}
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, fakeprovider.OutcomeOK); n != 0 {
		t.Fatalf("the fake issued tokens %d times for a grafted code", n)
	}
	if after := env.Connection(org, "u-alice", catalog.GoogleWorkspace); after.Version != before.Version {
		t.Fatal("alice's connection changed")
	}
	if env.Connection(org, "u-bob", catalog.GoogleWorkspace) != nil {
		t.Fatal("bob got a connection")
	}
	// Alice's state is spent by that attempt: her real code is refused too,
	// without an exchange.
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, ""); n != 1 {
		t.Fatalf("exchanges = %d, want the one refused", n)
	}
	wantPage(t, env.Do("GET", aliceCB.String(), "", nil), "state_invalid")
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, ""); n != 1 {
		t.Fatalf("exchanges = %d after a spent state", n)
	}
}

func TestReturnToMustBeAllowed(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	tok := env.MemberToken("u-1", org)
	for _, bad := range []string{"https://evil.example/", "https://app.example.test.evil.example/", "javascript:alert(1)", "/relative"} {
		resp := env.Do("POST", "/v1/orgs/"+org+"/connections/google_workspace", tok, map[string]any{"returnTo": bad})
		conforms(t, "POST", "/v1/orgs/{orgId}/connections/{provider}", resp)
		if resp.Status != 400 || resp.Code() != "validation_failed" {
			t.Fatalf("returnTo %q: %s", bad, resp)
		}
		errs, _ := resp.Object()["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["field"] != "returnTo" {
			t.Fatalf("returnTo %q: field errors %v", bad, errs)
		}
	}
	if n := count(env, "", "", ""); n != 0 {
		t.Fatalf("the fake received %d calls", n)
	}
	// Allowed; and absent, which is refused: only the app's page at
	// returnTo can complete a connection.
	start(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL + "x"})
	for _, body := range []any{nil, map[string]any{}, map[string]any{"returnTo": ""}} {
		resp := env.Do("POST", "/v1/orgs/"+org+"/connections/google_workspace", tok, body)
		conforms(t, "POST", "/v1/orgs/{orgId}/connections/{provider}", resp)
		if resp.Status != 400 {
			t.Fatalf("start with body %v: %s", body, resp)
		}
	}
}

// A returnTo that is no longer allowed when the provider redirects back
// (the deployment's list changed meanwhile): the code is not redeemed,
// since the completion could not be handed to the app.
func TestCallbackRefusesAReturnToNoLongerAllowed(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	tok := env.MemberToken("u-1", org)
	cbURL := atProvider(t, env, start(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}).AuthorizationURL)
	u, _ := url.Parse(cbURL)
	st, err := env.Deps.Store.ConsumeState(context.Background(), connections.StateID(u.Query().Get("state")), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.ReturnTo = "https://no-longer-allowed.example/"
	if err := env.Deps.Store.CreateState(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	wantPage(t, env.Do("GET", cbURL, "", nil), "return_to_not_allowed")
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, ""); n != 0 {
		t.Fatalf("%d token exchanges", n)
	}
}

// A PKCE mismatch: the code was issued for another challenge than our
// verifier's. The fake refuses the exchange and the user is told.
func TestPKCEMismatchIsReported(t *testing.T) {
	for _, provider := range providers {
		t.Run(provider, func(t *testing.T) {
			env := localtest.New(t)
			enable(t, env, provider, nil)
			a := start(t, env, env.MemberToken("u-1", org), provider, map[string]any{"returnTo": localtest.ReturnURL})
			u, _ := url.Parse(a.AuthorizationURL)
			q := u.Query()
			q.Set("code_challenge", strings.Repeat("A", 43)) // not our verifier's
			u.RawQuery = q.Encode()
			got := outcome(t, env.Do("GET", atProvider(t, env, u.String()), "", nil))
			if got.Get("status") != "error" || got.Get("code") != "invalid_grant" {
				t.Fatalf("outcome = %v", got)
			}
			if ok, refused := count(env, provider, fakeprovider.KindExchange, fakeprovider.OutcomeOK), count(env, provider, fakeprovider.KindExchange, fakeprovider.OutcomeRefused); ok != 0 || refused != 1 {
				t.Fatalf("exchanges ok=%d refused=%d, want one refused by the fake", ok, refused)
			}
			if env.Connection(org, "u-1", provider) != nil {
				t.Fatal("a connection was stored")
			}
		})
	}
}

func TestGooglePartialGrantShowsMissingScopes(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil) // email and calendar
	gmail := "https://www.googleapis.com/auth/gmail.readonly"
	calendar := "https://www.googleapis.com/auth/calendar.readonly"
	if err := env.Fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) { u.GrantScopes = []string{gmail} }); err != nil {
		t.Fatal(err)
	}
	tok := env.MemberToken("u-1", org)
	mustConnect(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL})
	c := list(t, env, tok).Connections[0]
	if c.Status != "connected" || !slices.Equal(c.MissingScopes, []string{calendar}) {
		t.Fatalf("status %s, missingScopes %v, want [%s]", c.Status, c.MissingScopes, calendar)
	}
	if !slices.Contains(c.GrantedScopes, gmail) || slices.Contains(c.GrantedScopes, calendar) {
		t.Errorf("grantedScopes = %v", c.GrantedScopes)
	}
	if !slices.Equal(c.UsableCapabilities, []string{"email"}) {
		t.Errorf("usableCapabilities = %v, want [email]", c.UsableCapabilities)
	}
	if stored := env.Connection(org, "u-1", catalog.GoogleWorkspace); !slices.Equal(stored.MissingScopes, []string{calendar}) {
		t.Errorf("stored missingScopes = %v", stored.MissingScopes)
	}
}

func TestGoogleAccountOutsideHostedDomainIsRefused(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, func(in *store.Integration) { in.HostedDomain = fakeprovider.DefaultGoogleDomain })
	env.Fake.AddUser(fakeprovider.User{Provider: catalog.GoogleWorkspace, Email: "mallory@gmail.example"}) // a consumer account: no hd
	tok := env.MemberToken("u-1", org)
	got := outcome(t, connect(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL, "loginHint": "mallory@gmail.example"}))
	if got.Get("status") != "error" || got.Get("code") != "hosted_domain_mismatch" {
		t.Fatalf("outcome = %v", got)
	}
	if env.Connection(org, "u-1", catalog.GoogleWorkspace) != nil {
		t.Fatal("a connection was stored")
	}
	// The tokens obtained for the refused account were given back.
	if n := env.Fake.Count(fakeprovider.Filter{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRevoke, User: "mallory@gmail.example", Outcome: fakeprovider.OutcomeOK}); n != 1 {
		t.Fatalf("revocations of the refused account's token = %d, want 1", n)
	}
	// An account of the domain connects.
	mustConnect(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL})
}

func TestMicrosoftAccountOfAnotherTenantIsRefused(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Microsoft365, nil) // the default tenant, by GUID
	env.Fake.AddUser(fakeprovider.User{Provider: catalog.Microsoft365, Email: "eve@fabrikam.example", Tenant: "11111111-2222-4333-8444-555555555555"})
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.Microsoft365, map[string]any{"returnTo": localtest.ReturnURL, "loginHint": "eve@fabrikam.example"}))
	if got.Get("status") != "error" || got.Get("code") != "account_not_in_tenant" {
		t.Fatalf("outcome = %v", got)
	}
	if n := count(env, catalog.Microsoft365, fakeprovider.KindExchange, ""); n != 0 {
		t.Fatalf("%d token exchanges", n)
	}
}

func TestProviderErrorIsReported(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Salesforce, nil)
	env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Salesforce, Kind: fakeprovider.KindAuthorize, Error: "access_denied", Times: 1})
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.Salesforce, map[string]any{"returnTo": localtest.ReturnURL}))
	if got.Get("status") != "error" || got.Get("code") != "access_denied" || got.Get("provider") != catalog.Salesforce {
		t.Fatalf("outcome = %v", got)
	}
	if n := count(env, catalog.Salesforce, fakeprovider.KindExchange, ""); n != 0 {
		t.Fatalf("%d token exchanges", n)
	}
}

func TestExchangeFailureIsClassified(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Microsoft365, nil)
	env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindExchange, Status: 503, Times: 1})
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.Microsoft365, map[string]any{"returnTo": localtest.ReturnURL}))
	if got.Get("status") != "error" || got.Get("code") != "provider_unavailable" {
		t.Fatalf("outcome = %v", got)
	}
	if env.Connection(org, "u-1", catalog.Microsoft365) != nil {
		t.Fatal("a connection was stored")
	}
}

// The org switched to its own OAuth client between start and callback: the
// code was issued to the old client, and the connection would be bound to
// it. Refused before any exchange.
func TestIntegrationChangedDuringConnect(t *testing.T) {
	for name, change := range map[string]func(*store.Integration){
		"client changed": func(in *store.Integration) {
			in.ConfigMode, in.ClientID = store.ConfigModeOrganization, "100000000002-orgclient.apps.googleusercontent.com"
		},
		"disabled": func(in *store.Integration) { in.Enabled = false },
	} {
		t.Run(name, func(t *testing.T) {
			env := localtest.New(t)
			enable(t, env, catalog.GoogleWorkspace, nil)
			env.SeedSecret(org, catalog.GoogleWorkspace, "fake-client-secret-1")
			cb := atProvider(t, env, start(t, env, env.MemberToken("u-1", org), catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}).AuthorizationURL)
			enable(t, env, catalog.GoogleWorkspace, change)
			got := outcome(t, env.Do("GET", cb, "", nil))
			if got.Get("status") != "error" || got.Get("code") != "integration_changed" {
				t.Fatalf("outcome = %v", got)
			}
			if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, ""); n != 0 {
				t.Fatalf("%d token exchanges", n)
			}
		})
	}
}

func TestStartRefusals(t *testing.T) {
	env := localtest.New(t, localtest.WithEnv("AVAILABLE_PROVIDERS", "microsoft365,google_workspace"))
	enable(t, env, catalog.GoogleWorkspace, func(in *store.Integration) {
		in.Rollout = store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot"}}
	})
	enable(t, env, catalog.Microsoft365, func(in *store.Integration) { in.Enabled = false })
	member := env.MemberToken("u-1", org)
	pilot := env.MemberToken("u-2", org, "pilot")
	admin := env.AdminToken("u-admin", org)
	ret := map[string]any{"returnTo": localtest.ReturnURL}
	tests := []struct {
		name, token, path string
		body              any
		status            int
		code              string
	}{
		{"no token", "", "/v1/orgs/org-1/connections/google_workspace", nil, 401, "unauthorized"},
		{"other org", member, "/v1/orgs/org-2/connections/google_workspace", ret, 404, "not_found"},
		{"unknown provider", member, "/v1/orgs/org-1/connections/dropbox", ret, 404, "unknown_provider"},
		{"not offered here", member, "/v1/orgs/org-1/connections/salesforce", ret, 409, "provider_unavailable"},
		{"disabled", member, "/v1/orgs/org-1/connections/microsoft365", ret, 409, "provider_disabled"},
		{"outside rollout", member, "/v1/orgs/org-1/connections/google_workspace", ret, 403, "not_in_rollout"},
		{"admins are not exempt", admin, "/v1/orgs/org-1/connections/google_workspace", ret, 403, "not_in_rollout"},
		{"unknown field", pilot, "/v1/orgs/org-1/connections/google_workspace", map[string]any{"scopes": "all"}, 400, "validation_failed"},
		{"bad login hint", pilot, "/v1/orgs/org-1/connections/google_workspace", map[string]any{"returnTo": localtest.ReturnURL, "loginHint": "a b"}, 400, "validation_failed"},
		{"no returnTo", pilot, "/v1/orgs/org-1/connections/google_workspace", nil, 400, "validation_failed"},
		{"in rollout", pilot, "/v1/orgs/org-1/connections/google_workspace", ret, 201, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := env.Do("POST", tc.path, tc.token, tc.body)
			conforms(t, "POST", "/v1/orgs/{orgId}/connections/{provider}", resp)
			if resp.Status != tc.status || resp.Code() != tc.code {
				t.Fatalf("%s: %s, want %d %s", tc.path, resp, tc.status, tc.code)
			}
		})
	}

	// Not ready: org mode without secret; default mode without a default
	// client.
	enable(t, env, catalog.GoogleWorkspace, func(in *store.Integration) {
		in.Rollout = store.Rollout{Mode: store.RolloutEveryone}
		in.ConfigMode, in.ClientID = store.ConfigModeOrganization, "100000000002-orgclient.apps.googleusercontent.com"
	})
	if resp := env.Do("POST", "/v1/orgs/org-1/connections/google_workspace", member, ret); resp.Status != 409 || resp.Code() != "integration_incomplete" {
		t.Fatalf("org mode without secret: %s", resp)
	}
	env.SeedSecret(org, catalog.GoogleWorkspace, "fake-client-secret-1")
	if resp := env.Do("POST", "/v1/orgs/org-1/connections/google_workspace", member, ret); resp.Status != 201 {
		t.Fatalf("org mode with secret: %s", resp)
	}
	if n := count(env, "", "", ""); n != 0 {
		t.Fatalf("the fake received %d calls", n)
	}
}

func TestStartWithoutDefaultClientIsIncomplete(t *testing.T) {
	env := localtest.New(t, localtest.WithoutFakeProvider())
	enable(t, env, catalog.Microsoft365, nil)
	resp := env.Do("POST", "/v1/orgs/org-1/connections/microsoft365", env.MemberToken("u-1", org), map[string]any{"returnTo": localtest.ReturnURL})
	if resp.Status != 409 || resp.Code() != "integration_incomplete" {
		t.Fatalf("%s", resp)
	}
}

// A reconnect replaces the whole record: new tokens, no failure or lease
// left from the old one, and the old record's version moves on so a refresh
// holding a lease on it cannot write over the new tokens.
func TestReconnectReplacesTheConnection(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Salesforce, nil)
	tok := env.MemberToken("u-1", org)
	mustConnect(t, env, tok, catalog.Salesforce, map[string]any{"returnTo": localtest.ReturnURL})
	ctx := context.Background()
	key := store.ConnKey{OrgID: org, UserID: "u-1", Provider: catalog.Salesforce}
	now := env.Clock.Now()
	leased, err := env.Deps.Store.ClaimLease(ctx, key, "refresh-run-1", now, now.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	oldTokens, _ := env.Deps.Tokens.OpenToken(ctx, key, leased.SealedTokens)

	env.Clock.Advance(time.Minute)
	mustConnect(t, env, tok, catalog.Salesforce, map[string]any{"returnTo": localtest.ReturnURL})
	c := env.Connection(org, "u-1", catalog.Salesforce)
	if c.Version <= leased.Version || c.LeaseOwner != "" || !c.LeaseUntil.IsZero() || c.LastError != nil || c.ConsecutiveFailures != 0 {
		t.Fatalf("reconnected record kept old state: %+v", c)
	}
	newTokens, _ := env.Deps.Tokens.OpenToken(ctx, key, c.SealedTokens)
	if newTokens.RefreshToken == oldTokens.RefreshToken || newTokens.AccessToken == oldTokens.AccessToken {
		t.Fatal("reconnect kept the old tokens")
	}
	if !c.ConnectedAt.Equal(env.Clock.Now()) {
		t.Errorf("connectedAt = %v", c.ConnectedAt)
	}
	// The refresh that held the lease cannot write its outcome over it.
	stale := leased
	stale.LastRefreshAt = env.Clock.Now()
	if _, err := env.Deps.Store.CompleteLease(ctx, stale, "refresh-run-1"); err == nil {
		t.Fatal("a stale lease overwrote the reconnected connection")
	}
	if n := len(list(t, env, tok).Connections); n != 1 {
		t.Fatalf("%d connections listed after a reconnect", n)
	}
}

// The state sent to the provider is never stored: only its SHA-256 is, with
// what it binds.
func TestStateIsStoredHashedAndBound(t *testing.T) {
	env := localtest.New(t)
	in := enable(t, env, catalog.Salesforce, nil)
	a := start(t, env, env.MemberToken("u-1", org), catalog.Salesforce, map[string]any{"returnTo": localtest.ReturnURL + "apps"})
	u, _ := url.Parse(a.AuthorizationURL)
	raw := u.Query().Get("state")
	ctx := context.Background()
	if _, err := env.Deps.Store.ConsumeState(ctx, raw, env.Clock.Now()); err == nil {
		t.Fatal("the raw state value is a stored id")
	}
	st, err := env.Deps.Store.ConsumeState(ctx, connections.StateID(raw), env.Clock.Now())
	if err != nil {
		t.Fatalf("no state stored under the state's SHA-256: %v", err)
	}
	if st.OrgID != org || st.UserID != "u-1" || st.Provider != catalog.Salesforce || st.ConfigVersion != in.Version || st.ClientRef != "default" ||
		st.RedirectURI != env.URL+"/oauth/callback" || st.ReturnTo != localtest.ReturnURL+"apps" || !slices.Equal(st.Scopes, a.Scopes) ||
		!st.ExpiresAt.Equal(env.Clock.Now().Add(10*time.Minute)) {
		t.Fatalf("state binds %+v", st)
	}
	// The verifier is stored sealed, bound to the state.
	verifier, err := connections.OpenVerifier(ctx, env.Deps.Tokens, st)
	if err != nil || verifier == "" || strings.Contains(st.PKCEVerifier, verifier) {
		t.Fatalf("the stored verifier is not sealed (open: %v)", err)
	}
	if oauth2.S256ChallengeFromVerifier(verifier) != u.Query().Get("code_challenge") {
		t.Fatal("the stored verifier does not match the challenge sent")
	}
	moved := st
	moved.ID = connections.StateID("another state")
	if _, err := connections.OpenVerifier(ctx, env.Deps.Tokens, moved); err == nil {
		t.Fatal("a sealed verifier opened for another state")
	}
}

func TestAccountLookupFailureGivesTheTokensBack(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindUserInfo, Status: 500, Times: 1})
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}))
	if got.Get("status") != "error" || got.Get("code") != "account_lookup_failed" {
		t.Fatalf("outcome = %v", got)
	}
	if env.Connection(org, "u-1", catalog.GoogleWorkspace) != nil {
		t.Fatal("a connection was stored")
	}
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindRevoke, fakeprovider.OutcomeOK); n != 1 {
		t.Fatalf("revocations = %d, want the unused token given back", n)
	}
}
