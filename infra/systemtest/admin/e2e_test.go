package admin_test

// End-to-end tests of the admin API through the local server: HTTP → the
// emulated API Gateway (JWT authorizer, v2 event) → AdminFunction's real
// Lambda handler → the embedded store (and, in TestAdminAPIOnAWS, the
// DynamoDB and Secrets Manager adapters on moto_server), with provider calls
// going to the fake provider. Every response is checked against
// openapi.yaml, and everything the run produced is searched for the planted
// client secrets at the end.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/apispec"
	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

func TestMain(m *testing.M) { moto.Main(m) }

// Fixture client ids (not secrets) registered at the fake provider.
const (
	msClientID  = "11111111-2222-3333-4444-555555555555"
	msClientID2 = "11111111-2222-3333-4444-666666666666"
	gwClientID  = "123456789012-fakeclientfortests0123456789ab.apps.googleusercontent.com"
	sfClientID  = "3MVG9fakeconsumerkeyfortestsOnly.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	// The tenant of the Done-when scenario, a verified domain the fake's
	// extra user belongs to.
	contosoTenant = "contoso.onmicrosoft.com"
)

// harness is one test environment plus everything the run produced.
type harness struct {
	t    *testing.T
	env  *localtest.Env
	spec *apispec.Spec

	mu        sync.Mutex
	responses []string // status, headers and body of every response
	secrets   []string // every client secret the run planted
	orgs      []string
}

func newHarness(t *testing.T, opts ...localtest.Option) *harness {
	t.Helper()
	env := localtest.New(t, append([]localtest.Option{localtest.WithEnv("PROVIDER_TIMEOUT_MS", "700")}, opts...)...)
	// An extra Microsoft account whose tenant has the verified domain the
	// scenarios configure.
	env.Fake.AddUser(fakeprovider.User{
		Provider: catalog.Microsoft365, Email: "bob@" + contosoTenant, Name: "Bob",
		Tenant: fakeprovider.DefaultMicrosoftTenantID, TenantDomains: []string{contosoTenant, fakeprovider.DefaultMicrosoftTenantDomain},
	})
	return &harness{t: t, env: env, spec: apispec.Repo(t)}
}

// plant returns a fresh, obviously fake client secret, remembered for the
// final search.
func (h *harness) plant() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := "fake-client-secret-" + hex.EncodeToString(b[:])
	h.mu.Lock()
	h.secrets = append(h.secrets, s)
	h.mu.Unlock()
	return s
}

// org returns a fresh org id for one scenario.
func (h *harness) org(name string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := fmt.Sprintf("org-%s-%d", name, len(h.orgs))
	h.orgs = append(h.orgs, o)
	return o
}

func (h *harness) admin(org string) string  { return h.env.AdminToken("u-admin-"+org, org) }
func (h *harness) admin2(org string) string { return h.env.AdminToken("u-admin2-"+org, org) }
func (h *harness) member(org string, groups ...string) string {
	return h.env.MemberToken("u-member-"+org, org, groups...)
}

// do sends a request, records the response, and checks it against the
// OpenAPI document.
func (h *harness) do(t *testing.T, method, path, token string, body any, hdr http.Header) *localtest.Response {
	t.Helper()
	resp := h.env.DoHeaders(method, path, token, body, hdr)
	var dump strings.Builder
	fmt.Fprintf(&dump, "%d\n", resp.Status)
	for k, vs := range resp.Header {
		fmt.Fprintf(&dump, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	dump.Write(resp.Body)
	h.mu.Lock()
	h.responses = append(h.responses, dump.String())
	h.mu.Unlock()
	clean, _, _ := strings.Cut(path, "?")
	if route := h.spec.RoutePath(method, clean); route != "" {
		if err := h.spec.ValidateResponse(method, route, resp.Status, resp.Header, resp.Body); err != nil {
			t.Errorf("response disagrees with openapi.yaml: %v\nbody: %s", err, resp.Body)
		}
	}
	if resp.Status >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: error %d is %q, not problem+json", method, path, resp.Status, resp.Header.Get("Content-Type"))
	}
	return resp
}

func integrationPath(org, provider string) string {
	return "/v1/orgs/" + org + "/integrations/" + provider
}

func ifMatch(etag string) http.Header { return http.Header{"If-Match": {etag}} }

func want(t *testing.T, resp *localtest.Response, status int, code string) {
	t.Helper()
	if resp.Status != status || (code != "" && resp.Code() != code) {
		t.Fatalf("got %s, want %d %s", resp, status, code)
	}
}

func view(t *testing.T, resp *localtest.Response) admin.IntegrationView {
	t.Helper()
	var v admin.IntegrationView
	if err := resp.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func fieldErrors(resp *localtest.Response) []string {
	var p struct {
		Errors []struct{ Field, Code string }
	}
	_ = json.Unmarshal(resp.Body, &p)
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field+"/"+e.Code)
	}
	return out
}

func msOrg(clientID string) map[string]any {
	return map[string]any{
		"enabled": true, "configMode": "organization", "clientId": clientID, "tenant": contosoTenant,
		"capabilities": []string{"email", "calendar"},
	}
}

// scenarios run in one environment, each in its own organization, so that
// the final secret search covers the whole run.
var scenarios = []struct {
	name string
	run  func(t *testing.T, h *harness)
}{
	{"MicrosoftIncompleteUntilSecretThenReady", microsoftIncompleteThenReady},
	{"FieldValidation", fieldValidation},
	{"PreconditionsAndAuthorization", preconditionsAndAuthorization},
	{"ConcurrentSavesNeverLoseAnUpdate", concurrentSaves},
	{"SwitchingConfigModeMarksConnections", switchingConfigModeMarksConnections},
	{"AuditTrail", auditTrail},
	{"CredentialChecks", credentialChecks},
	{"CardsAndCatalog", cardsAndCatalog},
	{"RequestErrors", requestErrors},
}

