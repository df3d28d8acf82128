package systemtest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/hygiene"
)

// captureStdio sends the process's stdout and stderr to a buffer until the
// returned function is called, which restores them and returns what was
// written. Writers chosen from os.Stdout while it runs (the refresh
// function's EMF metric lines, the AWS SDK's logger) write to the buffer.
// The test using it must not run in parallel with others.
func captureStdio(t *testing.T) func() string {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = wr, wr
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&buf, r); close(done) }()
	restore := sync.OnceFunc(func() {
		os.Stdout, os.Stderr = oldOut, oldErr
		wr.Close()
		<-done
	})
	t.Cleanup(restore)
	return func() string { restore(); return buf.String() }
}

// randomText is n random bytes, base64url.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// leakSecrets are each provider's organization client secret of the leak
// run, in the provider's real shape (built at run time: no
// credential-shaped literal in the source).
func leakSecrets() map[string]string {
	hexDigits := make([]byte, 32)
	_, _ = rand.Read(hexDigits)
	return map[string]string{
		// Microsoft Entra: three characters, a digit, "Q~", then 31 more.
		catalog.Microsoft365:    "Lk" + "x" + "8" + "Q~" + strings.ReplaceAll(randomText(24), "-", "_")[:31],
		catalog.GoogleWorkspace: "GOCSPX-" + strings.ReplaceAll(randomText(21), "-", "_")[:28],
		// Salesforce consumer secrets are long hex strings.
		catalog.Salesforce: strings.ToUpper(hex.EncodeToString(hexDigits)),
	}
}

