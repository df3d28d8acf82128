package store

import (
	"context"
	"slices"
)

// Purposes of an authorization (OAuthState.Purpose and
// PendingCompletion.Purpose): what completing it creates. The purpose is
// fixed when the flow starts and travels with the state and the pending
// completion, so the route that completes it never decides it: a user's
// flow cannot become the org's test account, nor the other way round.
const (
	// PurposeConnection: the starting user's own connection (the zero
	// value, so records stored before purposes existed keep meaning it).
	PurposeConnection = ""
	// PurposeTestAccount: the org's designated test account of the
	// provider, started and completed by an admin.
	PurposeTestAccount = "test_account"
	// PurposeAdminConsent: an admin's org-wide admin consent (Microsoft):
	// the callback records the provider's answer on the integration and
	// completes nothing.
	PurposeAdminConsent = "admin_consent"
)

// TestAccountUserID is the user id of an org's test account: a connection
// owned by the org, not by a user, one per provider.
//
// It can never be a user's id. Every caller's user id is the JWT's user
// claim with surrounding white space trimmed (package auth refuses a
// token whose payload disagrees with the trimmed claim), and diagnostics'
// user parameter is held to the same rule, so no principal and no query
// can name an id that starts with a space. The rest of the id says what
// it is in logs and in the table.
const TestAccountUserID = " org:test-account"

// TestAccountKey is the key of the org's test account of provider. It is a
// connection like every other for the indexes (ByProvider, the due-index,
// ByGrant, the off-index listing), so the refresh job keeps it fresh and
// an admin's change to the integration reaches it, and never one a user's
// listing holds.
func TestAccountKey(orgID, provider string) ConnKey {
	return ConnKey{OrgID: orgID, UserID: TestAccountUserID, Provider: provider}
}

// IsTestAccount reports whether k is an org's test account.
func (k ConnKey) IsTestAccount() bool { return k.UserID == TestAccountUserID }

// Bounds of Connection.ConnectGroups.
const (
	// MaxConnectGroups is how many of a token's groups a connection keeps.
	MaxConnectGroups = 200
	// MaxConnectGroupLen is the longest group name kept; a longer one can
	// never be a rollout group (the admin API's limit is the same).
	MaxConnectGroupLen = 128
)

// GroupsSeen are the groups a user's token carried when they connected.
type GroupsSeen struct {
	Groups []string `json:"groups"`
	// Truncated: the token had more than MaxConnectGroups usable groups
	// and only the first ones (in the token's order) were kept.
	Truncated bool `json:"truncated,omitempty"`
}

// ConnectGroupsOf returns the groups a connection records of its user's
// token: those a rollout could name (non-empty, at most MaxConnectGroupLen
// bytes), without duplicates, in the token's order, at most
// MaxConnectGroups.
func ConnectGroupsOf(groups []string) *GroupsSeen {
	seen := &GroupsSeen{Groups: []string{}}
	for _, g := range groups {
		if g == "" || len(g) > MaxConnectGroupLen || slices.Contains(seen.Groups, g) {
			continue
		}
		if len(seen.Groups) == MaxConnectGroups {
			seen.Truncated = true
			break
		}
		seen.Groups = append(seen.Groups, g)
	}
	return seen
}

// AuditedConnections write a connection an admin changed (the org's test
// account) together with the audit entries that record it: both or
// neither, as PutIntegration does for a configuration.
type AuditedConnections interface {
	// PutConnectionAudited is PutConnection with the audit entries
	// appended in the same transaction. A stale version, or an audit id
	// that exists, is ErrConflict and nothing is written.
	PutConnectionAudited(ctx context.Context, c Connection, expectedVersion int64, audit ...AuditEntry) (Connection, error)
	// DeleteConnectionAudited deletes the connection if its stored version
	// is version, with the audit entries in the same transaction. A
	// connection that changed or is gone is ErrConflict and nothing is
	// written.
	DeleteConnectionAudited(ctx context.Context, key ConnKey, version int64, audit ...AuditEntry) error
}
