package bench

import (
	"context"

	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/logging"
	"github.com/sofie/integrations/shared/store/awscount"
)

func TestMain(m *testing.M) { moto.Main(m) }

// The scenario every benchmark here measures: org o-acme (the org of the
// events/ samples) with all three providers configured (Microsoft 365 on
// the platform's default client, Google Workspace on the org's own client,
// Salesforce on the default client), admin u-alice, and member u-bob in
// group pilot, connected to Microsoft 365 and Google Workspace. Org
// o-secrets has Microsoft 365 on its own client, for the client-secret
// routes (removing the secret of o-acme's Google client would break the
// routes measured after it).
const (
	org        = "o-acme"
	secretsOrg = "o-secrets"
	adminUser  = "u-alice"
	memberUser = "u-bob"
	pilotGroup = "pilot"

	// Fixture client ids (not secrets) registered at the fake provider.
	googleClientID    = "123456789012-benchorgclient0123456789abcdef.apps.googleusercontent.com"
	microsoftClientID = "11111111-2222-3333-4444-bbbbbbbbbbbb"
	googleSecret      = "fake-client-secret-bench-google"
	microsoftSecret   = "fake-client-secret-bench-microsoft"

	// eventsReturnURL is the returnTo of events/OAuthFunction/StartConnection.json.
	eventsReturnURL = "https://app.example.com/"
)

// integrations are the saves that configure o-acme, in order.
var integrations = []struct {
	org, provider string
	body          map[string]any
	secret        string // set after the save
}{
	{org, catalog.Microsoft365, map[string]any{
		"enabled": true, "configMode": "default", "tenant": fakeprovider.DefaultMicrosoftTenantID,
		"capabilities": []string{"email", "calendar", "files"}, "rollout": map[string]any{"mode": "everyone"},
	}, ""},
	{org, catalog.GoogleWorkspace, googleBody, googleSecret},
	{org, catalog.Salesforce, map[string]any{
		"enabled": true, "configMode": "default", "authBaseUrl": "https://login.salesforce.com",
		"capabilities": []string{"crm"}, "rollout": map[string]any{"mode": "everyone"},
	}, ""},
	{secretsOrg, catalog.Microsoft365, map[string]any{
		"enabled": true, "configMode": "organization", "clientId": microsoftClientID,
		"tenant": fakeprovider.DefaultMicrosoftTenantDomain, "capabilities": []string{"email"},
	}, microsoftSecret},
}

// googleBody is o-acme's Google Workspace configuration: the org's own
// client, rolled out to the pilot group. The PUT route saves it again.
var googleBody = map[string]any{
	"enabled": true, "configMode": "organization", "clientId": googleClientID,
	"capabilities": []string{"email", "calendar"}, "rollout": map[string]any{"mode": "groups", "groups": []string{pilotGroup}},
}

// scenario is the configured service in a localtest environment.
type scenario struct {
	env    *localtest.Env
	admin  string // tokens of env's API
	member string
}

// newScenario starts the service (localtest: the local server, the fake
// provider, the stores opts name) and configures it through its own API.
func newScenario(b *testing.B, opts ...localtest.Option) *scenario {
	b.Helper()
	env := localtest.New(b, opts...)
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.GoogleWorkspace, ClientID: googleClientID, Secret: googleSecret})
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: microsoftClientID, Secret: microsoftSecret})
	s := &scenario{
		env:    env,
		admin:  env.AdminToken(adminUser, org),
		member: env.MemberToken(memberUser, org, pilotGroup),
	}
	for _, in := range integrations {
		tok := env.AdminToken(adminUser, in.org)
		path := "/v1/orgs/" + in.org + "/integrations/" + in.provider
		expect(b, env.Do("PUT", path, tok, in.body), 201)
		if in.secret != "" {
			expect(b, env.Do("PUT", path+"/client-secret", tok, map[string]string{"clientSecret": in.secret}), 200)
		}
	}
	for _, p := range []string{catalog.Microsoft365, catalog.GoogleWorkspace} {
		s.connect(b, s.member, p)
	}
	return s
}

// connect runs start, the provider, the callback and the completion through
// env's API.
func (s *scenario) connect(b *testing.B, token, provider string) {
	b.Helper()
	expect(b, s.env.Complete(token, org, expect(b, s.env.Do("GET", s.callbackURL(b, token, provider), "", nil), 302)), 200)
}