// TestNoSecretLeaks is one whole run of the service on the AWS adapters
// with planted credentials: every organization client secret, the
// platform's default clients' secrets, the token-encryption key, and every
// access token, refresh token, ID token, authorization code, state value,
// PKCE verifier and client secret that crossed the wire (recorded off it,
// localtest.Wire). The run drives every route, including error paths and
// provider faults. Then everything it produced is searched for each planted
// value, also base64-, URL- and JSON-encoded: every response (status,
// headers, body), every log line, the process's stdout and stderr (EMF
// metric lines, the SDK's logger), every refresh result, every audit entry,
// every DynamoDB item of a raw Scan with all its attributes (sealed token
// bytes are ciphertext: they may hold anything but the plaintext), and
// every lifecycle event the run put on EventBridge (issue 16: drained from
// the table's stream through EventsFunction, read back whole, envelope and
// detail, from moto_server's bus).
// The sample events and test fixtures hold none either.
func TestNoSecretLeaks(t *testing.T) {
	// Not parallel: stdout and stderr are the process's.
	stdio := captureStdio(t)
	wire := &localtest.Wire{}
	w := newWorld(t, localtest.WithAWS(), localtest.WithWire(wire), localtest.WithClock(morning), localtest.WithEnv("PROVIDER_TIMEOUT_MS", providerTimeoutMS))
	ctx := context.Background()
	var outputs []string // refresh results and invocation errors
	run := func() {
		out, err := w.env.InvokeRefresh(ctx)
		outputs = append(outputs, string(out))
		if err != nil {
			outputs = append(outputs, err.Error())
			t.Fatalf("refresh run: %v", err)
		}
	}

	planted := map[string]string{} // value → what it is
	orgSecrets := leakSecrets()
	for p, s := range orgSecrets {
		planted[s] = "org client secret " + p
	}
	for p, dc := range fakeprovider.DefaultClients() {
		planted[dc.ClientSecret] = "default client secret " + p
	}
	wrongSecret := "fake-client-secret-wrong-" + randomText(12)
	planted[wrongSecret] = "a wrong client secret an admin saved"

	const orgA, orgB = "org-leak-own-clients", "org-leak-default-clients"
	member, admin := "u-leak-member", "u-leak-admin"
	memberA, adminA := w.member(orgA, member), w.env.AdminToken(admin, orgA)
	memberB, adminB := w.member(orgB, member), w.env.AdminToken(admin, orgB)

	// Admin setup: organization-owned clients in org A (Salesforce with
	// refresh-token rotation), default clients in org B.
	want(t, w.do(t, "GET", "/v1/providers", memberA, nil, nil), 200, "")
	for _, p := range providers {
		w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: p, ClientID: orgClients[p], Secret: orgSecrets[p],
			RotateRefreshTokens: p == catalog.Salesforce, RedirectURIs: []string{w.env.URL + "/oauth/callback"}})
		path := integrationPath(orgA, p)
		want(t, w.do(t, "PUT", path, adminA, orgBody(p), nil), 201, "")
		resp := w.do(t, "PUT", path+"/client-secret", adminA, map[string]string{"clientSecret": orgSecrets[p]}, nil)
		want(t, resp, 200, "")
		if !strings.Contains(string(resp.Body), `"result":"valid"`) {
			t.Fatalf("%s: the credential check did not pass: %s", p, resp.Body)
		}
		want(t, w.do(t, "GET", path, adminA, nil, nil), 200, "")
		w.enable(t, orgB, p)
	}
	want(t, w.do(t, "GET", "/v1/orgs/"+orgA+"/integrations", memberA, nil, nil), 200, "")
	want(t, w.do(t, "GET", "/v1/orgs/"+orgA+"/integrations", adminA, nil, nil), 200, "")

	// Admin error paths, each with a secret in the request.
	gw := integrationPath(orgA, catalog.GoogleWorkspace)
	for _, field := range []string{"hostedDomain", "clientId"} {
		body := orgBody(catalog.GoogleWorkspace)
		body[field] = orgSecrets[catalog.GoogleWorkspace]
		want(t, w.do(t, "PUT", gw, adminA, body, http.Header{"If-Match": {"*"}}), 400, "credential_in_field")
	}
	body := orgBody(catalog.Salesforce)
	body["authBaseUrl"] = "https://login.salesforce.com/?secret=" + orgSecrets[catalog.Salesforce]
	want(t, w.do(t, "PUT", integrationPath(orgA, catalog.Salesforce), adminA, body, http.Header{"If-Match": {"*"}}), 400, "")
	body = integrationBody(catalog.Microsoft365)
	body["clientSecret"] = orgSecrets[catalog.Microsoft365]
	want(t, w.do(t, "PUT", integrationPath(orgA, catalog.Microsoft365), adminA, body, http.Header{"If-Match": {"*"}}), 400, "validation_failed")
	want(t, w.do(t, "PUT", gw+"/client-secret", adminA, `{"clientSecret": "`+orgSecrets[catalog.GoogleWorkspace]+`"`, nil), 400, "malformed_body")
	want(t, w.do(t, "PUT", gw+"/client-secret", adminA, `{"clientSecret": ["`+orgSecrets[catalog.GoogleWorkspace]+`"]}`, nil), 400, "")
	want(t, w.do(t, "PUT", gw+"/client-secret", memberA, map[string]string{"clientSecret": orgSecrets[catalog.GoogleWorkspace]}, nil), 403, "forbidden")
	want(t, w.do(t, "PUT", integrationPath(orgB, catalog.GoogleWorkspace)+"/client-secret", adminA, map[string]string{"clientSecret": orgSecrets[catalog.GoogleWorkspace]}, nil), 404, "not_found")
	// A wrong secret (the check says so), then the right one again; a
	// credential check the provider cannot answer.
	resp := w.do(t, "PUT", gw+"/client-secret", adminA, map[string]string{"clientSecret": wrongSecret}, nil)
	if !strings.Contains(string(resp.Body), `"result":"invalid_client"`) {
		t.Fatalf("wrong secret: %s", resp)
	}
	remove := w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Status: 503})
	want(t, w.do(t, "PUT", gw+"/client-secret", adminA, map[string]string{"clientSecret": orgSecrets[catalog.GoogleWorkspace]}, nil), 200, "")
	remove()
	// Remove and set a secret again.
	want(t, w.do(t, "DELETE", integrationPath(orgA, catalog.Salesforce)+"/client-secret", adminA, nil, nil), 200, "")
	want(t, w.do(t, "PUT", integrationPath(orgA, catalog.Salesforce)+"/client-secret", adminA, map[string]string{"clientSecret": orgSecrets[catalog.Salesforce]}, nil), 200, "")

	// Connections: every provider, both orgs, member and admin.
	for _, p := range providers {
		w.connect(t, orgA, member, p, "")
		w.connect(t, orgA, admin, p, "")
		w.connect(t, orgB, member, p, "")
	}
	// Connection error paths: a provider fault at the code exchange, a
	// refusal at the provider, a replayed callback, an abandoned start.
	w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindExchange, Status: 503, Times: 1})
	cb := w.toCallback(t, w.start(t, orgB, memberB, catalog.GoogleWorkspace, ""))
	if out := w.callback(t, cb); out.Get("code") != "provider_unavailable" {
		t.Fatalf("exchange fault: %v", out)
	}
	wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))
	w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Salesforce, Kind: fakeprovider.KindAuthorize, Error: "access_denied", Times: 1})
	if out := w.callback(t, w.toCallback(t, w.start(t, orgB, memberB, catalog.Salesforce, ""))); out.Get("status") != "error" {
		t.Fatalf("refusal at the provider: %v", out)
	}
	w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindExchange, Error: fakeprovider.ErrInvalidGrant, Times: 1})
	if out := w.callback(t, w.toCallback(t, w.start(t, orgA, memberA, catalog.Microsoft365, ""))); out.Get("status") != "error" {
		t.Fatalf("exchange refused: %v", out)
	}
	want(t, w.do(t, "POST", "/v1/orgs/"+orgA+"/connections/"+catalog.GoogleWorkspace, memberA, `{"returnTo": "https://evil.example/?t=`+orgSecrets[catalog.Salesforce]+`"}`, nil), 400, "validation_failed")
	want(t, w.do(t, "GET", "/v1/orgs/"+orgA+"/connections", memberA, nil, nil), 200, "")

	// Diagnostics and the admin's test after changes.
	for _, p := range providers {
		q := ""
		if p != catalog.Salesforce {
			q = "?capability=email"
		}
		want(t, w.do(t, "GET", "/v1/orgs/"+orgA+"/diagnostics/"+p+q, memberA, nil, nil), 200, "")
		sep := "?"
		if q != "" {
			sep = "&"
		}
		want(t, w.do(t, "GET", "/v1/orgs/"+orgA+"/diagnostics/"+p+q+sep+"user="+member, adminA, nil, nil), 200, "")
		want(t, w.do(t, "POST", "/v1/orgs/"+orgA+"/integrations/"+p+"/test", adminA, nil, nil), 200, "")
	}
	// The org's test accounts (issue 15): connected by the admin, used by
	// the test, listed on the integration and in the rollout view; a
	// secret pasted into the user guidance is refused.
	for _, p := range providers {
		want(t, w.completeWith(t, orgA, adminA, w.startTestAccount(t, orgA, adminA, p, "")), 200, "")
		want(t, w.do(t, "POST", "/v1/orgs/"+orgA+"/integrations/"+p+"/test", adminA, nil, nil), 200, "")
		want(t, w.do(t, "GET", integrationPath(orgA, p)+"/rollout", adminA, nil, nil), 200, "")
	}
	// A test with writes (issue 15 §3): Microsoft's test account, connected
	// again once writes are allowed, creates and deletes one item per
	// capability, one delete failing; and Microsoft's admin consent (§4),
	// granted, then refused.
	writes := orgBody(catalog.Microsoft365)
	writes["allowWriteActions"] = true
	want(t, w.do(t, "PUT", integrationPath(orgA, catalog.Microsoft365), adminA, writes, http.Header{"If-Match": {"*"}}), 200, "")
	want(t, w.completeWith(t, orgA, adminA, w.startTestAccount(t, orgA, adminA, catalog.Microsoft365, "")), 200, "")
	w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindDelete, Status: 403, Times: 1})
	if resp := w.do(t, "POST", integrationPath(orgA, catalog.Microsoft365)+"/test", adminA, map[string]any{"writes": map[string]any{"confirm": true}}, nil); resp.Status != 200 || resp.Object()["writesPerformed"] != true {
		t.Fatalf("write test: %s", resp)
	}
	for _, fault := range []bool{false, true} {
		if fault {
			w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindAdminConsent, Error: "access_denied", Times: 1})
		}
		resp := w.do(t, "POST", integrationPath(orgA, catalog.Microsoft365)+"/admin-consent", adminA, map[string]any{"returnTo": localtest.ReturnURL}, nil)
		want(t, resp, 201, "")
		u, _ := resp.Object()["authorizationUrl"].(string)
		if out := w.callback(t, w.toCallback(t, u)); (out.Get("status") == "error") != fault {
			t.Fatalf("admin consent: %v", out)
		}
	}
	guidance := orgBody(catalog.GoogleWorkspace)
	guidance["userGuidance"] = "Our client secret is " + orgSecrets[catalog.GoogleWorkspace]
	guidance["supportContact"] = map[string]string{"name": "IT Help", "url": "https://help.example.com/?key=" + orgSecrets[catalog.Salesforce]}
	want(t, w.do(t, "PUT", gw, adminA, guidance, http.Header{"If-Match": {"*"}}), 400, "credential_in_field")
	// A secret pasted as the item to probe.
	w.do(t, "GET", "/v1/orgs/"+orgA+"/diagnostics/"+catalog.GoogleWorkspace+"?capability=email&item="+url.QueryEscape(orgSecrets[catalog.GoogleWorkspace]), memberA, nil, nil)

	// Refresh runs: every connection, with rotation (Microsoft always,
	// Salesforce by the client's policy), a provider fault and a dead grant.
	w.env.Clock.Advance(50 * time.Minute)
	w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Salesforce, Kind: fakeprovider.KindRefresh, Status: 503, Times: 1})
	w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrInvalidGrant, Times: 1})
	run()
	w.env.Clock.Advance(55 * time.Minute)
	run()
	w.env.Clock.Advance(55 * time.Minute)
	run()
	for _, p := range providers {
		want(t, w.do(t, "GET", "/v1/orgs/"+orgB+"/diagnostics/"+p+"?capability="+map[bool]string{true: "crm", false: "email"}[p == catalog.Salesforce], memberB, nil, nil), 200, "")
	}
	// The admin changes Microsoft's client: connections are marked.
	w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: "11111111-2222-3333-4444-0000000000bb", Secret: orgSecrets[catalog.Microsoft365]})
	body = orgBody(catalog.Microsoft365)
	body["clientId"] = "11111111-2222-3333-4444-0000000000bb"
	want(t, w.do(t, "PUT", integrationPath(orgA, catalog.Microsoft365), adminA, body, http.Header{"If-Match": {"*"}}), 200, "")
	want(t, w.do(t, "GET", "/v1/orgs/"+orgA+"/connections", memberA, nil, nil), 200, "")

	// Disconnect everything.
	for _, p := range providers {
		want(t, w.do(t, "DELETE", integrationPath(orgA, p)+"/test-account", adminA, nil, nil), 200, "")
		want(t, w.do(t, "DELETE", "/v1/orgs/"+orgA+"/connections/"+p, memberA, nil, nil), 200, "")
		want(t, w.do(t, "DELETE", "/v1/orgs/"+orgA+"/connections/"+p, adminA, nil, nil), 200, "")
		want(t, w.do(t, "DELETE", "/v1/orgs/"+orgB+"/connections/"+p, memberB, nil, nil), 200, "")
	}
	for _, org := range []string{orgA, orgB} {
		tok := map[string]string{orgA: adminA, orgB: adminB}[org]
		want(t, w.do(t, "GET", "/v1/orgs/"+org+"/audit?limit=5", tok, nil, nil), 200, "")
		want(t, w.do(t, "GET", "/v1/orgs/"+org+"/audit?cursor="+url.QueryEscape(orgSecrets[catalog.Microsoft365]), tok, nil, nil), 400, "")
	}
	// A flow the user has not finished when the table is read: its state
	// (with the PKCE verifier) is pending in the table. The user finishes it
	// afterwards, so its verifier crosses the wire and is searched for in
	// what the table held.
	// Then the table is read again while the flow's tokens wait, sealed,
	// in a pending completion, whose handle must not be stored either.
	flow := w.toCallback(t, w.start(t, orgA, memberA, catalog.GoogleWorkspace, ""))
	items := w.env.ScanTable()
	out := pending(t, w.callback(t, flow))
	items = append(items, w.env.ScanTable()...)
	planted[out.Get("completion")] = "completion handle"
	if resp := w.complete(t, orgA, member, out); resp.Status != 200 {
		t.Fatalf("the pending flow: %s", resp)
	}

	// What crossed the wire, planted too.
	for v, kind := range wire.Values() {
		if _, ok := planted[v]; !ok {
			planted[v] = kind + " (off the wire)"
		}
	}
	kr, err := w.env.Deps.Secrets.TokenKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, key := range kr.Keys {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), hex.EncodeToString(key), string(key)} {
			planted[enc] = "token-encryption key " + id
		}
	}
	// The search is only worth something if the run produced every kind.
	kinds := wire.Kinds()
	for kind, least := range map[string]int{"access_token": 20, "refresh_token": 15, "id_token": 3, "code": 12, "state": 12, "code_verifier": 10, "client_secret": 4} {
		if kinds[kind] < least {
			t.Errorf("the run saw %d %s values off the wire, want at least %d: the search would prove little", kinds[kind], kind, least)
		}
	}
	wireValues := wire.Values()
	for p, s := range orgSecrets {
		if wireValues[s] != "client_secret" {
			t.Errorf("%s's organization client secret never reached the provider: the run did not use it", p)
		}
	}

	// The lifecycle events of all of the above, as the bus delivered them.
	published := w.env.Events()
	for typ, least := range map[string]int{
		events.IntegrationEnabled: 6, events.IntegrationSettingsChanged: 3, events.ConnectionConnected: 9,
		events.ConnectionNeedsReconnect: 1, events.ConnectionDisconnected: 9,
	} {
		if n := len(localtest.EventsOf(t, published, typ)); n < least {
			t.Errorf("the run put %d %s events on the bus, want at least %d: the search would prove little", n, typ, least)
		}
	}

	// Everything the run produced.
	haystacks := map[string][]string{
		"response":      responseTexts(w),
		"log line":      w.env.Logs(),
		"refresh run":   outputs,
		"stdout/stderr": strings.Split(stdio(), "\n"),
	}
	for _, org := range []string{orgA, orgB} {
		for _, e := range w.audit(t, org) {
			b, _ := json.Marshal(e)
			haystacks["audit entry"] = append(haystacks["audit entry"], string(b))
		}
	}
	for _, item := range items {
		haystacks["DynamoDB item"] = append(haystacks["DynamoDB item"], itemText(item))
	}
	for _, e := range published {
		b, _ := json.Marshal(e)
		haystacks["published event"] = append(haystacks["published event"], string(b))
	}
	if len(haystacks["response"]) < 80 || len(haystacks["log line"]) < 100 || len(haystacks["audit entry"]) < 10 || len(items) < 10 {
		t.Fatalf("too little output to search: %d responses, %d log lines, %d audit entries, %d items",
			len(haystacks["response"]), len(haystacks["log line"]), len(haystacks["audit entry"]), len(items))
	}
	if !slices.ContainsFunc(haystacks["stdout/stderr"], func(l string) bool { return strings.Contains(l, "CloudWatchMetrics") }) {
		t.Error("no EMF metric line was captured from stdout: the capture does not work")
	}
	found := 0
	for v, what := range planted {
		if len(v) < 8 {
			continue
		}
		for _, form := range encodings(v) {
			for where, lines := range haystacks {
				for _, line := range lines {
					if strings.Contains(line, form) {
						found++
						if found <= 20 {
							t.Errorf("%s appears in a %s: %s", what, where, excerpt(line, form))
						}
					}
				}
			}
		}
	}
	t.Logf("searched %d planted values (%v off the wire) in %d responses, %d log lines, %d stdout/stderr lines, %d refresh results, %d audit entries, %d DynamoDB items, %d published events",
		len(planted), kinds, len(haystacks["response"]), len(haystacks["log line"]), len(haystacks["stdout/stderr"]), len(outputs), len(haystacks["audit entry"]), len(items), len(published))

	checkFixtures(t, planted)
}