func TestAdminAPI(t *testing.T) { runScenarios(t) }

// TestAdminAPIOnAWS runs the same scenarios on the AWS adapters (DynamoDB
// and Secrets Manager on moto_server).
func TestAdminAPIOnAWS(t *testing.T) {
	if testing.Short() {
		t.Skip("moto_server scenarios skipped in -short mode")
	}
	runScenarios(t, localtest.WithAWS())
}

func runScenarios(t *testing.T, opts ...localtest.Option) {
	h := newHarness(t, opts...)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, h) })
	}
	t.Run("NoSecretAnywhere", func(t *testing.T) { h.searchSecrets(t) })
}

// microsoftIncompleteThenReady: enable microsoft365 in organization mode
// with tenant contoso.onmicrosoft.com → incomplete until the client secret
// is set, then ready; the credential check reports valid.
func microsoftIncompleteThenReady(t *testing.T, h *harness) {
	org := h.org("ms")
	secret := h.plant()
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID, Secret: secret})
	path := integrationPath(org, catalog.Microsoft365)

	resp := h.do(t, "PUT", path, h.admin(org), msOrg(msClientID), nil)
	want(t, resp, 201, "")
	v := view(t, resp)
	if v.Status != admin.StatusIncomplete || !slices.Equal(v.Missing, []string{admin.MissingClientSecret}) || v.ClientSecretConfigured {
		t.Fatalf("before the secret: %s %v", v.Status, v.Missing)
	}
	if resp.Header.Get("ETag") != `"1"` || v.Version != 1 {
		t.Fatalf("ETag %q version %d", resp.Header.Get("ETag"), v.Version)
	}
	if v.CredentialCheck != nil {
		t.Fatalf("no secret yet, no check: %+v", v.CredentialCheck)
	}
	if v.RedirectURI != h.env.URL+"/oauth/callback" {
		t.Errorf("redirectUri = %q", v.RedirectURI)
	}
	// A member sees the card, not connectable yet.
	card := findCard(t, h.do(t, "GET", "/v1/orgs/"+org+"/integrations", h.member(org), nil, nil), catalog.Microsoft365)
	if card.Status != admin.StatusIncomplete || card.Connectable || card.Configuration != nil {
		t.Fatalf("member card before the secret: %+v", card)
	}

	resp = h.do(t, "PUT", path+"/client-secret", h.admin(org), map[string]string{"clientSecret": secret}, nil)
	want(t, resp, 200, "")
	v = view(t, resp)
	if v.Status != admin.StatusReady || len(v.Missing) != 0 || !v.ClientSecretConfigured || v.ClientSecretSetAt == nil {
		t.Fatalf("after the secret: %+v", v)
	}
	if v.CredentialCheck == nil || v.CredentialCheck.Result != admin.CheckValid || v.CredentialCheck.Method != "client_credentials" {
		t.Fatalf("credential check: %+v", v.CredentialCheck)
	}
	if n := h.env.Fake.Count(fakeprovider.Filter{Provider: catalog.Microsoft365, Kind: fakeprovider.KindClientCredentials, ClientID: msClientID, Outcome: fakeprovider.OutcomeOK}); n != 1 {
		t.Errorf("client-credentials grants at the fake: %d, want 1", n)
	}
	got, err := h.env.Deps.Secrets.GetClientSecret(context.Background(), org, catalog.Microsoft365)
	if err != nil || got != secret {
		t.Fatalf("stored secret: %v", err)
	}
	v = view(t, h.do(t, "GET", path, h.admin(org), nil, nil))
	if v.Status != admin.StatusReady || v.Version != 2 {
		t.Fatalf("GET after the secret: %s v%d", v.Status, v.Version)
	}
	card = findCard(t, h.do(t, "GET", "/v1/orgs/"+org+"/integrations", h.member(org), nil, nil), catalog.Microsoft365)
	if card.Status != admin.StatusReady || !card.Connectable || !card.InRollout {
		t.Fatalf("member card when ready: %+v", card)
	}
}

