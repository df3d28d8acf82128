// Package localtest is the end-to-end test harness: the service's real
// functions behind the local server's emulated API Gateway, on real stores,
// talking to the fake provider, with a clock the test controls.
//
//	func TestConnect(t *testing.T) {
//		env := localtest.New(t)
//		admin := env.Token("u-admin", "o1", []string{"org_admin"}, nil)
//		resp := env.Do("PUT", "/v1/orgs/o1/integrations/google_workspace", admin, map[string]any{...})
//		if resp.Status != 200 { t.Fatalf("PUT: %s", resp) }
//		...
//		env.Clock.Advance(50 * time.Minute)
//		out, err := env.InvokeRefresh(ctx)
//	}
//
// What New sets up, per test:
//   - configuration ENVIRONMENT=test, the embedded store in t.TempDir()
//     (WithAWS: the DynamoDB and Secrets Manager adapters on moto_server);
//   - the fake provider (infra/fakeprovider, auto-approving, sharing the
//     test's clock) in an httptest server, every provider URL rewritten to
//     it, and its default clients stored as the platform's default clients;
//   - the local server's API handler in an httptest server (the same code as
//     make run: template routes, JWT authorizer, API Gateway v2 events, each
//     function's own Lambda handler), and its Lambda Invoke API;
//   - the table's stream into EventsFunction (Events drains it), which puts
//     the lifecycle events in LOCAL_DATA_DIR/events.jsonl, or WithAWS on a
//     bus of the test's own on moto_server's EventBridge;
//   - WithConsole: the web console on the API's origin, as make run serves it;
//   - a JSON slog logger capturing every log line (Logs), printed when the
//     test fails.
//
// Tokens are checked against real time, not the test clock, so advancing
// the clock by days does not expire the test's tokens.
package localtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/webconsole"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/store"
)

// ReturnURL is an allowed returnTo prefix of every test environment (the
// product's web app), besides the API's own URL.
const ReturnURL = "https://app.example.test/"

// jwtSecret signs the test tokens.
var jwtSecret = []byte("localtest-jwt-secret")

// Env is one test's running service.
type Env struct {
	t testing.TB

	// Deps are the dependencies the functions were built from: Store and
	// Secrets let a test check what was stored.
	Deps *app.Deps
	// Config is the functions' configuration.
	Config config.Config
	// Fake is the fake provider (nil WithoutFakeProvider). FakeURL is its
	// base URL.
	Fake    *fakeprovider.Server
	FakeURL string
	// Server is the local server the API and Invoke handlers come from.
	Server *localserver.Server
	// URL is the API's base URL, e.g. http://127.0.0.1:41234.
	URL string
	// InvokeURL is the base URL of the Lambda Invoke API.
	InvokeURL string
	// Clock is the service's (and the fake provider's) clock.
	Clock *Clock
	// Client sends the requests of Do: it does not follow redirects and
	// keeps no cookies.
	Client *http.Client

	logStart int
}

type settings struct {
	env         map[string]string
	aws         bool
	fake        bool
	fakeOptions fakeprovider.Options
	start       time.Time
	template    string
	handlers    map[string]lambda.Handler
	mutate      []func(*app.Deps)
	wire        *Wire
	build       []app.Option
	mappingKey  string
	console     *consoleSettings
}

type consoleSettings struct {
	dir    string
	config *webconsole.Config
}

// Option configures New.
type Option func(*settings)

// WithEnv sets a configuration variable of the functions (config.Vars),
// e.g. WithEnv("VERIFY_CREDENTIALS", "false").
func WithEnv(name, value string) Option {
	return func(s *settings) { s.env[name] = value }
}

// WithAWS runs the functions on the AWS adapters (DynamoDB and Secrets
// Manager) against moto_server instead of the embedded store. The test
// binary needs moto.Main in its TestMain (package infra/testenv/moto).
func WithAWS() Option {
	return func(s *settings) { s.aws = true }
}

