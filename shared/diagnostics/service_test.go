package diagnostics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
)

// The service tests drive single outcomes the end-to-end matrix
// (diagnostics_e2e_test.go) cannot reach through the API: stored statuses
// the refresh job writes, token-source failures, policy corners. Stores are
// the real embedded store; provider answers come from a stub behind the real
// outbound client.

const (
	orgID = "org-1"
	alice = "u-alice"
)

// stubTokens answers AccessToken with a fixed token or error, and
// ForceRefresh with the same token (refreshed) or forceErr.
type stubTokens struct {
	mu        sync.Mutex
	err       error
	calls     int
	refreshed bool // AccessToken reports it just refreshed
	forceErr  error
	forced    int
	rejected  []string
	keys      []store.ConnKey // of AccessToken's calls
}

func (s *stubTokens) ForceRefresh(_ context.Context, _ store.ConnKey, rejected string) (refresh.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced++
	s.rejected = append(s.rejected, rejected)
	if s.forceErr != nil {
		return refresh.Token{}, s.forceErr
	}
	return refresh.Token{AccessToken: "fake-access-token-unit", Refreshed: true}, nil
}

func (s *stubTokens) AccessToken(_ context.Context, k store.ConnKey) (refresh.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.keys = append(s.keys, k)
	if s.err != nil {
		return refresh.Token{}, s.err
	}
	return refresh.Token{AccessToken: "fake-access-token-unit", Refreshed: s.refreshed}, nil
}

// stubProvider answers every provider URL 200 {} unless told otherwise
// (keyed by the real URL's host and path, as the rewriter sends them).
type stubProvider struct {
	mu      sync.Mutex
	answers map[string]stubAnswer
	// queued answers, keyed "METHOD host/path", are used (and consumed)
	// before answers.
	queued map[string][]stubAnswer
	seen   []string
}

// queue adds answers to "METHOD host/path", given in order.
func (p *stubProvider) queue(key string, as ...stubAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued == nil {
		p.queued = map[string][]stubAnswer{}
	}
	p.queued[key] = append(p.queued[key], as...)
}

type stubAnswer struct {
	status int
	ctype  string
	body   string
}

func (p *stubProvider) set(hostPath string, status int, body string) {
	p.setType(hostPath, status, "application/json", body)
}

func (p *stubProvider) setType(hostPath string, status int, ctype, body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[hostPath] = stubAnswer{status, ctype, body}
}

func (p *stubProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	path := strings.TrimPrefix(r.URL.Path, "/")
	a, ok := p.answers[path]
	if q := p.queued[r.Method+" "+path]; len(q) > 0 {
		a, ok = q[0], true
		p.queued[r.Method+" "+path] = q[1:]
	}
	p.seen = append(p.seen, r.URL.Path)
	if r.Method != http.MethodGet {
		p.seen[len(p.seen)-1] = r.Method + " " + r.URL.Path
	}
	p.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer fake-access-token-unit" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !ok {
		a = stubAnswer{200, "application/json", `{}`}
	}
	w.Header().Set("Content-Type", a.ctype)
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

