package refresh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app/refreshsvc"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

func TestMain(m *testing.M) { moto.Main(m) }

// fixture is one test's service (localtest: real stores, the fake provider,
// a test clock) plus helpers that seed connections quickly: each holds
// tokens the fake really issued (authorize + code exchange over HTTP,
// without the service's callback), sealed and written through the store
// port.
type fixture struct {
	t   testing.TB
	env *localtest.Env
	ctx context.Context

	// metrics collects the EMF lines of every service built by service().
	metrics syncBuffer
}

// backend names the store a test runs on.
type backend struct {
	name string
	opts []localtest.Option
}

// size is n on the embedded store and n×moto (rounded) on moto_server,
// which serves a few hundred requests a second: the DynamoDB runs of make
// test prove the same properties on fewer connections.
func (b backend) size(n int, moto float64) int {
	if b.name == "dynamodb" {
		return int(float64(n)*moto + 0.5)
	}
	return n
}

// backends are the stores the Done-when tests run on: the embedded store and
// the DynamoDB adapter on moto_server.
func backends() []backend {
	return []backend{
		{name: "embedded"},
		{name: "dynamodb", opts: []localtest.Option{localtest.WithAWS()}},
	}
}

func newFixture(t testing.TB, opts ...localtest.Option) *fixture {
	t.Helper()
	// The embedded store syncs every write to disk; on tmpfs the sync is
	// free, which keeps the thousand-connection tests at seconds. (What is
	// tested here is the refresh logic, not bbolt's durability.)
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "refresh-test-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			opts = append([]localtest.Option{localtest.WithEnv("LOCAL_DATA_DIR", dir)}, opts...)
		}
	}
	return &fixture{t: t, env: localtest.New(t, opts...), ctx: context.Background()}
}

// service builds a refresh service from the environment's dependencies,
// with test settings changed by mod.
func (f *fixture) service(mod func(*refresh.Options)) *refresh.Service {
	f.t.Helper()
	o := refreshsvc.Options(f.env.Deps)
	o.Metrics = &f.metrics
	if mod != nil {
		mod(&o)
	}
	s, err := refresh.New(o)
	if err != nil {
		f.t.Fatalf("refresh.New: %v", err)
	}
	return s
}

// integrationSpec says how to enable a provider for an org.
type integrationSpec struct {
	org, provider string
	// orgClient registers an org-owned client at the fake (instead of the
	// platform default), with Salesforce refresh-token rotation when rotate.
	orgClient bool
	rotate    bool
}

// enable stores an enabled integration and returns it.
func (f *fixture) enable(spec integrationSpec) store.Integration {
	f.t.Helper()
	in := store.Integration{
		OrgID: spec.org, Provider: spec.provider, Enabled: true, ConfigMode: store.ConfigModeDefault,
		Rollout: store.Rollout{Mode: store.RolloutEveryone}, UpdatedAt: f.env.Clock.Now(), UpdatedBy: "u-admin",
	}
	p, _ := f.env.Deps.Catalog.Get(spec.provider)
	in.Capabilities = []string{string(p.Capabilities[0].ID)}
	switch spec.provider {
	case catalog.Microsoft365:
		in.Tenant = fakeprovider.DefaultMicrosoftTenantID
	case catalog.Salesforce:
		in.AuthBaseURL = "https://login.salesforce.com"
	}
	if spec.orgClient {
		id := orgClientID(spec.provider, spec.org)
		secret := "fake-client-secret-" + spec.org
		f.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: spec.provider, ClientID: id, Secret: secret, RotateRefreshTokens: spec.rotate})
		if err := f.env.Deps.Secrets.PutClientSecret(f.ctx, spec.org, spec.provider, secret); err != nil {
			f.t.Fatalf("put client secret: %v", err)
		}
		in.ConfigMode, in.ClientID, in.ClientSecretSetAt = store.ConfigModeOrganization, id, f.env.Clock.Now()
	}
	stored, err := f.env.Deps.Store.PutIntegration(f.ctx, in, 0)
	if err != nil {
		f.t.Fatalf("put integration: %v", err)
	}
	return stored
}

// orgClientID is a client id of the provider's shape.
func orgClientID(provider, org string) string {
	switch provider {
	case catalog.Microsoft365:
		return "11111111-2222-3333-4444-" + fmt.Sprintf("%012x", len(org)*7919)
	case catalog.GoogleWorkspace:
		return "123456789012-" + org + ".apps.googleusercontent.com"
	}
	return "3MVG9" + strings.Repeat("A", 20) + strings.ToUpper(org)
}

