package fakeprovider_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/outbound"
)

const (
	testSecret   = "fake-client-secret-1"
	testRedirect = "https://app.example.com/oauth/callback"
)

// testClientID is a client id of the provider's shape.
var testClientID = map[string]string{
	catalog.Microsoft365:    "6731de76-14a6-49ae-97bc-6eba6914391e",
	catalog.GoogleWorkspace: "123456789012-testclient.apps.googleusercontent.com",
	catalog.Salesforce:      "TEST0CONSUMER0KEY0FOR0FAKE0PROVIDER",
}

// testSettings are org settings that reach each provider's default user.
var testSettings = map[string]catalog.Settings{
	catalog.Microsoft365:    {Tenant: fakeprovider.DefaultMicrosoftTenantID},
	catalog.GoogleWorkspace: {},
	catalog.Salesforce:      {AuthBaseURL: "https://login.salesforce.com"},
}

var defaultUser = map[string]string{
	catalog.Microsoft365:    fakeprovider.DefaultMicrosoftUser,
	catalog.GoogleWorkspace: fakeprovider.DefaultGoogleUser,
	catalog.Salesforce:      fakeprovider.DefaultSalesforceUser,
}

var providers = []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a fake provider behind an httptest server, reached the way the
// service reaches it: through outbound's rewriting client.
type env struct {
	t       *testing.T
	fake    *fakeprovider.Server
	srv     *httptest.Server
	rw      *outbound.Rewriter
	hc      *http.Client // follows redirects, like the service's client
	browser *http.Client // stops at redirects, to read the Location
	clock   *clock
	cat     *catalog.Catalog
}

func newEnv(t *testing.T, opts fakeprovider.Options) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	fake := fakeprovider.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	rw, err := outbound.NewRewriter(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	hc := outbound.NewClient(rw, 10*time.Second)
	browser := outbound.NewClient(rw, 10*time.Second)
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, p := range providers {
		fake.RegisterClient(fakeprovider.ClientSpec{Provider: p, ClientID: testClientID[p], Secret: testSecret,
			RedirectURIs: []string{testRedirect}})
	}
	return &env{t: t, fake: fake, srv: srv, rw: rw, hc: hc, browser: browser, clock: clk, cat: catalog.New()}
}

func (e *env) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.hc)
}

func (e *env) provider(id string) catalog.Provider {
	p, ok := e.cat.Get(id)
	if !ok {
		e.t.Fatalf("no provider %s", id)
	}
	return p
}

// config is the oauth2 configuration the service would build, with the
// test client and every capability's read scopes.
func (e *env) config(provider string) *oauth2.Config {
	p := e.provider(provider)
	return &oauth2.Config{
		ClientID: testClientID[provider], ClientSecret: testSecret,
		Endpoint:    p.Endpoints(testSettings[provider]).OAuth2,
		RedirectURL: testRedirect,
		Scopes:      p.RequestedScopes(p.CapabilityIDs(), false),
	}
}

// flow is one authorization: what was sent and what came back.
type flow struct {
	verifier string
	state    string
	resp     *http.Response
	location *url.URL
	code     string
}

// authorize sends the browser's authorization request (real URL, rewritten
// by the client's transport) and reads the redirect.
func (e *env) authorize(provider string, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) *flow {
	e.t.Helper()
	p := e.provider(provider)
	f := &flow{verifier: oauth2.GenerateVerifier(), state: "st-" + provider}
	all := append(p.AuthCodeOptionsFor(testSettings[provider]), oauth2.S256ChallengeOption(f.verifier))
	all = append(all, opts...)
	f.resp = e.get(e.browser, cfg.AuthCodeURL(f.state, all...), "")
	if loc := f.resp.Header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			e.t.Fatalf("bad Location %q", loc)
		}
		f.location = u
		f.code = u.Query().Get("code")
	}
	return f
}

// mustCode authorizes and fails the test unless a code came back.
func (e *env) mustCode(provider string, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) *flow {
	e.t.Helper()
	f := e.authorize(provider, cfg, opts...)
	if f.code == "" {
		e.t.Fatalf("%s authorize: status %d, Location %q, body %s", provider, f.resp.StatusCode, f.resp.Header.Get("Location"), readBody(f.resp))
	}
	if got := f.location.Query().Get("state"); got != f.state {
		e.t.Fatalf("state = %q, want %q", got, f.state)
	}
	if f.location.Scheme+"://"+f.location.Host+f.location.Path != testRedirect {
		e.t.Fatalf("redirected to %s", f.location)
	}
	return f
}

// connect runs a whole authorization and code exchange.
func (e *env) connect(provider string, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	e.t.Helper()
	f := e.mustCode(provider, cfg, opts...)
	tok, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		e.t.Fatalf("%s exchange: %v", provider, err)
	}
	return tok
}

// refresh redeems a refresh token through oauth2, as the service does.
func (e *env) refresh(cfg *oauth2.Config, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(e.ctx(), &oauth2.Token{RefreshToken: rt}).Token()
}

func (e *env) get(c *http.Client, rawURL, token string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", rawURL, err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// getJSON GETs a real provider URL with a bearer token.
func (e *env) getJSON(rawURL, token string) (int, any, http.Header) {
	e.t.Helper()
	resp := e.get(e.hc, rawURL, token)
	return resp.StatusCode, decode(e.t, readBody(resp)), resp.Header
}

// postForm POSTs a form to a real provider URL, optionally with basic auth.
func (e *env) postForm(rawURL string, form url.Values, basicUser, basicPass string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body := readBody(resp)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			e.t.Fatalf("POST %s: %d, not a JSON object: %s", rawURL, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// exchangeForm is the token request oauth2 sends for a code (client_secret_post).
func exchangeForm(provider string, f *flow) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {testRedirect},
		"code_verifier": {f.verifier}, "client_id": {testClientID[provider]}, "client_secret": {testSecret}}
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func decode(t *testing.T, body string) any {
	t.Helper()
	if body == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	return v
}

// keys returns the sorted keys of a JSON object.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s ...string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// jwtClaims decodes an unsigned JWT's claims.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token has %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("id_token payload: %v", err)
	}
	return m
}

// retrieveError unwraps an oauth2 token endpoint error.
func retrieveError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want *oauth2.RetrieveError, got %v", err)
	}
	return re
}

// errorBody decodes the JSON body of a token endpoint error.
func errorBody(t *testing.T, re *oauth2.RetrieveError) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(re.Body, &m); err != nil {
		t.Fatalf("error body is not JSON: %s", re.Body)
	}
	return m
}

func obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("not a JSON object: %#v", v)
	}
	return m
}

func str(v any) string { s, _ := v.(string); return s }