// fieldValidation: tenant "not a tenant!", Salesforce evil.example.com and
// a Lightning URL, and a GOCSPX-style value in tenant are each a 400 with a
// field error; nothing is stored.
func fieldValidation(t *testing.T, h *harness) {
	org := h.org("validation")
	tok := h.admin(org)
	googleLike := "GOCSPX-" + strings.Repeat("x", 28)
	tests := []struct {
		name     string
		provider string
		body     map[string]any
		code     string
		errs     []string
	}{
		{"tenant not a tenant!", catalog.Microsoft365, map[string]any{"enabled": true, "tenant": "not a tenant!", "capabilities": []string{"email"}},
			"validation_failed", []string{"tenant/invalid_format"}},
		{"salesforce evil host", catalog.Salesforce, map[string]any{"enabled": true, "authBaseUrl": "https://evil.example.com", "capabilities": []string{"crm"}},
			"validation_failed", []string{"authBaseUrl/host_not_allowed"}},
		{"salesforce lightning", catalog.Salesforce, map[string]any{"enabled": true, "authBaseUrl": "https://acme.lightning.force.com", "capabilities": []string{"crm"}},
			"validation_failed", []string{"authBaseUrl/lightning_url"}},
		{"GOCSPX in tenant", catalog.Microsoft365, map[string]any{"enabled": true, "tenant": googleLike, "capabilities": []string{"email"}},
			"credential_in_field", []string{"tenant/credential_in_field"}},
		{"secret as group name", catalog.GoogleWorkspace, map[string]any{"enabled": true, "capabilities": []string{"email"}, "rollout": map[string]any{"mode": "groups", "groups": []string{"pilot", googleLike}}},
			"credential_in_field", []string{"rollout.groups[1]/credential_in_field"}},
		{"consumers", catalog.Microsoft365, map[string]any{"enabled": true, "tenant": "consumers", "capabilities": []string{"email"}},
			"validation_failed", []string{"tenant/consumers_not_allowed"}},
		{"capability of another provider", catalog.Salesforce, map[string]any{"enabled": true, "authBaseUrl": "https://login.salesforce.com", "capabilities": []string{"crm", "email"}},
			"validation_failed", []string{"capabilities[1]/unknown_capability"}},
		{"google client id shape", catalog.GoogleWorkspace, map[string]any{"enabled": true, "configMode": "organization", "clientId": "my-app", "capabilities": []string{"email"}},
			"validation_failed", []string{"clientId/invalid_format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := h.do(t, "PUT", integrationPath(org, tt.provider), tok, tt.body, nil)
			want(t, resp, 400, tt.code)
			if got := fieldErrors(resp); !slices.Equal(got, tt.errs) {
				t.Fatalf("errors = %v, want %v", got, tt.errs)
			}
			if bytes.Contains(resp.Body, []byte("GOCSPX")) {
				t.Fatal("the problem echoes the credential")
			}
			if tt.code == "credential_in_field" && resp.Object()["secureField"] != "clientSecret" {
				t.Fatalf("secureField = %v", resp.Object()["secureField"])
			}
		})
	}
	ins, err := h.env.Deps.Store.ListIntegrations(context.Background(), org)
	if err != nil || len(ins) != 0 {
		t.Fatalf("refused saves stored something: %v %v", ins, err)
	}
}

// preconditionsAndAuthorization: If-Match rules, a member's PUT → 403,
// another org's admin → 404.
func preconditionsAndAuthorization(t *testing.T, h *harness) {
	org := h.org("precond")
	path := integrationPath(org, catalog.GoogleWorkspace)
	body := map[string]any{"enabled": true, "capabilities": []string{"email"}}
	// A first save may say If-None-Match: *.
	resp := h.do(t, "PUT", path, h.admin(org), body, http.Header{"If-None-Match": {"*"}})
	want(t, resp, 201, "")
	// ... and then it exists.
	want(t, h.do(t, "PUT", path, h.admin(org), body, http.Header{"If-None-Match": {"*"}}), 412, "precondition_failed")
	body["allowWriteActions"] = true
	resp = h.do(t, "PUT", path, h.admin(org), body, nil)
	want(t, resp, 428, "precondition_required")
	if resp.Object()["currentVersion"] != float64(1) || resp.Header.Get("ETag") != `"1"` {
		t.Fatalf("428 must carry the current version: %s %q", resp, resp.Header.Get("ETag"))
	}
	resp = h.do(t, "PUT", path, h.admin(org), body, ifMatch(`"1"`))
	want(t, resp, 200, "")
	if resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("ETag = %q", resp.Header.Get("ETag"))
	}
	// The stale version.
	resp = h.do(t, "PUT", path, h.admin2(org), map[string]any{"enabled": false}, ifMatch(`"1"`))
	want(t, resp, 412, "precondition_failed")
	if resp.Object()["currentVersion"] != float64(2) || resp.Header.Get("ETag") != `"2"` {
		t.Fatalf("412 must carry the current version: %s", resp)
	}
	// A member: 403 on every admin route, and nothing written.
	member := h.member(org)
	want(t, h.do(t, "PUT", path, member, map[string]any{"enabled": false}, ifMatch(`"2"`)), 403, "forbidden")
	want(t, h.do(t, "GET", path, member, nil, nil), 403, "forbidden")
	want(t, h.do(t, "PUT", path+"/client-secret", member, map[string]string{"clientSecret": h.plant()}, nil), 403, "forbidden")
	want(t, h.do(t, "DELETE", path+"/client-secret", member, nil, nil), 403, "forbidden")
	want(t, h.do(t, "GET", "/v1/orgs/"+org+"/audit", member, nil, nil), 403, "forbidden")
	// Another org's admin: 404 whatever the route, even for an unknown provider.
	other := h.admin("org-elsewhere")
	want(t, h.do(t, "PUT", path, other, map[string]any{"enabled": false}, ifMatch(`"2"`)), 404, "not_found")
	want(t, h.do(t, "GET", path, other, nil, nil), 404, "not_found")
	want(t, h.do(t, "GET", "/v1/orgs/"+org+"/integrations", other, nil, nil), 404, "not_found")
	want(t, h.do(t, "GET", "/v1/orgs/"+org+"/audit", other, nil, nil), 404, "not_found")
	want(t, h.do(t, "GET", integrationPath(org, "dropbox"), other, nil, nil), 404, "not_found")
	want(t, h.do(t, "GET", integrationPath(org, "dropbox"), h.admin(org), nil, nil), 404, "unknown_provider")
	// No token: 401 from the authorizer.
	want(t, h.do(t, "GET", path, "", nil, nil), 401, "")

	stored, err := h.env.Deps.Store.GetIntegration(context.Background(), org, catalog.GoogleWorkspace)
	if err != nil || stored.Version != 2 || !stored.Enabled || !stored.AllowWriteActions {
		t.Fatalf("refused requests changed the integration: %+v %v", stored, err)
	}
	if _, err := h.env.Deps.Secrets.GetClientSecret(context.Background(), org, catalog.GoogleWorkspace); err == nil {
		t.Fatal("a member's secret PUT stored a secret")
	}
}

