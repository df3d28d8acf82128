// Package connections is the user-connection half of the product: a user
// starts an OAuth authorization for one provider of their org, the
// provider's redirect finishes the provider's part (code exchange, granted
// scopes, account identity, tokens sealed into a pending completion), the
// user completes it with their own token (complete.go says why that step
// exists), and lists and disconnects their connections. The same flow
// connects an org's test account for an admin (testaccount.go). OAuthFunction
// serves it (see API for the HTTP side).
//
// What differs between providers (how the account is identified, how a
// token is revoked, where the expiry comes from) is each provider's
// Dialect (shared/providers); everything here is shared and driven by the
// catalog.
package connections

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Problem codes of this package (besides the shared ones of package problem).
const (
	// CodeProviderUnavailable: the provider is not offered in this deployment.
	CodeProviderUnavailable = "provider_unavailable"
	// CodeProviderDisabled: the org has not enabled the provider.
	CodeProviderDisabled = "provider_disabled"
	// CodeIntegrationIncomplete: the integration cannot issue tokens yet
	// (org mode without client id or secret, no default client, invalid
	// provider fields).
	CodeIntegrationIncomplete = "integration_incomplete"
	// CodeNotInRollout: the org rolls the provider out to groups the caller
	// is not in.
	CodeNotInRollout = "not_in_rollout"
	// CodeCompletionNotFound: no pending completion of the caller's for this
	// handle (unknown, used, expired, or started by someone else).
	CodeCompletionNotFound = "completion_not_found"
)

// Callback outcome codes (the code= parameter of the redirect to returnTo),
// besides the classified OAuth failures of package oauthfail.
const (
	CodeStateInvalid        = "state_invalid"
	CodeIntegrationChanged  = "integration_changed"
	CodeAccountLookupFailed = "account_lookup_failed"
	CodeInternal            = "internal_error"
	// CodeReturnToNotAllowed: the start's returnTo is no longer on the
	// allowed return URLs, so the completion could not be handed back.
	CodeReturnToNotAllowed = "return_to_not_allowed"
	// CodeNoRefreshToken is recorded as the connection's last error when the
	// provider issued no refresh token: the connection works until its access
	// token expires and cannot be refreshed.
	CodeNoRefreshToken = "no_refresh_token"
)

const (
	// StateTTL is how long a started authorization can be completed.
	StateTTL = 10 * time.Minute
	// CallbackPath is where providers redirect the browser.
	CallbackPath = "/oauth/callback"
)

// Vault seals tokens for storage, bound to their connection, and opens them
// again (package tokenseal implements it).
type Vault interface {
	SealToken(ctx context.Context, key store.ConnKey, tok *oauth2.Token) (sealed []byte, keyID string, err error)
	OpenToken(ctx context.Context, key store.ConnKey, sealed []byte) (*oauth2.Token, error)
}

// Stores are the storage ports the service uses (store.Store has them all).
type Stores interface {
	GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error)
	CreateState(ctx context.Context, s store.OAuthState) error
	ConsumeState(ctx context.Context, id string, now time.Time) (store.OAuthState, error)
	CreateCompletion(ctx context.Context, c store.PendingCompletion) error
	ConsumeCompletion(ctx context.Context, id string, now time.Time) (store.PendingCompletion, error)
	ListGrantConnections(ctx context.Context, g store.GrantRef, limit int) ([]store.ConnKey, error)
	GetConnection(ctx context.Context, key store.ConnKey) (store.Connection, error)
	ListUserConnections(ctx context.Context, orgID, userID string) ([]store.Connection, error)
	PutConnection(ctx context.Context, c store.Connection, expectedVersion int64) (store.Connection, error)
	DeleteConnection(ctx context.Context, key store.ConnKey) error
	// The org's test account (testaccount.go) and connect attempts
	// (attempts.go).
	PutConnectionAudited(ctx context.Context, c store.Connection, expectedVersion int64, audit ...store.AuditEntry) (store.Connection, error)
	DeleteConnectionAudited(ctx context.Context, key store.ConnKey, version int64, audit ...store.AuditEntry) error
	RecordConnectAttempt(ctx context.Context, a store.ConnectAttempt) error
	// An admin consent's outcome, on the integration (adminconsent.go).
	PutIntegration(ctx context.Context, cfg store.Integration, expectedVersion int64, audit ...store.AuditEntry) (store.Integration, error)
	ClearConnectAttempt(ctx context.Context, orgID, provider, userID string) error
}

var _ Stores = (store.Store)(nil)

// Options are the service's dependencies.
type Options struct {
	Catalog *catalog.Catalog
	Store   Stores
	Clients *clients.Resolver
	Vault   Vault
	// HTTPClient makes every provider call (token exchange, identity,
	// introspection, revocation); in local runs it rewrites provider URLs to
	// the fake provider.
	HTTPClient *http.Client
	Now        func() time.Time

	// AvailableProviders are the providers this deployment offers.
	AvailableProviders []string
	// AllowedReturnURLs are the prefixes a returnTo must start with.
	AllowedReturnURLs []string
	// RefreshMargin is the refresh job's access-token margin, used to place
	// a new connection on the due-index.
	RefreshMargin time.Duration
}

// Service runs user connections.
type Service struct {
	opts     Options
	returnTo []allowedPrefix
}

// New checks the options and builds the service.
func New(o Options) (*Service, error) {
	if o.Catalog == nil || o.Store == nil || o.Clients == nil || o.Vault == nil || o.HTTPClient == nil {
		return nil, errors.New("connections: catalog, store, clients, vault and HTTP client are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	prefixes, err := parseAllowedReturnURLs(o.AllowedReturnURLs)
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	return &Service{opts: o, returnTo: prefixes}, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// call makes the provider calls that are not token requests.
func (s *Service) call() providers.Caller { return providers.Caller{HTTP: s.opts.HTTPClient} }

// providerCtx carries the provider HTTP client for golang.org/x/oauth2.
func (s *Service) providerCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, s.opts.HTTPClient)
}
