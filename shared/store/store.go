// Package store holds the service's records and the ports (interfaces) every
// storage adapter implements: org integration configs, audit entries, pending
// OAuth states, user connections and secrets.
//
// Two adapters implement every port: an AWS one (DynamoDB and Secrets
// Manager, package dynamostore and awssecrets) and an embedded, durable one for
// local runs (package boltstore). One contract suite (package storetest) runs
// against both, so behaviour cannot drift between them.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Adapters wrap them with context; callers test with errors.Is.
var (
	// ErrNotFound: the record does not exist (or, for an OAuth state, was
	// already consumed or has expired).
	ErrNotFound = errors.New("not found")
	// ErrConflict: an optimistic version check failed; someone else wrote first.
	ErrConflict = errors.New("version conflict")
	// ErrLeaseHeld: another owner holds an unexpired refresh lease.
	ErrLeaseHeld = errors.New("lease held by another owner")
	// ErrLeaseLost: the caller no longer holds the lease it is writing under
	// (it expired and someone else claimed it, or the record changed).
	ErrLeaseLost = errors.New("lease lost")
	// ErrThrottled: the backing store asked us to slow down and retries ran out.
	ErrThrottled = errors.New("store throttled")
	// ErrUnavailable: the backing store cannot do this yet (it is still
	// finishing a deletion of the same secret) and the wait allowed for it
	// ran out. Nothing was written; the same request can succeed later.
	ErrUnavailable = errors.New("store temporarily unavailable")
	// ErrInvalidCursor: a page cursor that this listing did not issue (or
	// issued for another org, user or provider). Callers answer 400.
	ErrInvalidCursor = errors.New("invalid page cursor")
)

// Config modes of an org integration.
const (
	ConfigModeDefault      = "default"      // the platform's OAuth client
	ConfigModeOrganization = "organization" // the org's own client id + secret
)

// Rollout modes.
const (
	RolloutEveryone = "everyone"
	RolloutGroups   = "groups"
)

// Rollout says which users of an org may connect an enabled provider.
type Rollout struct {
	Mode   string   `json:"mode"`
	Groups []string `json:"groups,omitempty"`
}

// SupportContact is who owns support for an integration's connection
// failures: a name, and an email address or an https URL (exactly one).
type SupportContact struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Text is the contact as one line, as the audit trail and diagnostics'
// remediations name it: "IT Help (it-help@example.com)". Empty for nil.
func (sc *SupportContact) Text() string {
	if sc == nil {
		return ""
	}
	how := sc.Email
	if how == "" {
		how = sc.URL
	}
	return sc.Name + " (" + how + ")"
}

// Integration is one organization's configuration of one provider.
// The client secret itself is never part of it: it lives in Secrets.
type Integration struct {
	OrgID        string `json:"orgId"`
	Provider     string `json:"provider"`
	Enabled      bool   `json:"enabled"`
	ConfigMode   string `json:"configMode"`
	ClientID     string `json:"clientId,omitempty"`
	Tenant       string `json:"tenant,omitempty"`
	AuthBaseURL  string `json:"authBaseUrl,omitempty"`
	HostedDomain string `json:"hostedDomain,omitempty"`
	// TenantID is the directory id a Tenant named by a verified domain
	// resolves to (Microsoft), as the provider said when the tenant was
	// saved; the GUID itself for a GUID tenant; empty for organizations and
	// common, or when the provider could not be asked.
	TenantID          string   `json:"tenantId,omitempty"`
	Capabilities      []string `json:"capabilities"`
	AllowWriteActions bool     `json:"allowWriteActions"`
	Rollout           Rollout  `json:"rollout"`
	// SupportContact is who owns support for connection failures; nil when
	// the org named no one. UserGuidance is plain text for users: what the
	// integration is for and what actions need review.
	SupportContact    *SupportContact `json:"supportContact,omitempty"`
	UserGuidance      string          `json:"userGuidance,omitempty"`
	ClientSecretSetAt time.Time       `json:"clientSecretSetAt,omitzero"`
	// AdminConsent is the outcome of the last org-wide admin consent
	// (Microsoft); nil when none was asked for. Saving the settings keeps
	// it.
	AdminConsent *AdminConsent `json:"adminConsent,omitempty"`
	Version      int64         `json:"version"`
	UpdatedAt    time.Time     `json:"updatedAt"`
	UpdatedBy    string        `json:"updatedBy"`
}

