// Package admin is the admin enablement service behind AdminFunction: the
// provider catalog as the API shows it, each organization's integration
// cards, the integration configuration with optimistic concurrency (with
// its support contact and user guidance, guidance.go), the write-only
// client secret with a credential check at the provider, the audit trail,
// the consequences of a change for existing connections, the org's test
// account as the integration lists it (testaccount.go) and the rollout
// view (rollout.go).
//
// Handlers (api.go) only translate HTTP to the service; everything an admin
// can get wrong is decided here and answered as a *problem.Problem with a
// stable code.
//
// Problem codes answered here (openapi.yaml documents each route):
//   - validation_failed (400) with per-field errors; field codes: required,
//     invalid_format, invalid_value, not_applicable, unknown_capability,
//     duplicate, too_many, too_long, too_short, same_as_client_id,
//     out_of_range, invalid_cursor, invisible_character (a Unicode format
//     character such as a zero-width space or a bidi control, in any text
//     field), markup_not_allowed (userGuidance), https_required (the
//     support contact's URL), and the catalog's consumers_not_allowed,
//     https_required, host_not_allowed, lightning_url;
//   - credential_in_field (400): a non-secret field holds a credential-shaped
//     value (package hygiene); the field errors say which, and the problem's
//     secureField names the only field credentials belong in;
//   - precondition_required (428) and precondition_failed (412), with
//     currentVersion and the current ETag;
//   - unknown_provider (404); and from the shared layers unauthorized (401),
//     forbidden (403, a member on an admin route), not_found (404, another
//     org), body_too_large (413), unsupported_media_type (415),
//     malformed_body (400), internal_error (500, nothing about the cause).
//
// A credential check reports valid, invalid_client, unreachable,
// unverified or rate_limited (more than CredentialCheckLimit a minute for
// the org); it never blocks a save, and each outcome is audited as
// credentials.checked.
package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// Problem codes this package defines, beside the shared ones of package
// problem (validation_failed, credential_in_field, precondition_failed,
// precondition_required, unknown_provider, ...).
const (
	// CodeInvalidCursor: an audit page cursor this API did not issue.
	CodeInvalidCursor = "invalid_cursor"
)

// Audit actions.
const (
	ActionCreated       = "integration.created"
	ActionUpdated       = "integration.updated"
	ActionSecretSet     = "client_secret.set"
	ActionSecretRemoved = "client_secret.removed"
)

// DefaultCheckTimeout bounds a credential check: the save never waits on a
// slow provider for longer than this.
const DefaultCheckTimeout = 5 * time.Second

// Options are the service's dependencies.
type Options struct {
	Catalog *catalog.Catalog
	Store   store.Store
	Secrets store.Secrets
	Clients *clients.Resolver
	// HTTPClient makes the credential check's token requests (the outbound
	// client: timeouts, and the fake-provider rewrite in local runs).
	HTTPClient *http.Client
	Now        func() time.Time
	// AvailableProviders are the providers this deployment offers.
	AvailableProviders []string
	// VerifyCredentials turns the credential check on save on.
	VerifyCredentials bool
	// CheckTimeout bounds one credential check; 0 means DefaultCheckTimeout.
	CheckTimeout time.Duration
	// RolloutPageSize is how many records the rollout view reads per
	// listing call; 0 means RolloutPageSize. Tests set a small one to show
	// the paging with a few hundred records instead of thousands.
	RolloutPageSize int
}

// Service implements the admin enablement API.
type Service struct {
	o Options
}

