package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// Why a connection can only be completed by the user who started it: the
// provider redirects whichever browser followed the authorization link to
// the callback. Had the callback stored the connection, anyone could start
// a connection in their own org (or their own name), send the link to a
// victim who is already signed in at the provider, and own the victim's
// mailbox as "their" connection. So the callback only parks the tokens,
// sealed, in a pending completion bound to the state's org, user, provider
// and client, and the page at returnTo posts its handle with the signed-in
// user's own token. Anyone else's post finds nothing (the same 404 as an
// unknown handle) and destroys the pending tokens, so the victim's own app
// posting the handle it was handed ends the attack.

// CompletionTTL is how long a pending completion can be completed.
const CompletionTTL = 10 * time.Minute

// MaxCompletionLength bounds a completion handle; ours are 43 characters.
const MaxCompletionLength = 128

// CompleteRequest is the body of POST .../connections/{provider}/complete.
type CompleteRequest struct {
	Completion string `json:"completion"`
}

// pendingKey binds a pending completion's sealed tokens: a key no
// connection has (provider ids never contain '/'), naming its purpose, so
// tokens parked for a user's connection never open as a test account's or
// the other way round.
func pendingKey(pc store.PendingCompletion) store.ConnKey {
	return store.ConnKey{OrgID: pc.OrgID, UserID: pc.UserID, Provider: "pending/" + purposeTag(pc.Purpose) + pc.Provider + "/" + pc.ID}
}

// pend seals the tokens of a finished authorization into a pending
// completion bound to the state, and returns its handle (256 random bits,
// base64url; only its SHA-256 is stored).
func (s *Service) pend(ctx context.Context, st store.OAuthState, tok *oauth2.Token, acct store.Account, expiry time.Time, expiryAssumed bool, granted, missing []string, now time.Time) (string, error) {
	handle, handleID, err := newState()
	if err != nil {
		return "", fmt.Errorf("generate completion handle: %w", err)
	}
	key := store.ConnKey{OrgID: st.OrgID, UserID: st.UserID, Provider: st.Provider}
	pc := store.PendingCompletion{
		ID: handleID, OrgID: st.OrgID, UserID: st.UserID, Provider: st.Provider,
		ClientRef: st.ClientRef, ConfigVersion: st.ConfigVersion, Purpose: st.Purpose,
		Account: acct, RequestedScopes: st.Scopes, GrantedScopes: granted, MissingScopes: missing,
		AccessExpiresAt: expiry, ExpiryAssumed: expiryAssumed,
		CreatedAt: now, ExpiresAt: now.Add(CompletionTTL),
	}
	sealedTok := &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: expiry}
	if pc.SealedTokens, pc.TokenKeyID, err = s.opts.Vault.SealToken(ctx, pendingKey(pc), sealedTok); err != nil {
		return "", fmt.Errorf("seal pending tokens of %s: %w", key, err)
	}
	if err := s.opts.Store.CreateCompletion(ctx, pc); err != nil {
		return "", fmt.Errorf("store pending completion of %s: %w", key, err)
	}
	return handle, nil
}

func completionNotFound() *problem.Problem {
	return problem.New(http.StatusNotFound, CodeCompletionNotFound, "This connection cannot be completed: it is unknown, was already completed or discarded, or has expired. Start the connection again.")
}

