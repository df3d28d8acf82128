package diagnostics_test

// End-to-end tests of DiagnosticsFunction through the local server (API
// Gateway v2 events into the real handlers), on the embedded store, against
// the fake provider (infra/localtest). The setup goes through the product's
// own routes: an admin saves the integration and its client secret (admin
// API), a member connects (OAuth flow at the fake).
//
// The matrix is the issue's: from a fully healthy setup (every check pass,
// overall ok), break one thing at a time; exactly that check fails, the
// checks that depend on it are skipped, and no other check changes.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/apispec"
	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/diagnostics"
	"github.com/sofie/integrations/shared/store"
)

const (
	org       = "org-1"
	memberID  = "u-member"
	adminID   = "u-admin"
	orgSecret = "fake-client-secret-1"
)

// providerSetup is how each provider is configured and diagnosed.
type providerSetup struct {
	id       string
	clientID string
	fields   map[string]any
	account  string             // the fake's account that signs in
	cap      catalog.Capability // asked about; "" lets the API default it
	item     string             // an existing item of cap
	missing  string             // a well-formed id of no item
	hidden   string             // a well-formed id of a forbidden item
}

var setups = map[string]providerSetup{
	catalog.Microsoft365: {
		id: catalog.Microsoft365, clientID: "11111111-2222-4333-8444-555555555555",
		fields:  map[string]any{"tenant": fakeprovider.DefaultMicrosoftTenantID},
		account: fakeprovider.DefaultMicrosoftUser, cap: catalog.Calendar,
		item: "sample-calendar", missing: "AAMkAGnone", hidden: "AAMkAGhidden",
	},
	catalog.GoogleWorkspace: {
		id: catalog.GoogleWorkspace, clientID: "123456789012-orgclienttests.apps.googleusercontent.com",
		fields:  map[string]any{"hostedDomain": fakeprovider.DefaultGoogleDomain},
		account: fakeprovider.DefaultGoogleUser, cap: catalog.Calendar,
		item: "sample-calendar", missing: "nosuchevent123", hidden: "hiddenevent123",
	},
	catalog.Salesforce: {
		id: catalog.Salesforce, clientID: "ORG0CONSUMER0KEY0FOR0DIAGNOSTICS",
		fields:  map[string]any{"authBaseUrl": "https://login.salesforce.com"},
		account: fakeprovider.DefaultSalesforceUser, cap: "", // crm by default
		item: "Account/001000000000001AAA", missing: "Account/001000000000009AAA", hidden: "Account/001000000000008AAA",
	},
}

// world is one provider's healthy setup in one test environment.
type world struct {
	t       *testing.T
	env     *localtest.Env
	setup   providerSetup
	spec    catalog.CapabilitySpec
	dataDir string
	etag    string
	member  string // the member's bearer token (in the pilot group)
	admin   string
	rec     *tokenRecorder
	bodies  *[]string // every API answer of the test
}

// tokenRecorder keeps every access and refresh token the provider issued to
// the service, read off the token responses on the wire.
type tokenRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]bool
}

func (r *tokenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr == nil {
		var tok struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		}
		if json.Unmarshal(body, &tok) == nil {
			r.mu.Lock()
			for _, v := range []string{tok.Access, tok.Refresh} {
				if v != "" {
					r.seen[v] = true
				}
			}
			r.mu.Unlock()
		}
	}
	return resp, err
}

func (r *tokenRecorder) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.seen))
	for v := range r.seen {
		out = append(out, v)
	}
	return out
}

func newEnv(t *testing.T, dataDir string, rec *tokenRecorder, opts ...localtest.Option) *localtest.Env {
	opts = append([]localtest.Option{
		localtest.WithEnv("LOCAL_DATA_DIR", dataDir),
		localtest.WithDeps(func(d *app.Deps) {
			rec.next = d.HTTPClient.Transport
			d.HTTPClient.Transport = rec
		}),
	}, opts...)
	return localtest.New(t, opts...)
}

