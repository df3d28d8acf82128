package connections

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// Callback outcome statuses (the status= parameter).
const (
	// OutcomePending: the provider authorized and the tokens wait, sealed,
	// for the user who started the connection to complete it.
	OutcomePending = "pending"
	OutcomeError   = "error"
)

// CallbackResult is the outcome of a provider redirect, for the browser.
type CallbackResult struct {
	Status   string // OutcomePending or OutcomeError
	Code     string // stable error code; empty when pending
	Provider string // empty when the state was not usable
	Message  string // for a person
	// ReturnTo is the validated URL to redirect to; empty means answer with
	// a page.
	ReturnTo string
	// Completion is the handle of the pending completion (OutcomePending):
	// the page at ReturnTo posts it, with the user's own token, to the
	// complete route.
	Completion string
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
	if r.Completion != "" {
		v.Set("completion", r.Completion)
	}
	return v
}

// Callback finishes the provider's part of an authorization from its
// redirect query (state, code or error): the state is consumed before
// anything else, so a replayed, unknown or expired state never reaches the
// token endpoint; the code is exchanged (codes are short-lived) and the
// account identified. It never creates or replaces a connection: the
// browser that followed the authorization link need not be the starting
// user's, so the tokens are sealed into a pending completion that only that
// user can complete (Complete). The query's values (state, code), the
// handle and the tokens are never logged.
func (s *Service) Callback(ctx context.Context, q url.Values) CallbackResult {
	res, st := s.callback(ctx, q)
	switch {
	case res.Status == OutcomeAdminConsentGranted:
		slog.InfoContext(ctx, "admin consent granted", "org", st.OrgID, "user", st.UserID, "provider", st.Provider)
	case res.Status == OutcomePending:
		slog.InfoContext(ctx, "connection pending completion", "org", st.OrgID, "user", st.UserID, "provider", st.Provider, "missingScopes", len(res.MissingScopes))
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
	if returnTo == "" {
		// Only the app's page at returnTo can hand the completion to the
		// user who started: without one, do not even redeem the code.
		return fail(CodeReturnToNotAllowed, "The app's return address is no longer allowed here. Start the connection again from the app.")
	}
	p, ok := s.opts.Catalog.Get(st.Provider)
	if !ok {
		return fail(CodeInternal, "The connection could not be completed.")
	}
	if st.Purpose == store.PurposeAdminConsent {
		// No code, no tokens: the provider's answer is recorded
		// (adminconsent.go).
		return s.adminConsentCallback(ctx, p, st, q, returnTo), st
	}
	v, err := s.stillIssuing(ctx, p, st.OrgID, st.ClientRef, nil)
	var prob *problem.Problem
	switch {
	case errors.As(err, &prob):
		return fail(prob.Code, prob.Detail)
	case err != nil:
		slog.ErrorContext(ctx, "read integration at callback", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeInternal, "The connection could not be completed. Try again in a moment.")
	}
	in := v.Integration()
	if e := q.Get("error"); e != "" {
		f := p.Dialect.ClassifyAuthorize(e, q.Get("error_description"))
		return fail(f.Code, f.Cause)
	}
	code := q.Get("code")
	if code == "" {
		f := p.Dialect.ClassifyAuthorize("", "")
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
		f := p.Dialect.ClassifyToken(err, providers.TokenCall{Grant: providers.GrantCode, Now: s.now(), OrgClient: in.ConfigMode == store.ConfigModeOrganization})
		slog.WarnContext(ctx, "code exchange failed", "org", st.OrgID, "provider", p.ID, "code", f.Code, "kind", string(f.Kind), "httpStatus", f.HTTPStatus)
		return fail(f.Code, f.Cause)
	}

	sess := cl.Session(tok)
	acct, err := p.Dialect.Identify(ctx, s.call(), sess)
	if err != nil {
		// The tokens will not be kept: give them back where the provider
		// allows it.
		s.revokeQuietly(ctx, p, cl.Endpoints, tok, st.OrgID, targetUser(st.Purpose, st.UserID), st.ClientRef, "")
		var r *providers.Refusal
		if errors.As(err, &r) {
			return fail(r.Code, r.Message)
		}
		slog.WarnContext(ctx, "account lookup failed", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeAccountLookupFailed, "The "+p.DisplayName+" account could not be read. Try connecting again in a moment.")
	}
	key := store.ConnKey{OrgID: st.OrgID, UserID: st.UserID, Provider: st.Provider}
	expiry, assumed := p.AccessExpiry(ctx, s.call(), sess, now, s.now())
	if assumed != "" {
		expiry = schedule.AssumeExpiry(ctx, nil, key, assumed, now)
	}

	granted := grantedScopes(tok, st.Scopes)
	missing := p.MissingScopes(st.Scopes, granted)
	handle, err := s.pend(ctx, st, tok, acct, expiry, assumed != "", granted, missing, now)
	if err != nil {
		slog.ErrorContext(ctx, "store pending completion", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		s.revokeQuietly(ctx, p, cl.Endpoints, tok, st.OrgID, targetUser(st.Purpose, st.UserID), st.ClientRef, acct.ID)
		return fail(CodeInternal, "The connection could not be saved. Try again in a moment.")
	}
	return CallbackResult{
		Status: OutcomePending, Provider: p.ID, ReturnTo: returnTo, Completion: handle, MissingScopes: missing,
		Message: "Return to the app to finish connecting your " + p.DisplayName + " account.",
	}, st
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

// revokeQuietly gives back tokens that will not be kept (best effort):
// tokens of provider p obtained for (org, user) under clientRef, of the
// account accountID ("" when unknown), revoked at endpoints e. Where
// revocation ends the whole grant (Google) and a stored connection may hold
// tokens of the same grant (grantInUse), they are not given back: that
// would end a connection someone still has.
func (s *Service) revokeQuietly(ctx context.Context, p catalog.Provider, e catalog.Endpoints, tok *oauth2.Token, orgID, userID, clientRef, accountID string) {
	if p.Revocation == providers.RevokeNone {
		return
	}
	if p.Revocation == providers.RevokeGrant && s.grantInUse(ctx, orgID, userID, p.ID, clientRef, accountID) {
		slog.InfoContext(ctx, "unused tokens not revoked: the grant is a stored connection's too", "org", orgID, "provider", p.ID)
		return
	}
	if err := p.Dialect.Revoke(s.providerCtx(ctx), s.call(), e, tok); err != nil {
		slog.WarnContext(ctx, "revoking unused tokens failed", "org", orgID, "provider", p.ID, "err", err.Error())
		return
	}
	slog.InfoContext(ctx, "unused tokens revoked", "org", orgID, "provider", p.ID)
}

// grantInUse reports whether a stored connection may hold tokens of the
// grant of accountID under clientRef. The starting user's own connection
// is read directly (the index may lag behind a write a moment ago); any
// other through the grant index. When the account is unknown, only the
// user's own connection under the same client can be suspected. A store
// error counts as in use: when in doubt, do not revoke a whole grant.
func (s *Service) grantInUse(ctx context.Context, orgID, userID, provider, clientRef, accountID string) bool {
	own, err := s.opts.Store.GetConnection(ctx, store.ConnKey{OrgID: orgID, UserID: userID, Provider: provider})
	switch {
	case err == nil:
		if own.ClientRef == clientRef && (accountID == "" || own.Account.ID == "" || own.Account.ID == accountID) {
			return true
		}
	case !errors.Is(err, store.ErrNotFound):
		return true
	}
	if accountID == "" {
		return false
	}
	keys, err := s.opts.Store.ListGrantConnections(ctx, store.GrantRef{Provider: provider, ClientRef: clientRef, AccountID: accountID}, 1)
	if err != nil {
		slog.WarnContext(ctx, "grant index lookup failed", "provider", provider, "err", err.Error())
		return true
	}
	return len(keys) > 0
}