// WithFakeOptions sets the fake provider's options. Now defaults to the
// test clock and AutoApprove is what tests usually want.
func WithFakeOptions(o fakeprovider.Options) Option {
	return func(s *settings) { s.fakeOptions = o }
}

// WithoutFakeProvider runs without the fake provider and without the
// outbound rewrite: provider calls would go to the real hosts, which tests
// cannot reach.
func WithoutFakeProvider() Option {
	return func(s *settings) { s.fake = false }
}

// WithClock starts the test clock at t (default: now, to the second).
func WithClock(t time.Time) Option {
	return func(s *settings) { s.start = t }
}

// WithHandler replaces one function's Lambda handler.
func WithHandler(functionID string, h lambda.Handler) Option {
	return func(s *settings) { s.handlers[functionID] = h }
}

// WithAPIMappingKey serves the API as under a custom domain with this API
// mapping key: at URL + "/" + key + <route>, with events whose rawPath keeps
// the key (localserver.Options.APIMappingKey). PUBLIC_BASE_URL defaults to
// URL + "/" + key, and the fake provider's default clients accept the
// redirect URI under it.
func WithAPIMappingKey(key string) Option {
	return func(s *settings) { s.mappingKey = key }
}

// WithBuildOptions passes options to app.Build, e.g.
// app.WithAWSAPIOptions(counter.Middleware) to count the AWS calls the
// functions make (WithAWS).
func WithBuildOptions(opts ...app.Option) Option {
	return func(s *settings) { s.build = append(s.build, opts...) }
}

// WithDeps changes the dependencies after they are built and before the
// handlers are (e.g. wrap HTTPClient or Store to inject faults).
func WithDeps(fn func(*app.Deps)) Option {
	return func(s *settings) { s.mutate = append(s.mutate, fn) }
}

// WithConsole also serves the web console built in dir (make web) on the
// API's origin (Env.URL), as make run does: with the development sign-in,
// minting the test's tokens.
func WithConsole(dir string) Option {
	return func(s *settings) { s.console = &consoleSettings{dir: dir} }
}

// WithDeployedConsole serves the console with a deployment's configuration
// (/config.json) instead: no development sign-in.
func WithDeployedConsole(dir string, c webconsole.Config) Option {
	return func(s *settings) { s.console = &consoleSettings{dir: dir, config: &c} }
}

