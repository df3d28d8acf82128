package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// Callback outcome statuses (the status= parameter).
const (
	OutcomeConnected = "connected"
	OutcomeError     = "error"
)

// CallbackResult is the outcome of a provider redirect, for the browser.
type CallbackResult struct {
	Status   string // OutcomeConnected or OutcomeError
	Code     string // stable error code; empty when connected
	Provider string // empty when the state was not usable
	Message  string // for a person
	// ReturnTo is the validated URL to redirect to; empty means answer with
	// a page.
	ReturnTo string
	// MissingScopes of a partial grant.
	MissingScopes []string
}

// Params are the query parameters added to ReturnTo.
func (r CallbackResult) Params() url.Values {
	v := url.Values{"status": {r.Status}}
	if r.Provider != "" {
		v.Set("provider", r.Provider)
	}
	if r.Code != "" {
		v.Set("code", r.Code)
	}
	return v
}

// Callback completes an authorization from the provider's redirect query
// (state, code or error). The state is consumed before anything else, so a
// replayed, unknown or expired state never reaches the token endpoint. The
// query's values (state, code) and the tokens are never logged.
func (s *Service) Callback(ctx context.Context, q url.Values) CallbackResult {
	res, st := s.callback(ctx, q)
	switch {
	case res.Status == OutcomeConnected:
		slog.InfoContext(ctx, "connection created", "org", st.OrgID, "user", st.UserID, "provider", st.Provider, "missingScopes", len(res.MissingScopes))
	case st.ID == "":
		slog.WarnContext(ctx, "connection callback refused", "code", res.Code)
	default:
		slog.WarnContext(ctx, "connection callback refused", "org", st.OrgID, "user", st.UserID, "provider", st.Provider, "code", res.Code)
	}
	return res
}

