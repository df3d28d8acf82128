package fakeprovider_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/hygiene"
)

// TestCodeFlowShapes runs each dialect's whole flow with a raw token request
// and checks the exact keys of each answer.
func TestCodeFlowShapes(t *testing.T) {
	tests := []struct {
		provider  string
		tokenKeys []string
		scope     string
	}{
		{catalog.Microsoft365,
			sorted("token_type", "scope", "expires_in", "ext_expires_in", "access_token", "refresh_token", "id_token"),
			"openid profile email User.Read Mail.Read Calendars.Read Files.Read.All Contacts.Read"},
		{catalog.GoogleWorkspace,
			sorted("access_token", "expires_in", "refresh_token", "scope", "token_type", "id_token"),
			"openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile " +
				"https://www.googleapis.com/auth/gmail.readonly https://www.googleapis.com/auth/calendar.readonly " +
				"https://www.googleapis.com/auth/drive.readonly https://www.googleapis.com/auth/contacts.readonly"},
		{catalog.Salesforce,
			sorted("access_token", "refresh_token", "signature", "scope", "id_token", "instance_url", "id", "token_type", "issued_at"),
			"refresh_token openid id api"},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true, TokenTTL: 30 * time.Minute})
			cfg := e.config(tt.provider)
			f := e.mustCode(tt.provider, cfg)
			status, body, hdr := e.postForm(cfg.Endpoint.TokenURL, exchangeForm(tt.provider, f), "", "")
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, body)
			}
			if got := keys(body); !slices.Equal(got, tt.tokenKeys) {
				t.Errorf("token response keys = %v, want %v", got, tt.tokenKeys)
			}
			if got := str(body["scope"]); got != tt.scope {
				t.Errorf("scope = %q, want %q", got, tt.scope)
			}
			if hdr.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", hdr.Get("Cache-Control"))
			}
			if str(body["token_type"]) != "Bearer" {
				t.Errorf("token_type = %v", body["token_type"])
			}
			if tt.provider != catalog.Salesforce && body["expires_in"] != float64(1800) {
				t.Errorf("expires_in = %v, want the TokenTTL 1800", body["expires_in"])
			}
			info, ok := e.fake.TokenInfo(str(body["access_token"]))
			if !ok || !info.Active || info.User != defaultUser[tt.provider] || info.ClientID != testClientID[tt.provider] ||
				!info.ExpiresAt.Equal(e.clock.Now().Add(30*time.Minute)) {
				t.Errorf("TokenInfo(access) = %+v, %v", info, ok)
			}
			if info, ok := e.fake.TokenInfo(str(body["refresh_token"])); !ok || info.Type != "refresh_token" || !info.Active {
				t.Errorf("TokenInfo(refresh) = %+v, %v", info, ok)
			}
			if got := e.fake.Count(fakeprovider.Filter{Provider: tt.provider, Kind: fakeprovider.KindExchange, Outcome: fakeprovider.OutcomeOK, User: defaultUser[tt.provider]}); got != 1 {
				t.Errorf("exchanges counted = %d, want 1", got)
			}

			// The same through oauth2, then a refresh.
			tok := e.connect(tt.provider, cfg)
			if tok.AccessToken == "" || tok.RefreshToken == "" {
				t.Fatalf("oauth2 token = %+v", tok)
			}
			if tt.provider == catalog.Salesforce && !tok.Expiry.IsZero() {
				t.Errorf("Salesforce token has an expiry %v: expires_in must be absent", tok.Expiry)
			}
			next, err := e.refresh(cfg, tok.RefreshToken)
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if next.AccessToken == tok.AccessToken {
				t.Error("refresh returned the same access token")
			}
			if got := e.fake.Count(fakeprovider.Filter{Provider: tt.provider, Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeOK}); got != 1 {
				t.Errorf("refreshes counted = %d, want 1", got)
			}
			used := e.fake.RefreshTokensUsed(fakeprovider.Filter{Provider: tt.provider})
			if len(used) != 1 || used[0].Token != tok.RefreshToken || used[0].Reused || used[0].User != defaultUser[tt.provider] {
				t.Errorf("RefreshTokensUsed = %+v", used)
			}
		})
	}
}