// Complete turns the pending completion behind handle into the caller's
// connection, when the caller is the user who started it, in that org,
// for that provider. Anyone else, and an unknown, used or expired handle,
// gets the same completion_not_found problem; a pending completion someone
// else posted is discarded (its tokens revoked where the provider can,
// unless another connection holds the same grant). A completed connection
// replaces the caller's previous one of the provider. Refusals are
// *problem.Problem.
func (s *Service) Complete(ctx context.Context, who auth.Principal, providerID, handle string) (View, error) {
	p, ok := s.opts.Catalog.Get(providerID)
	if !ok {
		return View{}, problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider.")
	}
	if handle == "" {
		return View{}, problem.Validation("The request has invalid fields.", problem.FieldError{Field: "completion", Code: "required", Message: "Give the completion handle the connection's return address received."})
	}
	if len(handle) > MaxCompletionLength {
		return View{}, completionNotFound()
	}
	now := s.now()
	pc, err := s.opts.Store.ConsumeCompletion(ctx, StateID(handle), now)
	if errors.Is(err, store.ErrNotFound) {
		slog.InfoContext(ctx, "completion refused: unknown, used or expired", "org", who.OrgID, "user", who.UserID, "provider", p.ID)
		return View{}, completionNotFound()
	}
	if err != nil {
		return View{}, fmt.Errorf("consume pending completion: %w", err)
	}
	if pc.OrgID != who.OrgID || pc.UserID != who.UserID || pc.Provider != p.ID || !mayComplete(pc, who) {
		// Someone other than the starting user holds the handle: the link
		// was followed in their browser (or the admin who started a test
		// account is an admin no longer). Nobody gets these tokens.
		slog.WarnContext(ctx, "completion refused: not the user who started the connection; pending tokens discarded",
			"org", who.OrgID, "user", who.UserID, "provider", p.ID,
			"startedOrg", pc.OrgID, "startedUser", pc.UserID, "startedProvider", pc.Provider)
		s.discard(ctx, pc)
		return View{}, completionNotFound()
	}
	v, err := s.stillIssuing(ctx, p, pc.OrgID, pc.ClientRef, &pc.Account)
	if err != nil {
		s.discard(ctx, pc)
		return View{}, err
	}
	tok, err := s.opts.Vault.OpenToken(ctx, pendingKey(pc), pc.SealedTokens)
	if err != nil {
		return View{}, fmt.Errorf("open pending tokens of %s/%s/%s: %w", pc.OrgID, pc.UserID, pc.Provider, err)
	}
	c, err := s.save(ctx, p, pc, tok, now, who)
	if err != nil {
		s.discard(ctx, pc)
		return View{}, err
	}
	slog.InfoContext(ctx, "connection completed", "org", c.OrgID, "user", c.UserID, "provider", c.Provider, "purpose", pc.Purpose, "missingScopes", len(c.MissingScopes))
	if pc.Purpose == store.PurposeTestAccount {
		return testAccountView(p, v, c), nil
	}
	s.clearAttempt(ctx, c.ConnKey)
	return NewView(p, v, c, who), nil
}

// stillIssuing returns the integration's readiness when it still issues
// with clientRef, the client tokens of a started connection come from:
// offered here, enabled, under the same client, and, once the account is
// known (acct not nil), with settings that admit it
// (readiness.Value.Connection). Between the start and the callback, or the
// callback and the completion, an admin may have changed it; the problem
// says so. A store failure is a plain error.
func (s *Service) stillIssuing(ctx context.Context, p catalog.Provider, orgID, clientRef string, acct *store.Account) (readiness.Value, error) {
	f := readiness.Facts{Offered: slices.Contains(s.opts.AvailableProviders, p.ID)}
	switch in, err := s.opts.Store.GetIntegration(ctx, orgID, p.ID); {
	case err == nil:
		f.Integration = &in
	case !errors.Is(err, store.ErrNotFound):
		return readiness.Value{}, fmt.Errorf("read integration %s/%s: %w", orgID, p.ID, err)
	}
	v := readiness.Of(p, f)
	probe := store.Connection{Status: store.StatusConnected, ClientRef: clientRef}
	if acct != nil {
		probe.Account = *acct
	}
	switch v.Connection(probe) {
	case "":
		return v, nil
	case readiness.ReasonSettingsChanged:
		if acct == nil {
			// The account is not known yet: the callback applies the
			// settings to it when it identifies it.
			return v, nil
		}
	case readiness.ReasonProviderUnavailable:
		return v, problem.New(http.StatusConflict, CodeProviderUnavailable, p.DisplayName+" is not available in this environment.")
	}
	// Tokens are bound to the client that issues them: a connection started
	// under one client (or before the provider was disabled) must not be
	// completed under another.
	return v, problem.New(http.StatusConflict, CodeIntegrationChanged, "Your organization changed the "+p.DisplayName+" integration while you were connecting. Start the connection again.")
}

// discard gives back the tokens of a pending completion that will never
// be completed (best effort): revoked where the provider allows it, unless
// the grant is a stored connection's too.
func (s *Service) discard(ctx context.Context, pc store.PendingCompletion) {
	p, ok := s.opts.Catalog.Get(pc.Provider)
	if !ok || p.Revocation == providers.RevokeNone {
		return
	}
	tok, err := s.opts.Vault.OpenToken(ctx, pendingKey(pc), pc.SealedTokens)
	if err != nil {
		slog.WarnContext(ctx, "discarded pending tokens could not be opened to revoke them", "org", pc.OrgID, "provider", pc.Provider, "err", err.Error())
		return
	}
	settings, err := s.revocationSettings(ctx, p, pc.OrgID, pc.Account)
	if err != nil {
		slog.WarnContext(ctx, "discarded pending tokens not revoked", "org", pc.OrgID, "provider", pc.Provider, "err", err.Error())
		return
	}
	s.revokeQuietly(ctx, p, p.Endpoints(settings), tok, pc.OrgID, targetUser(pc.Purpose, pc.UserID), pc.ClientRef, pc.Account.ID)
}

