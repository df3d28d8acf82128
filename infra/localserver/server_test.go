package localserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

var testSecret = []byte("test-only-jwt-secret")

// recorder is a lambda.Handler that keeps every payload it is invoked with
// (exactly the bytes Lambda would deliver) and answers with respond.
type recorder struct {
	mu       sync.Mutex
	payloads [][]byte
	lambda   []*lambdacontext.LambdaContext
	deadline []time.Duration
	respond  func(ctx context.Context, payload []byte) ([]byte, error)
}

func (r *recorder) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	d, _ := ctx.Deadline()
	r.mu.Lock()
	r.payloads = append(r.payloads, bytes.Clone(payload))
	r.lambda = append(r.lambda, lc)
	r.deadline = append(r.deadline, time.Until(d))
	r.mu.Unlock()
	if r.respond != nil {
		return r.respond(ctx, payload)
	}
	return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"ok":true}`})
}

func (r *recorder) last(t *testing.T) []byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.payloads) == 0 {
		t.Fatal("the function was not invoked")
	}
	return r.payloads[len(r.payloads)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.payloads)
}

type fixture struct {
	srv              *Server
	api, invoke      *httptest.Server
	echo, slow, tick *recorder
	logs             *bytes.Buffer
	issuer, audience string
}

func newFixture(t *testing.T, mut ...func(*Options)) *fixture {
	t.Helper()
	fx := &fixture{echo: &recorder{}, slow: &recorder{}, tick: &recorder{}, logs: &bytes.Buffer{}}
	fx.slow.respond = func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done() // outlives its 1 s timeout
		time.Sleep(50 * time.Millisecond)
		return []byte(`{"statusCode":200}`), nil
	}
	o := Options{
		Template:  "testdata/template.yaml",
		Handlers:  map[string]lambda.Handler{"EchoFunction": fx.echo, "SlowFunction": fx.slow, "TickFunction": fx.tick},
		JWTSecret: testSecret,
		Logger:    slog.New(slog.NewJSONHandler(&syncWriter{w: fx.logs}, nil)),
	}
	for _, m := range mut {
		m(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	fx.srv = srv
	fx.api = httptest.NewServer(srv.APIHandler())
	fx.invoke = httptest.NewServer(srv.InvokeHandler())
	t.Cleanup(fx.api.Close)
	t.Cleanup(fx.invoke.Close)
	return fx
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func mint(t *testing.T, c Claims) string {
	t.Helper()
	tok, err := MintToken(testSecret, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t *testing.T, method, url string, hdr http.Header, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestHTTPEventMatchesAPIGateway(t *testing.T) {
	fx := newFixture(t)
	tok := mint(t, Claims{User: "u1", Org: "o1", Roles: []string{"org_admin", "member"}, Groups: []string{}, Scope: "read write",
		Extra: map[string]any{"email_verified": true, "n": 1.5}})
	hdr := http.Header{
		"Authorization": {"Bearer " + tok},
		"X-Custom":      {"one", "two"},
		"Cookie":        {"a=1; b=2"},
		"User-Agent":    {"curl/8.0"},
	}
	resp, _ := do(t, "GET", fx.api.URL+"/v1/orgs/o1/things/th%20ing?x=1&x=2&y=%C3%A9", hdr, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	var ev events.APIGatewayV2HTTPRequest
	raw := fx.echo.last(t)
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	checks := map[string][2]string{
		"version":              {ev.Version, "2.0"},
		"routeKey":             {ev.RouteKey, "GET /v1/orgs/{orgId}/things/{thing}"},
		"requestContext.route": {ev.RequestContext.RouteKey, "GET /v1/orgs/{orgId}/things/{thing}"},
		"rawPath":              {ev.RawPath, "/v1/orgs/o1/things/th%20ing"},
		"rawQueryString":       {ev.RawQueryString, "x=1&x=2&y=%C3%A9"},
		"query x":              {ev.QueryStringParameters["x"], "1,2"},
		"query y":              {ev.QueryStringParameters["y"], "é"},
		"path orgId":           {ev.PathParameters["orgId"], "o1"},
		"path thing":           {ev.PathParameters["thing"], "th ing"},
		"header x-custom":      {ev.Headers["x-custom"], "one,two"},
		// Passed on exactly as sent, under the lower-cased name: the
		// functions read list claims from the token in it.
		"header authorization": {ev.Headers["authorization"], "Bearer " + tok},
		"header Authorization": {ev.Headers["Authorization"], ""},
		"header user-agent":    {ev.Headers["user-agent"], "curl/8.0"},
		"header cookie":        {ev.Headers["cookie"], ""},
		"cookies":              {strings.Join(ev.Cookies, "|"), "a=1|b=2"},
		"method":               {ev.RequestContext.HTTP.Method, "GET"},
		"sourceIp":             {ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		"userAgent":            {ev.RequestContext.HTTP.UserAgent, "curl/8.0"},
		"stage":                {ev.RequestContext.Stage, "$default"},
		"requestId":            {ev.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid")},
		"claim sub":            {ev.RequestContext.Authorizer.JWT.Claims["sub"], "u1"},
		"claim org":            {ev.RequestContext.Authorizer.JWT.Claims["org_id"], "o1"},
		"claim roles":          {ev.RequestContext.Authorizer.JWT.Claims["roles"], "[org_admin member]"},
		"claim groups":         {ev.RequestContext.Authorizer.JWT.Claims["groups"], "[]"},
		"claim bool":           {ev.RequestContext.Authorizer.JWT.Claims["email_verified"], "true"},
		"claim number":         {ev.RequestContext.Authorizer.JWT.Claims["n"], "1.5"},
		"scopes":               {strings.Join(ev.RequestContext.Authorizer.JWT.Scopes, " "), "read write"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 || ev.RequestContext.Time == "" {
		t.Errorf("request context incomplete: %+v", ev.RequestContext)
	}
	if exp := ev.RequestContext.Authorizer.JWT.Claims["exp"]; strings.ContainsAny(exp, "e.") || len(exp) < 10 {
		t.Errorf("exp claim %q is not the integer API Gateway passes", exp)
	}
	// The payload is JSON exactly as API Gateway sends it: authorizer claims
	// are all strings.
	var generic map[string]any
	_ = json.Unmarshal(raw, &generic)
	claims := generic["requestContext"].(map[string]any)["authorizer"].(map[string]any)["jwt"].(map[string]any)["claims"].(map[string]any)
	for k, v := range claims {
		if _, ok := v.(string); !ok {
			t.Errorf("claim %s is %T in the payload, API Gateway sends strings", k, v)
		}
	}
	// Lambda context: request id and the template's timeout as deadline.
	fx.echo.mu.Lock()
	lc, dl := fx.echo.lambda[0], fx.echo.deadline[0]
	fx.echo.mu.Unlock()
	if lc == nil || lc.AwsRequestID == "" || !strings.HasSuffix(lc.InvokedFunctionArn, ":function:EchoFunction") {
		t.Errorf("lambda context = %+v", lc)
	}
	if dl <= 4*time.Second || dl > 5*time.Second {
		t.Errorf("deadline in %v, want the template's 5 s timeout", dl)
	}
}

func TestBodies(t *testing.T) {
	fx := newFixture(t)
	tok := mint(t, Claims{User: "u1", Org: "o1"})
	cases := []struct {
		name, contentType string
		body              []byte
		wantBase64        bool
	}{
		{"json", "application/json", []byte(`{"a":"é"}`), false},
		{"problem json", "application/problem+json", []byte(`{}`), false},
		{"form", "application/x-www-form-urlencoded", []byte(`a=1`), false},
		{"binary", "application/octet-stream", []byte{0xff, 0x00, 0x10}, true},
		{"invalid utf-8 text", "text/plain", []byte{0xff, 'a'}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := do(t, "PUT", fx.api.URL+"/v1/orgs/o1/things/x", http.Header{"Authorization": {tok}, "Content-Type": {c.contentType}}, bytes.NewReader(c.body))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var ev events.APIGatewayV2HTTPRequest
			_ = json.Unmarshal(fx.echo.last(t), &ev)
			if ev.IsBase64Encoded != c.wantBase64 {
				t.Fatalf("isBase64Encoded = %v", ev.IsBase64Encoded)
			}
			got := []byte(ev.Body)
			if ev.IsBase64Encoded {
				got, _ = base64.StdEncoding.DecodeString(ev.Body)
			}
			if !bytes.Equal(got, c.body) {
				t.Errorf("body %q, want %q", got, c.body)
			}
			if ev.Headers["content-length"] != strconvI(len(c.body)) {
				t.Errorf("content-length header %q", ev.Headers["content-length"])
			}
		})
	}
}

func strconvI(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestAuthorizer(t *testing.T) {
	fx := newFixture(t)
	now := time.Now()
	other := []byte("another-secret")
	wrongKey, _ := MintToken(other, Claims{User: "u1", Org: "o1"})
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"valid", mint(t, Claims{User: "u1", Org: "o1"}), 200},
		{"valid without Bearer prefix", "RAW", 200},
		{"missing", "", 401},
		{"garbage", "Bearer not-a-jwt", 401},
		{"expired", mint(t, Claims{User: "u1", Org: "o1", IssuedAt: now.Add(-2 * time.Hour), TTL: time.Hour}), 401},
		{"not yet valid", mint(t, Claims{User: "u1", Org: "o1", IssuedAt: now.Add(time.Hour)}), 401},
		{"no exp", mint(t, Claims{User: "u1", Org: "o1", Extra: map[string]any{"exp": nil}}), 401},
		{"wrong issuer", mint(t, Claims{User: "u1", Org: "o1", Issuer: "https://evil.example/"}), 401},
		{"wrong audience", mint(t, Claims{User: "u1", Org: "o1", Audience: "someone-else"}), 401},
		{"wrong key", wrongKey, 401},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSJ9.", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := http.Header{}
			switch {
			case c.token == "RAW":
				hdr.Set("Authorization", mint(t, Claims{User: "u1", Org: "o1"}))
			case c.token != "" && !strings.HasPrefix(c.token, "Bearer "):
				hdr.Set("Authorization", "Bearer "+c.token)
			case c.token != "":
				hdr.Set("Authorization", c.token)
			}
			before := fx.echo.count()
			resp, body := do(t, "GET", fx.api.URL+"/v1/orgs/o1/things/a", hdr, nil)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.want, body)
			}
			if c.want == 401 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q", ct)
				}
				var p map[string]any
				_ = json.Unmarshal(body, &p)
				if p["code"] != "unauthorized" || p["status"] != 401.0 || p["requestId"] == "" {
					t.Errorf("problem %s", body)
				}
				if !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Bearer") {
					t.Errorf("no WWW-Authenticate header")
				}
				if fx.echo.count() != before {
					t.Errorf("the function was invoked without a valid token")
				}
			}
		})
	}

	t.Run("public route needs no token and gets no authorizer", func(t *testing.T) {
		resp, _ := do(t, "GET", fx.api.URL+"/public?code=secret-code", nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var ev events.APIGatewayV2HTTPRequest
		_ = json.Unmarshal(fx.echo.last(t), &ev)
		if ev.RequestContext.Authorizer != nil {
			t.Errorf("authorizer on a public route: %+v", ev.RequestContext.Authorizer)
		}
		if strings.Contains(fx.logs.String(), "secret-code") {
			t.Errorf("the query string was logged")
		}
	})
}

func TestRouting(t *testing.T) {
	fx := newFixture(t)
	tok := "Bearer " + mint(t, Claims{User: "u1", Org: "o1"})
	cases := []struct {
		method, path string
		want         int
		routeKey     string
		proxy        string
	}{
		{"GET", "/nope", 404, "", ""},
		{"DELETE", "/v1/orgs/o1/things/a", 404, "", ""}, // API Gateway has no 405
		{"HEAD", "/public", 404, "", ""},
		{"GET", "/v1/orgs/o1/things/a/extra", 404, "", ""},
		{"POST", "/files/a/b/c.txt", 200, "ANY /files/{proxy+}", "a/b/c.txt"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			resp, body := do(t, c.method, fx.api.URL+c.path, http.Header{"Authorization": {tok}}, nil)
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if c.want == 404 && c.method != "HEAD" {
				var p map[string]any
				if json.Unmarshal(body, &p) != nil || p["code"] != "not_found" {
					t.Errorf("404 body %s", body)
				}
			}
			if c.routeKey != "" {
				var ev events.APIGatewayV2HTTPRequest
				_ = json.Unmarshal(fx.echo.last(t), &ev)
				if ev.RouteKey != c.routeKey || ev.PathParameters["proxy"] != c.proxy {
					t.Errorf("routeKey %q proxy %q", ev.RouteKey, ev.PathParameters["proxy"])
				}
			}
		})
	}
}

func TestResponses(t *testing.T) {
	cases := []struct {
		name       string
		respond    func(context.Context, []byte) ([]byte, error)
		wantStatus int
		wantBody   string
		check      func(t *testing.T, h http.Header)
	}{
		{
			name: "structured",
			respond: func(context.Context, []byte) ([]byte, error) {
				return json.Marshal(events.APIGatewayV2HTTPResponse{
					StatusCode: 201, Headers: map[string]string{"Content-Type": "text/plain", "ETag": `"3"`},
					MultiValueHeaders: map[string][]string{"Vary": {"a", "b"}},
					Cookies:           []string{"s=1; HttpOnly", "t=2"}, Body: "made",
				})
			},
			wantStatus: 201, wantBody: "made",
			check: func(t *testing.T, h http.Header) {
				if h.Get("Etag") != `"3"` || len(h.Values("Set-Cookie")) != 2 || len(h.Values("Vary")) != 2 || h.Get("Content-Type") != "text/plain" {
					t.Errorf("headers %v", h)
				}
			},
		},
		{
			name: "base64",
			respond: func(context.Context, []byte) ([]byte, error) {
				return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: base64.StdEncoding.EncodeToString([]byte{1, 2}), IsBase64Encoded: true,
					Headers: map[string]string{"Content-Type": "application/octet-stream"}})
			},
			wantStatus: 200, wantBody: "\x01\x02",
		},
		{
			name:       "unstructured result becomes a 200 JSON body",
			respond:    func(context.Context, []byte) ([]byte, error) { return []byte(`{"hello":"world"}`), nil },
			wantStatus: 200, wantBody: `{"hello":"world"}`,
			check: func(t *testing.T, h http.Header) {
				if h.Get("Content-Type") != "application/json" {
					t.Errorf("content type %q", h.Get("Content-Type"))
				}
			},
		},
		{
			name:       "function error is a bare 500 problem",
			respond:    func(context.Context, []byte) ([]byte, error) { return nil, io.ErrUnexpectedEOF },
			wantStatus: 500,
		},
		{
			name:       "panic is a 500 problem",
			respond:    func(context.Context, []byte) ([]byte, error) { panic("boom") },
			wantStatus: 500,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fx := newFixture(t)
			fx.echo.respond = c.respond
			resp, body := do(t, "GET", fx.api.URL+"/public", nil, nil)
			if resp.StatusCode != c.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.wantStatus)
			}
			if c.wantStatus == 500 {
				var p map[string]any
				if json.Unmarshal(body, &p) != nil || p["code"] != "internal_error" || strings.Contains(string(body), "boom") || strings.Contains(string(body), "EOF") {
					t.Errorf("500 body %s", body)
				}
				return
			}
			if string(body) != c.wantBody {
				t.Errorf("body %q, want %q", body, c.wantBody)
			}
			if c.check != nil {
				c.check(t, resp.Header)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	fx := newFixture(t)
	start := time.Now()
	resp, _ := do(t, "GET", fx.api.URL+"/slow", nil, nil)
	if resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if d := time.Since(start); d < time.Second || d > 3*time.Second {
		t.Errorf("answered after %v, want the 1 s timeout", d)
	}
	if !strings.Contains(fx.logs.String(), "function timed out") {
		t.Errorf("timeout not logged")
	}
}

func TestInvokeAPI(t *testing.T) {
	fx := newFixture(t)
	fx.tick.respond = func(_ context.Context, p []byte) ([]byte, error) {
		if bytes.Contains(p, []byte("fail")) {
			return nil, io.ErrUnexpectedEOF
		}
		return []byte(`{"refreshed":3}`), nil
	}
	url := func(name string) string { return fx.invoke.URL + "/2015-03-31/functions/" + name + "/invocations" }

	resp, body := do(t, "POST", url("TickFunction"), nil, strings.NewReader(`{"x":1}`))
	if resp.StatusCode != 200 || string(body) != `{"refreshed":3}` || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke: %d %s", resp.StatusCode, body)
	}
	if got := string(fx.tick.last(t)); got != `{"x":1}` {
		t.Errorf("payload %s", got)
	}

	resp, _ = do(t, "POST", url("arn:aws:lambda:us-east-1:000000000000:function:TickFunction:$LATEST"), nil, nil)
	if resp.StatusCode != 200 || string(fx.tick.last(t)) != "{}" {
		t.Errorf("ARN with qualifier and empty payload: %d %s", resp.StatusCode, fx.tick.last(t))
	}

	resp, body = do(t, "POST", url("TickFunction"), http.Header{"X-Amz-Log-Type": {"Tail"}}, strings.NewReader(`"fail"`))
	if resp.StatusCode != 200 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" {
		t.Fatalf("function error: %d %v", resp.StatusCode, resp.Header)
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) != nil || fe.Type == "" || fe.Message == "" {
		t.Errorf("error payload %s", body)
	}
	if tail, _ := base64.StdEncoding.DecodeString(resp.Header.Get("X-Amz-Log-Result")); !strings.Contains(string(tail), "REPORT RequestId:") {
		t.Errorf("log tail %q", tail)
	}

	resp, body = do(t, "POST", url("NoSuchFunction"), nil, nil)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "ResourceNotFoundException" || !strings.Contains(string(body), "Function not found") {
		t.Errorf("unknown function: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, _ = do(t, "POST", url("TickFunction"), nil, strings.NewReader(`{not json`))
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "InvalidRequestContentException" {
		t.Errorf("invalid JSON: %d", resp.StatusCode)
	}
	before := fx.tick.count()
	resp, _ = do(t, "POST", url("TickFunction"), http.Header{"X-Amz-Invocation-Type": {"DryRun"}}, nil)
	if resp.StatusCode != 204 || fx.tick.count() != before {
		t.Errorf("DryRun: %d, invoked %d times", resp.StatusCode, fx.tick.count()-before)
	}
	resp, _ = do(t, "POST", url("TickFunction"), http.Header{"X-Amz-Invocation-Type": {"Event"}}, nil)
	if resp.StatusCode != 202 {
		t.Errorf("Event: %d", resp.StatusCode)
	}
	waitFor(t, func() bool { return fx.tick.count() == before+1 })
	// The API functions are reachable through the Invoke API too, with an
	// API Gateway event, as with sam local start-lambda.
	resp, body = do(t, "POST", url("EchoFunction"), nil, strings.NewReader(`{"version":"2.0"}`))
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"statusCode":200`) {
		t.Errorf("EchoFunction: %d %s", resp.StatusCode, body)
	}
}

func TestRunSchedule(t *testing.T) {
	fx := newFixture(t, func(o *Options) { o.ScheduleInterval = 20 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { fx.srv.RunSchedule(ctx); close(done) }()
	waitFor(t, func() bool { return fx.tick.count() >= 2 })
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("RunSchedule did not return after cancel")
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(fx.tick.last(t), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.ID == "" || len(ev.Resources) != 1 || string(ev.Detail) != "{}" {
		t.Errorf("scheduled event %+v", ev)
	}
	if fx.echo.count() != 0 || fx.slow.count() != 0 {
		t.Errorf("functions without a schedule were invoked")
	}
}

func TestNewRefusesIncompleteSetup(t *testing.T) {
	if _, err := New(Options{Template: "testdata/template.yaml", Handlers: map[string]lambda.Handler{}, JWTSecret: testSecret}); err == nil {
		t.Error("New accepted a template function without a handler")
	}
	if _, err := New(Options{Template: "testdata/template.yaml"}); err == nil {
		t.Error("New accepted an empty JWT secret")
	}
	if _, err := New(Options{Template: "testdata/missing.yaml", JWTSecret: testSecret}); err == nil {
		t.Error("New accepted a missing template")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