// AdminConsent is what the provider answered an org-wide admin consent:
// granted (for Tenant, the directory the administrator consented for, and
// Scopes) or refused (Error, the provider's error code). At is when the
// answer came, By the admin who asked.
type AdminConsent struct {
	Granted bool      `json:"granted"`
	Tenant  string    `json:"tenant,omitempty"`
	Scopes  []string  `json:"scopes"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	Error   string    `json:"error,omitempty"`
}

// ClientRef identifies the OAuth client that issues this integration's
// tokens. Tokens are bound to the client that issued them: when the ref
// changes, existing connections must reconnect.
func (i Integration) ClientRef() string {
	if i.ConfigMode == ConfigModeOrganization {
		return ConfigModeOrganization + ":" + i.ClientID
	}
	return ConfigModeDefault
}

// FieldChange is one field's change in an audit entry. Secret values never
// appear: a secret change is recorded as Field "clientSecret" with New "set"
// or "removed".
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// AuditEntry records one change an actor made to an org's integrations.
type AuditEntry struct {
	OrgID    string        `json:"orgId"`
	ID       string        `json:"id"` // unique, assigned by the caller (time-ordered)
	At       time.Time     `json:"at"`
	Actor    string        `json:"actor"`
	Provider string        `json:"provider"`
	Action   string        `json:"action"` // e.g. integration.updated, client_secret.set
	Changes  []FieldChange `json:"changes,omitempty"`
}

// OAuthState is a pending authorization: created when a user starts a
// connection, consumed exactly once by the provider's redirect.
type OAuthState struct {
	// ID is the SHA-256 (hex) of the state value sent to the provider; the raw
	// value is never stored.
	ID            string    `json:"id"`
	OrgID         string    `json:"orgId"`
	UserID        string    `json:"userId"`
	Provider      string    `json:"provider"`
	ConfigVersion int64     `json:"configVersion"`
	ClientRef     string    `json:"clientRef"`
	PKCEVerifier  string    `json:"pkceVerifier"`
	RedirectURI   string    `json:"redirectUri"`
	ReturnTo      string    `json:"returnTo,omitempty"`
	Scopes        []string  `json:"scopes"`
	CreatedAt     time.Time `json:"createdAt"`
	ExpiresAt     time.Time `json:"expiresAt"`
	// Purpose is what the authorization completes into (testaccount.go);
	// empty is PurposeConnection.
	Purpose string `json:"purpose,omitempty"`
}

// Connection statuses.
const (
	StatusConnected        = "connected"
	StatusNeedsReconnect   = "needs_reconnect"
	StatusRefreshFailing   = "refresh_failing"
	StatusRefreshExhausted = "refresh_exhausted"
)

// Reasons a connection is off the due-index (Connection.OffIndexReason).
// The refresh job, the admin service (a client change) and the callback (no
// refresh token) take connections off the index; the refresh job and the
// admin service (a provider enabled again) put them back. ReasonClientChanged
// is also the StatusReason of a connection whose client was replaced.
const (
	ReasonProviderDisabled    = "provider_disabled"    // the org's integration is missing or disabled
	ReasonProviderUnavailable = "provider_unavailable" // the deployment does not offer the provider
	ReasonClientChanged       = "client_changed"       // the integration's client is not the one that issued the tokens
	ReasonSettingsChanged     = "settings_changed"     // the integration's settings no longer admit the account (hosted domain, tenant)
	ReasonNeedsReconnect      = "needs_reconnect"      // the user or an admin must act
	ReasonRefreshExhausted    = "refresh_exhausted"    // transient failures on too many days
	ReasonNoRefreshToken      = "no_refresh_token"     // nothing to refresh with
)

// ReasonClientFailing is why a connection's refreshes are paused
// (Connection.PausedReason): the provider refuses its integration's OAuth
// client. The connection stays on the due-index at a slow pace and keeps
// its tokens and status; nobody needs to reconnect.
const ReasonClientFailing = "client_failing"

// ConnKey names one user's connection to one provider in one org.
type ConnKey struct {
	OrgID    string `json:"orgId"`
	UserID   string `json:"userId"`
	Provider string `json:"provider"`
}

// String is the canonical form (for logs and errors; ambiguous when an id
// contains '/', so sealed tokens are bound to the fields, see package
// tokenseal).
func (k ConnKey) String() string { return k.OrgID + "/" + k.UserID + "/" + k.Provider }

// Account is the external identity a connection was made with.
type Account struct {
	ID          string `json:"id,omitempty"`          // provider's user id
	Email       string `json:"email,omitempty"`       // or username
	Name        string `json:"name,omitempty"`        // display name
	Tenant      string `json:"tenant,omitempty"`      // Microsoft tenant id
	Domain      string `json:"domain,omitempty"`      // Google hosted domain (hd)
	InstanceURL string `json:"instanceUrl,omitempty"` // Salesforce
	ExternalOrg string `json:"externalOrg,omitempty"` // Salesforce org id
}

// ConnError is the last failure recorded on a connection, already classified.
type ConnError struct {
	Code    string    `json:"code"`    // stable, e.g. invalid_grant, provider_unavailable
	Message string    `json:"message"` // for a person; never contains a token or secret
	Owner   string    `json:"owner"`   // who can fix it: user, admin, external_admin, none
	At      time.Time `json:"at"`
}

// Connection is one user's connection to one provider. Tokens are kept only
// sealed (package tokenseal); the store never sees them in the clear.
type Connection struct {
	ConnKey
	Status          string   `json:"status"`
	StatusReason    string   `json:"statusReason,omitempty"` // e.g. client_changed, invalid_grant
	ClientRef       string   `json:"clientRef"`
	ConfigVersion   int64    `json:"configVersion"`
	Account         Account  `json:"account"`
	RequestedScopes []string `json:"requestedScopes"`
	GrantedScopes   []string `json:"grantedScopes"`
	MissingScopes   []string `json:"missingScopes,omitempty"`
	SealedTokens    []byte   `json:"sealedTokens"`
	TokenKeyID      string   `json:"tokenKeyId"`

	AccessExpiresAt time.Time `json:"accessExpiresAt,omitzero"`
	ConnectedAt     time.Time `json:"connectedAt"`
	LastRefreshAt   time.Time `json:"lastRefreshAt,omitzero"`
	LastAttemptAt   time.Time `json:"lastAttemptAt,omitzero"`
	LastUsedAt      time.Time `json:"lastUsedAt,omitzero"`

	// ConnectGroups are the groups claim of the user's token when they
	// completed the connection (see ConnectGroupsOf): group membership is
	// known only from a user's own token, so the rollout view counts a
	// connection in a rollout by the groups it was made with. Nil for the
	// org's test account and for connections made before groups were
	// recorded.
	ConnectGroups *GroupsSeen `json:"connectGroups,omitempty"`

	// Refresh failure bookkeeping, cleared on success.
	ConsecutiveFailures int        `json:"consecutiveFailures,omitempty"`
	FailureDays         []string   `json:"failureDays,omitempty"` // distinct UTC dates (2006-01-02) with failures
	LastError           *ConnError `json:"lastError,omitempty"`

	// NextRefreshAt puts the connection on the due-index; the zero time takes
	// it off (sparse index). OffIndexReason says why it is off, when it is.
	NextRefreshAt  time.Time `json:"nextRefreshAt,omitzero"`
	OffIndexReason string    `json:"offIndexReason,omitempty"`
	// PausedReason says why a connection on the due-index is refreshed
	// only at a slow pace although nothing is wrong with it
	// (ReasonClientFailing), so that the job that resumes it finds it.
	// Cleared by a successful refresh and by that job.
	PausedReason string `json:"pausedReason,omitempty"`

	// Refresh lease: only LeaseOwner may write the refresh outcome until
	// LeaseUntil.
	LeaseOwner string    `json:"leaseOwner,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`

	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// DueRef is an entry of the due-index.
type DueRef struct {
	ConnKey
	DueAt time.Time `json:"dueAt"`
}

// Page bounds a listing. Cursor is opaque and adapter-specific; empty starts
// from the beginning. Limit <= 0 means the adapter's default (<= 100).
type Page struct {
	Cursor string
	Limit  int
}

// Integrations stores org integration configs.
type Integrations interface {
	// GetIntegration returns ErrNotFound when the org never configured the provider.
	GetIntegration(ctx context.Context, orgID, provider string) (Integration, error)
	// ListIntegrations returns every provider the org configured.
	ListIntegrations(ctx context.Context, orgID string) ([]Integration, error)
	// PutIntegration writes cfg if the stored version equals expectedVersion
	// (0: must not exist yet), storing it with Version expectedVersion+1, and
	// appends the audit entries in the same transaction. A stale version is
	// ErrConflict and nothing is written.
	PutIntegration(ctx context.Context, cfg Integration, expectedVersion int64, audit ...AuditEntry) (Integration, error)
}

// Audit stores the org's audit trail.
type Audit interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns entries newest first, and the cursor of the next page
	// ("" when there is none).
	ListAudit(ctx context.Context, orgID string, page Page) ([]AuditEntry, string, error)
}