// encodings are the forms a value could leak in.
func encodings(v string) []string {
	forms := []string{v,
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v)),
		base64.URLEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v)),
		url.QueryEscape(v), url.PathEscape(v),
	}
	if j, err := json.Marshal(v); err == nil {
		forms = append(forms, strings.Trim(string(j), `"`))
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// excerpt shows where form was found, with the value itself masked.
func excerpt(line, form string) string {
	i := strings.Index(line, form)
	start, end := max(0, i-120), min(len(line), i+len(form)+60)
	return strings.ReplaceAll(line[start:end], form, "[PLANTED VALUE]")
}

// itemText is a raw DynamoDB item as text, every attribute: strings as
// they are, binary attributes as raw bytes and base64.
func itemText(item map[string]types.AttributeValue) string {
	var b strings.Builder
	var walk func(name string, v types.AttributeValue)
	walk = func(name string, v types.AttributeValue) {
		switch a := v.(type) {
		case *types.AttributeValueMemberS:
			fmt.Fprintf(&b, "%s=%s\n", name, a.Value)
		case *types.AttributeValueMemberN:
			fmt.Fprintf(&b, "%s=%s\n", name, a.Value)
		case *types.AttributeValueMemberB:
			fmt.Fprintf(&b, "%s=%s\n%s=%s\n", name, a.Value, name, base64.StdEncoding.EncodeToString(a.Value))
		case *types.AttributeValueMemberSS:
			fmt.Fprintf(&b, "%s=%s\n", name, strings.Join(a.Value, ","))
		case *types.AttributeValueMemberL:
			for i, e := range a.Value {
				walk(fmt.Sprintf("%s[%d]", name, i), e)
			}
		case *types.AttributeValueMemberM:
			for k, e := range a.Value {
				walk(name+"."+k, e)
			}
		}
	}
	for k, v := range item {
		walk(k, v)
	}
	return b.String()
}

// checkFixtures: the sample events and every testdata fixture hold none of
// the planted values (the platform's default client secrets are fixed
// strings, so this is not trivial) and nothing credential-shaped.
func checkFixtures(t *testing.T, planted map[string]string) {
	t.Helper()
	root := filepath.Join("..", "..")
	var files []string
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".aws-sam" || d.Name() == "build" || d.Name() == ".local") {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(root, path)
		if !d.IsDir() && (strings.HasPrefix(rel, "events"+string(filepath.Separator)) || slices.Contains(strings.Split(rel, string(filepath.Separator)), "testdata")) {
			files = append(files, path)
		}
		return nil
	})
	if !slices.ContainsFunc(files, func(f string) bool { return strings.Contains(f, "PutClientSecret") }) {
		t.Fatalf("the fixture walk found %d files and no sample event", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for v, what := range planted {
			if len(v) >= 8 && strings.Contains(text, v) {
				t.Errorf("%s appears in %s", what, f)
			}
		}
		for i, line := range strings.Split(text, "\n") {
			// The events' Authorization header is a labelled placeholder.
			if strings.Contains(line, "PLACEHOLDER") {
				continue
			}
			if finding, bad := hygiene.Check(line, hygiene.Options{ShapesOnly: true}); bad {
				t.Errorf("%s:%d looks like %s", f, i+1, finding.Describe())
			}
		}
	}
}