// healthy builds the fully healthy setup: organization-owned client with its
// secret, every capability, writes allowed, a pilot-group rollout, and the
// member (in the pilot group) and the admin connected.
func healthy(t *testing.T, provider string, bodies *[]string, opts ...localtest.Option) *world {
	t.Helper()
	s := setups[provider]
	w := &world{t: t, setup: s, dataDir: t.TempDir(), rec: &tokenRecorder{seen: map[string]bool{}}, bodies: bodies}
	w.env = newEnv(t, w.dataDir, w.rec, opts...)
	p, _ := w.env.Deps.Catalog.Get(provider)
	w.spec = p.Capabilities[0]
	if s.cap != "" {
		w.spec, _ = p.Capability(s.cap)
	}
	w.env.Fake.RegisterClient(fakeprovider.ClientSpec{
		Provider: provider, ClientID: s.clientID, Secret: orgSecret,
		RedirectURIs: []string{w.env.URL + "/oauth/callback"},
	})
	w.member = w.env.Token(memberID, org, nil, []string{"staff", "pilot"})
	w.admin = w.env.Token(adminID, org, []string{"org_admin"}, []string{"pilot"})

	resp := w.do("PUT", "/v1/orgs/"+org+"/integrations/"+provider, w.admin, w.integrationBody(true), nil)
	if resp.Status != 201 {
		t.Fatalf("create integration: %s", resp)
	}
	w.etag = resp.Header.Get("ETag")
	resp = w.do("PUT", "/v1/orgs/"+org+"/integrations/"+provider+"/client-secret", w.admin, map[string]any{"clientSecret": orgSecret}, w.ifMatch())
	if resp.Status != 200 {
		t.Fatalf("set client secret: %s", resp)
	}
	w.etag = resp.Header.Get("ETag")
	if st, _ := resp.Object()["status"].(string); st != "ready" {
		t.Fatalf("integration status after the secret = %q, want ready: %s", st, resp)
	}
	w.connect(w.member)
	w.connect(w.admin)
	return w
}

func (w *world) integrationBody(enabled bool) map[string]any {
	p, _ := w.env.Deps.Catalog.Get(w.setup.id)
	body := map[string]any{
		"enabled": enabled, "configMode": "organization", "clientId": w.setup.clientID,
		"capabilities": p.CapabilityIDs(), "allowWriteActions": true,
		"rollout": map[string]any{"mode": "groups", "groups": []string{"pilot"}},
	}
	for k, v := range w.setup.fields {
		body[k] = v
	}
	return body
}

func (w *world) ifMatch() http.Header { return http.Header{"If-Match": {w.etag}} }

var (
	specMu  sync.Mutex
	specDoc *apispec.Spec
)

// do sends one request; every answer of the diagnostics routes is checked
// against openapi.yaml.
func (w *world) do(method, path, token string, body any, h http.Header) *localtest.Response {
	w.t.Helper()
	resp := w.env.DoHeaders(method, path, token, body, h)
	*w.bodies = append(*w.bodies, string(resp.Body))
	specMu.Lock()
	if specDoc == nil {
		specDoc = apispec.Repo(w.t)
	}
	doc := specDoc
	specMu.Unlock()
	concrete, _, _ := strings.Cut(path, "?")
	if docPath := doc.RoutePath(method, concrete); strings.Contains(docPath, "/diagnostics/") || strings.HasSuffix(docPath, "/test") {
		if err := doc.ValidateResponse(method, docPath, resp.Status, resp.Header, resp.Body); err != nil {
			w.t.Errorf("openapi.yaml: %v", err)
		}
	}
	return resp
}

// connect runs the user's OAuth flow at the fake and checks it connected.
func (w *world) connect(token string) {
	w.t.Helper()
	resp := w.do("POST", "/v1/orgs/"+org+"/connections/"+w.setup.id, token, map[string]any{"returnTo": localtest.ReturnURL}, nil)
	if resp.Status != 201 {
		w.t.Fatalf("start connection: %s", resp)
	}
	u, _ := resp.Object()["authorizationUrl"].(string)
	if done := w.env.Complete(token, org, w.env.Authorize(u)); done.Status != 200 {
		w.t.Fatalf("connection did not complete: %s", done)
	}
}

type report struct {
	Provider   string `json:"provider"`
	User       string `json:"user"`
	Capability string `json:"capability"`
	Action     string `json:"action"`
	Overall    string `json:"overall"`
	Checks     []struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Message     string `json:"message"`
		Remediation string `json:"remediation"`
		Owner       string `json:"owner"`
	} `json:"checks"`
}

