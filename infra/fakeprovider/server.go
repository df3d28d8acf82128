package fakeprovider

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// DefaultTokenTTL is the access token lifetime when Options.TokenTTL is zero.
const DefaultTokenTTL = time.Hour

// The default users New registers, one per provider.
const (
	DefaultMicrosoftUser         = "alice@contoso.example"
	DefaultMicrosoftTenantID     = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	DefaultMicrosoftTenantDomain = "contoso.example"

	DefaultGoogleUser   = "alice@example.com"
	DefaultGoogleDomain = "example.com"

	DefaultSalesforceUser        = "alice@example.com"
	DefaultSalesforceOrgID       = "00D000000000001AAA"
	DefaultSalesforceInstanceURL = "https://example-dev-ed.my.salesforce.com"
)

// Options configure a Server. The zero value is usable: consent page,
// strict clients, one-hour tokens, the real clock.
type Options struct {
	// TokenTTL is the lifetime of issued access tokens (DefaultTokenTTL when
	// zero); see ParseTokenTTL for FAKE_PROVIDER_TOKEN_TTL.
	TokenTTL time.Duration
	// AutoApprove answers authorization requests with an immediate redirect
	// back to the client (headless runs and tests) instead of a consent page.
	AutoApprove bool
	// Lenient accepts any client id: an unknown one is registered on first
	// use, with any redirect URI, and the first client secret it presents
	// becomes its secret. For make run, where an admin types their own
	// client id.
	Lenient bool
	// Now is the clock of token, code and grant lifetimes (time.Now when nil).
	// Latency and injected delays use real time.
	Now func() time.Time
	// Latency delays every response, for benchmarks (see also SetLatency).
	Latency time.Duration
	// DefaultRedirectURIs are the registered redirect URIs of the default
	// clients. Empty accepts any redirect URI (the token request must still
	// repeat the authorization request's).
	DefaultRedirectURIs []string
}

// ParseTokenTTL reads a token lifetime in whole seconds, as
// FAKE_PROVIDER_TOKEN_TTL holds it; "" is DefaultTokenTTL.
func ParseTokenTTL(seconds string) (time.Duration, error) {
	if strings.TrimSpace(seconds) == "" {
		return DefaultTokenTTL, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(seconds))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("fake provider token TTL %q is not a whole number of seconds >= 1", seconds)
	}
	return time.Duration(n) * time.Second, nil
}

// ClientSpec registers an OAuth client at one provider.
type ClientSpec struct {
	Provider string // catalog provider id
	ClientID string
	Secret   string
	// RedirectURIs are matched exactly; empty accepts any.
	RedirectURIs []string
	// RotateRefreshTokens: Salesforce's connected-app refresh token rotation.
	// (Microsoft always rotates, Google never does; this is ignored for them.)
	RotateRefreshTokens bool
	// RequirePKCE refuses authorization requests without a code challenge.
	RequirePKCE bool
	// Testing: a Google app whose OAuth consent screen is external and in
	// Testing: its refresh tokens expire seven days after issue.
	Testing bool
	// SingleTenant: a Microsoft app registered for its own tenant only;
	// under common and organizations it answers AADSTS50194.
	SingleTenant bool
}

// Item is an external object a probe can fetch by id: a message, an event,
// a file, a contact, a CRM record.
type Item struct {
	Capability catalog.Capability
	// ID as the catalog's item URLs carry it ({id}); Salesforce records are
	// "<Object>/<record id>", e.g. "Account/001000000000001AAA".
	ID       string
	Name     string
	MimeType string // files
	Content  []byte // files: what a download returns
	// Forbidden: the item exists but this user may not read it (403).
	Forbidden bool
}

