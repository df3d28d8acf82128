package store

import (
	"context"
	"time"
)

// PendingCompletion is an authorization the provider's redirect finished
// but the user who started it has not claimed yet. The callback is reached
// by whichever browser followed the authorization link, which need not be
// the starting user's, so it never writes a connection: it seals the tokens
// into a pending completion bound to the state's org, user, provider and
// client, and hands the browser a handle. Only the starting user, posting
// that handle with their own token, turns it into a connection.
//
// A pending completion is single use and expires ExpiresAt (a DynamoDB TTL
// deletes it later; consuming checks the expiry itself). It is never
// listed, refreshed or diagnosed as a connection.
type PendingCompletion struct {
	// ID is the SHA-256 (hex) of the handle given to the browser; the
	// handle itself is never stored.
	ID string `json:"id"`
	// The binding: who started the authorization, for what, under which
	// client.
	OrgID         string `json:"orgId"`
	UserID        string `json:"userId"`
	Provider      string `json:"provider"`
	ClientRef     string `json:"clientRef"`
	ConfigVersion int64  `json:"configVersion"`
	// Purpose is what completing it creates: the starting user's own
	// connection (PurposeConnection, also when empty) or the org's test
	// account (PurposeTestAccount), as the state said.
	Purpose string `json:"purpose,omitempty"`

	Account         Account  `json:"account"`
	RequestedScopes []string `json:"requestedScopes"`
	GrantedScopes   []string `json:"grantedScopes"`
	MissingScopes   []string `json:"missingScopes,omitempty"`
	// SealedTokens are sealed to the pending completion (see
	// connections.pendingKey), not to a connection: they are re-sealed for
	// the connection when it is completed.
	SealedTokens []byte `json:"sealedTokens"`
	TokenKeyID   string `json:"tokenKeyId"`
	// AccessExpiresAt is when the access token expires (zero: unknown);
	// ExpiryAssumed says it was assumed, not learned from the provider.
	AccessExpiresAt time.Time `json:"accessExpiresAt,omitzero"`
	ExpiryAssumed   bool      `json:"expiryAssumed,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Completions stores pending completions.
type Completions interface {
	// CreateCompletion stores c; its ID must be new (ErrConflict).
	CreateCompletion(ctx context.Context, c PendingCompletion) error
	// ConsumeCompletion returns and removes the pending completion exactly
	// once. A second consume, an unknown id, or one at or after ExpiresAt is
	// ErrNotFound, even if TTL deletion has not run yet.
	ConsumeCompletion(ctx context.Context, id string, now time.Time) (PendingCompletion, error)
}

// GrantRef names a grant at a provider: one external account's consent to
// one OAuth client. Connections of two users (or two orgs sharing the
// platform's default client) can hold tokens of the same grant, for
// example a shared support mailbox; a provider whose revocation ends the
// whole grant (Google) must not be asked to revoke while another
// connection still uses it.
type GrantRef struct {
	Provider  string `json:"provider"`
	ClientRef string `json:"clientRef"`
	AccountID string `json:"accountId"`
}

// Grant returns the grant c's tokens belong to; ok is false when the
// provider did not identify the account.
func (c Connection) Grant() (GrantRef, bool) {
	return GrantRef{Provider: c.Provider, ClientRef: c.ClientRef, AccountID: c.Account.ID}, c.Account.ID != ""
}

// Grants finds the connections that hold tokens of one grant.
type Grants interface {
	// ListGrantConnections returns the keys of at most limit connections
	// whose Grant is g (limit <= 0 means the adapter's default page).
	ListGrantConnections(ctx context.Context, g GrantRef, limit int) ([]ConnKey, error)
}