// New starts the service for one test. Everything stops when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	installLogger()
	s := settings{
		env:         map[string]string{},
		fake:        true,
		fakeOptions: fakeprovider.Options{AutoApprove: true},
		handlers:    map[string]lambda.Handler{},
	}
	for _, o := range opts {
		o(&s)
	}
	if s.start.IsZero() {
		s.start = time.Now().UTC().Truncate(time.Second)
	}
	if s.template == "" {
		s.template = filepath.Join(moduleRoot(t), "template.yaml")
	}
	e := &Env{
		t:        t,
		Clock:    NewClock(s.start),
		logStart: logs.len(),
		Client: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if s.wire != nil {
		e.Client.Transport = &wireTransport{w: s.wire, next: http.DefaultTransport}
	}
	t.Cleanup(func() {
		if t.Failed() {
			e.dumpLogs()
		}
	})

	// The API's URL is part of the configuration (PUBLIC_BASE_URL, the
	// redirect URI), so its listener starts first and gets its handler last.
	var apiHandler atomic.Pointer[http.Handler]
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := apiHandler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}))
	t.Cleanup(api.Close)
	e.URL = api.URL

	base := api.URL
	if s.mappingKey != "" {
		base += "/" + s.mappingKey
	}
	vars := map[string]string{
		"ENVIRONMENT":         "test",
		"STORE":               "embedded",
		"LOCAL_DATA_DIR":      t.TempDir(),
		"PUBLIC_BASE_URL":     base,
		"ALLOWED_RETURN_URLS": ReturnURL + "," + api.URL + "/",
	}
	if s.fake {
		fo := s.fakeOptions
		if fo.Now == nil {
			fo.Now = e.Clock.Now
		}
		if fo.DefaultRedirectURIs == nil {
			fo.DefaultRedirectURIs = []string{base + "/oauth/callback"}
		}
		e.Fake = fakeprovider.New(fo)
		fake := httptest.NewServer(e.Fake)
		t.Cleanup(fake.Close)
		e.FakeURL = fake.URL
		vars["PROVIDER_ENDPOINT_OVERRIDE"] = fake.URL
	}
	if s.aws {
		for k, v := range awsVars(t) {
			vars[k] = v
		}
		vars["EVENT_BUS_NAME"] = eventBus(t, vars["TABLE_NAME"])
	}
	for k, v := range s.env {
		vars[k] = v
	}
	cfg, err := config.FromEnv(func(name string) string { return vars[name] })
	if err != nil {
		t.Fatalf("localtest: configuration: %v", err)
	}
	e.Config = cfg

	ctx := context.Background()
	deps, err := localapp.Build(ctx, cfg, s.build...)
	if err != nil {
		t.Fatalf("localtest: build dependencies: %v", err)
	}
	t.Cleanup(func() {
		if err := deps.Close(); err != nil {
			t.Errorf("localtest: close stores: %v", err)
		}
	})
	// The stream of the stores as built (WithDeps may wrap them).
	stream, err := localapp.Stream(ctx, deps)
	if err != nil {
		t.Fatalf("localtest: %v", err)
	}
	deps.Now = e.Clock.Now
	for _, fn := range s.mutate {
		fn(deps)
	}
	e.Deps = deps
	if s.fake {
		if err := localserver.SeedDefaultClients(ctx, deps.Secrets, fakeprovider.DefaultClients()); err != nil {
			t.Fatalf("localtest: %v", err)
		}
	}

	srv, err := localserver.New(localserver.Options{
		Template:  s.template,
		Deps:      deps,
		Handlers:  s.handlers,
		JWTSecret: jwtSecret,
		Streams:   stream,

		APIMappingKey: s.mappingKey,
	})
	if err != nil {
		t.Fatalf("localtest: %v", err)
	}
	e.Server = srv
	h := srv.APIHandler()
	if c := s.console; c != nil {
		o := webconsole.Options{Dir: c.dir, Config: webconsole.LocalConfig(cfg.Claims), DevSignIn: webconsole.MintWith(jwtSecret, cfg.Claims)}
		if c.config != nil {
			o.Config, o.DevSignIn = *c.config, nil
		}
		if h, err = webconsole.Handler(h, o); err != nil {
			t.Fatalf("localtest: %v", err)
		}
	}
	apiHandler.Store(&h)
	inv := httptest.NewServer(srv.InvokeHandler())
	t.Cleanup(inv.Close)
	e.InvokeURL = inv.URL
	return e
}

// moduleRoot finds the directory of go.mod above the test's directory.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("localtest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("localtest: no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Token mints a bearer token for user in org, as the identity provider
// would issue it (claim names from the configuration). Pass it to Do.
func (e *Env) Token(user, org string, roles, groups []string) string {
	e.t.Helper()
	if roles == nil {
		roles = []string{}
	}
	if groups == nil {
		groups = []string{}
	}
	tok, err := localserver.MintToken(jwtSecret, localserver.Claims{
		User: user, Org: org, Roles: roles, Groups: groups, Names: e.Config.Claims,
	})
	if err != nil {
		e.t.Fatalf("localtest: %v", err)
	}
	return tok
}

// AdminToken is Token with the admin role.
func (e *Env) AdminToken(user, org string) string {
	return e.Token(user, org, []string{e.Config.Claims.AdminRole}, nil)
}

// MemberToken is Token with no role.
func (e *Env) MemberToken(user, org string, groups ...string) string {
	return e.Token(user, org, nil, groups)
}

