package soak_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/refreshsvc"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// container is one warm Lambda container: its own dependencies built from
// the environment's configuration (so its own Secrets Manager cache and
// HTTP clients), its own API server (the template's routes over its own
// function handlers) and its own refresh service. Warm containers of a
// deployment share nothing but the table, the secrets and the provider.
type container struct {
	name    string
	deps    *app.Deps
	api     http.Handler
	refresh *refresh.Service
	jwt     []byte
}

// newContainer builds a container the way a cold start does, on env's
// configuration and clock.
func newContainer(t *testing.T, env *localtest.Env, name string) *container {
	t.Helper()
	// Its authorizer's signing key, generated: no key is a fixture.
	c := &container{name: name, jwt: make([]byte, 32)}
	if _, err := rand.Read(c.jwt); err != nil {
		t.Fatal(err)
	}
	d, err := localapp.Build(context.Background(), env.Config)
	if err != nil {
		t.Fatalf("%s: build dependencies: %v", name, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	d.Now = env.Clock.Now
	c.deps = d
	srv, err := localserver.New(localserver.Options{
		Template: filepath.Join("..", "..", "..", "template.yaml"), Deps: d, JWTSecret: c.jwt,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("%s: local server: %v", name, err)
	}
	c.api = srv.APIHandler()
	o := refreshsvc.Options(d)
	o.Metrics = io.Discard
	if c.refresh, err = refresh.New(o); err != nil {
		t.Fatalf("%s: refresh service: %v", name, err)
	}
	return c
}

// token mints a bearer token this container's authorizer accepts.
func (c *container) token(t testing.TB, user, org string, admin bool, groups ...string) string {
	t.Helper()
	var roles []string
	if admin {
		roles = []string{c.deps.Config.Claims.AdminRole}
	}
	tok, err := localserver.MintToken(c.jwt, localserver.Claims{User: user, Org: org, Roles: roles, Groups: groups, Names: c.deps.Config.Claims})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// answer is one API answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, a.body) }

func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
}

// do sends one API request to the container, in process.
func (c *container) do(t testing.TB, method, target, token string, body any, hdr http.Header) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, target, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	w := httptest.NewRecorder()
	c.api.ServeHTTP(w, req)
	return answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// run is one scheduled RefreshFunction invocation in this container.
func (c *container) run(t testing.TB) refresh.Result {
	t.Helper()
	r, err := c.refresh.Run(context.Background())
	if err != nil {
		t.Fatalf("%s: refresh run: %v", c.name, err)
	}
	return r
}

// account is one user's account at the fake provider.
type account struct {
	org, user, provider string
	fake                fakeprovider.User
	// conforms: the integration's settings at the end of the sequence admit
	// it (hosted domain, tenant).
	conforms bool
}

// secret is a client secret of the fake's shape, generated per run: no
// secret is a fixture.
func secret(t testing.TB) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "fake-client-secret-" + hex.EncodeToString(b)
}

var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// tick is the time between two refresh runs here: every other run of the
// schedule (rate(5 minutes)), to keep the test fast. A connection is then
// refreshed up to ten minutes after it is due, still five minutes before
// its access token expires.
const tick = 10 * time.Minute

// tokenTTL is the fake's access token lifetime here: longer than a real
// provider's hour so that the sequence (about two and a half simulated
// hours) refreshes each connection at most once, not three times.
// moto_server takes tens of milliseconds a refresh, and what the test
// proves is what the events do to the connections, not how often tokens
// expire.
const tokenTTL = 24 * time.Hour

// dueSpread is the range the seeded connections' due times are spread
// over, as a fleet connected over time is: the tokens' life less the
// 15-minute refresh margin; Salesforce's over six hours, so that the
// events of its client meet several due connections in every run.
func dueSpread(provider string) time.Duration {
	if provider == catalog.Salesforce {
		return 6 * time.Hour
	}
	return tokenTTL - 15*time.Minute
}

// seed writes one connected connection per account straight through the
// store, each holding tokens the fake really issued to that account for the
// integration's client (authorize with login_hint and PKCE, then the code
// exchange, as the callback does), sealed by the service's vault. The
// account is what the provider says of it (id, tenant, hosted domain), as
// the completion stores it. Due times are spread over the tokens' life,
// as a fleet connected over time is (the
// seeded tokens themselves all expire at the same time, later).
func seed(t *testing.T, env *localtest.Env, in store.Integration, accts []account) {
	t.Helper()
	ctx := context.Background()
	d := env.Deps
	cl, err := d.Clients.Resolve(ctx, in)
	if err != nil {
		t.Fatalf("resolve client of %s/%s: %v", in.OrgID, in.Provider, err)
	}
	caps := make([]catalog.Capability, len(in.Capabilities))
	for i, c := range in.Capabilities {
		caps[i] = catalog.Capability(c)
	}
	cfg := cl.OAuth2
	cfg.RedirectURL = env.Config.PublicBaseURL + "/oauth/callback"
	cfg.Scopes = cl.Provider.RequestedScopes(caps, in.AllowWriteActions)
	now := env.Clock.Now()
	// The store's own item encoding, captured and written 25 at a time:
	// one PutItem per connection would take most of the test's time on
	// moto_server.
	var captured moto.Capture
	items := dynamostore.New(&captured, env.Config.TableName)

	one := func(i int, a account) error {
		verifier := oauth2.GenerateVerifier()
		authURL := d.Clients.AuthCodeURL(cl, &cfg, "seed-state", oauth2.S256ChallengeOption(verifier),
			oauth2.SetAuthURLParam("login_hint", a.fake.Email))
		resp, err := noRedirects.Get(authURL)
		if err != nil {
			return fmt.Errorf("authorize: %w", err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			return fmt.Errorf("authorize %s answered %d without a code", a.fake.Email, resp.StatusCode)
		}
		tok, err := cfg.Exchange(context.WithValue(ctx, oauth2.HTTPClient, d.HTTPClient), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			return fmt.Errorf("exchange: %w", err)
		}
		info, ok := env.Fake.TokenInfo(tok.AccessToken)
		if !ok || tok.RefreshToken == "" {
			return fmt.Errorf("the fake issued no usable tokens to %s", a.fake.Email)
		}
		k := store.ConnKey{OrgID: a.org, UserID: a.user, Provider: a.provider}
		sealed, keyID, err := d.Tokens.SealToken(ctx, k, &oauth2.Token{
			AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType, Expiry: info.ExpiresAt,
		})
		if err != nil {
			return err
		}
		u, _ := env.Fake.User(a.provider, a.fake.Email)
		acct := store.Account{ID: u.ID, Email: u.Email, Name: u.Name}
		switch a.provider {
		case catalog.Microsoft365:
			acct.Tenant = u.Tenant
		case catalog.GoogleWorkspace:
			acct.Domain = strings.ToLower(u.HostedDomain)
		case catalog.Salesforce:
			acct.ExternalOrg, acct.InstanceURL = u.OrgID, u.InstanceURL
		}
		c := store.Connection{
			ConnKey: k, Status: store.StatusConnected, ClientRef: in.ClientRef(), ConfigVersion: in.Version,
			Account: acct, RequestedScopes: cfg.Scopes, GrantedScopes: info.Scopes,
			SealedTokens: sealed, TokenKeyID: keyID, AccessExpiresAt: info.ExpiresAt,
			ConnectedAt: now, NextRefreshAt: now.Add(dueSpread(a.provider) * time.Duration(i*37%len(accts)) / time.Duration(len(accts))).Truncate(time.Minute), UpdatedAt: now,
		}
		_, err = items.PutConnection(ctx, c, 0)
		return err
	}

	errs := make(chan error, len(accts))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, a := range accts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := one(i, a); err != nil {
				errs <- fmt.Errorf("%s: %w", a.user, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("seed: %v", err)
	}
	captured.Write(t, env.Config.TableName)
}