// responseTexts are the run's answers as text. The authorization URL a
// start returns carries the state to the browser by design (it is how the
// callback recognises the flow); it is left out, and only it.
func responseTexts(w *world) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, a := range w.answers {
		// A start's answer is the authorization URL, which carries the
		// state (the test account's and the admin consent's starts too):
		// its one way to the browser.
		if a.method == "POST" && (a.route == "/v1/orgs/{orgId}/connections/{provider}" || a.route == "/v1/orgs/{orgId}/integrations/{provider}/test-account" ||
			a.route == "/v1/orgs/{orgId}/integrations/{provider}/admin-consent") && a.resp.Status == 201 {
			m := a.resp.Object()
			if u, _ := m["authorizationUrl"].(string); u != "" {
				clean := *a.resp
				clean.Body = bytes.ReplaceAll(a.resp.Body, []byte(jsonString(u)), []byte(`"<authorization URL>"`))
				if bytes.Equal(clean.Body, a.resp.Body) {
					panic("the authorization URL was not found in its own answer")
				}
				a.resp = &clean
			}
		}
		if a.method == "GET" && a.route == connections.CallbackPath && a.resp.Status == 302 {
			// The completion handle's one way to the app's page at returnTo
			// is this redirect (as the code's is the provider's redirect):
			// it may appear there and nowhere else.
			if loc := a.resp.Location(); loc != nil && loc.Query().Get("completion") != "" {
				clean := *a.resp
				clean.Header = a.resp.Header.Clone()
				q := loc.Query()
				q.Set("completion", "<completion handle>")
				loc.RawQuery = q.Encode()
				clean.Header.Set("Location", loc.String())
				a.resp = &clean
			}
		}
		out = append(out, a.dump())
	}
	return out
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	_ = enc.Encode(s) // the encoding httpapi.WriteJSON uses (HTML escaping on)
	return strings.TrimSpace(b.String())
}