// seeded is one connection written by seed, with the refresh token the fake
// issued for it.
type seeded struct {
	key          store.ConnKey
	refreshToken string
}

// grant obtains tokens for the provider's default user from the fake, as
// the connect flow would (PKCE, the integration's client and redirect URI).
func (f *fixture) grant(in store.Integration) *oauth2.Token {
	f.t.Helper()
	tok, err := f.tryGrant(in)
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

var noRedirects = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (f *fixture) tryGrant(in store.Integration) (*oauth2.Token, error) {
	d := f.env.Deps
	cl, err := d.Clients.Resolve(f.ctx, in)
	if err != nil {
		return nil, fmt.Errorf("resolve client: %w", err)
	}
	cfg := cl.OAuth2
	cfg.RedirectURL = f.env.URL + "/oauth/callback"
	cfg.Scopes = cl.Provider.RequestedScopes(catalogCaps(in.Capabilities), in.AllowWriteActions)
	verifier := oauth2.GenerateVerifier()
	authURL := d.Clients.AuthCodeURL(cl, &cfg, "seed-state", oauth2.S256ChallengeOption(verifier))
	resp, err := noRedirects.Get(authURL)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return nil, fmt.Errorf("authorize answered %d without a code (Location %q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	ctx := context.WithValue(f.ctx, oauth2.HTTPClient, d.HTTPClient)
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("the fake issued no refresh token")
	}
	return tok, nil
}

func catalogCaps(cs []string) []catalog.Capability {
	out := make([]catalog.Capability, len(cs))
	for i, c := range cs {
		out[i] = catalog.Capability(c)
	}
	return out
}

// seed writes n connected connections of the integration, users
// <prefix>0000.., each with its own grant, due at due. Grants run 8 at a
// time. On moto_server the store's own item encoding is captured and
// written 25 items a call (moto.Capture): one PutItem per connection was
// a tenth of the suite's requests (857 of 8,736), and what these tests
// exercise is the refresh, not the seeding.
func (f *fixture) seed(in store.Integration, prefix string, n int, due time.Time) []seeded {
	f.t.Helper()
	put := f.env.Deps.Store.PutConnection
	var captured *moto.Capture
	if f.env.Config.Store == "aws" {
		captured = &moto.Capture{}
		put = dynamostore.New(captured, f.env.Config.TableName).PutConnection
	}
	out := make([]seeded, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s, err := f.seedOne(in, fmt.Sprintf("%s%04d", prefix, i), due, put)
			if err != nil {
				errs <- err
				return
			}
			out[i] = s
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		f.t.Fatalf("seed: %v", err)
	}
	if captured != nil {
		captured.Write(f.t, f.env.Config.TableName)
	}
	return out
}

func (f *fixture) seedOne(in store.Integration, user string, due time.Time,
	put func(context.Context, store.Connection, int64) (store.Connection, error)) (seeded, error) {
	tok, err := f.tryGrant(in)
	if err != nil {
		return seeded{}, err
	}
	info, ok := f.env.Fake.TokenInfo(tok.AccessToken)
	if !ok {
		return seeded{}, fmt.Errorf("the fake does not know the access token it issued")
	}
	k := store.ConnKey{OrgID: in.OrgID, UserID: user, Provider: in.Provider}
	sealed, keyID, err := f.env.Deps.Tokens.SealToken(f.ctx, k, &oauth2.Token{
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType, Expiry: info.ExpiresAt,
	})
	if err != nil {
		return seeded{}, err
	}
	now := f.env.Clock.Now()
	c := store.Connection{
		ConnKey: k, Status: store.StatusConnected, ClientRef: in.ClientRef(), ConfigVersion: in.Version,
		Account: store.Account{Email: user + "@example.com"}, GrantedScopes: info.Scopes,
		SealedTokens: sealed, TokenKeyID: keyID, AccessExpiresAt: info.ExpiresAt,
		ConnectedAt: now.Add(-time.Hour), NextRefreshAt: due, UpdatedAt: now,
	}
	if _, err := put(f.ctx, c, 0); err != nil {
		return seeded{}, err
	}
	return seeded{key: k, refreshToken: tok.RefreshToken}, nil
}

// conn reads a stored connection.
func (f *fixture) conn(k store.ConnKey) store.Connection {
	f.t.Helper()
	c, err := f.env.Deps.Store.GetConnection(f.ctx, k)
	if err != nil {
		f.t.Fatalf("get %s: %v", k, err)
	}
	return c
}

// tokens opens a stored connection's tokens.
func (f *fixture) tokens(c store.Connection) *oauth2.Token {
	f.t.Helper()
	tok, err := f.env.Deps.Tokens.OpenToken(f.ctx, c.ConnKey, c.SealedTokens)
	if err != nil {
		f.t.Fatalf("open tokens of %s: %v", c.ConnKey, err)
	}
	return tok
}

// uses counts, per refresh token, the refresh calls that presented it.
func (f *fixture) uses(provider string) map[string][]fakeprovider.RefreshUse {
	m := map[string][]fakeprovider.RefreshUse{}
	for _, u := range f.env.Fake.RefreshTokensUsed(fakeprovider.Filter{Provider: provider}) {
		m[u.Token] = append(m[u.Token], u)
	}
	return m
}

// assertRefreshedOnce checks, for every seeded connection, that the fake
// received exactly one refresh with its refresh token, that it succeeded,
// and that what is stored is the live result: connected, the fake's active
// access token, the newest refresh token, next due in the future.
func (f *fixture) assertRefreshedOnce(provider string, conns []seeded) {
	f.t.Helper()
	uses := f.uses(provider)
	now := f.env.Clock.Now()
	for _, s := range conns {
		u := uses[s.refreshToken]
		if len(u) != 1 || u[0].Outcome != fakeprovider.OutcomeOK {
			f.t.Fatalf("%s: refresh token presented %d times (%+v), want once, successfully", s.key, len(u), u)
		}
		c := f.conn(s.key)
		if c.Status != store.StatusConnected || !c.NextRefreshAt.After(now) || c.LeaseOwner != "" || c.LastRefreshAt.IsZero() {
			f.t.Fatalf("%s: stored %s next %v lease %q lastRefresh %v", s.key, c.Status, c.NextRefreshAt, c.LeaseOwner, c.LastRefreshAt)
		}
		tok := f.tokens(c)
		if info, ok := f.env.Fake.TokenInfo(tok.AccessToken); !ok || !info.Active || !info.ExpiresAt.Equal(c.AccessExpiresAt) {
			f.t.Fatalf("%s: stored access token is not the fake's live one (known %v, %+v; stored expiry %v)", s.key, ok, info, c.AccessExpiresAt)
		}
		if info, ok := f.env.Fake.TokenInfo(tok.RefreshToken); !ok || !info.Active {
			f.t.Fatalf("%s: stored refresh token is not active at the fake", s.key)
		}
	}
}

// run runs the service once and checks the result's bookkeeping adds up.
func (f *fixture) run(ctx context.Context, s *refresh.Service) refresh.Result {
	f.t.Helper()
	res, err := s.Run(ctx)
	if err != nil {
		f.t.Fatalf("run: %v", err)
	}
	checkResult(f.t, res)
	return res
}

// checkResult checks the invariants documented on refresh.Result.
func checkResult(t testing.TB, r refresh.Result) {
	t.Helper()
	claimedOutcomes := r.Refreshed + r.NeedsReconnect + r.TransientFailures + r.Blocked + r.ClientRefused + r.ClientPaused + r.Exhausted + r.OffIndex + r.NotDue + r.LeaseLost
	if claimedOutcomes > r.Claimed || r.Claimed-claimedOutcomes > r.Errors {
		t.Fatalf("claimed %d but outcomes add up to %d (errors %d): %+v", r.Claimed, claimedOutcomes, r.Errors, r)
	}
	if listed := r.Claimed + r.Skipped + r.LeftForNextRun; listed > r.Due || r.Due-listed > r.Errors {
		t.Fatalf("due %d but claimed+skipped+left = %d (errors %d): %+v", r.Due, listed, r.Errors, r)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// metricSum adds up metric over the EMF lines whose dimensions match dims.
func (f *fixture) metricSum(metric string, dims map[string]string) float64 {
	var sum float64
	for _, line := range strings.Split(strings.TrimSpace(f.metrics.String()), "\n") {
		var doc map[string]any
		if json.Unmarshal([]byte(line), &doc) != nil {
			continue
		}
		ok := true
		for k, v := range dims {
			if doc[k] != v {
				ok = false
			}
		}
		if v, isNum := doc[metric].(float64); ok && isNum {
			sum += v
		}
	}
	return sum
}