// concurrentSaves: admins saving at once from the same version: exactly one
// wins, every other gets 412, and the stored state and the audit trail hold
// exactly the winner's change.
func concurrentSaves(t *testing.T, h *harness) {
	org := h.org("race")
	path := integrationPath(org, catalog.Salesforce)
	base := map[string]any{"enabled": true, "authBaseUrl": "https://login.salesforce.com", "capabilities": []string{"crm"}}
	want(t, h.do(t, "PUT", path, h.admin(org), base, nil), 201, "")

	const n = 8
	statuses := make([]int, n)
	groups := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		groups[i] = fmt.Sprintf("pilot-%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := map[string]any{"enabled": true, "authBaseUrl": "https://login.salesforce.com", "capabilities": []string{"crm"},
				"rollout": map[string]any{"mode": "groups", "groups": []string{groups[i]}}}
			tok := h.env.AdminToken(fmt.Sprintf("u-admin-%d", i), org)
			statuses[i] = h.do(t, "PUT", path, tok, body, ifMatch(`"1"`)).Status
		}()
	}
	wg.Wait()
	winner := -1
	for i, s := range statuses {
		switch s {
		case 200:
			if winner >= 0 {
				t.Fatalf("two saves from version 1 both won: %v", statuses)
			}
			winner = i
		case 412:
		default:
			t.Fatalf("unexpected status %d: %v", s, statuses)
		}
	}
	if winner < 0 {
		t.Fatalf("no save won: %v", statuses)
	}
	stored, err := h.env.Deps.Store.GetIntegration(context.Background(), org, catalog.Salesforce)
	if err != nil || stored.Version != 2 || !slices.Equal(stored.Rollout.Groups, []string{groups[winner]}) || stored.UpdatedBy != fmt.Sprintf("u-admin-%d", winner) {
		t.Fatalf("stored %+v (%v), winner %d", stored, err, winner)
	}
	entries, _, err := h.env.Deps.Store.ListAudit(context.Background(), org, store.Page{Limit: 100})
	if err != nil || len(entries) != 2 || entries[0].Actor != stored.UpdatedBy {
		t.Fatalf("audit: %+v %v", entries, err)
	}
}

// switchingConfigModeMarksConnections: users connected through the default
// client. Switching to the org's own client writes no connection: each is
// needs_reconnect / client_changed when read (the users' lists say so), and
// the refresh run only takes them off its schedule, their status kept.
// Switching back to the default client restores them: the next run puts
// them back on its schedule and refreshes them, with no reconnect.
// Disabling keeps connections.
func switchingConfigModeMarksConnections(t *testing.T, h *harness) {
	org := h.org("switch")
	ctx := context.Background()
	path := integrationPath(org, catalog.Microsoft365)
	resp := h.do(t, "PUT", path, h.admin(org), map[string]any{"enabled": true, "tenant": contosoTenant, "capabilities": []string{"email"}}, nil)
	want(t, resp, 201, "")
	if v := view(t, resp); v.Status != admin.StatusReady {
		t.Fatalf("default mode with the fake's default client should be ready: %+v", v)
	}
	users := []struct{ id, email string }{{"u-alice", fakeprovider.DefaultMicrosoftUser}, {"u-bob", "bob@" + contosoTenant}}
	for _, u := range users {
		tok := h.env.MemberToken(u.id, org)
		start := h.do(t, "POST", "/v1/orgs/"+org+"/connections/"+catalog.Microsoft365, tok, map[string]any{"returnTo": localtest.ReturnURL + "done", "loginHint": u.email}, nil)
		want(t, start, 201, "")
		url, _ := start.Object()["authorizationUrl"].(string)
		if done := h.env.Complete(tok, org, h.env.Authorize(url)); done.Status != 200 {
			t.Fatalf("connect %s: %s", u.id, done)
		}
		c, err := h.env.Deps.Store.GetConnection(ctx, store.ConnKey{OrgID: org, UserID: u.id, Provider: catalog.Microsoft365})
		if err != nil || c.Status != store.StatusConnected || c.ClientRef != store.ConfigModeDefault || c.NextRefreshAt.IsZero() {
			t.Fatalf("connection of %s: %+v %v", u.id, c, err)
		}
	}
	stored := func(u string) store.Connection {
		t.Helper()
		c, err := h.env.Deps.Store.GetConnection(ctx, store.ConnKey{OrgID: org, UserID: u, Provider: catalog.Microsoft365})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	listed := func(u string) string {
		t.Helper()
		list := h.do(t, "GET", "/v1/orgs/"+org+"/connections", h.env.MemberToken(u, org), nil, nil)
		var l struct {
			Connections []struct {
				Status, StatusReason string
			}
		}
		if err := json.Unmarshal(list.Body, &l); err != nil || len(l.Connections) != 1 {
			t.Fatalf("list of %s: %s", u, list.Body)
		}
		return l.Connections[0].Status + "/" + l.Connections[0].StatusReason
	}

	// Disabling keeps the connections as they are.
	resp = h.do(t, "PUT", path, h.admin(org), map[string]any{"enabled": false, "tenant": contosoTenant, "capabilities": []string{"email"}}, ifMatch(`"1"`))
	want(t, resp, 200, "")
	before := map[string]int64{}
	for _, u := range users {
		if c := stored(u.id); c.Status != store.StatusConnected {
			t.Fatalf("disabling changed %s: %+v", u.id, c)
		}
		before[u.id] = stored(u.id).Version
	}

	// Switching configMode: every connection must reconnect, which is
	// derived: no record was written by the save.
	secret := h.plant()
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID2, Secret: secret})
	want(t, h.do(t, "PUT", path, h.admin(org), msOrg(msClientID2), ifMatch(`"2"`)), 200, "")
	for _, u := range users {
		if c := stored(u.id); c.Version != before[u.id] || c.Status != store.StatusConnected {
			t.Fatalf("the save wrote %s: %+v", u.id, c)
		}
		if got := listed(u.id); got != "needs_reconnect/client_changed" {
			t.Errorf("%s's list says %s, want needs_reconnect/client_changed", u.id, got)
		}
	}
	// The refresh run, once they are due, takes them off its schedule and
	// keeps their status.
	h.env.Clock.Advance(55 * time.Minute)
	if _, err := h.env.InvokeRefresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if c := stored(u.id); c.Status != store.StatusConnected || !c.NextRefreshAt.IsZero() || c.OffIndexReason != store.ReasonClientChanged {
			t.Fatalf("after a run under another client, %s: status %s next %v off %s", u.id, c.Status, c.NextRefreshAt, c.OffIndexReason)
		}
	}

	// Back to the default client: the next run puts them back and
	// refreshes them, no reconnect.
	want(t, h.do(t, "PUT", path, h.admin(org), map[string]any{"enabled": true, "tenant": contosoTenant, "capabilities": []string{"email"}}, ifMatch(`"3"`)), 200, "")
	out, err := h.env.InvokeRefresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Reinstated, Refreshed int }
	if err := json.Unmarshal(out, &res); err != nil || res.Reinstated != len(users) || res.Refreshed != len(users) {
		t.Fatalf("the run after restoring the client: %s", out)
	}
	for _, u := range users {
		if c := stored(u.id); c.Status != store.StatusConnected || c.NextRefreshAt.IsZero() || c.OffIndexReason != "" || c.LastRefreshAt.IsZero() {
			t.Fatalf("after restoring the client, %s: %+v", u.id, c)
		}
		if got := listed(u.id); got != "connected/" {
			t.Errorf("%s's list says %s, want connected", u.id, got)
		}
	}
}