// save seals the completed tokens for the connection pc's purpose names
// (who's own, or the org's test account) and writes it. A reconnect
// replaces the previous record whole: nothing of its tokens, failures or
// lease is kept, and a refresh holding a lease on it loses it (its
// conditional write fails).
func (s *Service) save(ctx context.Context, p catalog.Provider, pc store.PendingCompletion, tok *oauth2.Token, now time.Time, who auth.Principal) (store.Connection, error) {
	key := store.ConnKey{OrgID: pc.OrgID, UserID: targetUser(pc.Purpose, pc.UserID), Provider: p.ID}
	sealed, keyID, err := s.opts.Vault.SealToken(ctx, key, tok)
	if err != nil {
		return store.Connection{}, fmt.Errorf("seal tokens of %s: %w", key, err)
	}
	c := store.Connection{
		ConnKey:         key,
		Status:          store.StatusConnected,
		ClientRef:       pc.ClientRef,
		ConfigVersion:   pc.ConfigVersion,
		Account:         pc.Account,
		RequestedScopes: pc.RequestedScopes,
		GrantedScopes:   pc.GrantedScopes,
		MissingScopes:   pc.MissingScopes,
		SealedTokens:    sealed,
		TokenKeyID:      keyID,
		AccessExpiresAt: pc.AccessExpiresAt,
		ConnectedAt:     now,
		UpdatedAt:       now,
	}
	if pc.ExpiryAssumed {
		c.StatusReason = schedule.ReasonExpiryAssumed
	}
	hasRT := tok.RefreshToken != ""
	if !hasRT {
		c.LastError = &store.ConnError{
			Code:    CodeNoRefreshToken,
			Message: p.DisplayName + " did not issue a refresh token, so this connection stops working when its access token expires. Remove the app's access in your account's security settings, then connect again.",
			Owner:   string(oauthfail.OwnerUser),
			At:      now,
		}
		c.OffIndexReason = store.ReasonNoRefreshToken
	}
	c.NextRefreshAt = schedule.NextRefreshAt(p, c, hasRT, s.opts.RefreshMargin, now)
	if pc.Purpose == store.PurposeConnection {
		c.ConnectGroups = store.ConnectGroupsOf(who.Groups)
	}
	// Another writer (a refresh finishing, a second completion) may win
	// between the read and the write; the newest authorization still wins.
	for attempt := 0; ; attempt++ {
		var expected int64
		old, err := s.opts.Store.GetConnection(ctx, key)
		found := err == nil
		switch {
		case found:
			expected = old.Version
		case errors.Is(err, store.ErrNotFound):
		default:
			return store.Connection{}, fmt.Errorf("read connection %s: %w", key, err)
		}
		saved, err := s.put(ctx, c, expected, pc, who, old, now)
		if errors.Is(err, store.ErrConflict) && attempt < 2 {
			continue
		}
		if err != nil {
			return store.Connection{}, fmt.Errorf("write connection %s: %w", key, err)
		}
		if found {
			s.retire(ctx, p, old)
		}
		return saved, nil
	}
}

// retire gives back the tokens of a connection a completion replaced (best
// effort), where the provider can revoke them and no stored connection
// holds their grant: for a grant-wide revocation (Google) the new
// connection does when it is the same account through the same client, and
// revoking would end it.
func (s *Service) retire(ctx context.Context, p catalog.Provider, old store.Connection) {
	if p.Revocation == providers.RevokeNone || len(old.SealedTokens) == 0 {
		return
	}
	tok, err := s.opts.Vault.OpenToken(ctx, old.ConnKey, old.SealedTokens)
	if err != nil {
		slog.WarnContext(ctx, "replaced tokens could not be opened to revoke them", "org", old.OrgID, "provider", old.Provider, "err", err.Error())
		return
	}
	// The endpoints come from the org's current settings, checked when they
	// were saved (the completion needed the integration a moment ago).
	in, err := s.opts.Store.GetIntegration(ctx, old.OrgID, p.ID)
	if err != nil {
		slog.WarnContext(ctx, "replaced tokens not revoked: integration unreadable", "org", old.OrgID, "provider", old.Provider, "err", err.Error())
		return
	}
	s.revokeQuietly(ctx, p, p.Endpoints(clients.SettingsOf(in)), tok, old.OrgID, old.UserID, old.ClientRef, old.Account.ID)
}