// User is an account at one provider.
type User struct {
	Provider string // catalog provider id
	// Email is the sign-in name login_hint selects (Salesforce: username).
	Email string
	Name  string
	// ID is the provider's user id (Microsoft oid, Google sub, Salesforce
	// 005... id); derived from Email when empty.
	ID string

	// Microsoft: the tenant id (GUID) and its verified domains (default:
	// DefaultMicrosoftTenantID, and the email's domain).
	Tenant        string
	TenantDomains []string
	// Microsoft: the tenant's Conditional Access asks for a stronger
	// sign-in than the user's tokens carry (continuous access evaluation):
	// every Graph call answers 401 with a claims challenge
	// (error="insufficient_claims" in WWW-Authenticate), and refreshing
	// does not satisfy it.
	ClaimsChallenge bool
	// Microsoft: the app requires user assignment in the tenant and this
	// user is not assigned: sign-in and token requests answer AADSTS50105;
	// tokens issued before stay valid for when the user is assigned again.
	NotAssigned bool
	// Microsoft: the user's tenant does not let users consent to apps:
	// authorizing a client answers consent_required (AADSTS65001) unless
	// an administrator's consent of that client in the tenant
	// (AdminConsents, the v2.0 adminconsent endpoint) covers every
	// permission asked for.
	UserConsentBlocked bool

	// Google: the Workspace domain (hd claim); empty for a consumer account.
	HostedDomain string
	// Google: the Workspace administrator's API controls do not let this
	// account use the app: authorization and token requests answer
	// admin_policy_enforced, and tokens already issued stay valid for when
	// the administrator allows the app again.
	AdminPolicyBlocked bool

	// Salesforce: the administrator deactivated the user (Inactive), or the
	// org is locked, closed or suspended (OrgInactive); token requests
	// answer inactive_user or inactive_org, and tokens issued before stay
	// valid for when the user or org is active again.
	Inactive, OrgInactive bool
	// Salesforce: the user's profile lacks View Setup and Configuration,
	// so the limits resource answers 403 (records it can read still are).
	WithoutViewSetup bool

	// Salesforce: org id and instance URL (defaults: DefaultSalesforceOrgID,
	// DefaultSalesforceInstanceURL). Sandbox users sign in at
	// test.salesforce.com or a *.sandbox.my.salesforce.com host.
	OrgID       string
	InstanceURL string

	// GrantScopes, when not nil, is what the user consents to: the requested
	// scopes outside it are not granted (Google's granular consent; for the
	// others, an admin consent that covers less). The provider's base
	// (identity and refresh) scopes are always granted.
	GrantScopes []string
	// Denied capabilities answer every probe with the provider's 403.
	Denied []catalog.Capability
	// Items the probes can fetch by id.
	Items []Item
}

// Server is the fake provider. Create it with New.
type Server struct {
	opts     Options
	cat      *catalog.Catalog
	dialects []dialect          // in catalog order
	byID     map[string]dialect // the same, by provider id
	mux      *http.ServeMux
	latency  atomic.Int64 // nanoseconds

	mu      sync.Mutex
	clients map[clientKey]*client
	users   map[userKey]*User
	order   map[string][]string // provider -> user emails (lower case), in order added
	codes   map[string]*authCode
	access  map[string]*accessToken
	refresh map[string]*refreshToken
	grants  map[grantKey]*grant
	pending map[string]*authzRequest
	tickets map[string]*downloadTicket
	deleted map[deletedKey]bool // items deleted through the API, for answers that remember them
	// adminConsents are the scopes administrators consented to, per client
	// and directory (Microsoft's admin consent).
	adminConsents map[adminConsentKey][]string
	faults        []*faultEntry
	counts        map[countKey]int
	rtLog         []RefreshUse
	sweepAt       time.Time
}

type clientKey struct{ provider, id string }

type userKey struct{ provider, email string }

type grantKey struct{ provider, clientID, email string }

type deletedKey struct{ provider, id string }

func ukey(provider, email string) userKey { return userKey{provider, strings.ToLower(email)} }

// client is a registered client.
type client struct {
	ClientSpec
	lenient bool // registered by Lenient mode; secret set on first use
}

// grant is what a user has consented to for one client: the basis of
// include_granted_scopes, of prompt=none, and of Google's rule that only the
// first consent (or prompt=consent) yields a refresh token.
type grant struct {
	scopes  []string
	offline bool
}