// Response is an API answer.
type Response struct {
	Status int
	Header http.Header
	// Body is the raw body.
	Body []byte
	// JSON is the decoded body when it is JSON (objects as map[string]any),
	// nil otherwise.
	JSON any
}

// Object returns the body as a JSON object (nil when it is not one).
func (r *Response) Object() map[string]any {
	m, _ := r.JSON.(map[string]any)
	return m
}

// Code returns the problem+json code, "" when the body has none.
func (r *Response) Code() string {
	s, _ := r.Object()["code"].(string)
	return s
}

// Decode decodes the body into v.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d response: %w (body %s)", r.Status, err, r.Body)
	}
	return nil
}

// Location returns the redirect target, parsed.
func (r *Response) Location() *url.URL {
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil || r.Header.Get("Location") == "" {
		return nil
	}
	return u
}

// String is the status and body, for failure messages.
func (r *Response) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// Do sends one request to the API. path is relative to the API ("/v1/...")
// or an absolute URL; token "" sends no Authorization header; body nil sends
// none, []byte or string are sent as they are, anything else as JSON. A body
// is sent as application/json.
func (e *Env) Do(method, path, token string, body any) *Response {
	e.t.Helper()
	return e.DoHeaders(method, path, token, body, nil)
}

// DoHeaders is Do with extra request headers (If-Match, Content-Type, ...).
func (e *Env) DoHeaders(method, path, token string, body any, header http.Header) *Response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("localtest: encode body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	target := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = e.URL + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		e.t.Fatalf("localtest: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range header {
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		e.t.Fatalf("localtest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("localtest: read %s %s: %v", method, path, err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			out.JSON = v
		}
	}
	return out
}

// Authorize plays the user's browser from an authorization URL (as
// POST /v1/orgs/{orgId}/connections/{provider} returns it): it follows the
// fake provider's redirects until they reach the API, sends that request
// (the OAuth callback), and returns the API's answer, typically a 302 to
// the connection's returnTo.
func (e *Env) Authorize(authorizationURL string) *Response {
	e.t.Helper()
	next := authorizationURL
	for range 10 {
		resp := e.Do("GET", next, "", nil)
		if strings.HasPrefix(next, e.URL+"/") {
			return resp
		}
		loc := resp.Location()
		if resp.Status/100 != 3 || loc == nil {
			e.t.Fatalf("localtest: the provider answered %s to %s, not a redirect", resp, next)
		}
		base, _ := url.Parse(next)
		next = base.ResolveReference(loc).String()
	}
	e.t.Fatalf("localtest: too many redirects from %s", authorizationURL)
	return nil
}

// Completion reads the outcome a callback answer carries to the returnTo
// page: the provider and the completion handle of a pending connection.
// It fails the test unless the callback redirected with status=pending.
func (e *Env) Completion(cb *Response) (provider, handle string) {
	e.t.Helper()
	loc := cb.Location()
	if cb.Status != http.StatusFound || loc == nil {
		e.t.Fatalf("localtest: the callback answered %s, not a redirect to returnTo", cb)
	}
	q := loc.Query()
	if q.Get("status") != "pending" || q.Get("completion") == "" || q.Get("provider") == "" {
		e.t.Fatalf("localtest: the callback redirected to %s, not with a pending completion", loc.Redacted())
	}
	return q.Get("provider"), q.Get("completion")
}

// Complete does what the app's page at returnTo does with a callback's
// answer: it posts the completion handle, with token (the signed-in
// user's), to POST /v1/orgs/{org}/connections/{provider}/complete, and
// returns the API's answer (200 with the connection when token is the
// starting user's).
func (e *Env) Complete(token, org string, cb *Response) *Response {
	e.t.Helper()
	provider, handle := e.Completion(cb)
	return e.Do("POST", "/v1/orgs/"+org+"/connections/"+provider+"/complete", token, map[string]any{"completion": handle})
}