// States stores pending OAuth states.
type States interface {
	// CreateState stores s; its ID must be new.
	CreateState(ctx context.Context, s OAuthState) error
	// ConsumeState returns and removes the state exactly once. A second
	// consume, an unknown id, or one at or after ExpiresAt is ErrNotFound, even
	// if TTL deletion has not run yet.
	ConsumeState(ctx context.Context, id string, now time.Time) (OAuthState, error)
}

// Connections stores user connections and their refresh leases.
type Connections interface {
	GetConnection(ctx context.Context, key ConnKey) (Connection, error)
	ListUserConnections(ctx context.Context, orgID, userID string) ([]Connection, error)
	ListProviderConnections(ctx context.Context, orgID, provider string, page Page) ([]Connection, string, error)
	// PutConnection writes c if the stored version equals expectedVersion (0:
	// must not exist yet) and returns it with its new Version. The lease fields
	// of c are written as given.
	PutConnection(ctx context.Context, c Connection, expectedVersion int64) (Connection, error)
	// DeleteConnection removes the connection; deleting a missing one is not an error.
	DeleteConnection(ctx context.Context, key ConnKey) error
	// ClaimLease takes the refresh lease for owner until `until` if nobody
	// holds an unexpired one at `now`, and returns the connection as stored
	// after the claim (the re-read). ErrLeaseHeld when another owner holds it,
	// ErrNotFound when the connection is gone.
	ClaimLease(ctx context.Context, key ConnKey, owner string, now, until time.Time) (Connection, error)
	// CompleteLease writes c (the outcome of a refresh) and releases the lease
	// in one conditional write: it succeeds only while owner still holds the
	// lease and the version is unchanged since the claim; otherwise
	// ErrLeaseLost and nothing is written.
	CompleteLease(ctx context.Context, c Connection, owner string) (Connection, error)
	// ListDue returns connections on the due-index with NextRefreshAt <= before,
	// reading only due entries (never the rest of the table).
	ListDue(ctx context.Context, before time.Time, page Page) ([]DueRef, string, error)
}