// TestAuthorizationURLRewrite: the browser gets the authorization URL
// rewritten by the service (Rewriter.URL) and a plain client follows it.
func TestAuthorizationURLRewrite(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		cfg := e.config(p)
		raw := e.rw.URL(cfg.AuthCodeURL("xyz", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if !strings.HasPrefix(raw, e.srv.URL+"/") {
			t.Fatalf("not rewritten: %s", raw)
		}
		plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp := e.get(plain, raw, "")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "xyz" {
			t.Errorf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestPKCE: S256 is verified; a plain or missing method is refused when a
// challenge is sent (Salesforce takes a missing one as S256); a missing or
// wrong verifier is refused in each provider's words.
func TestPKCE(t *testing.T) {
	wrongVerifier := strings.Repeat("w", 43)
	tests := []struct {
		name     string
		provider string
		opts     func(v string) []oauth2.AuthCodeOption // replace the S256 challenge
		verifier func(v string) string
		// authorize refusal (error redirect) or token refusal
		authzError string
		code, desc string
	}{
		{"ms wrong verifier", catalog.Microsoft365, nil, func(string) string { return wrongVerifier }, "", "invalid_grant", "AADSTS501481: The Code_Verifier does not match"},
		{"ms missing verifier", catalog.Microsoft365, nil, func(string) string { return "" }, "", "invalid_grant", "AADSTS501481"},
		{"google wrong verifier", catalog.GoogleWorkspace, nil, func(string) string { return wrongVerifier }, "", "invalid_grant", "Invalid code verifier."},
		{"google missing verifier", catalog.GoogleWorkspace, nil, func(string) string { return "" }, "", "invalid_grant", "Missing code verifier."},
		{"sf wrong verifier", catalog.Salesforce, nil, func(string) string { return wrongVerifier }, "", "invalid_grant", "invalid code verifier"},
		{"sf missing verifier", catalog.Salesforce, nil, func(string) string { return "" }, "", "invalid_grant", "invalid code verifier"},
		{"ms plain method", catalog.Microsoft365, plainChallenge, nil, "invalid_request", "", ""},
		{"google plain method", catalog.GoogleWorkspace, plainChallenge, nil, "invalid_request", "", ""},
		{"sf plain method", catalog.Salesforce, plainChallenge, nil, "invalid_request", "", ""},
		{"google missing method", catalog.GoogleWorkspace, noMethodChallenge, nil, "invalid_request", "", ""},
		{"ms missing method", catalog.Microsoft365, noMethodChallenge, nil, "invalid_request", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cfg := e.config(tt.provider)
			var f *flow
			if tt.opts != nil {
				f = e.authorizeWithChallenge(tt.provider, cfg, tt.opts)
			} else {
				f = e.mustCode(tt.provider, cfg)
			}
			if tt.authzError != "" {
				if f.location == nil || f.location.Query().Get("error") != tt.authzError || f.code != "" {
					t.Fatalf("authorize: %d %v, want error=%s", f.resp.StatusCode, f.location, tt.authzError)
				}
				if f.location.Query().Get("state") != f.state {
					t.Errorf("error redirect lost the state")
				}
				return
			}
			_, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(tt.verifier(f.verifier)))
			re := retrieveError(t, err)
			if re.ErrorCode != tt.code || !strings.HasPrefix(re.ErrorDescription, tt.desc) {
				t.Errorf("error = %q %q, want %q %q...", re.ErrorCode, re.ErrorDescription, tt.code, tt.desc)
			}
			if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindExchange, Outcome: fakeprovider.OutcomeRefused}); got != 1 {
				t.Errorf("refused exchanges = %d, want 1", got)
			}
			// The code survives a refused attempt: the right verifier still works.
			if _, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier)); err != nil {
				t.Errorf("exchange with the right verifier after a refusal: %v", err)
			}
		})
	}

	t.Run("sf missing method is S256", func(t *testing.T) {
		e := newEnv(t, fakeprovider.Options{AutoApprove: true})
		cfg := e.config(catalog.Salesforce)
		f := e.authorizeWithChallenge(catalog.Salesforce, cfg, noMethodChallenge)
		if f.code == "" {
			t.Fatalf("authorize: %v", f.location)
		}
		if _, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier)); err != nil {
			t.Fatalf("exchange: %v", err)
		}
	})

	t.Run("RequirePKCE", func(t *testing.T) {
		e := newEnv(t, fakeprovider.Options{AutoApprove: true})
		e.fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Salesforce, ClientID: testClientID[catalog.Salesforce],
			Secret: testSecret, RedirectURIs: []string{testRedirect}, RequirePKCE: true})
		cfg := e.config(catalog.Salesforce)
		resp := e.get(e.browser, cfg.AuthCodeURL("s"), "")
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("no challenge: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

func plainChallenge(v string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")}
}

func noMethodChallenge(v string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", oauth2.S256ChallengeFromVerifier(v))}
}

// authorizeWithChallenge authorizes with custom PKCE parameters.
func (e *env) authorizeWithChallenge(provider string, cfg *oauth2.Config, challenge func(string) []oauth2.AuthCodeOption) *flow {
	e.t.Helper()
	p := e.provider(provider)
	f := &flow{verifier: oauth2.GenerateVerifier(), state: "st"}
	opts := append(p.AuthCodeOptionsFor(testSettings[provider]), challenge(f.verifier)...)
	f.resp = e.get(e.browser, cfg.AuthCodeURL(f.state, opts...), "")
	if loc := f.resp.Header.Get("Location"); loc != "" {
		f.location, _ = url.Parse(loc)
		f.code = f.location.Query().Get("code")
	}
	return f
}

// TestRedirectURI: an unregistered redirect URI is never redirected to; a
// token request whose redirect_uri differs from the authorization
// request's is refused.
func TestRedirectURI(t *testing.T) {
	tokenRefusal := map[string][2]string{
		catalog.Microsoft365:    {"invalid_grant", "AADSTS70002: Error validating credentials. AADSTS50011"},
		catalog.GoogleWorkspace: {"redirect_uri_mismatch", "Bad Request"},
		catalog.Salesforce:      {"redirect_uri_mismatch", "redirect_uri must match configuration"},
	}
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cfg := e.config(p)
			bad := *cfg
			bad.RedirectURL = "https://evil.example.net/callback"
			f := e.authorize(p, &bad)
			if f.resp.StatusCode != http.StatusBadRequest || f.location != nil {
				t.Fatalf("unregistered redirect: %d, Location %v", f.resp.StatusCode, f.location)
			}
			if body := readBody(f.resp); !strings.Contains(body, "evil.example.net") && p != catalog.Salesforce {
				t.Errorf("error page does not name the redirect URI: %s", body)
			}

			good := e.mustCode(p, cfg)
			form := exchangeForm(p, good)
			form.Set("redirect_uri", testRedirect+"/other")
			status, body, _ := e.postForm(cfg.Endpoint.TokenURL, form, "", "")
			want := tokenRefusal[p]
			if status != http.StatusBadRequest || str(body["error"]) != want[0] || !strings.HasPrefix(str(body["error_description"]), want[1]) {
				t.Errorf("mismatch: %d %v, want %v", status, body, want)
			}
			form.Del("redirect_uri")
			if status, body, _ := e.postForm(cfg.Endpoint.TokenURL, form, "", ""); status != http.StatusBadRequest {
				t.Errorf("missing redirect_uri: %d %v", status, body)
			}
		})
	}
}