// Connect runs a whole connection as the user of token: start (body, with
// ReturnURL as returnTo unless body names one), the fake provider's
// redirects, the callback, and the completion. It fails the test unless the
// completion answers 200, and returns that answer.
func (e *Env) Connect(token, org, provider string, body map[string]any) *Response {
	e.t.Helper()
	b := map[string]any{"returnTo": ReturnURL}
	for k, v := range body {
		b[k] = v
	}
	start := e.Do("POST", "/v1/orgs/"+org+"/connections/"+provider, token, b)
	authURL, _ := start.Object()["authorizationUrl"].(string)
	if start.Status != http.StatusCreated || authURL == "" {
		e.t.Fatalf("localtest: start %s: %s", provider, start)
	}
	done := e.Complete(token, org, e.Authorize(authURL))
	if done.Status != http.StatusOK {
		e.t.Fatalf("localtest: complete %s: %s", provider, done)
	}
	return done
}

// Invoke calls a function through the Lambda Invoke API with payload
// (encoded as JSON unless []byte) and returns its result. A function error
// is returned as an error carrying the function's error payload.
func (e *Env) Invoke(ctx context.Context, functionID string, payload any) (json.RawMessage, error) {
	var body []byte
	switch p := payload.(type) {
	case []byte:
		body = p
	default:
		var err error
		if body, err = json.Marshal(p); err != nil {
			return nil, fmt.Errorf("encode payload: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, "POST", e.InvokeURL+"/2015-03-31/functions/"+functionID+"/invocations", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", functionID, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", functionID, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke %s: %d %s", functionID, resp.StatusCode, out)
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		return out, fmt.Errorf("%s failed: %s", functionID, out)
	}
	return out, nil
}

// InvokeRefresh runs RefreshFunction once, with the EventBridge Scheduled
// Event its schedule delivers, through the Invoke API, and returns its
// result.
func (e *Env) InvokeRefresh(ctx context.Context) (json.RawMessage, error) {
	return e.Invoke(ctx, config.RefreshFunction, localserver.ScheduledEvent(config.RefreshFunction, "Schedule", e.Clock.Now()))
}

// Logs returns every log line written since New (JSON, one per line). Lines
// from tests running in parallel in the same binary are included too, which
// only makes leak checks stricter.
func (e *Env) Logs() []string {
	return logs.linesFrom(e.logStart)
}

// LogText is Logs joined by newlines.
func (e *Env) LogText() string { return strings.Join(e.Logs(), "\n") }

func (e *Env) dumpLogs() {
	lines := e.Logs()
	const max = 200
	if len(lines) > max {
		// The lines that explain a failure are often older than the
		// last 200 when parallel tests share the binary's log: keep
		// every ERROR line whatever its age.
		var errs []string
		for _, l := range lines[:len(lines)-max] {
			if strings.Contains(l, `"level":"ERROR"`) {
				errs = append(errs, l)
			}
		}
		e.t.Logf("localtest: %d earlier ERROR lines, then the last %d of %d log lines:", len(errs), max, len(lines))
		lines = append(errs, lines[len(lines)-max:]...)
	} else {
		e.t.Logf("localtest: %d log lines:", len(lines))
	}
	for _, l := range lines {
		e.t.Log(l)
	}
}

// SeedSecret stores an org's client secret directly (a test fixture, as if
// an admin had saved it).
func (e *Env) SeedSecret(orgID, provider, value string) {
	e.t.Helper()
	if err := e.Deps.Secrets.PutClientSecret(context.Background(), orgID, provider, value); err != nil {
		e.t.Fatalf("localtest: seed client secret: %v", err)
	}
}

// Connection reads a stored connection (nil, no failure, when it does not
// exist).
func (e *Env) Connection(orgID, userID, provider string) *store.Connection {
	e.t.Helper()
	c, err := e.Deps.Store.GetConnection(context.Background(), store.ConnKey{OrgID: orgID, UserID: userID, Provider: provider})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		e.t.Fatalf("localtest: read connection: %v", err)
	}
	return &c
}

// Clock is a settable clock, safe for concurrent use. It stands still
// unless the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
