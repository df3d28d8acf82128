package systemtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/apispec"
	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// TestMain runs more tests at once than there are cores, unless -parallel
// says otherwise: the suites mostly wait (the SDK's retry backoff, provider
// timeouts, moto serving one request at a time), so the cores stay free.
// Not when fuzzing, where -parallel is the number of fuzz workers.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if fuzz := flag.Lookup("test.fuzz"); !set && (fuzz == nil || fuzz.Value.String() == "") {
		_ = flag.Set("test.parallel", "8")
	}
	moto.Main(m)
}

// providers in catalog order.
var providers = []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce}

// morning is a test clock start far from midnight UTC, so that a test's
// failures (minutes to hours apart) fall on one day and never reach
// refresh_exhausted by the calendar.
var morning = time.Date(2030, 3, 12, 8, 0, 0, 0, time.UTC)

// integrationBody is a complete default-client configuration of provider:
// enabled, for everyone, with the capabilities the fake's accounts use.
func integrationBody(provider string) map[string]any {
	body := map[string]any{"enabled": true, "rollout": map[string]any{"mode": "everyone"}}
	switch provider {
	case catalog.Microsoft365:
		body["tenant"] = fakeprovider.DefaultMicrosoftTenantID
		body["capabilities"] = []string{"email", "calendar"}
	case catalog.GoogleWorkspace:
		body["capabilities"] = []string{"email", "calendar"}
	case catalog.Salesforce:
		body["authBaseUrl"] = "https://login.salesforce.com"
		body["capabilities"] = []string{"crm"}
	}
	return body
}

// world is one test's running service plus what the test saw of it.
type world struct {
	t    testing.TB
	env  *localtest.Env
	spec *apispec.Spec

	mu      sync.Mutex
	answers []answer // every API answer, for leak searches
}

// answer is one API answer and the route (document path) it came from.
type answer struct {
	method, route string
	resp          *localtest.Response
}

// dump is an answer as text: status, every header, the body.
func (a answer) dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", a.resp.Status)
	for k, vs := range a.resp.Header {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	b.Write(a.resp.Body)
	return b.String()
}

func newWorld(t testing.TB, opts ...localtest.Option) *world {
	t.Helper()
	return &world{t: t, env: localtest.New(t, opts...), spec: apispec.Repo(t)}
}

func (w *world) admin(org string) string { return w.env.AdminToken("u-admin-"+org, org) }

func (w *world) member(org, user string) string { return w.env.MemberToken(user, org) }

// do sends one API request, keeps the answer for leak searches, checks it
// against openapi.yaml, and checks that an error is problem+json with a
// stable code whose 5xx says nothing about its cause (the callback, which
// answers a browser, is checked by its callers).
func (w *world) do(t testing.TB, method, path, token string, body any, hdr http.Header) *localtest.Response {
	t.Helper()
	resp := w.env.DoHeaders(method, path, token, body, hdr)
	u, _ := url.Parse(path)
	route := w.spec.RoutePath(method, u.Path)
	w.mu.Lock()
	w.answers = append(w.answers, answer{method: method, route: route, resp: resp})
	w.mu.Unlock()
	if route == "" {
		return resp
	}
	if err := w.spec.ValidateResponse(method, route, resp.Status, resp.Header, resp.Body); err != nil {
		t.Errorf("%s %s: response disagrees with openapi.yaml: %v\nbody: %s", method, path, err, resp.Body)
	}
	if route != connections.CallbackPath && resp.Status >= 400 {
		checkProblem(t, resp)
	}
	return resp
}

// internalWords are fragments of internal error texts: store adapters,
// SDK error types, Go runtime output. None may reach a client.
var internalWords = []string{"dynamostore", "awssecrets", "boltstore", "Exception", "throttl", "Throttl", "TransactWrite", "PutItem", "goroutine", ".go:", "panic", "context deadline", "dial tcp"}

// checkProblem: an error answer is problem+json with a stable code, and a
// 5xx is one of the two opaque ones.
func checkProblem(t testing.TB, resp *localtest.Response) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("error %d is %q, not application/problem+json: %s", resp.Status, ct, resp.Body)
		return
	}
	code := resp.Code()
	if code == "" || strings.ToLower(code) != code || strings.ContainsAny(code, " .:") {
		t.Errorf("error %d has no stable code: %s", resp.Status, resp.Body)
	}
	if resp.Status >= 500 {
		if code != "internal_error" && code != "service_unavailable" {
			t.Errorf("5xx with code %q: %s", code, resp.Body)
		}
		for _, word := range internalWords {
			if strings.Contains(string(resp.Body), word) {
				t.Errorf("a 5xx answer carries internal text %q: %s", word, resp.Body)
			}
		}
	}
}