type harness struct {
	t      *testing.T
	st     *boltstore.Store
	svc    *Service
	tokens *stubTokens
	prov   *stubProvider
	cat    *catalog.Catalog
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	prov := &stubProvider{answers: map[string]stubAnswer{}}
	srv := httptest.NewServer(prov)
	t.Cleanup(srv.Close)
	rw, err := outbound.NewRewriter(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, tokens: &stubTokens{}, prov: prov, cat: catalog.New()}
	h.svc, err = New(Options{
		Catalog: h.cat, Store: st, Secrets: st, Tokens: h.tokens,
		HTTPClient:         outbound.NewClient(rw, 2*time.Second),
		ProbeTimeout:       time.Second,
		AvailableProviders: h.cat.IDs(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range h.cat.IDs() {
		if err := st.PutDefaultClient(ctx, id, store.DefaultClient{ClientID: "default-" + id, ClientSecret: "fake-client-secret-1"}); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// setup stores a healthy Microsoft 365 integration (every capability,
// writes allowed) and alice's connection with every scope granted.
func (h *harness) setup(mutIn func(*store.Integration), mutConn func(*store.Connection)) {
	h.t.Helper()
	ctx := context.Background()
	p, _ := h.cat.Get(catalog.Microsoft365)
	in := store.Integration{
		OrgID: orgID, Provider: p.ID, Enabled: true, ConfigMode: store.ConfigModeDefault,
		Tenant: "contoso.onmicrosoft.com", Capabilities: capStrings(p.CapabilityIDs()),
		AllowWriteActions: true, Rollout: store.Rollout{Mode: store.RolloutEveryone},
	}
	if mutIn != nil {
		mutIn(&in)
	}
	if _, err := h.st.PutIntegration(ctx, in, 0); err != nil {
		h.t.Fatal(err)
	}
	scopes := p.RequestedScopes(p.CapabilityIDs(), true)
	c := store.Connection{
		ConnKey: store.ConnKey{OrgID: orgID, UserID: alice, Provider: p.ID},
		Status:  store.StatusConnected, ClientRef: in.ClientRef(),
		Account:         store.Account{Email: "alice@contoso.example"},
		RequestedScopes: scopes, GrantedScopes: scopes,
		SealedTokens: []byte{1}, TokenKeyID: "k1", ConnectedAt: time.Now().UTC(),
	}
	if mutConn != nil {
		mutConn(&c)
	}
	if _, err := h.st.PutConnection(ctx, c, 0); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) diagnose(caller auth.Principal, user string, c catalog.Capability, a catalog.Action, item string) Report {
	h.t.Helper()
	p, _ := h.cat.Get(catalog.Microsoft365)
	cs, _ := p.Capability(c)
	rep, err := h.svc.Diagnose(context.Background(), Request{Caller: caller, Provider: p, UserID: user, Capability: cs, Action: a, Item: item})
	if err != nil {
		h.t.Fatal(err)
	}
	return rep
}

func member(user string, groups ...string) auth.Principal {
	list, _ := json.Marshal(append([]string{}, groups...))
	p, _ := auth.FromClaims(map[string]string{"sub": user, "org_id": orgID, "groups": string(list)}, auth.DefaultClaimNames())
	return p
}

func admin(user string) auth.Principal {
	p, _ := auth.FromClaims(map[string]string{"sub": user, "org_id": orgID, "roles": "[org_admin]"}, auth.DefaultClaimNames())
	return p
}

// expect compares a report's statuses with want; checks not named must pass
// (item_accessible: skipped as not applicable).
func expect(t *testing.T, rep Report, overall string, want map[CheckID]Status) {
	t.Helper()
	for _, c := range rep.Checks {
		w, ok := want[c.ID]
		if !ok {
			w = Pass
			if c.ID == ItemAccessible {
				w = Skipped
			}
		}
		if c.Status != w {
			t.Errorf("%s = %s (%s), want %s", c.ID, c.Status, c.Message, w)
		}
	}
	if rep.Overall != overall {
		t.Errorf("overall = %s, want %s", rep.Overall, overall)
	}
}

func find(rep []Check, id CheckID) Check {
	for _, c := range rep {
		if c.ID == id {
			return c
		}
	}
	return Check{}
}

func TestDiagnoseOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		in      func(*store.Integration)
		conn    func(*store.Connection)
		tokens  error
		prov    func(*stubProvider)
		caller  auth.Principal
		user    string
		cap     catalog.Capability
		action  catalog.Action
		item    string
		overall string
		want    map[CheckID]Status
		check   func(t *testing.T, rep Report)
	}{
		{
			name: "healthy with item", item: "sample-email", overall: OverallOK,
			want: map[CheckID]Status{ItemAccessible: Pass},
		},
		{
			name: "never configured", overall: OverallBlocked,
			in: func(in *store.Integration) { in.Provider = "unused" }, // the org has no microsoft365 record
			want: map[CheckID]Status{
				ProviderEnabled: Fail, ConfigurationComplete: Skipped, ClientHealthy: Skipped, UserInRollout: Skipped, ConnectionHealthy: Skipped,
				ScopesGranted: Skipped, ActionSupported: Skipped, ExternalPermission: Skipped, ItemAccessible: Skipped,
			},
		},
		{
			name: "refresh failing but the token works", overall: OverallDegraded,
			conn: func(c *store.Connection) {
				c.Status = store.StatusRefreshFailing
				c.LastError = &store.ConnError{Code: "provider_unavailable", Message: "The provider is unavailable; the refresh will be retried.", Owner: "none"}
			},
			want: map[CheckID]Status{ConnectionHealthy: Warn},
		},
		{
			name: "needs reconnect for an admin cause", overall: OverallBlocked,
			conn: func(c *store.Connection) {
				c.Status = store.StatusNeedsReconnect
				c.LastError = &store.ConnError{Code: "client_secret_expired", Message: "The organization's Microsoft Entra client secret has expired.", Owner: "admin"}
			},
			want: map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			check: func(t *testing.T, rep Report) {
				c := find(rep.Checks, ConnectionHealthy)
				if c.Owner != OwnerAdmin || !strings.Contains(c.Message, "client secret has expired") {
					t.Errorf("connection_healthy = %+v, want the stored admin cause", c)
				}
				if s := find(rep.Checks, ExternalPermission); s.Owner != OwnerAdmin || !strings.Contains(s.Message, "connection_healthy") {
					t.Errorf("external_permission = %+v, want skipped for connection_healthy, owned by admin", s)
				}
			},
		},
		{
			name: "client changed since connecting", overall: OverallBlocked,
			conn: func(c *store.Connection) { c.ClientRef = "organization:old-client" },
			want: map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
		},
		{
			name: "token refresh transiently failing and the token expired", overall: OverallDegraded,
			tokens: &refresh.Error{Code: refresh.CodeRefreshFailed, Failure: &oauthfail.Failure{Kind: oauthfail.Transient, Code: "provider_unavailable"}},
			want:   map[CheckID]Status{ConnectionHealthy: Warn, ExternalPermission: Skipped},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ExternalPermission); !strings.Contains(c.Message, "connection_healthy") {
					t.Errorf("external_permission = %+v, want it to name connection_healthy", c)
				}
			},
		},
		{
			name: "refresh says invalid_grant", overall: OverallBlocked,
			tokens: &refresh.Error{Code: refresh.CodeNeedsReconnect, Failure: &oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "invalid_grant", Owner: oauthfail.OwnerUser, Cause: "Reconnect the account."}},
			want:   map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
		},
		{
			name: "consent withdrawn: the user consents again, or the tenant admin", overall: OverallBlocked,
			tokens: &refresh.Error{Code: refresh.CodeNeedsReconnect, Failure: &oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "consent_required", Owner: oauthfail.OwnerUser, Fallback: oauthfail.OwnerExternalAdmin, Cause: "Consent again."}},
			want:   map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			check: func(t *testing.T, rep Report) {
				c := find(rep.Checks, ConnectionHealthy)
				if c.Owner != OwnerUser || !strings.Contains(c.Remediation, "Reconnect") || !strings.Contains(c.Remediation, "administrator") {
					t.Errorf("connection_healthy = %+v, want the user first and the tenant's administrator as the fallback", c)
				}
				// AADSTS65001 points to the admin consent flow.
				if !strings.Contains(c.Remediation, adminConsentRoute) || !strings.Contains(c.Remediation, "no admin consent has been granted yet") {
					t.Errorf("connection_healthy remediation = %q, want the admin consent flow", c.Remediation)
				}
			},
		},
		{
			name: "consent withdrawn after an admin consent", overall: OverallBlocked,
			in: func(in *store.Integration) {
				in.AdminConsent = &store.AdminConsent{Granted: true, Tenant: "t", At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
					Scopes: catalogScopes(catalog.Microsoft365)}
			},
			tokens: &refresh.Error{Code: refresh.CodeNeedsReconnect, Failure: &oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "consent_required", Owner: oauthfail.OwnerUser, Fallback: oauthfail.OwnerExternalAdmin, Cause: "Consent again."}},
			want:   map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ConnectionHealthy); !strings.Contains(c.Remediation, "granted these permissions for the whole organization on 2026-03-01T09:00:00Z") {
					t.Errorf("connection_healthy remediation = %q, want the recorded admin consent", c.Remediation)
				}
			},
		},
		{
			name: "missing permission without admin consent", overall: OverallBlocked,
			conn: func(c *store.Connection) {
				c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Mail.Read")
			},
			want: map[CheckID]Status{ScopesGranted: Fail, ExternalPermission: Skipped, ItemAccessible: Skipped},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ScopesGranted); !strings.Contains(c.Message, "need an administrator's consent") || !strings.Contains(c.Message, adminConsentRoute) {
					t.Errorf("scopes_granted = %q, want whether it needs an admin's consent", c.Message)
				}
			},
		},
		{
			name: "missing permission covered by the admin consent", overall: OverallBlocked,
			in: func(in *store.Integration) {
				in.AdminConsent = &store.AdminConsent{Granted: true, Tenant: "t", At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
					Scopes: catalogScopes(catalog.Microsoft365)}
			},
			conn: func(c *store.Connection) {
				c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Mail.Read")
			},
			want: map[CheckID]Status{ScopesGranted: Fail, ExternalPermission: Skipped, ItemAccessible: Skipped},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ScopesGranted); !strings.Contains(c.Message, "reconnecting grants them without asking") {
					t.Errorf("scopes_granted = %q, want the admin consent to cover it", c.Message)
				}
			},
		},
		{
			name: "missing permission the admin consent refused", overall: OverallBlocked,
			in: func(in *store.Integration) {
				in.AdminConsent = &store.AdminConsent{Error: "access_denied", At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			},
			conn: func(c *store.Connection) {
				c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Mail.Read")
			},
			want: map[CheckID]Status{ScopesGranted: Fail, ExternalPermission: Skipped, ItemAccessible: Skipped},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ScopesGranted); !strings.Contains(c.Message, "was not given (access_denied)") {
					t.Errorf("scopes_granted = %q, want the refused admin consent", c.Message)
				}
			},
		},
		{
			name: "missing permission enabled after the admin consent", overall: OverallBlocked,
			in: func(in *store.Integration) {
				in.AdminConsent = &store.AdminConsent{Granted: true, Tenant: "t", At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
					Scopes: without(catalogScopes(catalog.Microsoft365), "https://graph.microsoft.com/Mail.Read")}
			},
			conn: func(c *store.Connection) {
				c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Mail.Read")
			},
			want: map[CheckID]Status{ScopesGranted: Fail, ExternalPermission: Skipped, ItemAccessible: Skipped},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ScopesGranted); !strings.Contains(c.Message, "but not for https://graph.microsoft.com/Mail.Read") {
					t.Errorf("scopes_granted = %q, want the scope the admin consent lacks", c.Message)
				}
			},
		},
		{
			name: "a policy of the account's administrator blocks the refresh", overall: OverallBlocked,
			tokens: &refresh.Error{Code: refresh.CodeRefreshFailed, Failure: &oauthfail.Failure{Kind: oauthfail.Blocked, Code: "admin_policy_enforced", Owner: oauthfail.OwnerExternalAdmin, Cause: "The administrator does not allow the app."}},
			want:   map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			check: func(t *testing.T, rep Report) {
				c := find(rep.Checks, ConnectionHealthy)
				if c.Owner != OwnerExternalAdmin || !strings.Contains(c.Message, "does not allow the app") || strings.Contains(strings.ToLower(c.Remediation), "reconnect the") {
					t.Errorf("connection_healthy = %+v, want the policy owned by external_admin, no reconnect", c)
				}
			},
		},
		{
			name: "provider rejects the token at identity", overall: OverallBlocked,
			prov: func(p *stubProvider) {
				p.set("graph.microsoft.com/v1.0/me", 401, `{"error":{"code":"InvalidAuthenticationToken"}}`)
			},
			want: map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
		},
		{
			name: "admin diagnosing another user under a group rollout", overall: OverallDegraded,
			in: func(in *store.Integration) {
				in.Rollout = store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot"}}
			},
			caller: admin("u-admin"), user: alice,
			want: map[CheckID]Status{UserInRollout: Warn},
		},
		{
			name: "member in the pilot group", overall: OverallOK,
			in: func(in *store.Integration) {
				in.Rollout = store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot"}}
			},
			caller: member(alice, "staff", "pilot"),
		},
		{
			name: "partial grant on a capability not asked about", overall: OverallDegraded,
			conn: func(c *store.Connection) {
				c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Contacts.Read")
			},
			want: map[CheckID]Status{ScopesGranted: Warn},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ScopesGranted); !strings.Contains(c.Message, "Contacts.Read") {
					t.Errorf("scopes_granted = %q, want it to name Contacts.Read", c.Message)
				}
			},
		},
		{
			name: "write action not allowed by policy", overall: OverallBlocked, action: catalog.Send,
			in:   func(in *store.Integration) { in.AllowWriteActions = false },
			want: map[CheckID]Status{ActionSupported: Fail, ScopesGranted: Skipped, ExternalPermission: Skipped, ItemAccessible: Skipped},
		},
		{
			name: "capability not enabled by the org", overall: OverallBlocked, cap: catalog.Files,
			in:   func(in *store.Integration) { in.Capabilities = []string{"email", "calendar"} },
			want: map[CheckID]Status{ActionSupported: Fail, ScopesGranted: Skipped, ExternalPermission: Skipped, ItemAccessible: Skipped},
		},
		{
			name: "write scope missing for the asked action", overall: OverallBlocked, action: catalog.Send,
			conn: func(c *store.Connection) {
				c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Mail.Send")
			},
			want: map[CheckID]Status{ScopesGranted: Fail, ExternalPermission: Skipped, ItemAccessible: Skipped},
		},
		{
			name: "org client without its secret", overall: OverallBlocked,
			in: func(in *store.Integration) {
				in.ConfigMode, in.ClientID = store.ConfigModeOrganization, "00000000-0000-0000-0000-000000000001"
			},
			conn: func(c *store.Connection) { c.ClientRef = "organization:00000000-0000-0000-0000-000000000001" },
			want: map[CheckID]Status{ConfigurationComplete: Fail, ClientHealthy: Skipped, ConnectionHealthy: Skipped, ExternalPermission: Skipped},
		},
		{
			name: "invalid tenant field", overall: OverallBlocked,
			in:   func(in *store.Integration) { in.Tenant = "" },
			want: map[CheckID]Status{ConfigurationComplete: Fail, ClientHealthy: Skipped, ConnectionHealthy: Skipped, ExternalPermission: Skipped},
		},
		{
			name: "provider down during the read probe", overall: OverallDegraded, item: "sample-email",
			prov: func(p *stubProvider) {
				p.set("graph.microsoft.com/v1.0/me/messages", 503, `{"error":{"code":"ServiceNotAvailable"}}`)
			},
			want: map[CheckID]Status{ExternalPermission: Warn, ItemAccessible: Pass},
		},
		{
			name: "no mailbox", overall: OverallBlocked,
			prov: func(p *stubProvider) {
				p.set("graph.microsoft.com/v1.0/me/messages", 404, `{"error":{"code":"MailboxNotEnabledForRESTAPI"}}`)
			},
			want: map[CheckID]Status{ExternalPermission: Fail},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ExternalPermission); c.Owner != OwnerExternalAdmin || !strings.Contains(c.Message, "license") {
					t.Errorf("external_permission = %+v", c)
				}
			},
		},
		{
			name: "item missing", overall: OverallBlocked, item: "nope",
			prov: func(p *stubProvider) {
				p.set("graph.microsoft.com/v1.0/me/messages/nope", 404, `{"error":{"code":"ErrorItemNotFound"}}`)
			},
			want: map[CheckID]Status{ItemAccessible: Fail},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ItemAccessible); !strings.Contains(c.Message, "not found") || strings.Contains(c.Message, "not accessible") {
					t.Errorf("item_accessible = %q", c.Message)
				}
			},
		},
		{
			name: "item forbidden", overall: OverallBlocked, item: "secret",
			prov: func(p *stubProvider) {
				p.set("graph.microsoft.com/v1.0/me/messages/secret", 403, `{"error":{"code":"ErrorAccessDenied"}}`)
			},
			want: map[CheckID]Status{ItemAccessible: Fail},
			check: func(t *testing.T, rep Report) {
				if c := find(rep.Checks, ItemAccessible); !strings.Contains(c.Message, "exists but is not accessible") || c.Owner != OwnerExternalAdmin {
					t.Errorf("item_accessible = %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.setup(tt.in, tt.conn)
			h.tokens.err = tt.tokens
			if tt.prov != nil {
				tt.prov(h.prov)
			}
			caller := tt.caller
			if caller.UserID == "" {
				caller = member(alice)
			}
			c, a := tt.cap, tt.action
			if c == "" {
				c = catalog.Email
			}
			if a == "" {
				a = catalog.Read
			}
			rep := h.diagnose(caller, tt.user, c, a, tt.item)
			expect(t, rep, tt.overall, tt.want)
			if tt.check != nil {
				tt.check(t, rep)
			}
			for _, ch := range rep.Checks {
				if ch.Message == "" || ch.Owner == "" || (ch.Status != Pass && ch.Remediation == "" && !ch.notApplicable) {
					t.Errorf("%s: incomplete check %+v", ch.ID, ch)
				}
			}
		})
	}
}