// query is the diagnostics query of the healthy case, with changes.
func (w *world) query(change map[string]string) string {
	q := url.Values{}
	if w.setup.cap != "" {
		q.Set("capability", string(w.setup.cap))
	}
	q.Set("item", w.setup.item)
	for k, v := range change {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func (w *world) diagnose(token, query string) report {
	w.t.Helper()
	resp := w.do("GET", "/v1/orgs/"+org+"/diagnostics/"+w.setup.id+"?"+query, token, nil, nil)
	if resp.Status != 200 {
		w.t.Fatalf("diagnostics: %s", resp)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		w.t.Fatalf("content type %q", ct)
	}
	var rep report
	if err := resp.Decode(&rep); err != nil {
		w.t.Fatal(err)
	}
	return rep
}

// allChecks is the issue's order.
var allChecks = []string{
	"provider_enabled", "environment_available", "configuration_complete", "client_healthy", "user_in_rollout", "user_connected",
	"connection_healthy", "scopes_granted", "action_supported", "external_permission", "item_accessible",
}

func TestCheckOrderIsTheIssues(t *testing.T) {
	var got []string
	for _, id := range diagnostics.CheckIDs() {
		got = append(got, string(id))
	}
	if !slices.Equal(got, allChecks) {
		t.Fatalf("CheckIDs = %v, want %v", got, allChecks)
	}
}

// breakCase breaks one thing of a healthy world. It returns the environment
// to ask (availability is a deployment setting: a restart with another
// configuration on the same data) and the query and token to ask with.
type breakCase struct {
	name    string
	broken  string
	owner   string
	skipped []string // the checks that depend on broken, written out by hand
	message string   // a phrase the failure must say
	// messageBy overrides message per provider, ownerBy owner.
	messageBy, ownerBy map[string]string
	// after checks what the diagnosis left behind.
	after func(w *world)
	apply func(w *world) (token, query string)
}

var breaks = []breakCase{
	{
		name: "disable the provider", broken: "provider_enabled", owner: "admin",
		skipped: []string{"client_healthy", "connection_healthy", "external_permission", "item_accessible"}, message: "turned off",
		apply: func(w *world) (string, string) {
			resp := w.do("PUT", "/v1/orgs/"+org+"/integrations/"+w.setup.id, w.admin, w.integrationBody(false), w.ifMatch())
			if resp.Status != 200 {
				w.t.Fatalf("disable: %s", resp)
			}
			return w.member, w.query(nil)
		},
	},
	{
		name: "remove availability", broken: "environment_available", owner: "admin",
		skipped: []string{"client_healthy", "connection_healthy", "external_permission", "item_accessible"}, message: "not offered",
		apply: func(w *world) (string, string) {
			var others []string
			for _, id := range catalog.New().IDs() {
				if id != w.setup.id {
					others = append(others, id)
				}
			}
			// A redeploy with the provider left out of AvailableProviders:
			// same data, new configuration.
			w.env = newEnv(w.t, w.dataDir, w.rec, localtest.WithEnv("AVAILABLE_PROVIDERS", strings.Join(others, ",")))
			return w.member, w.query(nil)
		},
	},
	{
		name: "drop the client secret", broken: "configuration_complete", owner: "admin",
		skipped: []string{"client_healthy", "connection_healthy", "external_permission", "item_accessible"}, message: "client secret is not set",
		apply: func(w *world) (string, string) {
			resp := w.do("DELETE", "/v1/orgs/"+org+"/integrations/"+w.setup.id+"/client-secret", w.admin, nil, w.ifMatch())
			if resp.Status != 200 {
				w.t.Fatalf("delete secret: %s", resp)
			}
			return w.member, w.query(nil)
		},
	},
	{
		// Issue 14 §1: the provider stops accepting the org's client secret
		// (rotated at the provider, not saved here) and the schedule meets
		// it. The admin's client_healthy fails; the user is not blamed.
		name: "the provider refuses the client", broken: "client_healthy", owner: "admin",
		skipped: []string{"connection_healthy", "external_permission", "item_accessible"}, message: "refuses the integration's OAuth client",
		apply: func(w *world) (string, string) {
			w.env.Fake.RegisterClient(fakeprovider.ClientSpec{
				Provider: w.setup.id, ClientID: w.setup.clientID, Secret: orgSecret + "-rotated-at-the-provider",
				RedirectURIs: []string{w.env.URL + "/oauth/callback"},
			})
			w.env.Clock.Advance(55 * time.Minute) // the connections' tokens come due
			out, err := w.env.InvokeRefresh(context.Background())
			if err != nil || !strings.Contains(string(out), `"clientRefused":1`) {
				w.t.Fatalf("refresh run: %s %v, want one client refusal", out, err)
			}
			return w.member, w.query(nil)
		},
	},
	{
		name: "leave the rollout group", broken: "user_in_rollout", owner: "admin", message: "pilot",
		apply: func(w *world) (string, string) {
			return w.env.Token(memberID, org, nil, []string{"staff"}), w.query(nil)
		},
	},
	{
		name: "disconnect", broken: "user_connected", owner: "user",
		skipped: []string{"connection_healthy", "scopes_granted", "external_permission", "item_accessible"}, message: "not connected",
		apply: func(w *world) (string, string) {
			resp := w.do("DELETE", "/v1/orgs/"+org+"/connections/"+w.setup.id, w.member, nil, nil)
			if resp.Status/100 != 2 {
				w.t.Fatalf("disconnect: %s", resp)
			}
			return w.member, w.query(nil)
		},
	},
	{
		name: "revoke at the fake", broken: "connection_healthy", owner: "user",
		skipped: []string{"external_permission", "item_accessible"},
		// The refresh met the revoked grant (invalid_grant): for Microsoft
		// the on-demand one of a token within the margin; for Google and
		// Salesforce the one forced after the identity call rejected the
		// revoked, unexpired access token (Google 401, Salesforce userinfo
		// 403 Bad_OAuth_Token).
		message: "refused to renew the connection's access",
		apply: func(w *world) (string, string) {
			if err := w.env.Fake.RevokeUser(w.setup.id, w.setup.account); err != nil {
				w.t.Fatal(err)
			}
			if w.setup.id == catalog.Microsoft365 {
				// Bring the access token within the refresh margin: the
				// on-demand refresh then meets the revoked grant. The other
				// providers' tokens are still valid by their expiry.
				w.env.Clock.Advance(50 * time.Minute)
			}
			w.env.Fake.ResetCounts()
			return w.member, w.query(nil)
		},
		after: func(w *world) {
			// The refresh recorded what it met, as the scheduled run would
			// have, and was tried once.
			c, err := w.env.Deps.Store.GetConnection(context.Background(), store.ConnKey{OrgID: org, UserID: memberID, Provider: w.setup.id})
			if err != nil {
				w.t.Fatal(err)
			}
			if c.Status != store.StatusNeedsReconnect || c.LastError == nil || c.LastError.Owner != "user" {
				w.t.Errorf("after invalid_grant the connection is %s (%+v), want needs_reconnect owned by the user", c.Status, c.LastError)
			}
			if n := w.env.Fake.Count(fakeprovider.Filter{Provider: w.setup.id, Kind: fakeprovider.KindRefresh}); n != 1 {
				w.t.Errorf("%d refreshes at the fake, want 1", n)
			}
		},
	},
	{
		// Salesforce's scopes are set per connected app: connecting again
		// cannot add one the app lacks, so an admin adds it there first.
		name: "drop a scope (partial grant)", broken: "scopes_granted", owner: "user", ownerBy: map[string]string{catalog.Salesforce: "admin"},
		skipped: []string{"external_permission", "item_accessible"}, message: "not granted",
		apply: func(w *world) (string, string) {
			p, _ := w.env.Deps.Catalog.Get(w.setup.id)
			keep := slices.DeleteFunc(p.RequestedScopes(p.CapabilityIDs(), true), func(s string) bool {
				return slices.Contains(w.spec.ReadScopes, s)
			})
			if err := w.env.Fake.UpdateUser(w.setup.id, w.setup.account, func(u *fakeprovider.User) { u.GrantScopes = keep }); err != nil {
				w.t.Fatal(err)
			}
			// A fresh consent: Google's include_granted_scopes would merge
			// the earlier grant back in, so the old one is revoked at the
			// provider first (a disconnect would not: the admin's own
			// connection holds the same grant).
			if resp := w.do("DELETE", "/v1/orgs/"+org+"/connections/"+w.setup.id, w.member, nil, nil); resp.Status/100 != 2 {
				w.t.Fatalf("disconnect: %s", resp)
			}
			if err := w.env.Fake.RevokeUser(w.setup.id, w.setup.account); err != nil {
				w.t.Fatal(err)
			}
			w.connect(w.member)
			return w.member, w.query(nil)
		},
	},
	{
		name: "ask an unsupported action", broken: "action_supported", owner: "user",
		skipped: []string{"scopes_granted", "external_permission", "item_accessible"}, message: "does not support send",
		apply: func(w *world) (string, string) {
			return w.member, w.query(map[string]string{"action": "send"})
		},
	},
	{
		name: "deny permission at the fake", broken: "external_permission", owner: "external_admin",
		skipped: []string{"item_accessible"}, message: "does not have permission",
		apply: func(w *world) (string, string) {
			if err := w.env.Fake.UpdateUser(w.setup.id, w.setup.account, func(u *fakeprovider.User) {
				u.Denied = append(u.Denied, w.spec.ID)
			}); err != nil {
				w.t.Fatal(err)
			}
			return w.member, w.query(nil)
		},
	},
	{
		name: "ask for a missing item", broken: "item_accessible", owner: "user", message: "not found",
		apply: func(w *world) (string, string) {
			return w.member, w.query(map[string]string{"item": w.setup.missing})
		},
	},
	{
		name: "ask for a forbidden item", broken: "item_accessible", owner: "external_admin", message: "exists but is not accessible",
		apply: func(w *world) (string, string) {
			if err := w.env.Fake.UpdateUser(w.setup.id, w.setup.account, func(u *fakeprovider.User) {
				u.Items = append(u.Items, fakeprovider.Item{Capability: w.spec.ID, ID: w.setup.hidden, Name: "Hidden", Forbidden: true})
			}); err != nil {
				w.t.Fatal(err)
			}
			return w.member, w.query(map[string]string{"item": w.setup.hidden})
		},
	},
}

// checkBaseline asserts the healthy report: every check passes.
func checkBaseline(t *testing.T, w *world, rep report) {
	t.Helper()
	if rep.Overall != "ok" || rep.Provider != w.setup.id || rep.User != memberID || rep.Capability != string(w.spec.ID) || rep.Action != "read" {
		t.Errorf("baseline header = %+v", rep)
	}
	var ids []string
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
		if c.Status != "pass" {
			t.Errorf("baseline %s = %s: %s", c.ID, c.Status, c.Message)
		}
	}
	if !slices.Equal(ids, allChecks) {
		t.Errorf("checks = %v, want %v", ids, allChecks)
	}
}

// TestBreakOneThingAtATime is the issue's matrix: all of it for every
// provider.
func TestBreakOneThingAtATime(t *testing.T) {
	for _, provider := range []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			var bodies []string
			var worlds []*world
			t.Run("healthy", func(t *testing.T) {
				w := healthy(t, provider, &bodies)
				worlds = append(worlds, w)
				checkBaseline(t, w, w.diagnose(w.member, w.query(nil)))
			})
			for _, bc := range breaks {
				t.Run(bc.name, func(t *testing.T) {
					w := healthy(t, provider, &bodies)
					worlds = append(worlds, w)
					base := w.diagnose(w.member, w.query(nil))
					checkBaseline(t, w, base)
					token, q := bc.apply(w)
					message := bc.message
					if m, ok := bc.messageBy[provider]; ok {
						message = m
					}
					owner := bc.owner
					if o, ok := bc.ownerBy[provider]; ok {
						owner = o
					}
					rep := w.diagnose(token, q)
					if bc.after != nil {
						bc.after(w)
					}
					if rep.Overall != "blocked" {
						t.Errorf("overall = %s, want blocked", rep.Overall)
					}
					if len(rep.Checks) != len(base.Checks) {
						t.Fatalf("%d checks, baseline had %d", len(rep.Checks), len(base.Checks))
					}
					for i, c := range rep.Checks {
						b := base.Checks[i]
						switch {
						case c.ID != b.ID:
							t.Errorf("check %d = %s, baseline %s", i, c.ID, b.ID)
						case c.ID == bc.broken:
							if c.Status != "fail" || c.Owner != owner || !strings.Contains(c.Message, message) || c.Remediation == "" {
								t.Errorf("%s = %s owner %s %q (fix %q); want fail, owner %s, saying %q", c.ID, c.Status, c.Owner, c.Message, c.Remediation, owner, message)
							}
						case slices.Contains(bc.skipped, c.ID):
							if c.Status != "skipped" || !strings.Contains(c.Message, bc.broken) {
								t.Errorf("%s = %s %q, want skipped naming %s", c.ID, c.Status, c.Message, bc.broken)
							}
						default:
							if c.Status != b.Status || c.Owner != b.Owner {
								t.Errorf("%s changed: %s/%s (%s), baseline %s/%s", c.ID, c.Status, c.Owner, c.Message, b.Status, b.Owner)
							}
						}
					}
				})
			}
			t.Run("no response or log line holds a token", func(t *testing.T) {
				var tokens []string
				for _, w := range worlds {
					tokens = append(tokens, w.rec.tokens()...)
				}
				if len(tokens) < 2*len(worlds) {
					t.Fatalf("recorded only %d tokens over %d setups: the recorder is not seeing token responses", len(tokens), len(worlds))
				}
				logs := worlds[0].env.Logs()
				for _, tok := range tokens {
					for _, b := range bodies {
						if strings.Contains(b, tok) {
							t.Fatalf("a response contains a token the provider issued: %.200s", b)
						}
					}
					for _, l := range logs {
						if strings.Contains(l, tok) {
							t.Fatalf("a log line contains a token the provider issued: %.200s", l)
						}
					}
				}
			})
		})
	}
}