// want fails t unless resp has the status and (when not "") the code.
func want(t testing.TB, resp *localtest.Response, status int, code string) {
	t.Helper()
	if resp.Status != status || (code != "" && resp.Code() != code) {
		t.Fatalf("got %s, want %d %s", resp, status, code)
	}
}

func integrationPath(org, provider string) string {
	return "/v1/orgs/" + org + "/integrations/" + provider
}

// enable configures provider for org through the API with the default
// client and returns the ETag.
func (w *world) enable(t testing.TB, org, provider string) string {
	t.Helper()
	resp := w.do(t, "PUT", integrationPath(org, provider), w.admin(org), integrationBody(provider), nil)
	if resp.Status != 201 && resp.Status != 200 {
		t.Fatalf("enable %s for %s: %s", provider, org, resp)
	}
	return resp.Header.Get("ETag")
}

// account adds an account at the fake provider (in the default Microsoft
// tenant, the default Google Workspace domain, the default Salesforce org)
// and returns its sign-in name, for a test that needs faults aimed at one
// connection (fakeprovider.Fault.User).
func (w *world) account(provider, name string) string {
	u := fakeprovider.User{Provider: provider, Email: name + "@" + fakeprovider.DefaultMicrosoftTenantDomain}
	switch provider {
	case catalog.GoogleWorkspace:
		u.Email, u.HostedDomain = name+"@"+fakeprovider.DefaultGoogleDomain, fakeprovider.DefaultGoogleDomain
	case catalog.Salesforce:
		u.Email = name + "@example.com"
	}
	w.env.Fake.AddUser(u)
	return u.Email
}

// start starts a connection (returnTo the app, login hint loginHint) and
// returns the authorization URL.
func (w *world) start(t testing.TB, org, token, provider, loginHint string) string {
	t.Helper()
	body := map[string]any{"returnTo": localtest.ReturnURL + "settings"}
	if loginHint != "" {
		body["loginHint"] = loginHint
	}
	resp := w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+provider, token, body, nil)
	want(t, resp, 201, "")
	u, _ := resp.Object()["authorizationUrl"].(string)
	if u == "" {
		t.Fatalf("start %s: no authorization URL: %s", provider, resp)
	}
	return u
}

// toCallback plays the browser at the fake provider and returns the
// callback URL it is sent back to (with code and state).
func (w *world) toCallback(t testing.TB, authorizationURL string) string {
	t.Helper()
	resp := w.env.Do("GET", authorizationURL, "", nil)
	loc := resp.Location()
	if resp.Status != 302 || loc == nil || !strings.HasPrefix(loc.String(), w.env.URL+connections.CallbackPath+"?") {
		t.Fatalf("the provider answered %s, not a redirect to the callback", resp)
	}
	return loc.String()
}

// callback sends the browser's callback request and returns the outcome
// parameters of the redirect to returnTo.
func (w *world) callback(t testing.TB, callbackURL string) url.Values {
	t.Helper()
	resp := w.do(t, "GET", callbackURL, "", nil, nil)
	loc := resp.Location()
	if resp.Status != 302 || loc == nil || !strings.HasPrefix(loc.String(), localtest.ReturnURL) {
		t.Fatalf("callback answered %s, want a redirect to returnTo", resp)
	}
	return loc.Query()
}

// complete does what the app's page at returnTo does with a callback
// outcome: it posts the completion handle as the member user of org.
func (w *world) complete(t testing.TB, org, user string, out url.Values) *localtest.Response {
	t.Helper()
	return w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+out.Get("provider")+"/complete", w.member(org, user),
		map[string]any{"completion": out.Get("completion")}, nil)
}

// pending fails t unless a callback outcome is a pending completion.
func pending(t testing.TB, out url.Values) url.Values {
	t.Helper()
	if out.Get("status") != "pending" || out.Get("completion") == "" {
		t.Fatalf("callback outcome %v, want a pending completion", out)
	}
	return out
}