// auditTrail: actor, time, provider, action and each field old → new,
// secrets only as set/removed, newest first, paginated.
func auditTrail(t *testing.T, h *harness) {
	org := h.org("audit")
	tok := h.admin(org)
	path := integrationPath(org, catalog.GoogleWorkspace)
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.GoogleWorkspace, ClientID: gwClientID, Secret: "placeholder-not-the-planted-one"})
	secret := h.plant()

	want(t, h.do(t, "PUT", path, tok, map[string]any{"enabled": true, "capabilities": []string{"email"}}, nil), 201, "")
	h.env.Clock.Advance(time.Minute)
	want(t, h.do(t, "PUT", path, tok, map[string]any{"enabled": true, "configMode": "organization", "clientId": gwClientID,
		"capabilities": []string{"email", "files"}, "hostedDomain": "example.com",
		"rollout": map[string]any{"mode": "groups", "groups": []string{"pilot"}}}, ifMatch(`"1"`)), 200, "")
	h.env.Clock.Advance(time.Minute)
	want(t, h.do(t, "PUT", path+"/client-secret", h.admin2(org), map[string]string{"clientSecret": secret}, nil), 200, "")
	h.env.Clock.Advance(time.Minute)
	want(t, h.do(t, "DELETE", path+"/client-secret", tok, nil, nil), 200, "")

	resp := h.do(t, "GET", "/v1/orgs/"+org+"/audit", tok, nil, nil)
	want(t, resp, 200, "")
	var page admin.AuditPage
	if err := resp.Decode(&page); err != nil {
		t.Fatal(err)
	}
	type row struct{ actor, action, changes string }
	var got []row
	for _, e := range page.Entries {
		if e.Provider != catalog.GoogleWorkspace || e.At.IsZero() {
			t.Errorf("entry %+v", e)
		}
		var cs []string
		for _, c := range e.Changes {
			cs = append(cs, c.Field+":"+c.Old+"→"+c.New)
		}
		got = append(got, row{e.Actor, e.Action, strings.Join(cs, "; ")})
	}
	wantRows := []row{
		{"u-admin-" + org, "client_secret.removed", "clientSecret:set→removed"},
		// The credential check that followed the secret's save: its result
		// only (the fake knows another secret for this client).
		{"u-admin2-" + org, "credentials.checked", "credentialCheck:→invalid_client"},
		{"u-admin2-" + org, "client_secret.set", "clientSecret:not set→set"},
		{"u-admin-" + org, "integration.updated", "configMode:default→organization; clientId:→" + gwClientID +
			"; hostedDomain:→example.com; capabilities:email→email,files; rollout:everyone→groups: pilot"},
		{"u-admin-" + org, "integration.created", "enabled:→true; configMode:→default; capabilities:→email; allowWriteActions:→false; rollout:→everyone"},
	}
	if fmt.Sprint(got) != fmt.Sprint(wantRows) {
		t.Fatalf("audit trail:\n%v\nwant\n%v", got, wantRows)
	}
	for i := 1; i < len(page.Entries); i++ {
		if page.Entries[i].At.After(page.Entries[i-1].At) {
			t.Fatal("not newest first")
		}
	}
	// Pagination: pages of 3 and 2, the same entries.
	p1 := h.do(t, "GET", "/v1/orgs/"+org+"/audit?limit=3", tok, nil, nil)
	var first admin.AuditPage
	if err := p1.Decode(&first); err != nil || len(first.Entries) != 3 || first.NextCursor == "" {
		t.Fatalf("first page: %s", p1)
	}
	p2 := h.do(t, "GET", "/v1/orgs/"+org+"/audit?limit=3&cursor="+first.NextCursor, tok, nil, nil)
	var second admin.AuditPage
	if err := p2.Decode(&second); err != nil || len(second.Entries) != 2 || second.NextCursor != "" || second.Entries[0].ID != page.Entries[3].ID {
		t.Fatalf("second page: %s", p2)
	}
	want(t, h.do(t, "GET", "/v1/orgs/"+org+"/audit?limit=0", tok, nil, nil), 400, "validation_failed")
	want(t, h.do(t, "GET", "/v1/orgs/"+org+"/audit?limit=101", tok, nil, nil), 400, "validation_failed")
	bad := h.do(t, "GET", "/v1/orgs/"+org+"/audit?cursor=bm90LWEtY3Vyc29y", tok, nil, nil)
	want(t, bad, 400, "validation_failed")
	if got := fieldErrors(bad); !slices.Equal(got, []string{"cursor/invalid_cursor"}) {
		t.Fatalf("bad cursor errors: %v", got)
	}
	// Another org's cursor does not open this org's trail.
	otherOrg := h.org("audit-other")
	want(t, h.do(t, "PUT", integrationPath(otherOrg, catalog.Salesforce), h.admin(otherOrg), map[string]any{"enabled": false}, nil), 201, "")
	want(t, h.do(t, "GET", "/v1/orgs/"+otherOrg+"/audit?limit=1&cursor="+first.NextCursor, h.admin(otherOrg), nil, nil), 400, "validation_failed")
}

