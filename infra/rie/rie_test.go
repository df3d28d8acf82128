package rie_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/rie"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/config"
)

func TestMain(m *testing.M) { moto.Main(m) }

// commands maps each function to its command under functions/.
var commands = map[string]string{
	config.AdminFunction:       "./functions/admin",
	config.OAuthFunction:       "./functions/oauth",
	config.RefreshFunction:     "./functions/refresh",
	config.DiagnosticsFunction: "./functions/diagnostics",
	config.EventsFunction:      "./functions/events",
}

// expectation is what one events/ file must get from a fresh deployment
// (empty table, the fake provider's default clients), the files of a
// function being sent in this order, the functions in the order of
// scenario.
type expectation struct {
	file string
	// name, body and header make a variant of file: the same request with
	// this body (and content-length) and these headers set ("" deletes
	// one), named name. Variants drive the same route through more of the
	// function's code than the one sample of each route does.
	name   string
	body   string
	header map[string]string
	status int
	// code is the problem+json code of an error answer.
	code string
	// check looks at the decoded JSON body of a success.
	check func(t *testing.T, body map[string]any)
}

// msSettings is a PutIntegration body for microsoft365 (the sample's
// tenant and capabilities).
func msSettings(enabled bool, mode, clientID string) string {
	b, _ := json.Marshal(map[string]any{
		"enabled": enabled, "configMode": mode, "clientId": clientID, "tenant": "contoso.example",
		"capabilities": []string{"email", "calendar"}, "allowWriteActions": false,
		"rollout": map[string]any{"mode": "groups", "groups": []string{"pilot"}},
	})
	return string(b)
}

// ifMatch sets If-Match to version v's ETag (and drops the sample's
// If-None-Match).
func ifMatch(v int) map[string]string {
	return map[string]string{"if-match": fmt.Sprintf(`"%d"`, v), "if-none-match": ""}
}

// byProvider is the query of an org's connections of one provider, which
// AdminFunction makes for the rollout view and DiagnosticsFunction for an
// admin's count of users who still need to consent (moto does not enforce
// IAM: the recorder does).
var byProvider = awsCall{action: "dynamodb:Query", resource: "/index/ByProvider"}