// New returns a fake provider with the default clients and users registered.
func New(opts Options) *Server {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:    opts,
		cat:     catalog.New(),
		clients: map[clientKey]*client{},
		users:   map[userKey]*User{},
		order:   map[string][]string{},
		codes:   map[string]*authCode{},
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		grants:  map[grantKey]*grant{},
		pending: map[string]*authzRequest{},
		tickets: map[string]*downloadTicket{},
		deleted: map[deletedKey]bool{},
		counts:  map[countKey]int{},
	}
	s.latency.Store(int64(opts.Latency))
	s.dialects, s.byID = dialects(s), map[string]dialect{}
	for _, d := range s.dialects {
		s.byID[d.id()] = d
	}
	s.mux = s.routes()
	for _, d := range s.dialects {
		dc, rotates := d.defaultClient()
		s.RegisterClient(ClientSpec{
			Provider: d.id(), ClientID: dc.ClientID, Secret: dc.ClientSecret,
			RedirectURIs: opts.DefaultRedirectURIs, RotateRefreshTokens: rotates,
		})
		u := d.seedUser()
		u.Items = sampleItems(s.provider(d.id()))
		s.AddUser(u)
	}
	return s
}

// dialects is the explicit registry of the fake's providers, one per
// catalog provider (TestEveryProviderHasADialect).
func dialects(s *Server) []dialect {
	return []dialect{&microsoft{base{s}}, &google{base{s}}, &salesforce{base{s}}}
}

// dialect returns the dialect of a provider id.
func (s *Server) dialect(id string) dialect {
	d, ok := s.byID[id]
	if !ok {
		panic("fakeprovider: unknown provider " + strconv.Quote(id))
	}
	return d
}

// DefaultClients are the platform default clients New registers, one per
// provider, for FAKE_PROVIDERS=1 local runs: seed them into the secrets
// store as the deployment's default clients. The Salesforce one rotates
// refresh tokens. The values are fixed and obviously fake.
func DefaultClients() map[string]store.DefaultClient {
	out := map[string]store.DefaultClient{}
	for _, d := range dialects(nil) {
		dc, _ := d.defaultClient()
		out[d.id()] = dc
	}
	return out
}

// sampleItems are a default user's items: one per capability, id
// "sample-<capability>" (CRM: a record of Account).
func sampleItems(p catalog.Provider) []Item {
	var items []Item
	for _, c := range p.CapabilityIDs() {
		it := Item{Capability: c, ID: "sample-" + string(c), Name: "Sample " + string(c) + " item"}
		switch c {
		case catalog.Files:
			it.Name, it.MimeType, it.Content = "sample.txt", "text/plain", []byte("Hello from the fake provider.\n")
		case catalog.CRM:
			it.ID, it.Name = "Account/001000000000001AAA", "Sample Account"
		}
		items = append(items, it)
	}
	return items
}

// SetLatency changes the delay added to every response.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) provider(id string) catalog.Provider {
	p, ok := s.cat.Get(id)
	if !ok {
		panic("fakeprovider: unknown provider " + strconv.Quote(id))
	}
	return p
}

// RegisterClient adds a client, or replaces the one with the same provider
// and id (to change its secret, say). It panics on an unknown provider or an
// empty client id: a mistake in the test.
func (s *Server) RegisterClient(spec ClientSpec) {
	s.provider(spec.Provider)
	if spec.ClientID == "" {
		panic("fakeprovider: RegisterClient without a client id")
	}
	spec.RedirectURIs = slices.Clone(spec.RedirectURIs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientKey{spec.Provider, spec.ClientID}] = &client{ClientSpec: spec}
}

// AddUser adds an account, or replaces the one with the same provider and
// email. It panics on an unknown provider or an empty email.
func (s *Server) AddUser(u User) {
	d := s.dialect(u.Provider)
	if u.Email == "" {
		panic("fakeprovider: AddUser without an email")
	}
	u = s.normalizeUser(d, u)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ukey(u.Provider, u.Email)
	if _, ok := s.users[k]; !ok {
		s.order[u.Provider] = append(s.order[u.Provider], k.email)
	}
	s.users[k] = &u
}

