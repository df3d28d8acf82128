package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Revocation outcomes of a disconnect.
const (
	RevocationRevoked      = "revoked"       // the provider revoked the grant
	RevocationFailed       = "failed"        // the provider could not be asked or refused; the connection was removed anyway
	RevocationNotSupported = "not_supported" // the provider has no per-token revocation
	RevocationNone         = "none"          // there was no connection, so nothing to revoke
	// RevocationSharedGrant: not asked, because the provider's revocation
	// ends the whole grant (Google) and another stored connection holds the
	// same grant (the same account through the same client); only the
	// tokens stored here were deleted.
	RevocationSharedGrant = "shared_grant"
)

// DisconnectResult is the answer of a disconnect.
type DisconnectResult struct {
	Provider   string `json:"provider"`
	Deleted    bool   `json:"deleted"`    // a connection existed and was removed
	Revocation string `json:"revocation"` // one of the Revocation* values
	// Revoked: the provider revoked the grant. Reason says why not when it
	// did not (the Revocation value).
	Revoked bool   `json:"revoked"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// Disconnect revokes the caller's connection at the provider where the
// provider can, then deletes it. The deletion happens even when revocation
// fails; disconnecting a connection that does not exist succeeds with
// revocation "none", so retries are safe.
func (s *Service) Disconnect(ctx context.Context, who auth.Principal, providerID string) (DisconnectResult, error) {
	p, ok := s.opts.Catalog.Get(providerID)
	if !ok {
		return DisconnectResult{}, problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider.")
	}
	key := store.ConnKey{OrgID: who.OrgID, UserID: who.UserID, Provider: p.ID}
	c, err := s.opts.Store.GetConnection(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return DisconnectResult{Provider: p.ID, Revocation: RevocationNone, Message: "You had no " + p.DisplayName + " connection."}, nil
	}
	if err != nil {
		return DisconnectResult{}, fmt.Errorf("read connection %s: %w", key, err)
	}
	res := DisconnectResult{Provider: p.ID, Deleted: true}
	switch err := s.revoke(ctx, p, c); {
	case err == nil:
		res.Revocation, res.Revoked, res.Message = RevocationRevoked, true, "Your "+p.DisplayName+" connection was removed and its access revoked at "+p.DisplayName+"."
	case errors.Is(err, errGrantShared):
		res.Revocation, res.Message = RevocationSharedGrant, "Your "+p.DisplayName+" connection was removed here. Its access was not revoked at "+p.DisplayName+": the same account is connected through the same app by someone else here (a shared mailbox, or another organization using the platform's app), and revoking would end their access too."
	case errors.Is(err, providers.ErrRevocationUnsupported):
		res.Revocation, res.Message = RevocationNotSupported, p.NoRevocationHint
	default:
		slog.WarnContext(ctx, "revocation at disconnect failed", "org", key.OrgID, "user", key.UserID, "provider", p.ID, "err", err.Error())
		res.Revocation, res.Message = RevocationFailed, "Your "+p.DisplayName+" connection was removed here, but "+p.DisplayName+" did not confirm the revocation. You can also remove the app's access in your "+p.DisplayName+" account's security settings."
	}
	if !res.Revoked {
		res.Reason = res.Revocation
	}
	if err := s.opts.Store.DeleteConnection(ctx, key); err != nil {
		return DisconnectResult{}, fmt.Errorf("delete connection %s: %w", key, err)
	}
	slog.InfoContext(ctx, "connection removed", "org", key.OrgID, "user", key.UserID, "provider", p.ID, "revocation", res.Revocation)
	return res, nil
}

// revoke revokes c's grant at its provider.
func (s *Service) revoke(ctx context.Context, p catalog.Provider, c store.Connection) error {
	if p.Revocation == providers.RevokeNone {
		return providers.ErrRevocationUnsupported
	}
	tok, err := s.opts.Vault.OpenToken(ctx, c.ConnKey, c.SealedTokens)
	if err != nil {
		return fmt.Errorf("open tokens: %w", err)
	}
	settings, err := s.revocationSettings(ctx, p, c.OrgID, c.Account)
	if err != nil {
		return fmt.Errorf("revocation endpoint: %w", err)
	}
	if p.Revocation == providers.RevokeGrant && s.grantHeldElsewhere(ctx, c) {
		return errGrantShared
	}
	return p.Dialect.Revoke(s.providerCtx(ctx), s.call(), p.Endpoints(settings), tok)
}

// revocationSettings are the settings whose endpoints revoke an account's
// tokens: the org's current ones (Salesforce: its authentication base URL,
// checked when it was saved); without an integration, those the account's
// own record implies (the provider's dialect decides, and refuses what it
// would not send a token to).
func (s *Service) revocationSettings(ctx context.Context, p catalog.Provider, orgID string, acct store.Account) (catalog.Settings, error) {
	in, err := s.opts.Store.GetIntegration(ctx, orgID, p.ID)
	switch {
	case err == nil:
		return clients.SettingsOf(in), nil
	case !errors.Is(err, store.ErrNotFound):
		return catalog.Settings{}, fmt.Errorf("read integration: %w", err)
	}
	return p.Dialect.AccountSettings(acct)
}

// errGrantShared: a grant-wide revocation was not sent, because another
// stored connection holds the grant.
var errGrantShared = errors.New("the grant is another connection's too")

// grantHeldElsewhere reports whether a stored connection other than c
// holds c's grant (the same account through the same client). A store
// error counts as held: when in doubt, do not end a whole grant. The grant
// index is eventually consistent on DynamoDB: a connection made a moment
// ago may be missing from it, which only matters for the few hundred
// milliseconds after its completion.
func (s *Service) grantHeldElsewhere(ctx context.Context, c store.Connection) bool {
	g, ok := c.Grant()
	if !ok {
		return false
	}
	keys, err := s.opts.Store.ListGrantConnections(ctx, g, 2)
	if err != nil {
		slog.WarnContext(ctx, "grant index lookup failed", "provider", c.Provider, "err", err.Error())
		return true
	}
	for _, k := range keys {
		if k != c.ConnKey {
			return true
		}
	}
	return false
}