// TestCodeSingleUse: a code is redeemed once; the second redemption is
// refused and revokes what the first issued; an expired code is refused.
func TestCodeSingleUse(t *testing.T) {
	used := map[string]string{
		catalog.Microsoft365:    "AADSTS54005: OAuth2 Authorization code was already redeemed",
		catalog.GoogleWorkspace: "Bad Request",
		catalog.Salesforce:      "invalid authorization code",
	}
	expired := map[string]string{
		catalog.Microsoft365:    "AADSTS70008:",
		catalog.GoogleWorkspace: "Bad Request",
		catalog.Salesforce:      "expired authorization code",
	}
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cfg := e.config(p)
			f := e.mustCode(p, cfg)
			tok, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			_, err = cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
			re := retrieveError(t, err)
			if re.ErrorCode != "invalid_grant" || !strings.HasPrefix(re.ErrorDescription, used[p]) {
				t.Errorf("reuse: %q %q", re.ErrorCode, re.ErrorDescription)
			}
			for _, tk := range []string{tok.AccessToken, tok.RefreshToken} {
				if info, _ := e.fake.TokenInfo(tk); info.Active {
					t.Errorf("a token of a code redeemed twice is still active: %+v", info)
				}
			}

			f = e.mustCode(p, cfg)
			e.clock.Advance(16 * time.Minute)
			_, err = cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
			re = retrieveError(t, err)
			if re.ErrorCode != "invalid_grant" || !strings.HasPrefix(re.ErrorDescription, expired[p]) {
				t.Errorf("expired: %q %q", re.ErrorCode, re.ErrorDescription)
			}

			_, err = cfg.Exchange(e.ctx(), "not-a-code", oauth2.VerifierOption(f.verifier))
			if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
				t.Errorf("unknown code: %q", re.ErrorCode)
			}
		})
	}
}