// completion runs start, the provider and the callback through env's API and
// returns the completion handle the callback handed to returnTo.
func (s *scenario) completion(b *testing.B, token, provider string) string {
	b.Helper()
	_, handle := s.env.Completion(expect(b, s.env.Do("GET", s.callbackURL(b, token, provider), "", nil), 302))
	return handle
}

// callbackURL starts a connection through env's API and plays the browser
// at the fake provider, returning the callback URL the provider redirects
// to (not yet requested).
func (s *scenario) callbackURL(b *testing.B, token, provider string) string {
	b.Helper()
	resp := expect(b, s.env.Do("POST", "/v1/orgs/"+org+"/connections/"+provider, token, map[string]string{"returnTo": localtest.ReturnURL + "settings"}), 201)
	authURL, _ := resp.Object()["authorizationUrl"].(string)
	at := s.env.Do("GET", authURL, "", nil)
	loc := at.Location()
	if at.Status != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), s.env.URL+"/oauth/callback?") {
		b.Fatalf("the fake provider answered %s, not a redirect to the callback", at)
	}
	return loc.String()
}

func expect(b *testing.B, resp *localtest.Response, status int) *localtest.Response {
	b.Helper()
	if resp.Status != status {
		b.Fatalf("got %s, want %d", resp, status)
	}
	return resp
}

// quietLogs replaces the JSON logger localtest installs (every line, debug
// level, kept in memory) with what a function logs in Lambda (info level),
// written nowhere, so that log volume of the setup does not pile up and the
// handler time measured includes what a deployed function spends on logs.
func quietLogs() {
	slog.SetDefault(logging.JSON(io.Discard, slog.LevelInfo))
}

// moduleRoot is the directory of go.mod (the package is one level down).
func moduleRoot(b *testing.B) string {
	b.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		b.Fatalf("no go.mod in %s: %v", dir, err)
	}
	return dir
}

// busyClock measures the wall time during which at least one call is in
// flight: the union of the calls' intervals, so that calls made
// concurrently within one request are not counted twice.
type busyClock struct {
	mu       sync.Mutex
	inflight int
	since    time.Time
	busy     time.Duration
}

func (c *busyClock) begin() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight == 0 {
		c.since = time.Now()
	}
	c.inflight++
}

func (c *busyClock) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight--
	if c.inflight == 0 {
		c.busy += time.Since(c.since)
	}
}

// take returns the busy time so far and starts again.
func (c *busyClock) take() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.busy
	c.busy = 0
	return d
}

// Middleware times each AWS SDK call (aws.Config.APIOptions), from before
// the first step of its stack to its answer: serialization, signing,
// retries and the round trip.
func (c *busyClock) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench-aws-time",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.begin()
			defer c.end()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

// timedTransport times the provider calls of the service's HTTP client.
type timedTransport struct {
	base  http.RoundTripper
	clock *busyClock
}

func (t timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.clock.begin()
	defer t.clock.end()
	return t.base.RoundTrip(r)
}

// secretReads counts GetSecretValue calls per secret (name, and version
// id when one is asked for).
type secretReads struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *secretReads) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench-secret-reads",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			if p, ok := in.Parameters.(*secretsmanager.GetSecretValueInput); ok {
				id := aws.ToString(p.SecretId)
				if p.VersionId != nil {
					id += " (version " + aws.ToString(p.VersionId) + ")"
				}
				s.mu.Lock()
				if s.n == nil {
					s.n = map[string]int{}
				}
				s.n[id]++
				s.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (s *secretReads) take() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = nil
	return n
}

// probe is one measured container: fresh dependencies built from the
// environment's configuration with every AWS call counted and timed and
// every provider call timed, behind a local server of its own whose
// handlers are timed. Requests go to it in-process, one at a time.
type probe struct {
	calls    awscount.Counter
	aws      busyClock
	provider busyClock
	secrets  secretReads
	handler  time.Duration // time inside the functions' Lambda handlers

	deps *app.Deps
	api  http.Handler
	jwt  []byte
}