var scenario = []struct {
	function string
	events   []expectation
	// mustCall are AWS calls the function must make during its events
	// (resource: a suffix), so that the permission check covers them.
	mustCall []awsCall
}{
	{config.AdminFunction, []expectation{
		{file: "ListProviders.json", status: 200, check: func(t *testing.T, b map[string]any) {
			wantLen(t, b["providers"], 3)
		}},
		{file: "ListIntegrations.json", status: 200, check: func(t *testing.T, b map[string]any) {
			wantLen(t, b["integrations"], 3)
		}},
		{file: "GetIntegration.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "provider", "microsoft365")
			want(t, b, "configured", false)
		}},
		{file: "PutIntegration.json", status: 201, check: func(t *testing.T, b map[string]any) {
			want(t, b, "enabled", true)
			want(t, b, "tenant", "contoso.example")
		}},
		// Disabled, enabled again, switched to an org-owned client and
		// back: each save asks the refresh runs (a job) to put back the
		// connections it no longer keeps off the schedule.
		{file: "PutIntegration.json", name: "Disable", body: msSettings(false, "default", ""), header: ifMatch(1), status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "enabled", false)
		}},
		{file: "PutIntegration.json", name: "EnableAgain", body: msSettings(true, "default", ""), header: ifMatch(2), status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "enabled", true)
		}},
		{file: "PutIntegration.json", name: "OrganizationClient", body: msSettings(true, "organization", "11111111-2222-3333-4444-555555555555"), header: ifMatch(3), status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "configMode", "organization")
		}},
		{file: "PutIntegration.json", name: "DefaultClientAgain", body: msSettings(true, "default", ""), header: ifMatch(4), status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "configMode", "default")
			want(t, b, "version", 5.0)
		}},
		{file: "PutClientSecret.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "provider", "google_workspace")
			want(t, b, "clientSecretConfigured", true)
		}},
		{file: "DeleteClientSecret.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "clientSecretConfigured", false)
		}},
		{file: "ListAudit.json", status: 200, check: func(t *testing.T, b map[string]any) {
			entries, _ := b["entries"].([]any)
			if len(entries) < 3 {
				t.Errorf("audit has %d entries after a save, a secret set and removed", len(entries))
			}
		}},
		// The rollout view reads the connections (ByProvider), the last
		// run's summary and the connect attempts (the table).
		{file: "GetRollout.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "provider", "microsoft365")
			want(t, b, "connections", 0.0)
			want(t, b, "lastRefreshRun", nil)
		}},
	}, []awsCall{byProvider}},
	{config.OAuthFunction, []expectation{
		// Google Workspace has a secret history but was never enabled.
		{file: "StartConnection.json", status: 409, code: "provider_disabled"},
		// The sample's state was never issued: an HTML page, no exchange.
		{file: "Callback.json", status: 400},
		// The sample's handle was never issued: nobody's completion.
		{file: "CompleteConnection.json", status: 404, code: "completion_not_found"},
		{file: "ListConnections.json", status: 200, check: func(t *testing.T, b map[string]any) {
			wantLen(t, b["connections"], 0)
		}},
		{file: "Disconnect.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "deleted", false)
		}},
		// The admin's test account: refused like a user's start while the
		// provider is not enabled; nothing to disconnect.
		{file: "StartTestAccount.json", status: 409, code: "provider_disabled"},
		{file: "DisconnectTestAccount.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "deleted", false)
			want(t, b, "revocation", "none")
		}},
		// Microsoft 365 was enabled by AdminFunction: the admin consent
		// URL of its tenant (the state stored; the outcome is the
		// callback's).
		{file: "StartAdminConsent.json", status: 201, check: func(t *testing.T, b map[string]any) {
			want(t, b, "provider", "microsoft365")
			if u, _ := b["authorizationUrl"].(string); !strings.Contains(u, "/contoso.example/v2.0/adminconsent?") {
				t.Errorf("authorizationUrl %q: want the tenant's v2.0 adminconsent endpoint", u)
			}
		}},
	}, nil},
	{config.DiagnosticsFunction, []expectation{
		{file: "Diagnose.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "overall", "blocked")
			checks, _ := b["checks"].([]any)
			status := map[string]any{}
			for _, c := range checks {
				m, _ := c.(map[string]any)
				status[fmt.Sprint(m["id"])] = m["status"]
			}
			if status["provider_enabled"] != "pass" || status["user_connected"] != "fail" {
				t.Errorf("checks %v: want provider_enabled pass (saved by AdminFunction) and user_connected fail", status)
			}
			// The sample's caller is an admin: nobody has connected yet.
			want(t, b, "usersNeedingConsent", 0.0)
		}},
		{file: "TestIntegration.json", status: 200, check: func(t *testing.T, b map[string]any) {
			want(t, b, "overall", "blocked")
			want(t, b, "writesPerformed", false)
		}},
	}, []awsCall{byProvider}},
	{config.RefreshFunction, []expectation{
		{file: "Schedule.json", check: func(t *testing.T, b map[string]any) {
			want(t, b, "complete", true)
			want(t, b, "due", 0.0)
		}},
	}, nil},
	// A batch of the table's stream: the events it implies go to the bus
	// (moto_server's default bus), and none of its records failed.
	{config.EventsFunction, []expectation{
		{file: "EventsStreamMapping.json", check: func(t *testing.T, b map[string]any) {
			wantLen(t, b["batchItemFailures"], 0)
		}},
	}, []awsCall{{action: "events:PutEvents", resource: "event-bus/default"}}},
}

func want(t *testing.T, b map[string]any, key string, v any) {
	t.Helper()
	if b[key] != v {
		t.Errorf("%s = %#v, want %#v", key, b[key], v)
	}
}

func wantLen(t *testing.T, v any, n int) {
	t.Helper()
	l, ok := v.([]any)
	if !ok || len(l) != n {
		t.Errorf("got %v, want a list of %d", v, n)
	}
}

type built struct {
	once      sync.Once
	root      string
	emulator  string
	bootstrap map[string]string
	sizes     map[string]int64
	err       error
}

var bins built

// buildAll builds the emulator and the five bootstraps once per test
// binary. A failure fails the test: the emulator is pinned in go.mod, so it
// can always be built where the module can.
func buildAll(t *testing.T) *built {
	t.Helper()
	bins.once.Do(func() {
		ctx := context.Background()
		bins.root, bins.err = filepath.Abs("../..")
		if bins.err != nil {
			return
		}
		if bins.emulator, bins.err = rie.EmulatorPath(ctx, bins.root); bins.err != nil {
			return
		}
		dir, err := os.MkdirTemp("", "rie-bootstraps-")
		if err != nil {
			bins.err = err
			return
		}
		bins.bootstrap, bins.sizes = map[string]string{}, map[string]int64{}
		for id, pkg := range commands {
			out, err := rie.BuildBootstrap(ctx, bins.root, pkg, filepath.Join(dir, id))
			if err != nil {
				bins.err = err
				return
			}
			fi, err := os.Stat(out)
			if err != nil {
				bins.err = err
				return
			}
			bins.bootstrap[id], bins.sizes[id] = out, fi.Size()
		}
	})
	if bins.err != nil {
		t.Fatalf("cannot build what the emulator tests need: %v", bins.err)
	}
	return &bins
}