// New returns the service. Catalog, Store and Secrets are required.
func New(o Options) (*Service, error) {
	if o.Catalog == nil || o.Store == nil || o.Secrets == nil {
		return nil, errors.New("admin: catalog, store and secrets are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RolloutPageSize <= 0 {
		o.RolloutPageSize = RolloutPageSize
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: DefaultCheckTimeout}
	}
	if o.Clients == nil {
		o.Clients = &clients.Resolver{Catalog: o.Catalog, Secrets: o.Secrets}
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	return &Service{o: o}, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// provider returns the catalog entry or a 404 unknown_provider problem.
func (s *Service) provider(id string) (catalog.Provider, error) {
	p, ok := s.o.Catalog.Get(id)
	if !ok {
		return catalog.Provider{}, unknownProvider(s.o.Catalog.IDs())
	}
	return p, nil
}

func (s *Service) offered(provider string) bool {
	return slices.Contains(s.o.AvailableProviders, provider)
}

// defaultClientAvailable: the deployment offers the provider and holds the
// platform's default client for it.
func (s *Service) defaultClientAvailable(ctx context.Context, provider string) (bool, error) {
	if !s.offered(provider) {
		return false, nil
	}
	_, err := s.o.Secrets.DefaultClient(ctx, provider)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("look up default client of %s: %w", provider, err)
	}
}

// current returns the stored integration, or the defaults of a provider the
// org never configured (Version 0).
func (s *Service) current(ctx context.Context, orgID, provider string) (store.Integration, error) {
	in, err := s.o.Store.GetIntegration(ctx, orgID, provider)
	if errors.Is(err, store.ErrNotFound) {
		return unconfigured(orgID, provider), nil
	}
	if err != nil {
		return store.Integration{}, fmt.Errorf("read integration %s/%s: %w", orgID, provider, err)
	}
	return in, nil
}

func unconfigured(orgID, provider string) store.Integration {
	return readiness.Unconfigured(orgID, provider)
}

// Providers lists the catalog and, per provider, what this deployment offers.
func (s *Service) Providers(ctx context.Context) ([]ProviderInfo, error) {
	var out []ProviderInfo
	for _, p := range s.o.Catalog.All() {
		dc, err := s.defaultClientAvailable(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, providerInfo(p, s.offered(p.ID), dc))
	}
	return out, nil
}

// Cards returns one card per catalog provider, configured or not. Members
// see what they need to connect; admins also get each configuration.
func (s *Service) Cards(ctx context.Context, who auth.Principal, redirectURI string) ([]Card, error) {
	stored, err := s.o.Store.ListIntegrations(ctx, who.OrgID)
	if err != nil {
		return nil, fmt.Errorf("list integrations of %s: %w", who.OrgID, err)
	}
	byProvider := map[string]store.Integration{}
	for _, in := range stored {
		byProvider[in.Provider] = in
	}
	var health map[string]store.ClientHealth
	testAccounts := map[string]store.Connection{}
	if who.IsAdmin() {
		// One query for every provider's, rather than one read each: the
		// client health records, and the test accounts (one user's
		// connections, store.TestAccountKey).
		if health, err = s.o.Store.ListClientHealth(ctx, who.OrgID); err != nil {
			return nil, fmt.Errorf("list client health of %s: %w", who.OrgID, err)
		}
		accounts, err := s.o.Store.ListUserConnections(ctx, who.OrgID, store.TestAccountUserID)
		if err != nil {
			return nil, fmt.Errorf("list test accounts of %s: %w", who.OrgID, err)
		}
		for _, c := range accounts {
			testAccounts[c.Provider] = c
		}
	}
	var out []Card
	for _, p := range s.o.Catalog.All() {
		in, ok := byProvider[p.ID]
		if !ok {
			in = unconfigured(who.OrgID, p.ID)
		}
		v, err := s.configView(ctx, p, in, redirectURI)
		if err != nil {
			return nil, err
		}
		c := card(p, in, v, who)
		if who.IsAdmin() {
			if c, ok := testAccounts[p.ID]; ok {
				v.TestAccount = testAccountView(c)
			}
			if h, ok := health[p.ID]; ok {
				v.ClientHealth = clientHealthView(h)
			}
			c.Configuration = &v
		}
		out = append(out, c)
	}
	return out, nil
}

// Get returns one integration's configuration and status (admins).
func (s *Service) Get(ctx context.Context, orgID, provider, redirectURI string) (IntegrationView, error) {
	p, err := s.provider(provider)
	if err != nil {
		return IntegrationView{}, err
	}
	in, err := s.current(ctx, orgID, provider)
	if err != nil {
		return IntegrationView{}, err
	}
	return s.view(ctx, p, in, redirectURI)
}

// configView is the integration's view without the test account (what
// members' cards are built from).
func (s *Service) configView(ctx context.Context, p catalog.Provider, in store.Integration, redirectURI string) (IntegrationView, error) {
	dc, err := s.defaultClientAvailable(ctx, p.ID)
	if err != nil {
		return IntegrationView{}, err
	}
	st := computeStatus(p, in, s.offered(p.ID), dc)
	return integrationView(p, in, st, s.offered(p.ID), dc, redirectURI), nil
}

// Update is the outcome of a save.
type Update struct {
	View IntegrationView
	// Created: the org had never configured the provider.
	Created bool
}

// PutIntegration validates and saves an integration under the caller's
// precondition, audits each changed field, marks connections issued by a
// replaced client for reconnection, puts the connections a disabled
// provider left off the refresh schedule back on it when the provider is
// enabled again with the same client, resumes the connections a refused
// client paused when the client configuration changed (health.go), and
// verifies the client credentials.
func (s *Service) PutIntegration(ctx context.Context, who auth.Principal, provider string, body IntegrationInput, pre Precondition, redirectURI string) (Update, error) {
	p, err := s.provider(provider)
	if err != nil {
		return Update{}, err
	}
	if prob := validate(p, body); prob != nil {
		return Update{}, prob
	}
	cur, err := s.current(ctx, who.OrgID, provider)
	if err != nil {
		return Update{}, err
	}
	if prob := pre.check(cur.Version, true); prob != nil {
		return Update{}, prob
	}
	next := body.apply(p, cur)
	if next.Tenant != cur.Tenant || next.Tenant != "" && next.TenantID == "" {
		if err := s.resolveSettings(ctx, p, &next); err != nil {
			return Update{}, err
		}
	}
	changes := diff(cur, next)
	created := cur.Version == 0
	if !created && len(changes) == 0 {
		// Nothing to save: no new version, no audit entry, no check.
		v, err := s.view(ctx, p, cur, redirectURI)
		return Update{View: v}, err
	}
	now := s.now()
	next.UpdatedAt, next.UpdatedBy = now, who.UserID
	action := ActionUpdated
	if created {
		action = ActionCreated
	}
	entry, err := s.auditEntry(who, provider, action, now, changes)
	if err != nil {
		return Update{}, err
	}
	saved, err := s.o.Store.PutIntegration(ctx, next, cur.Version, entry)
	if errors.Is(err, store.ErrConflict) {
		// Another admin saved first: never overwrite their change silently.
		return Update{}, s.conflict(ctx, who.OrgID, provider)
	}
	if err != nil {
		return Update{}, fmt.Errorf("save integration %s/%s: %w", who.OrgID, provider, err)
	}
	slog.InfoContext(ctx, "integration saved", "org", who.OrgID, "provider", provider, "actor", who.UserID,
		"version", saved.Version, "action", action, "fields", changedFields(changes))

	v, err := s.view(ctx, p, saved, redirectURI)
	if err != nil {
		return Update{}, err
	}
	// What the save changes for the org's connections is derived when each
	// is read (package readiness: a connection whose client is not the
	// integration's current one is client_changed; a disabled provider's
	// are not refreshed), so nothing is written connection by connection
	// here, whatever the org's size. What must be written back (the
	// connections the refresh job took off its schedule while the provider
	// was disabled, or while another client was the integration's) the next
	// refresh runs do, from a job.
	var reasons []string
	if saved.Enabled && !cur.Enabled && !created {
		reasons = append(reasons, store.ReasonProviderDisabled)
	}
	if !created && cur.ClientRef() != saved.ClientRef() {
		reasons = append(reasons, store.ReasonClientChanged)
	}
	if !created && providers.SettingsOf(cur) != providers.SettingsOf(saved) {
		// Settings that admit accounts again (a hosted domain or tenant
		// widened, or set back) bring back the connections they excluded.
		reasons = append(reasons, store.ReasonSettingsChanged)
	}
	if len(reasons) > 0 {
		if err := s.o.Store.EnqueueJob(ctx, store.ReinstateJob(who.OrgID, provider, s.now(), reasons...)); err != nil {
			// The save stands; the connections come back when next used
			// (an on-demand refresh reinstates them) or at the next save.
			slog.ErrorContext(ctx, "asking to put connections back on the refresh schedule", "org", who.OrgID, "provider", provider, "err", err.Error())
		}
	}
	if !created && clientChanged(cur, saved) {
		// The client the provider refused may be fixed now: its paused
		// connections are asked about at once.
		s.resumePaused(ctx, who.UserID, who.OrgID, provider, v)
	}
	if s.shouldCheck(p, saved, v) {
		v.CredentialCheck = s.checkCredentials(ctx, who, saved, redirectURI)
	}
	return Update{View: v, Created: created}, nil
}

// resolveSettings completes in's provider settings with what only the
// provider can tell (a Microsoft tenant domain's directory id), which the
// tenant and hosted-domain rules then compare accounts with (package
// readiness). A setting the provider refuses is the admin's to fix: the
// save is refused with its field error. A provider that cannot be asked
// does not hold the save up: the settings are saved unresolved (accounts
// are then not compared by directory id), and the next save asks again.
func (s *Service) resolveSettings(ctx context.Context, p catalog.Provider, in *store.Integration) error {
	rctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
	defer cancel()
	resolved, err := p.Dialect.ResolveSettings(rctx, providers.Caller{HTTP: s.o.HTTPClient}, providers.SettingsOf(*in))
	var refused *providers.SettingsError
	switch {
	case errors.As(err, &refused):
		return problem.Validation("The integration settings are not valid; see errors.", fieldErr(refused.Field, refused.Code, refused.Message))
	case err != nil:
		slog.WarnContext(ctx, "settings saved unresolved: the provider could not be asked", "org", in.OrgID, "provider", in.Provider, "err", err.Error())
	}
	in.TenantID = resolved.TenantID
	return nil
}

// conflict answers a lost optimistic race with the version now stored.
func (s *Service) conflict(ctx context.Context, orgID, provider string) error {
	cur, err := s.current(ctx, orgID, provider)
	if err != nil {
		return err
	}
	return preconditionFailed(cur.Version, "Another change was saved first. Reload the integration, review it, and save again.")
}

// shouldCheck: organization mode with a client id, a secret, and the fields
// the token endpoint is built from.
func (s *Service) shouldCheck(p catalog.Provider, in store.Integration, v IntegrationView) bool {
	if !s.o.VerifyCredentials || in.ConfigMode != store.ConfigModeOrganization || in.ClientID == "" || in.ClientSecretSetAt.IsZero() {
		return false
	}
	for _, m := range v.Missing {
		if m == MissingTenant || m == MissingAuthBaseURL {
			return false
		}
	}
	return true
}

// auditSeq orders the entries one process writes within the same clock
// reading (a coarse or frozen clock): the trail is listed by time, then id.
var auditSeq atomic.Uint64

// auditEntry builds an entry with a unique, time-ordered id: the time, this
// process's sequence number, and random bits against other processes.
func (s *Service) auditEntry(who auth.Principal, provider, action string, at time.Time, changes []store.FieldChange) (store.AuditEntry, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return store.AuditEntry{}, fmt.Errorf("audit id: %w", err)
	}
	id := fmt.Sprintf("%s-%012d-%s", at.Format("20060102T150405.000000000Z"), auditSeq.Add(1), hex.EncodeToString(b[:]))
	return store.AuditEntry{
		OrgID: who.OrgID, ID: id,
		At: at, Actor: who.UserID, Provider: provider, Action: action, Changes: changes,
	}, nil
}