func TestWhoMayDiagnose(t *testing.T) {
	var bodies []string
	w := healthy(t, catalog.Microsoft365, &bodies)
	path := "/v1/orgs/" + org + "/diagnostics/" + catalog.Microsoft365 + "?"
	q := func(user string) string { return w.query(map[string]string{"user": user}) }

	// A member asking about another user: 404, as if the user did not exist
	// (the same answer for a user that exists and one that does not).
	for _, other := range []string{adminID, "u-nobody"} {
		resp := w.do("GET", path+q(other), w.member, nil, nil)
		if resp.Status != 404 || resp.Code() != "not_found" || strings.Contains(string(resp.Body), other) {
			t.Errorf("member asking about %s: %s", other, resp)
		}
	}
	// A member naming themselves is fine.
	if rep := w.diagnose(w.member, q(memberID)); rep.User != memberID || rep.Overall != "ok" {
		t.Errorf("member about themselves: %+v", rep)
	}
	// An admin may diagnose a member: the member's connection is checked;
	// the pilot group of another user cannot be seen from the admin's token.
	rep := w.diagnose(w.admin, q(memberID))
	if rep.User != memberID {
		t.Errorf("admin about member: user %s", rep.User)
	}
	for _, c := range rep.Checks {
		want := "pass"
		if c.ID == "user_in_rollout" {
			want = "warn"
		}
		if c.Status != want {
			t.Errorf("admin about member: %s = %s (%s), want %s", c.ID, c.Status, c.Message, want)
		}
	}
	if rep.Overall != "degraded" {
		t.Errorf("admin about member: overall %s", rep.Overall)
	}
	// An admin asking about a user with no connection still gets a report.
	rep = w.diagnose(w.admin, q("u-nobody"))
	if st := statusOf(rep, "user_connected"); st != "fail" {
		t.Errorf("admin about an unconnected user: user_connected = %s", st)
	}
	// Another org: 404 for members and admins alike.
	outsider := w.env.Token("u-x", "org-2", []string{"org_admin"}, nil)
	if resp := w.do("GET", path+w.query(nil), outsider, nil, nil); resp.Status != 404 {
		t.Errorf("another org's admin: %s", resp)
	}
	if resp := w.do("GET", path+w.query(nil), "", nil, nil); resp.Status != 401 {
		t.Errorf("no token: %s", resp)
	}
}