// TestEveryBootstrapAnswersItsEvents posts every events/ file to the built
// bootstrap of its function through the runtime emulator, on the AWS
// adapters against moto_server (the only stores a bootstrap links; see
// TestBootstrapsRefuseTheEmbeddedStore).
func TestEveryBootstrapAnswersItsEvents(t *testing.T) {
	b := buildAll(t)
	// The scenario covers exactly the files in events/.
	var files, covered []string
	for _, sc := range scenario {
		for _, e := range sc.events {
			if e.name == "" {
				covered = append(covered, sc.function+"/"+e.file)
			}
		}
	}
	matches, _ := filepath.Glob(filepath.Join(b.root, "events", "*", "*.json"))
	for _, m := range matches {
		rel, _ := filepath.Rel(filepath.Join(b.root, "events"), m)
		files = append(files, filepath.ToSlash(rel))
	}
	sort.Strings(files)
	sort.Strings(covered)
	if !slices.Equal(files, covered) {
		t.Fatalf("events/ holds %v, the scenario covers %v", files, covered)
	}

	runScenario(t, b)
}

// TestBootstrapsRefuseTheEmbeddedStore: the embedded store is for local
// runs only and is not linked into a Lambda build; a bootstrap configured
// for it fails its init instead of starting on nothing.
func TestBootstrapsRefuseTheEmbeddedStore(t *testing.T) {
	b := buildAll(t)
	ctx := context.Background()
	env := []string{"ENVIRONMENT=test", "STORE=embedded", "LOCAL_DATA_DIR=" + t.TempDir(), "ALLOWED_RETURN_URLS=https://app.example.com/"}
	for _, id := range []string{config.AdminFunction, config.RefreshFunction} {
		emu, err := rie.Start(ctx, rie.Config{Emulator: b.emulator, Bootstrap: b.bootstrap[id], FunctionName: id, Timeout: 10, Env: env})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		out, _, _ := emu.Invoke(ctx, []byte(`"warm-up"`))
		// (The reason is logged by the function; the emulator reports the
		// failed init. shared/app's TestEmbeddedStoreIsNotBuiltIn checks
		// the reason itself.)
		if strings.Contains(string(out), "statusCode") || !strings.Contains(emu.Output(), "Init failed") {
			t.Errorf("%s started on STORE=embedded: %s\n%s", id, out, emu.Output())
		}
		emu.Stop()
	}
}