// credentialChecks against the fake provider: valid, invalid_client, and
// unreachable by fault injection (5xx) and by a timeout, for each dialect.
func credentialChecks(t *testing.T, h *harness) {
	org := h.org("check")
	tok := h.admin(org)
	secret := h.plant()
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.GoogleWorkspace, ClientID: gwClientID, Secret: secret})
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Salesforce, ClientID: sfClientID, Secret: secret})
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID, Secret: secret})

	check := func(t *testing.T, resp *localtest.Response) *admin.CredentialCheck {
		t.Helper()
		want(t, resp, 200, "")
		v := view(t, resp)
		if v.CredentialCheck == nil {
			t.Fatalf("no credential check: %s", resp)
		}
		return v.CredentialCheck
	}
	gw := integrationPath(org, catalog.GoogleWorkspace)
	want(t, h.do(t, "PUT", gw, tok, map[string]any{"enabled": true, "configMode": "organization", "clientId": gwClientID, "capabilities": []string{"files"}}, nil), 201, "")

	t.Run("google valid", func(t *testing.T) {
		c := check(t, h.do(t, "PUT", gw+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil))
		if c.Result != admin.CheckValid || c.Method != "dummy_code" || c.ProviderError != "invalid_grant" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("google wrong secret", func(t *testing.T) {
		wrong := h.plant()
		c := check(t, h.do(t, "PUT", gw+"/client-secret", tok, map[string]string{"clientSecret": wrong}, nil))
		if c.Result != admin.CheckInvalidClient {
			t.Fatalf("%+v", c)
		}
		// The save stands: the (wrong) secret is stored, status ready.
		if got, _ := h.env.Deps.Secrets.GetClientSecret(context.Background(), org, catalog.GoogleWorkspace); got != wrong {
			t.Fatal("a failed check must not block the save")
		}
	})
	t.Run("google 503", func(t *testing.T) {
		remove := h.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindExchange, ClientID: gwClientID, Status: 503})
		defer remove()
		c := check(t, h.do(t, "PUT", gw+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil))
		if c.Result != admin.CheckUnreachable {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("google timeout", func(t *testing.T) {
		remove := h.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindExchange, ClientID: gwClientID, Delay: 3 * time.Second})
		defer remove()
		start := time.Now()
		c := check(t, h.do(t, "PUT", gw+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil))
		if c.Result != admin.CheckUnreachable {
			t.Fatalf("%+v", c)
		}
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Fatalf("the save waited %s for a slow provider", d)
		}
	})
	t.Run("salesforce valid and invalid", func(t *testing.T) {
		sf := integrationPath(org, catalog.Salesforce)
		want(t, h.do(t, "PUT", sf+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil), 200, "")
		resp := h.do(t, "PUT", sf, tok, map[string]any{"enabled": true, "configMode": "organization", "clientId": sfClientID,
			"authBaseUrl": "https://acme.my.salesforce.com", "capabilities": []string{"crm"}}, ifMatch(`"1"`))
		if c := check(t, resp); c.Result != admin.CheckValid {
			t.Fatalf("%+v", c)
		}
		c := check(t, h.do(t, "PUT", sf+"/client-secret", tok, map[string]string{"clientSecret": h.plant()}, nil))
		if c.Result != admin.CheckInvalidClient {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("microsoft organizations uses a dummy code", func(t *testing.T) {
		ms := integrationPath(org, catalog.Microsoft365)
		grants := fakeprovider.Filter{Provider: catalog.Microsoft365, Kind: fakeprovider.KindClientCredentials, ClientID: msClientID}
		before := h.env.Fake.Count(grants)
		want(t, h.do(t, "PUT", ms+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil), 200, "")
		body := msOrg(msClientID)
		body["tenant"] = "organizations"
		c := check(t, h.do(t, "PUT", ms, tok, body, ifMatch(`"1"`)))
		if c.Result != admin.CheckValid || c.Method != "dummy_code" {
			t.Fatalf("%+v", c)
		}
		if n := h.env.Fake.Count(grants) - before; n != 0 {
			t.Fatalf("a client-credentials grant was tried on organizations (%d)", n)
		}
	})
	t.Run("microsoft expired secret", func(t *testing.T) {
		ms := integrationPath(org, catalog.Microsoft365)
		remove := h.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, ClientID: msClientID, Error: fakeprovider.ErrExpiredSecret})
		defer remove()
		c := check(t, h.do(t, "PUT", ms+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil))
		if c.Result != admin.CheckInvalidClient {
			t.Fatalf("%+v", c)
		}
	})
}