func statusOf(rep report, id string) string {
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}

// credentialShaped looks like a Google client secret (built here, so the
// source holds no credential-shaped literal).
var credentialShaped = "GOCSPX-" + strings.Repeat("Zq3_", 7)

func TestDiagnoseValidation(t *testing.T) {
	var bodies []string
	w := healthy(t, catalog.Microsoft365, &bodies)
	base := "/v1/orgs/" + org + "/diagnostics/"
	tests := []struct {
		name, path string
		status     int
		code       string
		field      string
	}{
		{"capability required with several", base + "microsoft365", 400, "validation_failed", "capability"},
		{"unknown capability", base + "microsoft365?capability=crm", 400, "validation_failed", "capability"},
		{"unknown action", base + "microsoft365?capability=email&action=archive", 400, "validation_failed", "action"},
		{"item with a path", base + "microsoft365?capability=files&item=..%2F..%2Fme", 400, "validation_failed", "item"},
		{"salesforce item without object", base + "salesforce?item=001000000000001AAA", 400, "validation_failed", "item"},
		{"unknown parameter", base + "microsoft365?capability=email&verbose=1", 400, "validation_failed", "verbose"},
		// A credential pasted as a parameter name is not repeated back.
		{"credential as a parameter name", base + "microsoft365?capability=email&" + credentialShaped + "=1", 400, "validation_failed", "query"},
		{"repeated parameter", base + "microsoft365?capability=email&capability=files", 400, "validation_failed", "capability"},
		{"unknown provider", base + "dropbox?capability=files", 404, "unknown_provider", ""},
	}
	for _, tt := range tests {
		resp := w.do("GET", tt.path, w.member, nil, nil)
		if strings.Contains(string(resp.Body), credentialShaped) {
			t.Errorf("%s: the problem repeats a credential-shaped input: %s", tt.name, resp)
		}
		if resp.Status != tt.status || resp.Code() != tt.code {
			t.Errorf("%s: %s", tt.name, resp)
			continue
		}
		if tt.field != "" && !strings.Contains(string(resp.Body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: no field error on %s: %s", tt.name, tt.field, resp)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: content type %q", tt.name, ct)
		}
	}
	// Salesforce's only capability is the default; the member is not
	// connected there, so the report says so.
	resp := w.do("GET", base+"salesforce", w.member, nil, nil)
	var rep report
	if resp.Status != 200 || resp.Decode(&rep) != nil || rep.Capability != "crm" {
		t.Errorf("salesforce default capability: %s", resp)
	}
}