// UpdateUser changes an account in place: fn gets a copy to modify
// (Provider and Email stay as they are). Tokens already issued keep working
// under the new settings (permissions, items), as at a real provider.
func (s *Server) UpdateUser(provider, email string, fn func(*User)) error {
	d := s.dialect(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ukey(provider, email)
	cur, ok := s.users[k]
	if !ok {
		return fmt.Errorf("fakeprovider: no %s user %q", provider, email)
	}
	u := cloneUser(*cur)
	fn(&u)
	u.Provider, u.Email = cur.Provider, cur.Email
	u = s.normalizeUser(d, u)
	s.users[k] = &u
	return nil
}

// User returns a copy of an account.
func (s *Server) User(provider, email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[ukey(provider, email)]
	if !ok {
		return User{}, false
	}
	return cloneUser(*u), true
}

// RevokeUser ends every grant the user gave at the provider, as a user
// removing the app's access (or an admin revoking their sessions) would:
// their refresh and access tokens stop working and pending codes are void.
// Google then issues a refresh token again on the next consent.
func (s *Server) RevokeUser(provider, email string) error {
	s.provider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ukey(provider, email)
	if _, ok := s.users[k]; !ok {
		return fmt.Errorf("fakeprovider: no %s user %q", provider, email)
	}
	s.revokeLocked(func(f *family) bool { return f.provider == provider && f.email == k.email }, s.now())
	for code, c := range s.codes {
		if c.provider == provider && c.email == k.email {
			delete(s.codes, code)
		}
	}
	for gk := range s.grants {
		if gk.provider == provider && gk.email == k.email {
			delete(s.grants, gk)
		}
	}
	return nil
}

// RevokeAccessTokens ends every access token the user currently holds at
// the provider, and nothing else: their refresh tokens keep working, so a
// refresh issues a working access token again. This is a provider ending
// sessions early (Microsoft continuous access evaluation, a Salesforce
// session revoked, a password reset) while the tokens' expiry says they are
// good. It returns how many it ended.
func (s *Server) RevokeAccessTokens(provider, email string) (int, error) {
	s.provider(provider)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ukey(provider, email)
	if _, ok := s.users[k]; !ok {
		return 0, fmt.Errorf("fakeprovider: no %s user %q", provider, email)
	}
	now := s.now()
	n := 0
	for _, at := range s.access {
		if at.provider == provider && at.email == k.email && at.active(now) {
			at.revoked = true
			n++
		}
	}
	return n, nil
}

// revokeLocked revokes every family that match selects, and forgets the
// grants behind them; callers hold s.mu.
func (s *Server) revokeLocked(match func(*family) bool, now time.Time) {
	revoke := func(f *family) {
		if f != nil && match(f) {
			f.revoke(now)
			delete(s.grants, grantKey{f.provider, f.clientID, f.email})
		}
	}
	for _, rt := range s.refresh {
		revoke(rt.fam)
	}
	for _, at := range s.access {
		revoke(at.fam)
	}
}

func cloneUser(u User) User {
	u.TenantDomains = slices.Clone(u.TenantDomains)
	if u.GrantScopes != nil {
		u.GrantScopes = slices.Clone(u.GrantScopes)
	}
	u.Denied = slices.Clone(u.Denied)
	u.Items = slices.Clone(u.Items)
	for i := range u.Items {
		u.Items[i].Content = slices.Clone(u.Items[i].Content)
	}
	return u
}

// normalizeUser fills in derived defaults.
func (s *Server) normalizeUser(d dialect, u User) User {
	u = cloneUser(u)
	domain := ""
	if _, dom, ok := strings.Cut(u.Email, "@"); ok {
		domain = strings.ToLower(dom)
	}
	if u.Name == "" {
		u.Name, _, _ = strings.Cut(u.Email, "@")
	}
	d.normalize(&u, domain)
	return u
}

// lookupUser finds a user; callers hold s.mu.
func (s *Server) lookupUser(provider, email string) *User {
	return s.users[ukey(provider, email)]
}

// usersOf lists a provider's users in the order added; callers hold s.mu.
func (s *Server) usersOf(provider string) []*User {
	var out []*User
	for _, e := range s.order[provider] {
		if u := s.users[userKey{provider, e}]; u != nil {
			out = append(out, u)
		}
	}
	return out
}