// cardsAndCatalog: every member sees one card per provider; admins see the
// configuration; rollout groups decide inRollout; GET /v1/providers.
func cardsAndCatalog(t *testing.T, h *harness) {
	org := h.org("cards")
	want(t, h.do(t, "PUT", integrationPath(org, catalog.GoogleWorkspace), h.admin(org), map[string]any{
		"enabled": true, "capabilities": []string{"email", "files"}, "allowWriteActions": false,
		"rollout": map[string]any{"mode": "groups", "groups": []string{"pilot"}},
	}, nil), 201, "")

	resp := h.do(t, "GET", "/v1/orgs/"+org+"/integrations", h.member(org, "pilot"), nil, nil)
	want(t, resp, 200, "")
	var cards admin.CardsResponse
	if err := resp.Decode(&cards); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cards.Integrations {
		ids = append(ids, c.Provider)
		if c.Configuration != nil {
			t.Errorf("a member sees the configuration of %s", c.Provider)
		}
	}
	if !slices.Equal(ids, []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce}) {
		t.Fatalf("cards %v", ids)
	}
	g := cards.Integrations[1]
	if !g.Enabled || g.Status != admin.StatusReady || !g.InRollout || !g.Connectable {
		t.Fatalf("google card for a pilot member: %+v", g)
	}
	for _, c := range g.Capabilities {
		wantAllowed := []string{}
		if c.ID == "email" || c.ID == "files" {
			wantAllowed = []string{"read"}
		}
		if c.Enabled != (len(wantAllowed) > 0) || !slices.Equal(c.AllowedActions, wantAllowed) {
			t.Errorf("capability %s: enabled %v allowed %v", c.ID, c.Enabled, c.AllowedActions)
		}
	}
	if ms := cards.Integrations[0]; ms.Enabled || ms.Status != admin.StatusDisabled || ms.Connectable || len(ms.Capabilities) != 4 {
		t.Fatalf("unconfigured card: %+v", ms)
	}
	outside := findCard(t, h.do(t, "GET", "/v1/orgs/"+org+"/integrations", h.member(org, "sales"), nil, nil), catalog.GoogleWorkspace)
	if outside.InRollout || outside.Connectable {
		t.Fatalf("member outside the pilot: %+v", outside)
	}
	adminCard := findCard(t, h.do(t, "GET", "/v1/orgs/"+org+"/integrations", h.admin(org), nil, nil), catalog.GoogleWorkspace)
	if adminCard.Configuration == nil || adminCard.Configuration.Version != 1 || adminCard.Configuration.Rollout.Mode != "groups" {
		t.Fatalf("admin card: %+v", adminCard)
	}

	resp = h.do(t, "GET", "/v1/providers", h.member(org), nil, nil)
	want(t, resp, 200, "")
	var ps admin.ProvidersResponse
	if err := resp.Decode(&ps); err != nil {
		t.Fatal(err)
	}
	if len(ps.Providers) != 3 {
		t.Fatalf("providers: %s", resp)
	}
	for _, p := range ps.Providers {
		if !p.Available || !p.DefaultClientAvailable || len(p.SetupSteps) == 0 || len(p.Capabilities) == 0 || p.PKCEMethod != "S256" {
			t.Errorf("provider %s: %+v", p.ID, p)
		}
	}
	if sc := ps.Providers[0].Capabilities[0].Scopes["send"]; !slices.Equal(sc, []string{"https://graph.microsoft.com/Mail.Send"}) {
		t.Errorf("Microsoft email send scopes %v", sc)
	}
}

// requestErrors: 413, 415, malformed and unknown fields, never an internal
// error text.
func requestErrors(t *testing.T, h *harness) {
	org := h.org("errors")
	tok := h.admin(org)
	path := integrationPath(org, catalog.Salesforce)
	big := `{"enabled":true,"tenant":"` + strings.Repeat("a", 70<<10) + `"}`
	want(t, h.do(t, "PUT", path, tok, big, nil), 413, "body_too_large")
	want(t, h.do(t, "PUT", path, tok, "enabled=true", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}), 415, "unsupported_media_type")
	want(t, h.do(t, "PUT", path, tok, `{"enabled":true`, nil), 400, "malformed_body")
	// A secret sent to the wrong route, or malformed: refused, never echoed
	// (the final search looks for these too).
	resp := h.do(t, "PUT", path, tok, map[string]any{"enabled": true, "clientSecret": h.plant()}, nil)
	want(t, resp, 400, "validation_failed")
	if got := fieldErrors(resp); !slices.Equal(got, []string{"clientSecret/unknown_field"}) {
		t.Fatalf("unknown field: %s", resp)
	}
	want(t, h.do(t, "PUT", path, tok, map[string]any{"enabled": "yes"}, nil), 400, "validation_failed")
	resp = h.do(t, "PUT", path+"/client-secret", tok, map[string]string{"clientSecret": h.plant() + " \n"}, nil)
	want(t, resp, 400, "validation_failed")
	if got := fieldErrors(resp); !slices.Equal(got, []string{"clientSecret/invalid_format"}) {
		t.Fatalf("malformed secret: %s", resp)
	}
	if _, err := h.env.Deps.Secrets.GetClientSecret(context.Background(), org, catalog.Salesforce); err == nil {
		t.Fatal("a refused secret was stored")
	}
	want(t, h.do(t, "PUT", integrationPath(org, "dropbox"), tok, map[string]any{"enabled": true}, nil), 404, "unknown_provider")
	// A method the API does not route is the gateway's 404, still problem+json.
	want(t, h.do(t, "POST", path, tok, map[string]any{"enabled": true}, nil), 404, "not_found")
}