type testReport struct {
	Provider        string `json:"provider"`
	User            string `json:"user"`
	Overall         string `json:"overall"`
	WritesPerformed *bool  `json:"writesPerformed"`
	Steps           []struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Message     string `json:"message"`
		Remediation string `json:"remediation"`
		Owner       string `json:"owner"`
	} `json:"steps"`
}

// TestAfterChanges is the product page's "Test after changes" with the
// admin's own connection, for each provider; it never writes.
func TestAfterChanges(t *testing.T) {
	for _, provider := range []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			var bodies []string
			w := healthy(t, provider, &bodies)
			p, _ := w.env.Deps.Catalog.Get(provider)
			path := "/v1/orgs/" + org + "/integrations/" + provider + "/test"
			body := map[string]any{"item": w.setup.item}
			if len(p.Capabilities) > 1 {
				body["itemCapability"] = string(w.spec.ID)
			}
			if _, ok := p.Capability(catalog.Files); ok {
				body["importItem"] = "sample-files"
			}
			w.env.Fake.ResetCounts()
			resp := w.do("POST", path, w.admin, body, nil)
			var rep testReport
			if resp.Status != 200 || resp.Decode(&rep) != nil {
				t.Fatalf("test: %s", resp)
			}
			if rep.Overall != "ok" || rep.User != adminID || rep.WritesPerformed == nil || *rep.WritesPerformed {
				t.Errorf("report = %s", resp)
			}
			want := []string{"test_account_connected"}
			for _, c := range p.CapabilityIDs() {
				want = append(want, "read_"+string(c))
			}
			for _, c := range p.CapabilityIDs() {
				want = append(want, "write_"+string(c))
			}
			if _, ok := p.Capability(catalog.Files); ok {
				want = append(want, "workspace_import")
			}
			var ids []string
			for _, s := range rep.Steps {
				ids = append(ids, s.ID)
				if s.Status != "pass" {
					t.Errorf("%s = %s: %s", s.ID, s.Status, s.Message)
				}
				if strings.HasPrefix(s.ID, "write_") && !strings.Contains(s.Message, "No write was performed") {
					t.Errorf("%s does not say that no write was performed: %q", s.ID, s.Message)
				}
				if s.ID == "workspace_import" {
					// The fake's sample file: "Hello from the fake provider.\n", text/plain.
					if !strings.Contains(s.Message, "30 bytes") || !strings.Contains(s.Message, "text/plain") || strings.Contains(s.Message, "Hello") || strings.Contains(s.Message, "sample.txt") {
						t.Errorf("workspace_import = %q, want size and type only", s.Message)
					}
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("steps = %v, want %v", ids, want)
			}
			// Only reads reached the provider: identity and probe API calls,
			// no token exchange, no revocation.
			all := w.env.Fake.Count(fakeprovider.Filter{Provider: provider})
			reads := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindAPI}) +
				w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindUserInfo})
			if all != reads || reads < len(p.Capabilities)+1 {
				t.Errorf("the provider received %d calls, %d of them reads; want reads only, at least %d", all, reads, len(p.Capabilities)+1)
			}

			for _, tok := range w.rec.tokens() {
				for _, b := range bodies {
					if strings.Contains(b, tok) {
						t.Fatalf("a response contains a token the provider issued: %.200s", b)
					}
				}
			}

			// A member may not run it; an admin without a connection is told.
			if resp := w.do("POST", path, w.member, nil, nil); resp.Status != 403 {
				t.Errorf("member: %s", resp)
			}
			other := w.env.Token("u-admin-2", org, []string{"org_admin"}, nil)
			resp = w.do("POST", path, other, nil, nil)
			if resp.Status != 200 || resp.Decode(&rep) != nil || rep.Overall != "blocked" || rep.Steps[0].Status != "fail" || !strings.HasPrefix(rep.Steps[0].Message, "user_connected:") {
				t.Errorf("unconnected admin: %s", resp)
			}
		})
	}
}