func (s *Service) callback(ctx context.Context, q url.Values) (CallbackResult, store.OAuthState) {
	now := s.now()
	state := q.Get("state")
	if state == "" || len(state) > MaxStateLength {
		return stateInvalid(), store.OAuthState{}
	}
	st, err := s.opts.Store.ConsumeState(ctx, StateID(state), now)
	if errors.Is(err, store.ErrNotFound) {
		return stateInvalid(), store.OAuthState{}
	}
	if err != nil {
		slog.ErrorContext(ctx, "consume oauth state", "err", err.Error())
		return CallbackResult{Status: OutcomeError, Code: CodeInternal, Message: "The connection could not be completed. Try again in a moment."}, store.OAuthState{}
	}
	returnTo, _ := s.checkReturnTo(st.ReturnTo) // the allow-list may have changed since the start
	fail := func(code, msg string) (CallbackResult, store.OAuthState) {
		return CallbackResult{Status: OutcomeError, Code: code, Provider: st.Provider, Message: msg, ReturnTo: returnTo}, st
	}
	p, ok := s.opts.Catalog.Get(st.Provider)
	if !ok {
		return fail(CodeInternal, "The connection could not be completed.")
	}
	if !slices.Contains(s.opts.AvailableProviders, p.ID) {
		return fail(CodeProviderUnavailable, p.DisplayName+" is not available in this environment.")
	}
	in, err := s.opts.Store.GetIntegration(ctx, st.OrgID, p.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		slog.ErrorContext(ctx, "read integration at callback", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeInternal, "The connection could not be completed. Try again in a moment.")
	}
	// Tokens are bound to the client that issues them: a connection started
	// under one client (or before the provider was disabled) must not be
	// completed under another.
	if err != nil || !in.Enabled || in.ClientRef() != st.ClientRef {
		return fail(CodeIntegrationChanged, "Your organization changed the "+p.DisplayName+" integration while you were connecting. Start the connection again.")
	}
	if e := q.Get("error"); e != "" {
		f := oauthfail.AuthorizeError(p.ID, e, q.Get("error_description"))
		return fail(f.Code, f.Cause)
	}
	code := q.Get("code")
	if code == "" {
		f := oauthfail.AuthorizeError(p.ID, "", "")
		return fail(f.Code, f.Cause)
	}
	cl, err := s.opts.Clients.Resolve(ctx, in)
	if err != nil {
		if !errors.Is(err, clients.ErrNoClientID) && !errors.Is(err, clients.ErrNoClientSecret) && !errors.Is(err, clients.ErrNoDefaultClient) {
			slog.ErrorContext(ctx, "resolve client at callback", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		}
		return fail(CodeIntegrationIncomplete, p.DisplayName+" is not ready to connect. An admin must complete the integration settings.")
	}
	verifier, err := OpenVerifier(ctx, s.opts.Vault, st)
	if err != nil {
		slog.ErrorContext(ctx, "open the state's PKCE verifier", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeInternal, "The connection could not be completed. Start the connection again.")
	}
	cfg := cl.OAuth2
	cfg.RedirectURL, cfg.Scopes = st.RedirectURI, st.Scopes
	tok, err := cfg.Exchange(s.providerCtx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		f := oauthfail.Classify(p.ID, err)
		slog.WarnContext(ctx, "code exchange failed", "org", st.OrgID, "provider", p.ID, "code", f.Code, "kind", string(f.Kind), "httpStatus", f.HTTPStatus)
		return fail(f.Code, f.Cause)
	}

	g := grant{in: in, client: cl, tok: tok, now: now}
	call := caller{hc: s.opts.HTTPClient}
	d := s.dialects[p.ID]
	id, err := d.identify(ctx, call, g)
	if err != nil {
		// The tokens will not be kept: give them back where the provider
		// allows it.
		s.revokeQuietly(ctx, d, call, cl, tok, st, "")
		var r *refusal
		if errors.As(err, &r) {
			return fail(r.code, r.message)
		}
		slog.WarnContext(ctx, "account lookup failed", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeAccountLookupFailed, "The "+p.DisplayName+" account could not be read. Try connecting again in a moment.")
	}

	granted := grantedScopes(tok, st.Scopes)
	missing := p.MissingScopes(st.Scopes, granted)
	if _, err := s.save(ctx, p, st, tok, id, granted, missing, now); err != nil {
		slog.ErrorContext(ctx, "store connection", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		s.revokeQuietly(ctx, d, call, cl, tok, st, id.account.ID)
		return fail(CodeInternal, "The connection could not be saved. Try again in a moment.")
	}
	msg := "Your " + p.DisplayName + " account is connected."
	if len(missing) > 0 {
		msg = "Your " + p.DisplayName + " account is connected, but some permissions were not granted; features that need them will not work until you reconnect and approve them."
	}
	return CallbackResult{Status: OutcomeConnected, Provider: p.ID, Message: msg, ReturnTo: returnTo, MissingScopes: missing}, st
}

func stateInvalid() CallbackResult {
	return CallbackResult{Status: OutcomeError, Code: CodeStateInvalid, Message: "This sign-in link is invalid, was already used, or has expired. Start the connection again from the app."}
}

// grantedScopes reads the token response's scope. RFC 6749 (5.1) lets a
// provider omit it when it granted what was requested.
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	switch v := tok.Extra("scope").(type) {
	case string:
		if f := strings.Fields(v); len(f) > 0 {
			return f
		}
	case []any:
		var out []string
		for _, s := range v {
			if str, ok := s.(string); ok && str != "" {
				out = append(out, str)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return slices.Clone(requested)
}

// accessExpiry is when the access token expires: from the provider's own
// account of it (introspection), else expires_in against our clock, else
// what the oauth2 library computed, else unknown.
func accessExpiry(tok *oauth2.Token, id identity, now time.Time) time.Time {
	switch {
	case !id.accessExpiresAt.IsZero():
		return id.accessExpiresAt
	case tok.ExpiresIn > 0:
		return now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !tok.Expiry.IsZero():
		return tok.Expiry.UTC()
	}
	return time.Time{}
}

// save seals the tokens and writes the connection. A reconnect replaces the
// previous record whole: nothing of its tokens, failures or lease is kept,
// and a refresh holding a lease on it loses it (its conditional write fails).
func (s *Service) save(ctx context.Context, p catalog.Provider, st store.OAuthState, tok *oauth2.Token, id identity, granted, missing []string, now time.Time) (store.Connection, error) {
	key := store.ConnKey{OrgID: st.OrgID, UserID: st.UserID, Provider: p.ID}
	expiry := accessExpiry(tok, id, now)
	if id.expiryAssumed {
		expiry = schedule.AssumeExpiry(ctx, nil, key, schedule.CauseIntrospectionFailed, now)
	}
	sealedTok := &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken, Expiry: expiry}
	sealed, keyID, err := s.opts.Vault.SealToken(ctx, key, sealedTok)
	if err != nil {
		return store.Connection{}, fmt.Errorf("seal tokens of %s: %w", key, err)
	}
	c := store.Connection{
		ConnKey:         key,
		Status:          store.StatusConnected,
		ClientRef:       st.ClientRef,
		ConfigVersion:   st.ConfigVersion,
		Account:         id.account,
		RequestedScopes: st.Scopes,
		GrantedScopes:   granted,
		MissingScopes:   missing,
		SealedTokens:    sealed,
		TokenKeyID:      keyID,
		AccessExpiresAt: expiry,
		ConnectedAt:     now,
		UpdatedAt:       now,
	}
	if id.expiryAssumed {
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

	// Another writer (a refresh finishing, a second callback) may win
	// between the read and the write; the newest authorization still wins.
	for attempt := 0; ; attempt++ {
		var expected int64
		old, err := s.opts.Store.GetConnection(ctx, key)
		switch {
		case err == nil:
			expected = old.Version
		case errors.Is(err, store.ErrNotFound):
		default:
			return store.Connection{}, fmt.Errorf("read connection %s: %w", key, err)
		}
		saved, err := s.opts.Store.PutConnection(ctx, c, expected)
		if errors.Is(err, store.ErrConflict) && attempt < 2 {
			continue
		}
		if err != nil {
			return store.Connection{}, fmt.Errorf("write connection %s: %w", key, err)
		}
		return saved, nil
	}
}

// grantRevoker is a dialect whose revocation ends the whole grant (every
// token of the client and account), not just the tokens presented.
type grantRevoker interface{ revokesGrant() bool }

// revokeQuietly gives back tokens that will not be kept (best effort).
// Where revocation ends the whole grant (Google) and the user's stored
// connection may hold tokens of the same grant (same client, and the same
// account when account, the new tokens' account id, is known), they are
// not given back: that would end the connection the user still has. An
// unreadable stored connection counts as such a one.
func (s *Service) revokeQuietly(ctx context.Context, d dialect, call caller, cl clients.Client, tok *oauth2.Token, st store.OAuthState, account string) {
	if g, ok := d.(grantRevoker); ok && g.revokesGrant() && s.mayShareGrant(ctx, st, account) {
		slog.InfoContext(ctx, "unused tokens not revoked: the grant is the stored connection's too", "org", st.OrgID, "provider", st.Provider)
		return
	}
	err := d.revoke(ctx, call, cl, tok)
	switch {
	case err == nil:
		slog.InfoContext(ctx, "unused tokens revoked", "org", st.OrgID, "provider", st.Provider)
	case errors.Is(err, errRevocationUnsupported):
	default:
		slog.WarnContext(ctx, "revoking unused tokens failed", "org", st.OrgID, "provider", st.Provider, "err", err.Error())
	}
}

// mayShareGrant reports whether the user's stored connection for the state's
// provider may hold tokens of the grant just obtained.
func (s *Service) mayShareGrant(ctx context.Context, st store.OAuthState, account string) bool {
	old, err := s.opts.Store.GetConnection(ctx, store.ConnKey{OrgID: st.OrgID, UserID: st.UserID, Provider: st.Provider})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false
	case err != nil:
		return true
	}
	return old.ClientRef == st.ClientRef && (account == "" || old.Account.ID == "" || old.Account.ID == account)
}