func without(ss []string, drop string) []string {
	var out []string
	for _, s := range ss {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func TestDiagnoseSkipsTheTokenWhenNotNeeded(t *testing.T) {
	h := newHarness(t)
	h.setup(func(in *store.Integration) { in.Enabled = false }, nil)
	rep := h.diagnose(member(alice), "", catalog.Email, catalog.Read, "")
	if h.tokens.calls != 0 || len(h.prov.seen) != 0 {
		t.Fatalf("a disabled provider must not be called: %d token calls, provider saw %v", h.tokens.calls, h.prov.seen)
	}
	expect(t, rep, OverallBlocked, map[CheckID]Status{ProviderEnabled: Fail, ClientHealthy: Skipped, ConnectionHealthy: Skipped, ExternalPermission: Skipped, ItemAccessible: Skipped})
}

// TestRefusedClientIsTheAdmins (issue 14 §1): while the provider refuses
// the integration's OAuth client, diagnostics fail client_healthy, owned
// by the admin, naming the cause and since when, and saying the
// connections resume by themselves once it is fixed; connection_healthy
// does not blame the user (skipped for client_healthy, the admin's) and
// no token is asked for (the refresh is paused). In default mode the
// remediation is the platform's support team's; once the health is OK
// again the connection is judged as usual.
func TestRefusedClientIsTheAdmins(t *testing.T) {
	since := time.Date(2030, 3, 12, 8, 5, 0, 0, time.UTC)
	orgMode := func(in *store.Integration) {
		in.ConfigMode, in.ClientID = store.ConfigModeOrganization, "00000000-0000-0000-0000-000000000001"
	}
	orgConn := func(c *store.Connection) {
		c.ClientRef = "organization:00000000-0000-0000-0000-000000000001"
		// As the refresh job pauses it: status and tokens as they were.
		c.PausedReason = store.ReasonClientFailing
		c.LastError = &store.ConnError{Code: "client_secret_expired", Message: "The organization's Microsoft Entra client secret has expired.", Owner: "admin"}
	}
	for _, tc := range []struct {
		name       string
		in         func(*store.Integration)
		conn       func(*store.Connection)
		cause      string
		savedSince bool
		wantMsg    []string
		wantFix    []string
	}{
		{"expired org secret", orgMode, orgConn, "client_secret_expired", false,
			[]string{"(client_secret_expired)", "since 2030-03-12 08:05 UTC", "expired", "stay connected"},
			[]string{"new client secret", "Organization Settings, Integrations", "resumes the paused connections", "nobody needs to reconnect"}},
		{"a save since the failure", orgMode, orgConn, "invalid_client_secret", true,
			[]string{"(invalid_client_secret)", "secret is wrong", "saved since"},
			[]string{"right client secret", "nobody needs to reconnect"}},
		{"the platform's default client", nil, nil, "invalid_client", false,
			[]string{"(invalid_client)", "since 2030-03-12 08:05 UTC"},
			[]string{"platform's support team", "nobody needs to reconnect"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			if tc.in != nil {
				if err := h.st.PutClientSecret(ctx, orgID, catalog.Microsoft365, "fake-client-secret-unit"); err != nil {
					t.Fatal(err)
				}
			}
			h.setup(tc.in, tc.conn)
			in, err := h.st.GetIntegration(ctx, orgID, catalog.Microsoft365)
			if err != nil {
				t.Fatal(err)
			}
			version := in.Version
			if tc.savedSince {
				version--
			}
			if _, started, err := h.st.ReportClientFailure(ctx, orgID, catalog.Microsoft365, tc.cause, version, since); err != nil || !started {
				t.Fatalf("record the failure: started %v, %v", started, err)
			}
			if _, _, err := h.st.ReportClientFailure(ctx, orgID, catalog.Microsoft365, tc.cause, version, since.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			rep := h.diagnose(member(alice), "", catalog.Email, catalog.Read, "")
			expect(t, rep, OverallBlocked, map[CheckID]Status{
				ClientHealthy: Fail, ConnectionHealthy: Skipped, ExternalPermission: Skipped, ItemAccessible: Skipped,
			})
			c := find(rep.Checks, ClientHealthy)
			if c.Owner != OwnerAdmin {
				t.Errorf("client_healthy owned by %s, want admin", c.Owner)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(c.Message, w) {
					t.Errorf("client_healthy message %q lacks %q", c.Message, w)
				}
			}
			for _, w := range tc.wantFix {
				if !strings.Contains(c.Remediation, w) {
					t.Errorf("client_healthy remediation %q lacks %q", c.Remediation, w)
				}
			}
			if !tc.savedSince && strings.Contains(c.Message, "saved since") {
				t.Errorf("client_healthy says a save happened: %q", c.Message)
			}
			for _, id := range []CheckID{ConnectionHealthy, ExternalPermission} {
				if s := find(rep.Checks, id); s.Owner != OwnerAdmin || !strings.Contains(s.Message, string(ClientHealthy)) {
					t.Errorf("%s = %+v, want skipped for client_healthy, owned by the admin", id, s)
				}
			}
			for _, ch := range rep.Checks {
				if ch.Owner == OwnerUser && ch.Status != Pass && ch.Status != Skipped {
					t.Errorf("%s blames the user for the client: %+v", ch.ID, ch)
				}
			}
			if h.tokens.calls != 0 {
				t.Errorf("%d token calls while the client is refused, want none (refreshes are paused)", h.tokens.calls)
			}

			// The client works again (a refresh recorded it): judged as usual.
			if _, recovered, err := h.st.ReportClientOK(ctx, orgID, catalog.Microsoft365, since.Add(2*time.Hour)); err != nil || !recovered {
				t.Fatalf("record the recovery: %v %v", recovered, err)
			}
			rep = h.diagnose(member(alice), "", catalog.Email, catalog.Read, "")
			if c := find(rep.Checks, ClientHealthy); c.Status != Pass {
				t.Errorf("client_healthy after the recovery = %+v", c)
			}
			if c := find(rep.Checks, ConnectionHealthy); c.Status != Pass || h.tokens.calls != 1 {
				t.Errorf("connection_healthy after the recovery = %+v (%d token calls)", c, h.tokens.calls)
			}
		})
	}
}

// TestClientRefusedDuringDiagnosis: the diagnosis' own refresh meets the
// refusal first (the stored health was still OK): the admin fixes it, and
// the remediation says the connection resumes without a reconnect.
func TestClientRefusedDuringDiagnosis(t *testing.T) {
	h := newHarness(t)
	h.setup(nil, nil)
	h.tokens.err = &refresh.Error{Code: refresh.CodeRefreshFailed, Failure: &oauthfail.Failure{Kind: oauthfail.ClientRefused, Code: "invalid_client", Owner: oauthfail.OwnerAdmin, Cause: "The provider refused the integration's OAuth client."}}
	rep := h.diagnose(member(alice), "", catalog.Email, catalog.Read, "")
	expect(t, rep, OverallBlocked, map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped, ItemAccessible: Skipped})
	c := find(rep.Checks, ConnectionHealthy)
	if c.Owner != OwnerAdmin || !strings.Contains(c.Remediation, "without reconnecting") || strings.Contains(c.Remediation, "user reconnects") {
		t.Errorf("connection_healthy = %+v, want the admin's, resuming without a reconnect", c)
	}
}

func TestTestAfterChanges(t *testing.T) {
	h := newHarness(t)
	h.setup(nil, func(c *store.Connection) { c.UserID = "u-admin" })
	h.prov.set("graph.microsoft.com/v1.0/me/drive/items/file-1", 200, `{"id":"file-1","name":"report.pdf","size":5,"file":{"mimeType":"application/pdf"}}`)
	h.prov.setType("graph.microsoft.com/v1.0/me/drive/items/file-1/content", 200, "application/pdf", "%PDF-")
	h.prov.set("graph.microsoft.com/v1.0/me/drive/items/folder-1", 200, `{"id":"folder-1","name":"Docs","folder":{"childCount":2}}`)
	p, _ := h.cat.Get(catalog.Microsoft365)
	run := func(req TestRequest) TestReport {
		t.Helper()
		req.Caller, req.Provider = admin("u-admin"), p
		rep, err := h.svc.TestAfterChanges(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	rep := run(TestRequest{ImportItem: "file-1", Item: "sample-event", ItemCapability: catalog.Calendar})
	var ids []string
	for _, s := range rep.Steps {
		ids = append(ids, string(s.ID))
		if s.Status != Pass {
			t.Errorf("%s = %s (%s), want pass", s.ID, s.Status, s.Message)
		}
		if strings.HasPrefix(string(s.ID), "write_") && !strings.Contains(s.Message, "No write was performed") {
			t.Errorf("%s does not say no write was performed: %q", s.ID, s.Message)
		}
	}
	want := "test_account_connected read_email read_calendar read_files read_contacts write_email write_calendar write_files write_contacts workspace_import"
	if strings.Join(ids, " ") != want {
		t.Errorf("steps = %s\nwant    %s", strings.Join(ids, " "), want)
	}
	if rep.Overall != OverallOK || rep.WritesPerformed || rep.User != "u-admin" {
		t.Errorf("report = %+v", rep)
	}
	if imp := find(rep.Steps, WorkspaceImport); !strings.Contains(imp.Message, "5 bytes") || !strings.Contains(imp.Message, "application/pdf") || strings.Contains(imp.Message, "report.pdf") {
		t.Errorf("workspace_import = %q, want size and type only", imp.Message)
	}
	if !slices.ContainsFunc(h.prov.seen, func(s string) bool { return strings.HasSuffix(s, "/me/events/sample-event") }) {
		t.Errorf("the named calendar item was not fetched: %v", h.prov.seen)
	}

	// A folder is refused; no import item means the step does not apply.
	if s := find(run(TestRequest{ImportItem: "folder-1"}).Steps, WorkspaceImport); s.Status != Fail {
		t.Errorf("folder import = %+v", s)
	}
	if s := find(run(TestRequest{}).Steps, WorkspaceImport); s.Status != Skipped || !s.notApplicable {
		t.Errorf("import without an item = %+v", s)
	}
}

func TestTestAfterChangesPolicyAndScopes(t *testing.T) {
	h := newHarness(t)
	h.setup(func(in *store.Integration) {
		in.Capabilities = []string{"email", "files"}
		in.AllowWriteActions = false
	}, func(c *store.Connection) { c.UserID = "u-admin" })
	p, _ := h.cat.Get(catalog.Microsoft365)
	rep, err := h.svc.TestAfterChanges(context.Background(), TestRequest{Caller: admin("u-admin"), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rep.Steps); got != 6 {
		t.Fatalf("steps = %d, want 6 (account, 2 reads, 2 writes, import)", got)
	}
	if s := find(rep.Steps, "write_email"); s.Status != Skipped || !strings.Contains(s.Message, "turned off") || !strings.Contains(s.Message, "No write was performed") {
		t.Errorf("write_email with writes off = %+v", s)
	}
	if rep.Overall != OverallOK {
		t.Errorf("overall = %s: steps that do not apply must not degrade it", rep.Overall)
	}

	// Writes allowed but a write scope not granted: a warning, never a write.
	h2 := newHarness(t)
	h2.setup(nil, func(c *store.Connection) {
		c.UserID = "u-admin"
		c.GrantedScopes = without(c.GrantedScopes, "https://graph.microsoft.com/Mail.Send")
	})
	rep, err = h2.svc.TestAfterChanges(context.Background(), TestRequest{Caller: admin("u-admin"), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	if s := find(rep.Steps, "write_email"); s.Status != Warn || !strings.Contains(s.Message, "send") {
		t.Errorf("write_email = %+v", s)
	}
	if rep.Overall != OverallDegraded {
		t.Errorf("overall = %s", rep.Overall)
	}
	for _, s := range h2.prov.seen {
		if !strings.HasPrefix(s, "/graph.microsoft.com/v1.0/me") {
			t.Errorf("unexpected provider call %s", s)
		}
	}
}

func TestTestAfterChangesWithoutConnection(t *testing.T) {
	h := newHarness(t)
	h.setup(nil, nil) // alice is connected, the admin is not
	p, _ := h.cat.Get(catalog.Microsoft365)
	rep, err := h.svc.TestAfterChanges(context.Background(), TestRequest{Caller: admin("u-admin"), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	first := rep.Steps[0]
	if first.ID != TestAccountConnected || first.Status != Fail || !strings.HasPrefix(first.Message, "user_connected:") {
		t.Fatalf("first step = %+v", first)
	}
	for _, s := range rep.Steps[1:] {
		if s.Status != Skipped {
			t.Errorf("%s = %s, want skipped", s.ID, s.Status)
		}
	}
	if rep.Overall != OverallBlocked || h.tokens.calls != 0 {
		t.Errorf("overall %s, token calls %d", rep.Overall, h.tokens.calls)
	}
}

// TestRefusedTokenIsRefreshedOnceBeforeConcluding: a 401 for a token that
// was not refreshed during the diagnosis gets one forced refresh and one
// more try, wherever it happens; what the forced refresh meets is reported
// with its owner; a token just refreshed is not refreshed again.
func TestRefusedTokenIsRefreshedOnceBeforeConcluding(t *testing.T) {
	const me = "graph.microsoft.com/v1.0/me"
	const messages = "graph.microsoft.com/v1.0/me/messages"
	unauthorized := `{"error":{"code":"InvalidAuthenticationToken"}}`
	tenantRevoked := &refresh.Error{Code: refresh.CodeNeedsReconnect, Failure: &oauthfail.Failure{
		Kind: oauthfail.Reconnect, Code: "invalid_grant", Owner: oauthfail.OwnerExternalAdmin, Cause: "The tenant's administrator revoked the sessions."}}
	tests := []struct {
		name      string
		refused   string // the path answering 401 every time
		item      string
		refreshed bool // AccessToken just refreshed the token
		forceErr  error
		wantForce int
		wantCalls int // calls of the refused path
		overall   string
		want      map[CheckID]Status
		owner     Owner // of the failing check
		says      string
	}{
		{name: "identity still refuses the refreshed token", refused: me, wantForce: 1, wantCalls: 2, overall: OverallBlocked,
			want:  map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			owner: OwnerUser, says: "no longer accepts"},
		{name: "read probe still refuses the refreshed token", refused: messages, wantForce: 1, wantCalls: 2, overall: OverallBlocked,
			want:  map[CheckID]Status{ExternalPermission: Fail},
			owner: OwnerUser, says: "rejected the account's fresh access token"},
		{name: "the forced refresh meets a revoked grant", refused: me, forceErr: tenantRevoked, wantForce: 1, wantCalls: 1, overall: OverallBlocked,
			want:  map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			owner: OwnerExternalAdmin, says: "refused to renew"},
		{name: "the forced refresh fails transiently", refused: me, wantForce: 1, wantCalls: 1, overall: OverallDegraded,
			forceErr: &refresh.Error{Code: refresh.CodeRefreshFailed, Failure: &oauthfail.Failure{Kind: oauthfail.Transient, Code: "provider_unavailable"}},
			want:     map[CheckID]Status{ConnectionHealthy: Warn, ExternalPermission: Skipped}, owner: OwnerUser, says: "could not be renewed"},
		{name: "the forced refresh at the read probe fails transiently: the item is not tried", refused: messages, item: "sample-email", wantForce: 1, wantCalls: 1, overall: OverallDegraded,
			forceErr: &refresh.Error{Code: refresh.CodeRefreshFailed, Failure: &oauthfail.Failure{Kind: oauthfail.Transient, Code: "provider_unavailable"}},
			want:     map[CheckID]Status{ExternalPermission: Warn, ItemAccessible: Skipped}, owner: OwnerUser, says: "could not be renewed"},
		{name: "a token refreshed just now is not refreshed again", refused: me, refreshed: true, wantForce: 0, wantCalls: 1, overall: OverallBlocked,
			want:  map[CheckID]Status{ConnectionHealthy: Fail, ExternalPermission: Skipped},
			owner: OwnerUser, says: "no longer accepts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.setup(nil, nil)
			h.prov.set(tt.refused, 401, unauthorized)
			h.tokens.refreshed, h.tokens.forceErr = tt.refreshed, tt.forceErr
			rep := h.diagnose(member(alice), "", catalog.Email, catalog.Read, tt.item)
			expect(t, rep, tt.overall, tt.want)
			if h.tokens.forced != tt.wantForce {
				t.Fatalf("forced refreshes = %d, want %d", h.tokens.forced, tt.wantForce)
			}
			if tt.wantForce > 0 && h.tokens.rejected[0] != "fake-access-token-unit" {
				t.Fatalf("forced with rejected %q, want the refused token", h.tokens.rejected[0])
			}
			calls := 0
			for _, p := range h.prov.seen {
				if strings.TrimPrefix(p, "/") == tt.refused {
					calls++
				}
			}
			if calls != tt.wantCalls {
				t.Fatalf("%s called %d times, want %d (seen %v)", tt.refused, calls, tt.wantCalls, h.prov.seen)
			}
			for _, c := range rep.Checks {
				if c.Status == Fail || c.Status == Warn || (c.Status == Skipped && !c.notApplicable) {
					if c.Status == Skipped {
						if !strings.Contains(c.Message, string(ExternalPermission)) && !strings.Contains(c.Message, string(ConnectionHealthy)) {
							t.Fatalf("%s skipped for %q", c.ID, c.Message)
						}
						continue
					}
					if c.Owner != tt.owner || !strings.Contains(c.Message, tt.says) {
						t.Fatalf("%s = %s owner %s %q; want owner %s saying %q", c.ID, c.Status, c.Owner, c.Message, tt.owner, tt.says)
					}
				}
			}
		})
	}
}

// TestDiagnoseConsent: after an admin enables write actions, a connection
// made without them warns (owned by the user, who grants the new
// permissions in Connected apps) and an admin's report counts the users
// who still need to consent; a member's report does not. At Salesforce,
// whose scopes are set per connected app, the missing scope is an admin's
// to add to the app.
func TestDiagnoseConsent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	p, _ := h.cat.Get(catalog.Microsoft365)
	readOnly := p.RequestedScopes(p.CapabilityIDs(), false)
	h.setup(nil, func(c *store.Connection) { c.RequestedScopes, c.GrantedScopes = readOnly, readOnly })
	for i, u := range []string{"u-bob", "u-carol", "u-dan"} {
		c := store.Connection{ConnKey: store.ConnKey{OrgID: orgID, UserID: u, Provider: p.ID}, Status: store.StatusConnected, ClientRef: "default", GrantedScopes: readOnly}
		if i == 2 {
			c.Status = store.StatusNeedsReconnect // needs a reconnect first
		}
		if _, err := h.st.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	// The test account is no user.
	if _, err := h.st.PutConnection(ctx, store.Connection{ConnKey: store.TestAccountKey(orgID, p.ID), Status: store.StatusConnected, ClientRef: "default", GrantedScopes: readOnly}, 0); err != nil {
		t.Fatal(err)
	}

	rep := h.diagnose(admin("u-admin"), alice, catalog.Email, catalog.Read, "")
	expect(t, rep, OverallDegraded, map[CheckID]Status{ScopesGranted: Warn})
	c := find(rep.Checks, ScopesGranted)
	if c.Owner != OwnerUser || !strings.Contains(c.Message, "Mail.Send") || !strings.Contains(c.Remediation, "Grant the new permissions in Connected apps") ||
		!strings.Contains(c.Remediation, "those you granted before") {
		t.Errorf("scopes_granted = %+v", c)
	}
	if n := rep.UsersNeedingConsent; n == nil || *n != 3 {
		t.Errorf("usersNeedingConsent = %s, want 3 (alice, bob, carol)", func() string {
			if n == nil {
				return "absent"
			}
			return strconv.Itoa(*n)
		}())
	}
	if rep := h.diagnose(member(alice), "", catalog.Email, catalog.Read, ""); rep.UsersNeedingConsent != nil {
		t.Errorf("a member sees usersNeedingConsent %d", *rep.UsersNeedingConsent)
	}

	sf, _ := h.cat.Get(catalog.Salesforce)
	if _, err := h.st.PutIntegration(ctx, store.Integration{OrgID: orgID, Provider: sf.ID, Enabled: true, ConfigMode: store.ConfigModeDefault,
		AuthBaseURL: "https://login.salesforce.com", Capabilities: []string{"crm"}, Rollout: store.Rollout{Mode: store.RolloutEveryone}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.PutConnection(ctx, store.Connection{ConnKey: store.ConnKey{OrgID: orgID, UserID: alice, Provider: sf.ID}, Status: store.StatusConnected,
		ClientRef: "default", Account: store.Account{InstanceURL: "https://example.my.salesforce.com"}, GrantedScopes: []string{"refresh_token", "id", "openid"}, SealedTokens: []byte{1}}, 0); err != nil {
		t.Fatal(err)
	}
	cs, _ := sf.Capability(catalog.CRM)
	rep, err := h.svc.Diagnose(ctx, Request{Caller: member(alice), Provider: sf, Capability: cs, Action: catalog.Read})
	if err != nil {
		t.Fatal(err)
	}
	if c := find(rep.Checks, ScopesGranted); c.Status != Fail || c.Owner != OwnerAdmin || !strings.Contains(c.Remediation, "per connected app") {
		t.Errorf("salesforce scopes_granted = %+v, want a failure the admin fixes at the connected app", c)
	}
}

// catalogScopes are every scope provider requests with every capability
// and writes.
func catalogScopes(provider string) []string {
	p, _ := catalog.New().Get(provider)
	return p.RequestedScopes(p.CapabilityIDs(), true)
}