// TestClientAuthentication: client_secret_post and client_secret_basic are
// accepted; an unknown client, a wrong or missing secret are refused in the
// provider's words.
func TestClientAuthentication(t *testing.T) {
	type want struct {
		status     int
		code, desc string
	}
	tests := map[string]struct{ unknown, wrong, missing want }{
		catalog.Microsoft365: {
			want{400, "unauthorized_client", "AADSTS700016:"},
			want{401, "invalid_client", "AADSTS7000215:"},
			want{401, "invalid_client", "AADSTS7000218:"}},
		catalog.GoogleWorkspace: {
			want{401, "invalid_client", "The OAuth client was not found."},
			want{401, "invalid_client", "Unauthorized"},
			want{400, "invalid_request", "client_secret is missing."}},
		catalog.Salesforce: {
			want{400, "invalid_client_id", "client identifier invalid"},
			want{400, "invalid_client", "invalid client credentials"},
			want{400, "invalid_client", "invalid client credentials"}},
	}
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cfg := e.config(p)
			check := func(name string, form url.Values, w want) {
				t.Helper()
				status, body, _ := e.postForm(cfg.Endpoint.TokenURL, form, "", "")
				if status != w.status || str(body["error"]) != w.code || !strings.HasPrefix(str(body["error_description"]), w.desc) {
					t.Errorf("%s: %d %v, want %+v", name, status, body, w)
				}
			}
			f := e.mustCode(p, cfg)
			form := exchangeForm(p, f)
			form.Set("client_id", "unknown-client-id")
			check("unknown client", form, tests[p].unknown)
			form = exchangeForm(p, f)
			form.Set("client_secret", "fake-client-secret-wrong")
			check("wrong secret", form, tests[p].wrong)
			form.Del("client_secret")
			check("missing secret", form, tests[p].missing)

			// client_secret_basic through oauth2.
			basic := *cfg
			basic.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
			if _, err := basic.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier)); err != nil {
				t.Errorf("client_secret_basic: %v", err)
			}
			if got := e.fake.Count(fakeprovider.Filter{Provider: p, Kind: fakeprovider.KindExchange, Outcome: fakeprovider.OutcomeRefused}); got != 3 {
				t.Errorf("refused exchanges = %d, want 3", got)
			}
		})
	}
}