func TestAfterChangesValidation(t *testing.T) {
	var bodies []string
	w := healthy(t, catalog.Microsoft365, &bodies)
	path := "/v1/orgs/" + org + "/integrations/microsoft365/test"
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"item without its capability", map[string]any{"item": "abc"}, "itemCapability"},
		{"bad item", map[string]any{"item": "a/b", "itemCapability": "email"}, "item"},
		{"bad import item", map[string]any{"importItem": "../x"}, "importItem"},
		{"unknown field", map[string]any{"write": true}, "write"},
	}
	for _, tt := range tests {
		resp := w.do("POST", path, w.admin, tt.body, nil)
		if resp.Status != 400 || !strings.Contains(string(resp.Body), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: %s", tt.name, resp)
		}
	}
	// Salesforce has no files to import from.
	resp := w.do("POST", "/v1/orgs/"+org+"/integrations/salesforce/test", w.admin, map[string]any{"importItem": "abc"}, nil)
	if resp.Status != 400 || !strings.Contains(string(resp.Body), "not_applicable") {
		t.Errorf("salesforce import: %s", resp)
	}
	// No body at all is fine.
	if resp := w.do("POST", path, w.admin, nil, nil); resp.Status != 200 {
		t.Errorf("empty body: %s", resp)
	}
}