func findCard(t *testing.T, resp *localtest.Response, provider string) admin.Card {
	t.Helper()
	var cards admin.CardsResponse
	if err := resp.Decode(&cards); err != nil {
		t.Fatal(err)
	}
	for _, c := range cards.Integrations {
		if c.Provider == provider {
			return c
		}
	}
	t.Fatalf("no %s card in %s", provider, resp)
	return admin.Card{}
}

// searchSecrets: no planted client secret appears in any response body or
// header, log line, audit entry or stored integration of the whole run.
func (h *harness) searchSecrets(t *testing.T) {
	ctx := context.Background()
	h.mu.Lock()
	secrets := slices.Clone(h.secrets)
	haystacks := map[string][]string{"response": slices.Clone(h.responses)}
	orgs := slices.Clone(h.orgs)
	h.mu.Unlock()
	if len(secrets) < 5 || len(haystacks["response"]) < 50 {
		t.Fatalf("the run planted %d secrets and saw %d responses: too little to prove anything", len(secrets), len(haystacks["response"]))
	}
	haystacks["log"] = h.env.Logs()
	if len(haystacks["log"]) == 0 {
		t.Fatal("no log lines captured")
	}
	for _, org := range orgs {
		page := store.Page{Limit: 100}
		for {
			entries, next, err := h.env.Deps.Store.ListAudit(ctx, org, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, _ := json.Marshal(e)
				haystacks["audit"] = append(haystacks["audit"], string(b))
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
		ins, err := h.env.Deps.Store.ListIntegrations(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			b, _ := json.Marshal(in)
			haystacks["integration"] = append(haystacks["integration"], string(b))
		}
	}
	if len(haystacks["audit"]) < 10 {
		t.Fatalf("only %d audit entries", len(haystacks["audit"]))
	}
	// The secrets did reach where they belong: the secret store and the
	// provider's token endpoint (the search would be vacuous otherwise).
	if got, err := h.env.Deps.Secrets.GetClientSecret(ctx, orgs[0], catalog.Microsoft365); err != nil || !slices.Contains(secrets, got) {
		t.Fatalf("planted secret not in the secret store: %v", err)
	}
	for kind, lines := range haystacks {
		for _, line := range lines {
			for _, s := range secrets {
				if strings.Contains(line, s) {
					t.Errorf("a planted client secret appears in a %s: %.300s", kind, line)
				}
			}
		}
	}
}

// TestVerifyCredentialsOff: VERIFY_CREDENTIALS=false saves without asking
// the provider.
func TestVerifyCredentialsOff(t *testing.T) {
	h := newHarness(t, localtest.WithEnv("VERIFY_CREDENTIALS", "false"))
	org := h.org("noverify")
	secret := h.plant()
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID, Secret: secret})
	want(t, h.do(t, "PUT", integrationPath(org, catalog.Microsoft365), h.admin(org), msOrg(msClientID), nil), 201, "")
	resp := h.do(t, "PUT", integrationPath(org, catalog.Microsoft365)+"/client-secret", h.admin(org), map[string]string{"clientSecret": secret}, nil)
	want(t, resp, 200, "")
	if v := view(t, resp); v.CredentialCheck != nil || v.Status != admin.StatusReady {
		t.Fatalf("%+v", v)
	}
	if n := h.env.Fake.Count(fakeprovider.Filter{Provider: catalog.Microsoft365, ClientID: msClientID}); n != 0 {
		t.Fatalf("the fake received %d calls", n)
	}
}

// TestProviderNotOffered: a deployment that offers only some providers says
// so in the catalog and in the status.
func TestProviderNotOffered(t *testing.T) {
	h := newHarness(t, localtest.WithEnv("AVAILABLE_PROVIDERS", "microsoft365"))
	org := h.org("offered")
	var ps admin.ProvidersResponse
	if err := h.do(t, "GET", "/v1/providers", h.member(org), nil, nil).Decode(&ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Providers {
		if p.Available != (p.ID == catalog.Microsoft365) || p.DefaultClientAvailable != (p.ID == catalog.Microsoft365) {
			t.Errorf("%s: available %v default %v", p.ID, p.Available, p.DefaultClientAvailable)
		}
	}
	resp := h.do(t, "PUT", integrationPath(org, catalog.GoogleWorkspace), h.admin(org), map[string]any{"enabled": true, "capabilities": []string{"email"}}, nil)
	want(t, resp, 201, "")
	if v := view(t, resp); v.Status != admin.StatusIncomplete || !slices.Equal(v.Missing, []string{admin.MissingProviderUnavailable, admin.MissingDefaultClient}) {
		t.Fatalf("%s %v", v.Status, v.Missing)
	}
}
