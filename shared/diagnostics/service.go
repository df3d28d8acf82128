package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// Stores are the storage ports diagnostics uses (store.Store has them all).
// Diagnostics writes no record but the audit entry of a test that wrote to
// the provider (writetest.go); the token source may write (refresh).
type Stores interface {
	GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error)
	GetConnection(ctx context.Context, key store.ConnKey) (store.Connection, error)
	// ListProviderConnections counts, for an admin, the users who still
	// need to consent (Report.UsersNeedingConsent).
	ListProviderConnections(ctx context.Context, orgID, provider string, page store.Page) ([]store.Connection, string, error)
	// GetClientHealth is whether the provider accepts the integration's
	// OAuth client, as the refresh job last saw it (client_healthy).
	GetClientHealth(ctx context.Context, orgID, provider string) (store.ClientHealth, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) error
}

var _ Stores = (store.Store)(nil)

// Secrets is the part of the secrets port diagnostics reads: whether a
// client secret or a default client exists. Values are dropped at once.
type Secrets interface {
	GetClientSecret(ctx context.Context, orgID, provider string) (string, error)
	DefaultClient(ctx context.Context, provider string) (store.DefaultClient, error)
}

var _ Secrets = (store.Secrets)(nil)

// TokenSource returns a connection's access token, valid now: refreshed on
// demand through the same lease and code path as the scheduled refresh.
// *refresh.Service implements it; its *refresh.Error says why there is none.
type TokenSource interface {
	AccessToken(ctx context.Context, key store.ConnKey) (refresh.Token, error)
	// ForceRefresh refreshes the token although it has not expired, because
	// the provider refused it (rejected); a token someone refreshed
	// meanwhile is handed out instead of refreshing again.
	ForceRefresh(ctx context.Context, key store.ConnKey, rejected string) (refresh.Token, error)
}

var _ TokenSource = (*refresh.Service)(nil)

// Options are the service's dependencies.
type Options struct {
	Catalog *catalog.Catalog
	Store   Stores
	Secrets Secrets
	Tokens  TokenSource
	// HTTPClient makes the probe calls (rewritten to the fake provider in
	// local runs).
	HTTPClient *http.Client
	// ProbeTimeout bounds each probe call; 0 means DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// TokenTimeout bounds the wait for an access token (a refresh another
	// caller holds the lease of); 0 means DefaultTokenTimeout. A refresh
	// already under way is not cut short by it: the refresh service finishes
	// and stores it regardless.
	TokenTimeout time.Duration
	// AvailableProviders are the providers this deployment offers.
	AvailableProviders []string
	// TestDeadline bounds a test with writes (writetest.go); 0 means
	// DefaultTestDeadline.
	TestDeadline time.Duration
	// Now is the clock of the write test's confirmations (time.Now when
	// nil).
	Now func() time.Time
}

// DefaultProbeTimeout bounds one probe call. A diagnostics request makes at
// most three provider calls (identity, read, item) after a possible refresh,
// well inside API Gateway's 30 seconds.
const DefaultProbeTimeout = 6 * time.Second

// DefaultTokenTimeout bounds the wait for a token, so that a diagnosis
// answers within API Gateway's 30 seconds even when a refresh is stuck.
const DefaultTokenTimeout = 12 * time.Second

// Service runs diagnostics and the admin's test after changes.
type Service struct {
	opts  Options
	probe *prober
}