func runScenario(t *testing.T, b *built) {
	ctx := context.Background()
	fake := httptest.NewServer(fakeprovider.New(fakeprovider.Options{AutoApprove: true}))
	t.Cleanup(fake.Close)

	vars := map[string]string{
		"ENVIRONMENT":                "test",
		"PROVIDER_ENDPOINT_OVERRIDE": fake.URL,
		"ALLOWED_RETURN_URLS":        "https://app.example.com/",
	}
	// Every AWS call of the bootstraps goes through the recorder.
	rec, endpoint := newCallRecorder(t, moto.Endpoint(t))
	prefix := moto.Prefix(t)
	for k, v := range map[string]string{
		"STORE": "aws", "TABLE_NAME": prefix + "table",
		"SECRETS_PREFIX": "integrations/" + prefix + "rie", "TOKEN_KEY_SECRET_ID": "integrations/" + prefix + "rie/token-key",
		"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": moto.Region,
	} {
		vars[k] = v
	}
	seedDefaultClients(t, vars)

	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	tmpl, err := localserver.LoadTemplate(filepath.Join(b.root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenario {
		emu, err := rie.Start(ctx, rie.Config{
			Emulator: b.emulator, Bootstrap: b.bootstrap[sc.function], FunctionName: sc.function,
			Timeout: tmpl.Functions[sc.function].Timeout, Env: env,
		})
		if err != nil {
			t.Fatalf("%s: %v", sc.function, err)
		}
		// The first invocation starts the function (its init phase: in a
		// local configuration that also creates the table and token key,
		// which a deployment never does). Its payload is not an event the
		// handler can decode, so it does no work: process start to this
		// answer is the cold start.
		out, _, err := emu.Invoke(ctx, []byte(`"warm-up"`))
		cold := time.Since(emu.Started())
		if err != nil || !strings.Contains(string(out), "errorType") {
			t.Fatalf("%s: warm-up invocation: %v %s\n%s", sc.function, err, out, emu.Output())
		}
		if rec != nil {
			rec.reset()
		}
		for _, e := range sc.events {
			payload, err := os.ReadFile(filepath.Join(b.root, "events", sc.function, e.file))
			if err != nil {
				t.Fatal(err)
			}
			name := sc.function + "/" + e.file
			if e.name != "" {
				payload = variant(t, payload, e)
				name = sc.function + "/" + e.name + ".json"
			}
			out, _, err := emu.Invoke(ctx, payload)
			if err != nil {
				t.Errorf("%s: %v\n%s", name, err, emu.Output())
				continue
			}
			t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) { checkAnswer(t, sc.function, e, out) })
		}
		// Warm latency: the first event again, a few times.
		first, _ := os.ReadFile(filepath.Join(b.root, "events", sc.function, sc.events[0].file))
		var warm []time.Duration
		for range 7 {
			_, took, err := emu.Invoke(ctx, first)
			if err != nil {
				t.Errorf("%s warm invoke: %v", sc.function, err)
				break
			}
			warm = append(warm, took)
		}
		slices.Sort(warm)
		emu.Stop()
		if rec != nil {
			calls := rec.take()
			if len(calls) == 0 {
				t.Errorf("%s made no AWS call through the recorder: is AWS_ENDPOINT_URL honoured?", sc.function)
			}
			checkPermissions(t, sc.function, calls, vars)
			for _, must := range sc.mustCall {
				if !slices.ContainsFunc(calls, func(c awsCall) bool {
					return c.action == must.action && strings.HasSuffix(c.resource, must.resource)
				}) {
					t.Errorf("%s made no %s on *%s during its events: the scenario no longer exercises it", sc.function, must.action, must.resource)
				}
			}
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", sc.function, tail(emu.Output(), 4000))
		}
		if len(warm) > 0 {
			t.Logf("%-20s %-8s bootstrap %5.2f MiB  cold (process start to first answer) %7.1f ms  warm median %5.2f ms",
				sc.function, "aws", float64(b.sizes[sc.function])/(1<<20), ms(cold), ms(warm[len(warm)/2]))
		}
	}
}

// checkAnswer asserts on a function's answer: an API Gateway response with
// the expected status, problem+json code or body shape, or the refresh
// result.
func checkAnswer(t *testing.T, function string, e expectation, out []byte) {
	if function == config.RefreshFunction || function == config.EventsFunction {
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("not a JSON result: %s", out)
		}
		if _, failed := res["errorType"]; failed {
			t.Fatalf("function error: %s", out)
		}
		e.check(t, res)
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		t.Fatalf("not an API Gateway response: %s", out)
	}
	if resp.StatusCode != e.status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, e.status, resp.Body)
	}
	if resp.Headers["X-Request-Id"] == "" {
		t.Errorf("no X-Request-Id header: %v", resp.Headers)
	}
	ct := resp.Headers["Content-Type"]
	switch {
	case e.code != "":
		var p map[string]any
		if ct != "application/problem+json" || json.Unmarshal([]byte(resp.Body), &p) != nil {
			t.Fatalf("not problem+json (%s): %s", ct, resp.Body)
		}
		want(t, p, "code", e.code)
		want(t, p, "status", float64(e.status))
	case e.check != nil:
		var body map[string]any
		if !strings.HasPrefix(ct, "application/json") || json.Unmarshal([]byte(resp.Body), &body) != nil {
			t.Fatalf("not a JSON object (%s): %s", ct, resp.Body)
		}
		e.check(t, body)
	default:
		// The OAuth callback without a usable returnTo: a small HTML page,
		// never a stack trace.
		if !strings.HasPrefix(ct, "text/html") || strings.Contains(resp.Body, "goroutine") {
			t.Errorf("callback page (%s): %.300s", ct, resp.Body)
		}
	}
}

// variant is the sample event payload with e's body and headers.
func variant(t *testing.T, payload []byte, e expectation) []byte {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("%s: %v", e.file, err)
	}
	ev.Body = e.body
	ev.Headers["content-length"] = fmt.Sprint(len(e.body))
	for k, v := range e.header {
		if v == "" {
			delete(ev.Headers, k)
		} else {
			ev.Headers[k] = v
		}
	}
	ev.RequestContext.RequestID = e.name
	return localserver.MarshalHTTPEvent(ev)
}