// TestUnknownClientAtAuthorize: an unknown client sees an error page, never
// a redirect.
func TestUnknownClientAtAuthorize(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		cfg := e.config(p)
		cfg.ClientID = "no-such-client"
		f := e.authorize(p, cfg)
		if f.resp.StatusCode != http.StatusBadRequest || f.location != nil {
			t.Errorf("%s: %d %v", p, f.resp.StatusCode, f.location)
		}
		if got := e.fake.Count(fakeprovider.Filter{Provider: p, Kind: fakeprovider.KindAuthorize, ClientID: "no-such-client", Outcome: fakeprovider.OutcomeRefused}); got != 1 {
			t.Errorf("%s: refused authorizations = %d", p, got)
		}
	}
}

// TestLenient: an unknown client id is accepted and keeps the first secret
// it presents.
func TestLenient(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true, Lenient: true})
	for _, p := range providers {
		cfg := e.config(p)
		cfg.ClientID, cfg.ClientSecret = testClientID[p]+"x", "fake-client-secret-typed"
		tok := e.connect(p, cfg)
		if tok.AccessToken == "" {
			t.Fatalf("%s: no token", p)
		}
		other := *cfg
		other.ClientSecret = "fake-client-secret-other"
		f := e.mustCode(p, cfg)
		_, err := other.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
		if re := retrieveError(t, err); !strings.HasPrefix(re.ErrorCode, "invalid_client") {
			t.Errorf("%s: a second secret was accepted: %v", p, err)
		}
	}
}

// TestDefaultClients: New registers the default clients, which accept any
// redirect URI unless DefaultRedirectURIs says otherwise.
func TestDefaultClients(t *testing.T) {
	dcs := fakeprovider.DefaultClients()
	if len(dcs) != 3 {
		t.Fatalf("DefaultClients = %v", dcs)
	}
	cat := catalog.New()
	for _, p := range providers {
		dc := dcs[p]
		if errs := mustProvider(t, cat, p).ValidateClientID(dc.ClientID); len(errs) > 0 {
			t.Errorf("%s default client id %q is not of the provider's shape: %v", p, dc.ClientID, errs)
		}
		if !strings.HasPrefix(dc.ClientSecret, "fake-client-secret") {
			t.Errorf("%s default secret is not obviously fake", p)
		}
	}
	e := newEnv(t, fakeprovider.Options{AutoApprove: true, DefaultRedirectURIs: []string{"http://127.0.0.1:3000/oauth/callback"}})
	for _, p := range providers {
		cfg := e.config(p)
		cfg.ClientID, cfg.ClientSecret = dcs[p].ClientID, dcs[p].ClientSecret
		cfg.RedirectURL = "http://127.0.0.1:3000/oauth/callback"
		f := e.authorize(p, cfg)
		if f.code == "" {
			t.Fatalf("%s default client: %d %v", p, f.resp.StatusCode, f.location)
		}
		if _, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier)); err != nil {
			t.Errorf("%s default client exchange: %v", p, err)
		}
		cfg.RedirectURL = "http://localhost:9999/cb"
		if f := e.authorize(p, cfg); f.resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s default client took an unlisted redirect URI: %d", p, f.resp.StatusCode)
		}
	}
}

func mustProvider(t *testing.T, cat *catalog.Catalog, id string) catalog.Provider {
	t.Helper()
	p, ok := cat.Get(id)
	if !ok {
		t.Fatalf("no provider %s", id)
	}
	return p
}