// TestProviderTroubleWarns: an unavailable or slow provider is a warning
// ("try again"), never a failure that would send someone to fix what works.
func TestProviderTroubleWarns(t *testing.T) {
	var bodies []string
	w := healthy(t, catalog.GoogleWorkspace, &bodies, localtest.WithEnv("PROVIDER_TIMEOUT_MS", "1000"))
	tests := []struct {
		name  string
		fault fakeprovider.Fault
		want  map[string]string // the checks that change, and to what
	}{
		{"API 503", fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindAPI, Status: 503, Times: 1},
			map[string]string{"external_permission": "warn"}},
		{"API 429", fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindAPI, Status: 429, Times: 1},
			map[string]string{"external_permission": "warn"}},
		{"API slower than the probe timeout", fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindAPI, Delay: 1500 * time.Millisecond, Times: 1},
			map[string]string{"external_permission": "warn"}},
		{"identity 503", fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindUserInfo, Status: 503, Times: 1},
			map[string]string{"connection_healthy": "warn"}},
		{"a malformed 200 still proves access", fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindAPI, Malformed: true, Times: 1},
			map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.t = t
			remove := w.env.Fake.Inject(tt.fault)
			defer remove()
			rep := w.diagnose(w.member, w.query(nil))
			overall := "ok"
			for _, c := range rep.Checks {
				want, changed := tt.want[c.ID]
				if !changed {
					want = "pass"
				} else {
					overall = "degraded"
				}
				if c.Status != want {
					t.Errorf("%s = %s (%s), want %s", c.ID, c.Status, c.Message, want)
				}
				if c.Status == "warn" && !strings.Contains(c.Remediation, "Try again") {
					t.Errorf("%s: remediation %q, want try again", c.ID, c.Remediation)
				}
			}
			if rep.Overall != overall {
				t.Errorf("overall = %s, want %s", rep.Overall, overall)
			}
		})
	}
}

// TestRefusedAccessTokenIsRefreshedOnce: the provider ends the member's
// access tokens before their expiry (the refresh token still works). The
// identity call is refused, diagnostics forces one refresh (the fake sees
// exactly one), repeats the call with the new token, and every check
// passes as before; the stored token is the new, live one.
func TestRefusedAccessTokenIsRefreshedOnce(t *testing.T) {
	for _, provider := range []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			var bodies []string
			w := healthy(t, provider, &bodies)
			checkBaseline(t, w, w.diagnose(w.member, w.query(nil)))
			key := store.ConnKey{OrgID: org, UserID: memberID, Provider: provider}
			before, err := w.env.Deps.Store.GetConnection(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := w.env.Fake.RevokeAccessTokens(provider, w.setup.account); err != nil || n == 0 {
				t.Fatalf("RevokeAccessTokens = %d, %v", n, err)
			}
			w.env.Fake.ResetCounts()

			rep := w.diagnose(w.member, w.query(nil))
			checkBaseline(t, w, rep)
			if ok, all := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeOK}),
				w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindRefresh}); ok != 1 || all != 1 {
				t.Fatalf("refreshes at the fake: %d ok of %d, want exactly 1", ok, all)
			}
			if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindUserInfo, Outcome: fakeprovider.OutcomeRefused}); n != 1 {
				t.Fatalf("identity calls refused: %d, want 1 (the revoked token, once)", n)
			}
			after, err := w.env.Deps.Store.GetConnection(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := w.env.Deps.Tokens.OpenToken(context.Background(), key, after.SealedTokens)
			if err != nil {
				t.Fatal(err)
			}
			if info, ok := w.env.Fake.TokenInfo(tok.AccessToken); !ok || !info.Active {
				t.Fatalf("the stored access token is not the fake's live one")
			}
			if after.Status != store.StatusConnected || !after.LastRefreshAt.Equal(w.env.Clock.Now()) || after.Version == before.Version {
				t.Fatalf("stored after the forced refresh: %s lastRefresh %v (before %v)", after.Status, after.LastRefreshAt, before.LastRefreshAt)
			}

			// A second diagnosis uses the refreshed token: no refresh.
			checkBaseline(t, w, w.diagnose(w.member, w.query(nil)))
			if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindRefresh}); n != 1 {
				t.Fatalf("%d refreshes after a second diagnosis, want still 1", n)
			}
		})
	}
}