// seedDefaultClients stores the fake provider's default clients as the
// deployment's, through the same adapters the bootstraps use (creating the
// table and secrets on moto for STORE=aws).
func seedDefaultClients(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		if v, ok := vars[k]; ok {
			t.Setenv(k, v)
		}
	}
	cfg, err := config.FromEnv(func(n string) string { return vars[n] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := localapp.Build(ctx, cfg)
	if err != nil {
		t.Fatalf("build dependencies for seeding: %v", err)
	}
	defer d.Close()
	if err := localserver.SeedDefaultClients(ctx, d.Secrets, fakeprovider.DefaultClients()); err != nil {
		t.Fatal(err)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// awsCall is one AWS API call a function made, as IAM sees it.
type awsCall struct{ action, resource string }

// callRecorder sits between the bootstraps and moto_server (their
// AWS_ENDPOINT_URL) and records every call, so the test can hold each
// function's calls to app.Permissions: the least privilege the template
// grants is checked against what the built binary really does.
type callRecorder struct {
	mu    sync.Mutex
	calls []awsCall
}

func (c *callRecorder) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

func (c *callRecorder) take() []awsCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func newCallRecorder(t *testing.T, target string) (*callRecorder, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &callRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec.record(r.Header.Get("X-Amz-Target"), body)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// record turns one request (JSON protocol: X-Amz-Target names the
// operation) into the IAM actions it needs and their resources.
func (c *callRecorder) record(target string, body []byte) {
	service, op, ok := strings.Cut(target, ".")
	if !ok {
		return
	}
	var in struct {
		TableName, IndexName, SecretId, Name string
		TransactItems                        []map[string]struct{ TableName string }
		Entries                              []struct{ EventBusName string }
	}
	_ = json.Unmarshal(body, &in)
	var calls []awsCall
	switch {
	case strings.HasPrefix(service, "DynamoDB"):
		switch op {
		case "TransactWriteItems":
			// IAM checks the action of each item; the transaction itself
			// has no action.
			actions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
			for _, item := range in.TransactItems {
				for kind, x := range item {
					calls = append(calls, awsCall{"dynamodb:" + actions[kind], "table/" + x.TableName})
				}
			}
		default:
			res := "table/" + in.TableName
			if in.IndexName != "" {
				res += "/index/" + in.IndexName
			}
			calls = append(calls, awsCall{"dynamodb:" + op, res})
		}
	case service == "AWSEvents":
		// PutEvents: IAM checks each entry's bus.
		for _, e := range in.Entries {
			bus := e.EventBusName
			if bus == "" {
				bus = "default"
			}
			calls = append(calls, awsCall{"events:" + op, "event-bus/" + bus})
		}
	case service == "secretsmanager":
		id := in.SecretId
		if id == "" {
			id = in.Name
		}
		calls = append(calls, awsCall{"secretsmanager:" + op, "secret/" + id})
	}
	c.mu.Lock()
	c.calls = append(c.calls, calls...)
	c.mu.Unlock()
}

// checkPermissions fails for every call app.Permissions does not grant the
// function.
func checkPermissions(t *testing.T, function string, calls []awsCall, vars map[string]string) {
	t.Helper()
	perm := app.Permissions[function]
	table := "table/" + vars["TABLE_NAME"]
	prefix := "secret/" + vars["SECRETS_PREFIX"]
	for _, c := range calls {
		var ok bool
		switch {
		case c.resource == table:
			ok = slices.Contains(perm.TableActions, c.action)
		case strings.HasPrefix(c.resource, table+"/index/"):
			ok = c.action == "dynamodb:Query" && slices.Contains(perm.Indexes, strings.TrimPrefix(c.resource, table+"/index/"))
		case c.resource == "secret/"+vars["TOKEN_KEY_SECRET_ID"]:
			ok = slices.Contains(perm.Secrets[app.SecretTokenKey], c.action)
		case strings.HasPrefix(c.resource, prefix+"/orgs/"):
			ok = slices.Contains(perm.Secrets[app.SecretOrgClients], c.action)
		case strings.HasPrefix(c.resource, prefix+"/default-clients/"):
			ok = slices.Contains(perm.Secrets[app.SecretDefaultClients], c.action)
		case c.resource == "event-bus/"+cmp.Or(vars["EVENT_BUS_NAME"], "default"):
			ok = slices.Contains(perm.EventBusActions, c.action)
		}
		if !ok {
			t.Errorf("%s called %s on %s, which app.Permissions (and so the template) does not grant it", function, c.action, c.resource)
		}
	}
}