// DefaultClient is the platform's OAuth client for a provider.
type DefaultClient struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// Keyring holds the token-encryption keys: Current seals, every key opens.
type Keyring struct {
	Current string
	Keys    map[string][]byte
}

// Secrets stores credentials. Values never appear in errors or logs.
type Secrets interface {
	// PutClientSecret stores the org's client secret for provider.
	PutClientSecret(ctx context.Context, orgID, provider, value string) error
	// GetClientSecret returns ErrNotFound when none is set.
	GetClientSecret(ctx context.Context, orgID, provider string) (string, error)
	// DeleteClientSecret removes it; deleting a missing one is not an error.
	DeleteClientSecret(ctx context.Context, orgID, provider string) error
	// DefaultClient returns the platform's client for provider, ErrNotFound
	// when this deployment has none.
	DefaultClient(ctx context.Context, provider string) (DefaultClient, error)
	// TokenKeys returns the token-encryption keyring.
	TokenKeys(ctx context.Context) (Keyring, error)
	// TokenKey returns one key by id (also older ones after rotation),
	// ErrNotFound for an unknown id.
	TokenKey(ctx context.Context, id string) ([]byte, error)
}

// Store bundles the table-backed ports, as one adapter implements them.
type Store interface {
	ConnectionScan     // scan.go
	RateLimits         // limits.go
	RolloutRecords     // rollout.go
	AuditedConnections // testaccount.go
	Integrations
	Audit
	States
	Completions
	Connections
	Grants
	Health   // health.go
	Jobs     // health.go
	OffIndex // health.go
}

type uncachedKey struct{}

// Uncached returns a context under which a Secrets read goes to the
// secret store past any cache (and refreshes the cached value): for a
// caller that has reason to think the cached value is stale, such as a
// client secret the provider just refused while another container may
// already have rotated it.
func Uncached(ctx context.Context) context.Context {
	return context.WithValue(ctx, uncachedKey{}, true)
}

// IsUncached reports whether ctx asks for reads past the cache.
func IsUncached(ctx context.Context) bool {
	v, _ := ctx.Value(uncachedKey{}).(bool)
	return v
}