// newProbe builds the dependencies (as a cold container's init does) and
// the server. The calls Build itself makes (a local configuration checks
// the table and token key, which a deployment never does) are not counted.
func newProbe(b *testing.B, env *localtest.Env) *probe {
	b.Helper()
	p := &probe{jwt: []byte("bench-jwt-secret")}
	d, err := localapp.Build(context.Background(), env.Config,
		app.WithAWSAPIOptions(p.aws.Middleware, p.calls.Middleware, p.secrets.Middleware))
	if err != nil {
		b.Fatalf("build dependencies: %v", err)
	}
	hc := *d.HTTPClient
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = timedTransport{base: base, clock: &p.provider}
	d.HTTPClient = &hc
	d.Now = env.Clock.Now // the clock of env, whose states and tokens are used here
	p.deps = d

	tmpl := filepath.Join(moduleRoot(b), "template.yaml")
	t, err := localserver.LoadTemplate(tmpl)
	if err != nil {
		b.Fatal(err)
	}
	handlers := map[string]lambda.Handler{}
	for _, id := range t.FunctionIDs() {
		h, err := localapp.Handler(d, id)
		if err != nil {
			b.Fatal(err)
		}
		handlers[id] = timedHandler{h: h, total: &p.handler}
	}
	srv, err := localserver.New(localserver.Options{Template: tmpl, Handlers: handlers, JWTSecret: p.jwt, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	p.api = srv.APIHandler()
	p.reset()
	return p
}

func (p *probe) close() { _ = p.deps.Close() }

// reset forgets what was measured so far.
func (p *probe) reset() {
	p.calls.Reset()
	p.aws.take()
	p.provider.take()
	p.secrets.take()
	p.handler = 0
}

// token mints a bearer token for p's server.
func (p *probe) token(b *testing.B, user, orgID string, roles, groups []string) string {
	b.Helper()
	tok, err := localserver.MintToken(p.jwt, localserver.Claims{User: user, Org: orgID, Roles: roles, Groups: groups, Names: p.deps.Config.Claims})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// request is one API request to measure.
type request struct {
	method, target string // target: path and query, or an absolute URL of env's API
	token          string
	header         http.Header
	body           string
}

// sample is what one request cost.
type sample struct {
	status            int
	body              string
	dynamo, secrets   int
	ops               map[string]int // calls by "Service.Operation" (no spaces)
	handler, aws, out time.Duration  // out: provider calls
}

// operations are the AWS operations the stores may call, for the
// breakdown of a request's calls; do fails on a call of any other.
var operations = map[string][]string{
	"DynamoDB": {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
		"TransactGetItems", "TransactWriteItems", "DescribeTable", "CreateTable", "UpdateTimeToLive", "DescribeTimeToLive"},
	"Secrets Manager": {"GetSecretValue", "PutSecretValue", "CreateSecret", "DeleteSecret", "RestoreSecret", "DescribeSecret"},
}

// do sends req to p's server and measures it.
func (p *probe) do(b *testing.B, req request) sample {
	b.Helper()
	target := req.target
	if u, err := url.Parse(target); err == nil && u.IsAbs() {
		target = u.RequestURI()
	}
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	r := httptest.NewRequest(req.method, target, body)
	if req.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.token != "" {
		r.Header.Set("Authorization", "Bearer "+req.token)
	}
	for k, vs := range req.header {
		r.Header[k] = slices.Clone(vs)
	}
	p.reset()
	w := httptest.NewRecorder()
	p.api.ServeHTTP(w, r)
	s := sample{
		status:  w.Code,
		body:    w.Body.String(),
		dynamo:  p.calls.Calls("DynamoDB", ""),
		secrets: p.calls.Calls("Secrets Manager", ""),
		ops:     map[string]int{},
		handler: p.handler,
		aws:     p.aws.take(),
		out:     p.provider.take(),
	}
	known := 0
	for service, ops := range operations {
		for _, op := range ops {
			if n := p.calls.Calls(service, op); n > 0 {
				s.ops[strings.ReplaceAll(service, " ", "")+"."+op] = n
				known += n
			}
		}
	}
	if known != p.calls.Total() {
		b.Fatalf("%s %s made calls the breakdown does not know: %s", req.method, req.target, p.calls.String())
	}
	return s
}

// timedHandler adds the time each invocation spends in h to total.
// Invocations are one at a time here.
type timedHandler struct {
	h     lambda.Handler
	total *time.Duration
}

func (t timedHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	out, err := t.h.Invoke(ctx, payload)
	*t.total += time.Since(start)
	return out, err
}

// median of the values (0 for none).
func median[T int | int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// mustStatus fails the benchmark when a measured request did not do what
// it should: a figure of a refused request would be wrong.
func mustStatus(b *testing.B, name string, s sample, want int) {
	b.Helper()
	if s.status != want {
		b.Fatalf("%s: status %d, want %d: %.500s", name, s.status, want, s.body)
	}
}