// TestParseTokenTTL covers FAKE_PROVIDER_TOKEN_TTL parsing.
func TestParseTokenTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{"": time.Hour, "120": 2 * time.Minute, " 5 ": 5 * time.Second} {
		if got, err := fakeprovider.ParseTokenTTL(in); err != nil || got != want {
			t.Errorf("ParseTokenTTL(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-3", "1h", "x"} {
		if _, err := fakeprovider.ParseTokenTTL(in); err == nil {
			t.Errorf("ParseTokenTTL(%q) accepted", in)
		}
	}
}

// TestRequestRefusals: malformed requests are refused in each provider's words.
func TestRequestRefusals(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	grant := map[string]string{catalog.Microsoft365: "unsupported_grant_type", catalog.GoogleWorkspace: "unsupported_grant_type", catalog.Salesforce: "unsupported_grant_type"}
	for _, p := range providers {
		cfg := e.config(p)
		form := url.Values{"grant_type": {"password"}, "client_id": {cfg.ClientID}, "client_secret": {testSecret}}
		if status, body, _ := e.postForm(cfg.Endpoint.TokenURL, form, "", ""); status != 400 || body["error"] != grant[p] {
			t.Errorf("%s password grant: %d %v", p, status, body)
		}
		form.Del("grant_type")
		if status, body, _ := e.postForm(cfg.Endpoint.TokenURL, form, "", ""); status != 400 || body["error"] != "invalid_request" {
			t.Errorf("%s no grant_type: %d %v", p, status, body)
		}
		if p != catalog.Microsoft365 {
			form.Set("grant_type", "client_credentials")
			if status, body, _ := e.postForm(cfg.Endpoint.TokenURL, form, "", ""); status != 400 || body["error"] != "unsupported_grant_type" {
				t.Errorf("%s client_credentials: %d %v", p, status, body)
			}
		}

		bad := *cfg
		bad.Scopes = append(slices.Clone(cfg.Scopes), "no.such.scope/at-all")
		f := e.authorize(p, &bad)
		if f.location == nil || f.location.Query().Get("error") != "invalid_scope" {
			t.Errorf("%s unknown scope: %d %v", p, f.resp.StatusCode, f.location)
		}
		f = e.authorize(p, cfg, oauth2.SetAuthURLParam("response_type", "token"))
		if f.location == nil || f.location.Query().Get("error") != "unsupported_response_type" {
			t.Errorf("%s response_type=token: %v", p, f.location)
		}
	}
	f := e.authorize(catalog.Microsoft365, e.config(catalog.Microsoft365), oauth2.SetAuthURLParam("response_mode", "fragment"))
	if f.location == nil || f.location.Query().Get("error") != "invalid_request" {
		t.Errorf("response_mode=fragment: %v", f.location)
	}
	noScope := e.googleConfig()
	if f := e.authorize(catalog.GoogleWorkspace, noScope); f.location == nil || f.location.Query().Get("error_description") != "Missing required parameter: scope" {
		t.Errorf("Google without scope: %v", f.location)
	}
}

// TestMoreEndpoints: list and describe endpoints beyond the catalog's probes.
func TestMoreEndpoints(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	g := e.connect(catalog.GoogleWorkspace, e.config(catalog.GoogleWorkspace))
	status, body, _ := e.getJSON("https://gmail.googleapis.com/gmail/v1/users/me/messages?maxResults=1", g.AccessToken)
	if m := obj(t, body); status != 200 || len(m["messages"].([]any)) != 1 || m["resultSizeEstimate"] != float64(1) {
		t.Errorf("gmail list: %d %v", status, body)
	}
	status, body, _ = e.getJSON("https://people.googleapis.com/v1/people/me?personFields=names", g.AccessToken)
	if m := obj(t, body); status != 200 || !strings.HasPrefix(str(m["resourceName"]), "people/") {
		t.Errorf("people/me: %d %v", status, body)
	}
	sf := e.connect(catalog.Salesforce, e.config(catalog.Salesforce))
	status, body, _ = e.getJSON(fakeprovider.DefaultSalesforceInstanceURL+"/services/data/v62.0/sobjects", sf.AccessToken)
	if m := obj(t, body); status != 200 || len(m["sobjects"].([]any)) == 0 {
		t.Errorf("describe global: %d %v", status, body)
	}
}

// TestTokensLookLikeSecrets: every token the fake issues has its provider's
// shape, so the project's leak checks (shared/hygiene) recognise it.
func TestTokensLookLikeSecrets(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		for range 20 { // random tokens: several draws
			tok := e.connect(p, e.config(p))
			for name, v := range map[string]string{"access": tok.AccessToken, "refresh": tok.RefreshToken} {
				if _, found := hygiene.Check(v); !found {
					t.Errorf("%s %s token %q is not recognised as a credential", p, name, v)
				}
			}
		}
	}
}