// connect runs a whole connection (start, provider, callback, completion)
// and fails t unless it connected.
func (w *world) connect(t testing.TB, org, user, provider, loginHint string) {
	t.Helper()
	out := pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), provider, loginHint))))
	if resp := w.complete(t, org, user, out); resp.Status != 200 {
		t.Fatalf("connect %s/%s/%s: complete answered %s", org, user, provider, resp)
	}
}

// conn reads a stored connection (nil when there is none).
func (w *world) conn(org, user, provider string) *store.Connection {
	return w.env.Connection(org, user, provider)
}

// tokens opens a connection's sealed tokens.
func (w *world) tokens(t testing.TB, c *store.Connection) *oauth2.Token {
	t.Helper()
	tok, err := w.env.Deps.Tokens.OpenToken(context.Background(), c.ConnKey, c.SealedTokens)
	if err != nil {
		t.Fatalf("open tokens of %s: %v", c.ConnKey, err)
	}
	return tok
}

// live reports whether the fake considers token usable now.
func (w *world) live(token string) bool {
	info, ok := w.env.Fake.TokenInfo(token)
	return ok && info.Active
}

// audit returns every audit entry of org, newest first.
func (w *world) audit(t testing.TB, org string) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	page := store.Page{Limit: 100}
	for {
		entries, next, err := w.env.Deps.Store.ListAudit(context.Background(), org, page)
		if err != nil {
			t.Fatalf("list audit of %s: %v", org, err)
		}
		out = append(out, entries...)
		if next == "" {
			return out
		}
		page.Cursor = next
	}
}

// integration reads the stored integration (found false when none).
func (w *world) integration(t testing.TB, org, provider string) (store.Integration, bool) {
	t.Helper()
	in, err := w.env.Deps.Store.GetIntegration(context.Background(), org, provider)
	if errors.Is(err, store.ErrNotFound) {
		return store.Integration{}, false
	}
	if err != nil {
		t.Fatalf("read integration %s/%s: %v", org, provider, err)
	}
	return in, true
}

// refresh runs RefreshFunction once through the Invoke API.
func (w *world) refresh(t testing.TB) refresh.Result {
	t.Helper()
	out, err := w.env.InvokeRefresh(context.Background())
	if err != nil {
		t.Fatalf("refresh run: %v", err)
	}
	var r refresh.Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("refresh result %s: %v", out, err)
	}
	return r
}

// stateOf returns the state parameter of an authorization or callback URL.
func stateOf(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Query().Get("state") == "" {
		t.Fatalf("no state in %s", rawURL)
	}
	return u.Query().Get("state")
}

// stateStored reports whether the state's item is still in the table.
func (w *world) stateStored(t testing.TB, state string) bool {
	t.Helper()
	id := connections.StateID(state)
	return slices.ContainsFunc(w.env.ScanTable(), func(item map[string]types.AttributeValue) bool {
		return strAttr(item, "PK") == "STATE#"+id
	})
}

// strAttr is a string attribute of a raw item ("" when absent).
func strAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// tryConnect is connect for code that must not stop the test (a fault's
// Before runs on the proxy's goroutine): it reports what went wrong.
func (w *world) tryConnect(org, user, provider string) error {
	resp := w.env.Do("POST", "/v1/orgs/"+org+"/connections/"+provider, w.member(org, user), map[string]any{"returnTo": localtest.ReturnURL})
	authURL, _ := resp.Object()["authorizationUrl"].(string)
	if resp.Status != 201 || authURL == "" {
		return fmt.Errorf("start: %s", resp)
	}
	at := w.env.Do("GET", authURL, "", nil)
	loc := at.Location()
	if at.Status != 302 || loc == nil {
		return fmt.Errorf("provider: %s", at)
	}
	cb := w.env.Do("GET", loc.String(), "", nil)
	out := cb.Location()
	if cb.Status != 302 || out == nil || out.Query().Get("status") != "pending" {
		return fmt.Errorf("callback: %s (%v)", cb, cb.Header.Get("Location"))
	}
	done := w.env.Do("POST", "/v1/orgs/"+org+"/connections/"+provider+"/complete", w.member(org, user), map[string]any{"completion": out.Query().Get("completion")})
	if done.Status != 200 {
		return fmt.Errorf("complete: %s", done)
	}
	return nil
}