// New checks the options and builds the service.
func New(o Options) (*Service, error) {
	if o.Catalog == nil || o.Store == nil || o.Secrets == nil || o.Tokens == nil || o.HTTPClient == nil {
		return nil, errors.New("diagnostics: catalog, store, secrets, token source and HTTP client are required")
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	if o.TokenTimeout <= 0 {
		o.TokenTimeout = DefaultTokenTimeout
	}
	if o.TestDeadline <= 0 {
		o.TestDeadline = DefaultTestDeadline
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{opts: o, probe: &prober{call: providers.Caller{HTTP: o.HTTPClient}, timeout: o.ProbeTimeout}}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Request asks for the diagnosis of one user's use of one capability.
type Request struct {
	Caller     auth.Principal
	Provider   catalog.Provider
	UserID     string // whose connection; the caller's own by default
	Capability catalog.CapabilitySpec
	Action     catalog.Action
	Item       string // optional item id, already validated (see catalog.Provider.ParseItem)
}

// Report is the answer of GET /v1/orgs/{orgId}/diagnostics/{provider}.
type Report struct {
	Provider   string  `json:"provider"`
	User       string  `json:"user"`
	Capability string  `json:"capability"`
	Action     string  `json:"action"`
	Overall    string  `json:"overall"`
	Checks     []Check `json:"checks"`
	// UsersNeedingConsent counts the org's users whose connection works but
	// lacks scopes the integration's current settings request (as the
	// rollout view does): shown to admins, for a configured integration;
	// absent otherwise.
	UsersNeedingConsent *int `json:"usersNeedingConsent,omitempty"`
}

// run is the state one diagnosis shares between its checks. Records are read
// once, at the start, so every check judges the same snapshot.
type run struct {
	svc      *Service
	caller   auth.Principal
	provider catalog.Provider
	userID   string
	self     bool
	cap      catalog.CapabilitySpec
	action   catalog.Action
	item     string // diagnostics' item, or the test's item of itemCap

	// The test after changes only.
	itemCap    catalog.Capability
	importItem string
	// testAccount: the connection is the org's test account
	// (testaccount.go), not the caller's own.
	testAccount bool
	// writes is set when the admin asked for the write test and it may
	// run (writetest.go).
	writes *writeRun

	integration *store.Integration // nil: the org never configured the provider
	// clientHealth is the integration's client health (OK when the org
	// never configured the provider).
	clientHealth store.ClientHealth
	conn         *store.Connection // nil: the user has no connection
	// ready is the integration's readiness, which the checks explain.
	ready readiness.Value
	// A secret lookup failed: the check that needs it warns.
	secretLookupFailed, defaultClientLookupFailed bool

	// token is set by connection_healthy when an access token is available;
	// tokenConn is the connection as stored when it was obtained.
	token     string
	tokenConn store.Connection
	// fresh: token was refreshed during this diagnosis, so a provider
	// refusing it is not cured by refreshing again.
	fresh bool
}

func (r *run) hasIntegration() bool { return r.integration != nil }

func (r *run) key() store.ConnKey {
	return store.ConnKey{OrgID: r.caller.OrgID, UserID: r.userID, Provider: r.provider.ID}
}

// diagnosticsGraph is the product page's checklist. Needs, read as "cannot
// be judged unless":
//
//	provider_enabled        -
//	environment_available   -
//	configuration_complete  - (the org's record)
//	client_healthy          provider_enabled, environment_available, configuration_complete
//	                        (the provider is asked with the client only when it is enabled, offered and complete)
//	user_in_rollout         - (the org's record)
//	user_connected          -
//	action_supported        - (the org's record)
//	connection_healthy      provider_enabled, environment_available, configuration_complete, client_healthy, user_connected
//	                        (a token is refreshed only for an enabled, complete integration whose client exists
//	                        and is accepted: while the provider refuses the client, refreshes are paused and
//	                        that is the admin's to fix, never the user's)
//	scopes_granted          user_connected, action_supported
//	                        (an unsupported or disallowed action has no scopes to have been granted)
//	external_permission     connection_healthy, scopes_granted
//	                        (a live call needs a token, and fails for a missing scope for reasons that check already gives)
//	item_accessible         external_permission
//
// "(the org's record)": when the org never configured the provider, the
// check is skipped citing provider_enabled.
var diagnosticsGraph = mustGraph([]checkDef{
	{ID: ProviderEnabled, Owner: OwnerAdmin, Run: checkProviderEnabled},
	{ID: EnvironmentAvailable, Owner: OwnerAdmin, Run: checkEnvironmentAvailable},
	{ID: ConfigurationComplete, Owner: OwnerAdmin, NeedsConfig: true, Run: checkConfigurationComplete},
	{ID: ClientHealthy, Owner: OwnerAdmin, NeedsConfig: true, Needs: []CheckID{ProviderEnabled, EnvironmentAvailable, ConfigurationComplete}, Run: checkClientHealthy},
	{ID: UserInRollout, Owner: OwnerAdmin, NeedsConfig: true, Run: checkUserInRollout},
	{ID: UserConnected, Owner: OwnerUser, Run: checkUserConnected},
	{ID: ConnectionHealthy, Owner: OwnerUser, NeedsConfig: true, Needs: []CheckID{ProviderEnabled, EnvironmentAvailable, ConfigurationComplete, ClientHealthy, UserConnected}, Run: checkConnectionHealthy},
	{ID: ScopesGranted, Owner: OwnerUser, Needs: []CheckID{UserConnected, ActionSupported}, Run: checkScopesGranted},
	{ID: ActionSupported, Owner: OwnerAdmin, NeedsConfig: true, Run: checkActionSupported},
	{ID: ExternalPermission, Owner: OwnerExternalAdmin, Needs: []CheckID{ConnectionHealthy, ScopesGranted}, Run: checkExternalPermission},
	{ID: ItemAccessible, Owner: OwnerUser, Needs: []CheckID{ExternalPermission}, Run: checkItemAccessible},
}, ProviderEnabled)

// CheckIDs lists the diagnostics checks in report order.
func CheckIDs() []CheckID { return diagnosticsGraph.ids() }

// Diagnose runs every check for req. Errors are store failures only: what a
// provider answers is a check result.
func (s *Service) Diagnose(ctx context.Context, req Request) (Report, error) {
	r, err := s.newRun(ctx, req.Caller, req.Provider, req.UserID)
	if err != nil {
		return Report{}, err
	}
	r.cap, r.action, r.item = req.Capability, req.Action, req.Item
	checks := diagnosticsGraph.evaluate(ctx, r)
	nameSupport(checks, r.integration)
	rep := Report{
		Provider:   req.Provider.ID,
		User:       r.userID,
		Capability: string(req.Capability.ID),
		Action:     string(req.Action),
		Overall:    Overall(checks),
		Checks:     checks,
	}
	if req.Caller.IsAdmin() && r.integration != nil {
		n, err := s.usersNeedingConsent(ctx, r)
		if err != nil {
			return Report{}, err
		}
		rep.UsersNeedingConsent = &n
	}
	logReport(ctx, "diagnostics", rep.Provider, r, rep.Overall, checks)
	return rep, nil
}

// usersNeedingConsent counts the org's users' connections of the provider
// that need consent under the integration's current settings
// (readiness.Value.NeedsConsent), reading them a page at a time.
func (s *Service) usersNeedingConsent(ctx context.Context, r *run) (int, error) {
	n := 0
	page := store.Page{Limit: consentPageSize}
	for {
		conns, next, err := s.opts.Store.ListProviderConnections(ctx, r.caller.OrgID, r.provider.ID, page)
		if err != nil {
			return 0, fmt.Errorf("diagnostics: list %s connections of %s: %w", r.provider.ID, r.caller.OrgID, err)
		}
		for _, c := range conns {
			if !c.ConnKey.IsTestAccount() && r.ready.NeedsConsent(r.provider, c) {
				n++
			}
		}
		if next == "" {
			return n, nil
		}
		page.Cursor = next
	}
}

// consentPageSize is how many connections one listing call reads: the
// store's largest page.
const consentPageSize = 1000

func (s *Service) newRun(ctx context.Context, caller auth.Principal, p catalog.Provider, userID string) (*run, error) {
	if userID == "" {
		userID = caller.UserID
	}
	r := &run{svc: s, caller: caller, provider: p, userID: userID, self: userID == caller.UserID}
	in, err := s.opts.Store.GetIntegration(ctx, caller.OrgID, p.ID)
	switch {
	case err == nil:
		r.integration = &in
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("diagnostics: read integration %s/%s: %w", caller.OrgID, p.ID, err)
	}
	r.clientHealth = store.ClientHealth{Status: store.HealthOK}
	if r.integration != nil {
		h, err := s.opts.Store.GetClientHealth(ctx, caller.OrgID, p.ID)
		if err != nil {
			return nil, fmt.Errorf("diagnostics: read client health %s/%s: %w", caller.OrgID, p.ID, err)
		}
		r.clientHealth = h
	}
	r.ready = s.readiness(ctx, r, p)
	c, err := s.opts.Store.GetConnection(ctx, r.key())
	switch {
	case err == nil:
		r.conn = &c
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("diagnostics: read connection %s: %w", r.key(), err)
	}
	return r, nil
}

// readiness decides the integration's readiness (package readiness, the
// rule the service itself applies) from what is stored and what the
// secrets hold. A lookup that fails is remembered: the check that needs
// its answer warns instead of guessing.
func (s *Service) readiness(ctx context.Context, r *run, p catalog.Provider) readiness.Value {
	f := readiness.Facts{Offered: slices.Contains(s.opts.AvailableProviders, p.ID), Integration: r.integration, DefaultClient: true, ClientSecret: true}
	if r.integration != nil && r.integration.ConfigMode == store.ConfigModeOrganization {
		_, err := s.opts.Secrets.GetClientSecret(ctx, r.integration.OrgID, p.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.ClientSecret = false
		case err != nil:
			slog.WarnContext(ctx, "diagnostics: client secret lookup failed", "org", r.integration.OrgID, "provider", p.ID, "err", err.Error())
			r.secretLookupFailed = true
		}
	} else if f.Offered {
		// In default mode (also assumed when the org has not configured the
		// provider yet) tokens come from the platform's own client.
		_, err := s.opts.Secrets.DefaultClient(ctx, p.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.DefaultClient = false
		case err != nil:
			slog.WarnContext(ctx, "diagnostics: default client lookup failed", "provider", p.ID, "err", err.Error())
			r.defaultClientLookupFailed = true
		}
	} else {
		f.DefaultClient = false
	}
	return readiness.Of(p, f)
}

// logReport writes one line per diagnosis: ids and statuses only, never a
// message that could quote an account or an item.
func logReport(ctx context.Context, kind, provider string, r *run, overall string, checks []Check) {
	statuses := make([]string, 0, len(checks))
	for _, c := range checks {
		statuses = append(statuses, string(c.ID)+"="+string(c.Status))
	}
	slog.InfoContext(ctx, kind, "org", r.caller.OrgID, "provider", provider, "user", r.userID,
		"caller", r.caller.UserID, "capability", string(r.cap.ID), "action", string(r.action),
		"overall", overall, "checks", strings.Join(statuses, " "))
}

// ---- the checks ----

func checkProviderEnabled(_ context.Context, r *run) outcome {
	name := r.provider.DisplayName
	switch {
	case !r.ready.Configured:
		return fail(OwnerAdmin, name+" has not been set up for this organization.",
			"An admin enables "+name+" in Organization Settings, Integrations.")
	case !r.ready.Enabled:
		return fail(OwnerAdmin, name+" is turned off for this organization.",
			"An admin turns "+name+" on in Organization Settings, Integrations.")
	}
	return pass(name + " is enabled for this organization.")
}

func checkEnvironmentAvailable(_ context.Context, r *run) outcome {
	name := r.provider.DisplayName
	for _, it := range r.ready.Environment {
		switch it.Code {
		case readiness.MissingProviderUnavailable:
			return fail(OwnerAdmin, name+" is not offered in this environment.",
				"Ask the platform's support team to make "+name+" available in this environment.")
		case readiness.MissingDefaultClient:
			if r.defaultClientLookupFailed {
				return warn(OwnerAdmin, "Could not confirm that the platform's default OAuth client for "+name+" is available.", "Run diagnostics again in a few minutes.")
			}
			return fail(OwnerAdmin, "The platform's default OAuth client for "+name+" is not available in this environment.",
				"An admin switches the integration to an organization-owned OAuth client (client ID and secret), or asks the platform's support team for the default client.")
		}
	}
	if r.defaultClientLookupFailed {
		return warn(OwnerAdmin, "Could not confirm that the platform's default OAuth client for "+name+" is available.", "Run diagnostics again in a few minutes.")
	}
	if r.ready.Integration().ConfigMode != store.ConfigModeOrganization {
		return pass(name + " is offered in this environment and its default OAuth client is available.")
	}
	return pass(name + " is offered in this environment.")
}

func checkConfigurationComplete(_ context.Context, r *run) outcome {
	in := r.ready.Integration()
	name := r.provider.DisplayName
	var missing []string
	for _, it := range r.ready.Configuration {
		switch it.Code {
		case readiness.MissingClientID:
			missing = append(missing, r.provider.ClientIDLabel+" is not set")
		case readiness.MissingClientSecret:
			missing = append(missing, "the client secret is not set")
		case readiness.MissingCapabilities:
			missing = append(missing, "no capability is enabled")
		default:
			label := fieldLabel(r.provider, it.Field)
			if it.Message == "" {
				missing = append(missing, label+" is not set")
			} else {
				missing = append(missing, label+" ("+it.Message+")")
			}
		}
	}
	if len(missing) > 0 {
		return fail(OwnerAdmin, "The "+name+" configuration is incomplete: "+strings.Join(missing, "; ")+".",
			"An admin completes the "+name+" settings in Organization Settings, Integrations (the client secret goes only into the secure client secret field).")
	}
	if r.secretLookupFailed {
		return warn(OwnerAdmin, "Could not confirm that the organization's client secret is set.", "Run diagnostics again in a few minutes.")
	}
	if in.ConfigMode == store.ConfigModeOrganization {
		return pass("The organization-owned OAuth client is configured (client ID and secret set) and the provider settings are valid.")
	}
	return pass("The integration uses the platform's default OAuth client and its provider settings are valid.")
}

// checkClientHealthy explains the integration's client health: a refusal
// of the OAuth client itself (invalid_client and its provider variants) is
// the integration's failure, recorded once by the refresh job, and an
// admin's to fix. Every connection keeps its tokens and its status while
// its refreshes are paused, and resumes by itself once the client works:
// saying so keeps users from reconnecting for nothing.
func checkClientHealthy(_ context.Context, r *run) outcome {
	h, name := r.clientHealth, r.provider.DisplayName
	if !h.Failing() {
		return pass(name + " accepts the integration's OAuth client.")
	}
	msg := fmt.Sprintf("%s refuses the integration's OAuth client (%s) since %s; last refused %s. %s Token refreshes of the integration's connections are paused; the connections keep their tokens and stay connected.",
		name, h.Cause, h.Since.UTC().Format(diagTime), h.LastSeen.UTC().Format(diagTime), clientCauseHint(h.Cause))
	if h.ConfigVersion != r.integration.Version {
		msg += " The integration was saved since; the next refresh run tries what was saved."
	}
	fix := "An admin saves the right client secret (or client ID and configuration) of the organization's OAuth client in Organization Settings, Integrations."
	if h.Cause == "client_secret_expired" {
		fix = "An admin creates a new client secret for the app at " + name + " and saves it in Organization Settings, Integrations."
	}
	fix += " Saving resumes the paused connections at once; nobody needs to reconnect."
	if r.integration.ConfigMode != store.ConfigModeOrganization {
		fix = "Ask the platform's support team to fix the platform's default OAuth client for " + name +
			". The paused connections resume by themselves once it works; nobody needs to reconnect."
	}
	return fail(OwnerAdmin, msg, fix)
}

// diagTime is how diagnostics write an instant: minutes are enough for a
// person, and UTC says which zone.
const diagTime = "2006-01-02 15:04 UTC"

// clientCauseHint says in words what a client refusal's stable code means
// (the codes of oauthfail.ClientFailure and the providers' dialects).
func clientCauseHint(cause string) string {
	switch cause {
	case "client_secret_expired":
		return "The client secret has expired."
	case "invalid_client_secret", "invalid_client_credentials":
		return "The client secret is wrong."
	case "client_not_found", "invalid_client_id":
		return "The provider does not know the client ID."
	case "unauthorized_client":
		return "The client is not allowed to renew tokens."
	}
	return "The client ID or secret is refused."
}

func fieldLabel(p catalog.Provider, field string) string {
	for _, f := range p.Fields {
		if f.Name == field {
			return f.Label
		}
	}
	return field
}

func checkUserInRollout(_ context.Context, r *run) outcome {
	in := r.integration
	if in.Rollout.Mode != store.RolloutGroups {
		return pass("The integration is rolled out to everyone in the organization.")
	}
	groups := strings.Join(in.Rollout.Groups, ", ")
	if !r.self {
		// Group membership arrives only in the user's own sign-in token; no
		// directory tells another user's groups.
		return warn(OwnerAdmin, "The integration is rolled out to the groups "+groups+"; whether this user is in one of them can be checked only from the user's own sign-in.",
			"Check the user's group membership in your identity provider, or ask the user to run diagnostics themselves.")
	}
	if readiness.InRollout(in.Rollout, r.caller) {
		return pass("You are in a rollout group of this integration.")
	}
	return fail(OwnerAdmin, "The integration is rolled out only to the groups "+groups+", and you are in none of them.",
		"An admin adds you to a rollout group or rolls the integration out to everyone.")
}

func checkUserConnected(_ context.Context, r *run) outcome {
	name := r.provider.DisplayName
	who := "You have"
	if !r.self {
		who = "The user has"
	}
	if r.conn == nil {
		return fail(OwnerUser, who+" not connected a "+name+" account.",
			"Connect the "+name+" account in Connected apps.")
	}
	acct := r.conn.Account.Email
	if acct == "" {
		acct = r.conn.Account.Name
	}
	msg := who + " connected a " + name + " account"
	if acct != "" {
		msg += " (" + acct + ")"
	}
	if !r.conn.ConnectedAt.IsZero() {
		msg += " on " + r.conn.ConnectedAt.UTC().Format("2006-01-02")
	}
	return pass(msg + ".")
}

func checkActionSupported(_ context.Context, r *run) outcome {
	name, capLabel := r.provider.DisplayName, r.cap.Label
	if !r.cap.Supports(r.action) {
		return fail(OwnerUser, fmt.Sprintf("%s does not support %s for %s.", name, r.action, capLabel),
			"Use a supported action: "+joinActions(r.cap.Actions)+".")
	}
	if !slices.Contains(r.integration.Capabilities, string(r.cap.ID)) {
		return fail(OwnerAdmin, fmt.Sprintf("%s is not enabled for %s in this organization.", capLabel, name),
			"An admin enables the "+string(r.cap.ID)+" capability in the "+name+" settings; users then reconnect to grant its permissions.")
	}
	if r.action.IsWrite() && !r.integration.AllowWriteActions {
		return fail(OwnerAdmin, fmt.Sprintf("The organization does not allow write actions (create, update, send, delete) through %s.", name),
			"An admin allows write actions in the "+name+" settings if the organization approves it; users then reconnect to grant the write permissions.")
	}
	return pass(fmt.Sprintf("%s supports %s for %s, and the organization allows it.", name, r.action, capLabel))
}

func joinActions(as []catalog.Action) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = string(a)
	}
	return strings.Join(out, ", ")
}

func checkConnectionHealthy(ctx context.Context, r *run) outcome {
	c := r.conn
	name := r.provider.DisplayName
	switch c.Status {
	case store.StatusNeedsReconnect, store.StatusRefreshExhausted:
		return storedFailure(r)
	}
	switch r.ready.Connection(*c) {
	case readiness.ReasonClientChanged:
		return fail(OwnerUser, "The organization changed the "+name+" OAuth client after this account was connected; tokens issued to the old client no longer work.",
			"Reconnect the "+name+" account in Connected apps.")
	case readiness.ReasonSettingsChanged:
		return fail(OwnerUser, r.ready.SettingsChangedMessage(), "Reconnect in Connected apps with an account of your organization.")
	}
	tctx, cancel := context.WithTimeout(ctx, r.svc.opts.TokenTimeout)
	tok, err := r.svc.opts.Tokens.AccessToken(tctx, r.key())
	cancel()
	if err != nil {
		return tokenFailure(ctx, r, err)
	}
	r.useToken(tok)
	// The identity endpoint proves the provider accepts the token, apart from
	// any capability's permissions.
	res, failed := r.get(ctx, identityURL(r))
	if failed != nil {
		return *failed
	}
	if o, bad := identityOutcome(r, res); bad {
		return o
	}
	if r.tokenConn.Status != "" {
		c = &r.tokenConn // as stored after the call: a refresh may have cleared a failure
	}
	if c.Status == store.StatusRefreshFailing {
		why := "recent token refreshes failed"
		owner := OwnerUser
		if c.LastError != nil && c.LastError.Message != "" {
			why += " (" + c.LastError.Message + ")"
		}
		if c.PausedReason == store.ReasonClientFailing {
			// Paused for the integration's refused client, which works again
			// (client_healthy passed): the next run resumes it.
			return warn(OwnerAdmin, "The connection works now; its refreshes were paused while "+name+" refused the integration's OAuth client, and resume by themselves.",
				"Nothing to do; nobody needs to reconnect.")
		}
		if c.LastError != nil && Owner(c.LastError.Owner) == OwnerExternalAdmin {
			// A policy of the account's administrator (oauthfail.Blocked):
			// waiting does not cure it, reconnecting neither.
			return warn(OwnerExternalAdmin, "The connection works now, but "+why+". It is retried automatically.",
				"The "+name+" administrator of the account's tenant or org allows the app; nobody needs to reconnect.")
		}
		return warn(owner, "The connection works now, but "+why+". It is retried automatically.",
			"Nothing to do unless this persists for days; then reconnect the account.")
	}
	return pass("The connection is healthy: a valid access token is available and " + name + " accepts it.")
}

// storedFailure explains a connection the refresh job already marked as
// needing someone, from its classified last error.
func storedFailure(r *run) outcome {
	c, name := r.conn, r.provider.DisplayName
	if c.StatusReason == store.ReasonClientChanged {
		return fail(OwnerUser, "The organization changed the "+name+" OAuth client after this account was connected; tokens issued to the old client no longer work.",
			"Reconnect the "+name+" account in Connected apps.")
	}
	msg := "The connection needs to be reconnected."
	if c.Status == store.StatusRefreshExhausted {
		msg = "Token refreshes kept failing for several days, so the connection stopped refreshing."
	}
	owner, fix := OwnerUser, "Reconnect the "+name+" account in Connected apps."
	if e := c.LastError; e != nil {
		if e.Message != "" {
			msg += " " + e.Message
		}
		switch Owner(e.Owner) {
		case OwnerAdmin:
			owner, fix = OwnerAdmin, "An admin fixes the "+name+" OAuth client in Organization Settings, Integrations; then the user reconnects."
		case OwnerExternalAdmin:
			owner, fix = OwnerExternalAdmin, "The "+name+" administrator of the account's tenant or org resolves it; then the user reconnects."
		}
		fix += consentRequiredFix(r, e.Code)
	}
	return fail(owner, msg, fix)
}

// tokenFailure explains why the token source has no usable token.
func tokenFailure(ctx context.Context, r *run, err error) outcome {
	name := r.provider.DisplayName
	reconnect := "Reconnect the " + name + " account in Connected apps."
	var re *refresh.Error
	if !errors.As(err, &re) {
		slog.WarnContext(ctx, "diagnostics: access token unavailable", "key", r.key().String(), "err", err.Error())
		return warn(OwnerUser, "A valid access token could not be obtained right now.", "Run diagnostics again in a few minutes.")
	}
	if re.Failure != nil {
		switch f := *re.Failure; f.Kind {
		case oauthfail.Reconnect:
			owner := OwnerUser
			if f.Owner == oauthfail.OwnerExternalAdmin {
				owner = OwnerExternalAdmin
			}
			fix := reconnect
			if f.Fallback == oauthfail.OwnerExternalAdmin {
				fix += " If the user may not do it (for example consent to apps is turned off), the " + name + " administrator of the account's tenant does it first."
			}
			fix += consentRequiredFix(r, f.Code)
			return fail(owner, name+" refused to renew the connection's access. "+f.Cause, fix)
		case oauthfail.ClientRefused:
			// Met by this diagnosis' own refresh (client_healthy read the
			// health before): the refresh job paused the connection, which
			// keeps its tokens and resumes by itself once the client works.
			return fail(OwnerAdmin, name+" refused the integration's OAuth client while renewing the connection's access. "+f.Cause,
				"An admin fixes the OAuth client in Organization Settings, Integrations; the connection then resumes by itself, without reconnecting.")
		case oauthfail.AdminAction:
			return fail(OwnerAdmin, name+" refused the integration's OAuth client while renewing the connection's access. "+f.Cause,
				"An admin fixes the OAuth client in Organization Settings, Integrations; then the user reconnects.")
		case oauthfail.Blocked:
			return fail(Owner(f.Owner), name+" refuses to renew the connection's access because of a policy of the account's administrator. "+f.Cause,
				"The "+name+" administrator of the account's tenant or org allows the app; the connection then works again without reconnecting.")
		default:
			return warn(OwnerUser, name+" is unavailable, so the connection's access could not be renewed right now.", "Try again in a few minutes.")
		}
	}
	switch re.Code {
	case refresh.CodeBusy:
		return warn(OwnerUser, "A token refresh for this connection is in progress.", "Run diagnostics again in a moment.")
	case refresh.CodeNotConnected:
		return fail(OwnerUser, "The connection was removed while diagnostics ran.", "Connect the "+name+" account in Connected apps.")
	case refresh.CodeClientChanged:
		return fail(OwnerUser, "The organization changed the "+name+" OAuth client after this account was connected; tokens issued to the old client no longer work.", reconnect)
	case refresh.CodeSettingsChanged:
		return fail(OwnerUser, r.ready.SettingsChangedMessage(), reconnect)
	case refresh.CodeNoRefreshToken:
		return fail(OwnerUser, name+" issued this connection no refresh token, and its access has expired.", reconnect)
	case refresh.CodeNeedsReconnect, refresh.CodeRefreshExhausted:
		// The status changed while diagnostics ran: explain the stored cause.
		c := re.Connection
		r.conn = &c
		return storedFailure(r)
	}
	// Provider disabled or not offered: the checks this one needs say so;
	// reaching here means the configuration changed while diagnostics ran.
	return warn(OwnerAdmin, "The integration's configuration changed while diagnostics ran.", "Run diagnostics again.")
}

func identityURL(r *run) string {
	in := r.integration
	return r.provider.Endpoints(clients.SettingsOf(*in)).UserInfoURL
}

// identityOutcome judges the identity call; bad is false when it passed.
func identityOutcome(r *run, res probeResult) (outcome, bool) {
	name := r.provider.DisplayName
	switch res.kind {
	case oauthfail.APIOK:
		return outcome{}, false
	case oauthfail.APITokenRejected:
		return fail(OwnerUser, name+" no longer accepts this connection's access token (it was revoked or the sign-in ended).",
			"Reconnect the "+name+" account in Connected apps."), true
	case oauthfail.APIConditionalAccess:
		return fail(OwnerExternalAdmin, name+" requires a stronger sign-in (a Conditional Access policy) for this account.",
			"Reconnect the account; if it keeps failing, the tenant's admin reviews the Conditional Access policy."), true
	case oauthfail.APIForbidden, oauthfail.APIScopeMissing:
		return fail(OwnerUser, name+" refuses this connection access to the account's identity (the sign-in permissions were withdrawn).",
			"Reconnect the "+name+" account in Connected apps and approve the requested access."), true
	case oauthfail.APIUnavailable, oauthfail.APIRateLimited:
		return warn(OwnerUser, name+" is unavailable, so the access token could not be verified right now.", "Try again in a few minutes."), true
	}
	return warn(OwnerUser, name+" gave an unexpected answer when the access token was verified.", "Try again in a few minutes; if it persists, reconnect the account."), true
}

func checkScopesGranted(_ context.Context, r *run) outcome {
	p, c := r.provider, r.conn
	need := r.cap.ScopesFor(r.action)
	owner, remedy := grantMore(p)
	if missing := p.MissingScopes(need, c.GrantedScopes); len(missing) > 0 {
		msg := fmt.Sprintf("The connection was not granted the permissions %s needs to %s %s: %s.",
			p.DisplayName, r.action, r.cap.ID, strings.Join(missing, ", "))
		if advice := adminConsentAdvice(r, missing); advice != "" {
			msg += " " + advice
		}
		return fail(owner, msg, remedy)
	}
	// Warn about a partial grant elsewhere: the asked action works, other
	// enabled capabilities or actions do not (a scope unticked, or enabled
	// by an admin after the account was connected).
	if r.integration != nil {
		if other := r.ready.MissingScopes(p, c.GrantedScopes); len(other) > 0 {
			msg := fmt.Sprintf("The permissions for %s %s are granted, but others the organization enabled are not: %s.",
				r.action, r.cap.ID, strings.Join(other, ", "))
			if advice := adminConsentAdvice(r, other); advice != "" {
				msg += " " + advice
			}
			return warn(owner, msg, remedy)
		}
	}
	return pass(fmt.Sprintf("The connection has the permissions to %s %s.", r.action, r.cap.ID))
}

// grantMore says who gets a connection the scopes it lacks, and how, the
// provider's way (providers.Consent): the user, by connecting again (what
// they granted is kept); at Salesforce, whose scopes are set per connected
// app, an admin of the app first.
func grantMore(p catalog.Provider) (Owner, string) {
	if p.Consent == providers.ConsentPerApp {
		return OwnerAdmin, p.ConsentHint
	}
	return OwnerUser, "Grant the new permissions in Connected apps: connect again and approve them. " + p.ConsentMessage() +
		" If your organization requires admin consent, ask the " + p.DisplayName + " administrator to grant it first."
}

func checkExternalPermission(ctx context.Context, r *run) outcome {
	if r.token == "" {
		return blockedBy(ConnectionHealthy, "")
	}
	u, err := r.provider.ProbeURL(r.cap.Probe.ReadURL, r.conn.Account, "")
	if err != nil {
		return fail(OwnerUser, "The connection does not record a usable "+r.provider.DisplayName+" instance address.",
			"Reconnect the "+r.provider.DisplayName+" account in Connected apps.")
	}
	res, failed := r.get(ctx, u)
	if failed != nil {
		return *failed
	}
	return readOutcome(r.provider, r.cap, res)
}

// readOutcome judges a capability's read probe, for diagnostics and the test
// after changes alike.
func readOutcome(p catalog.Provider, cs catalog.CapabilitySpec, res probeResult) outcome {
	name, label := p.DisplayName, cs.Label
	switch res.kind {
	case oauthfail.APIOK:
		return pass("A live read of " + label + " succeeded with the account's access.")
	case oauthfail.APITokenRejected:
		return fail(OwnerUser, name+" rejected the account's fresh access token when reading "+label+".",
			"Reconnect the "+name+" account in Connected apps.")
	case oauthfail.APIScopeMissing:
		return fail(OwnerUser, name+" says the connection's consent does not include reading "+label+".",
			"Reconnect and approve every requested permission.")
	case oauthfail.APIDisabledForUser:
		return fail(OwnerExternalAdmin, "API access is not enabled for this "+name+" user or org.",
			"The "+name+" administrator grants the user's profile or permission set the API Enabled permission.")
	case oauthfail.APIDisabledForClient:
		return fail(OwnerAdmin, "The API behind "+label+" is not enabled for the integration's OAuth client.",
			"An admin enables the API in the "+name+" project of the OAuth client (or switches to the default client).")
	case oauthfail.APIUnlicensed:
		return fail(OwnerExternalAdmin, "The account has no "+label+" in "+name+" (for example no mailbox or no license).",
			"The "+name+" administrator assigns the account a license that includes it.")
	case oauthfail.APIConditionalAccess:
		return fail(OwnerExternalAdmin, name+" requires a stronger sign-in (a Conditional Access policy) to read "+label+".",
			"Reconnect the account; if it keeps failing, the tenant's admin reviews the Conditional Access policy.")
	case oauthfail.APIForbidden:
		return fail(OwnerExternalAdmin, "The account does not have permission to read "+label+" in "+name+".",
			"The "+name+" administrator grants the account access to "+label+".")
	case oauthfail.APINotFound, oauthfail.APINotFoundOrHidden:
		return fail(OwnerExternalAdmin, "The account has no "+label+" in "+name+".",
			"The "+name+" administrator checks that the account has this service (for example a mailbox or drive).")
	case oauthfail.APIRateLimited:
		return warn(OwnerUser, name+" is rate limiting requests, so the permission could not be verified right now.", "Try again in a few minutes.")
	case oauthfail.APIUnavailable:
		return warn(OwnerUser, name+" is unavailable, so the permission could not be verified right now.", "Try again in a few minutes.")
	}
	return warn(OwnerUser, name+" gave an unexpected answer when reading "+label+".", "Try again in a few minutes.")
}

func checkItemAccessible(ctx context.Context, r *run) outcome {
	if r.item == "" {
		return notApplicable("No item was given; pass item= to check one item by id.")
	}
	if r.token == "" {
		// The provider refused the token and refreshing it failed.
		return blockedBy(ExternalPermission, "")
	}
	u, err := r.provider.ProbeURL(r.cap.Probe.ItemURL, r.conn.Account, r.item)
	if err != nil {
		return fail(OwnerUser, "The connection does not record a usable "+r.provider.DisplayName+" instance address.",
			"Reconnect the "+r.provider.DisplayName+" account in Connected apps.")
	}
	res, failed := r.get(ctx, u)
	if failed != nil {
		return *failed
	}
	return itemOutcome(r.provider, r.cap, res)
}

// itemOutcome judges the fetch of one item by id.
func itemOutcome(p catalog.Provider, cs catalog.CapabilitySpec, res probeResult) outcome {
	name := p.DisplayName
	switch res.kind {
	case oauthfail.APIOK:
		return pass("The item exists and this account can read it.")
	case oauthfail.APINotFoundOrHidden:
		return fail(OwnerUser, "The item was not found, or it is not shared with this account ("+name+" does not tell the two apart).",
			"Check the id ("+cs.Probe.ItemHint+"), and that the item is shared with the connected account.")
	case oauthfail.APINotFound:
		return fail(OwnerUser, "The item was not found: it does not exist or was deleted.",
			"Check the id; it should be "+cs.Probe.ItemHint+".")
	case oauthfail.APIInvalidID:
		return fail(OwnerUser, name+" does not recognize the id as "+cs.Probe.ItemHint+".",
			"Check the id; it should be "+cs.Probe.ItemHint+".")
	case oauthfail.APIForbidden, oauthfail.APIConditionalAccess:
		return fail(OwnerExternalAdmin, "The item exists but is not accessible to this account.",
			"The item's owner or the "+name+" administrator shares it with the connected account.")
	case oauthfail.APITokenRejected:
		return fail(OwnerUser, name+" rejected the account's access token when fetching the item.",
			"Reconnect the "+name+" account in Connected apps.")
	case oauthfail.APIRateLimited, oauthfail.APIUnavailable:
		return warn(OwnerUser, name+" is unavailable, so the item could not be checked right now.", "Try again in a few minutes.")
	}
	return warn(OwnerUser, name+" gave an unexpected answer when fetching the item.", "Try again in a few minutes.")
}
