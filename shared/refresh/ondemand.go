package refresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/store"
)

// Token is a usable access token of a connection. It never holds the
// refresh token.
type Token struct {
	AccessToken string
	TokenType   string
	Expiry      time.Time
	// Refreshed: this call refreshed the token at the provider.
	Refreshed bool
	// Connection is the stored record after the call.
	Connection store.Connection
}

// Codes of *Error, besides CodeClientChanged and CodeRefreshExhausted.
const (
	CodeNotConnected        = "not_connected"
	CodeNeedsReconnect      = "needs_reconnect"
	CodeProviderDisabled    = store.ReasonProviderDisabled
	CodeProviderUnavailable = store.ReasonProviderUnavailable
	CodeNoRefreshToken      = store.ReasonNoRefreshToken
	// CodeRefreshFailed: the token had expired and refreshing it failed in
	// a way that may pass (Failure says how); try again later.
	CodeRefreshFailed = "refresh_failed"
	// CodeBusy: someone else held the connection's lease for longer than
	// OnDemandWait.
	CodeBusy = "refresh_busy"
)

// Error is why AccessToken has no usable token. It never carries a token or
// the provider's answer.
type Error struct {
	Code string
	// Failure is the classified provider failure, when a refresh was tried.
	Failure *oauthfail.Failure
	// Connection is the stored record, when there is one.
	Connection store.Connection
	err        error
}

func (e *Error) Error() string {
	if e.err != nil {
		return "no usable access token: " + e.Code + ": " + e.err.Error()
	}
	return "no usable access token: " + e.Code
}

func (e *Error) Unwrap() error { return e.err }

// touchInterval: an on-demand use is recorded (LastUsedAt) at most this
// often, so that a busy connection is not written on every call. It is far
// below schedule.ActiveWindow, which is what the use feeds.
const touchInterval = time.Hour

// AccessToken returns a valid access token of the connection, refreshing it
// now through the same lease and code path as the scheduled run when it
// expires within the margin, and records the use (LastUsedAt), which keeps
// the connection refreshed ahead of expiry from then on.
//
// When another caller (a scheduled run) holds the lease, AccessToken does
// not refresh a second time: it hands out the current token if it still
// works, or waits up to OnDemandWait for the holder to finish and reads its
// result.
func (s *Service) AccessToken(ctx context.Context, key store.ConnKey) (Token, error) {
	return s.token(ctx, key, purpose{onDemand: true})
}

// ForceRefresh refreshes the connection's access token now, even though it
// has not expired: for a caller the provider just refused it (an access
// token revoked at the provider, a session the provider ended) while its
// expiry says it is good. rejected is the access token the provider
// refused; when the stored token is already another one (a refresh finished
// meanwhile), that one is returned and nothing is refreshed again.
//
// It takes the same lease and runs the same code path as AccessToken and
// the scheduled run, so it never refreshes concurrently with them or with
// another forced refresh: when someone holds the lease it waits (up to
// OnDemandWait) for the holder's result, and refreshes only if the holder
// did not. Token.Refreshed says whether this call refreshed.
func (s *Service) ForceRefresh(ctx context.Context, key store.ConnKey, rejected string) (Token, error) {
	tok, err := s.token(ctx, key, purpose{onDemand: true, force: true, rejected: rejected})
	if err == nil && tok.Refreshed {
		s.o.Logger.InfoContext(ctx, "access token refreshed before its expiry", "orgId", key.OrgID, "userId", key.UserID, "provider", key.Provider, "code", "forced_refresh")
	}
	return tok, err
}

// token is AccessToken (p.force false) and ForceRefresh.
func (s *Service) token(ctx context.Context, key store.ConnKey, p purpose) (Token, error) {
	giveUp := time.Now().Add(s.o.OnDemandWait)
	pause := 25 * time.Millisecond
	for {
		c, err := s.o.Store.GetConnection(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return Token{}, &Error{Code: CodeNotConnected, err: err}
		}
		if err != nil {
			return Token{}, fmt.Errorf("access token of %s: %w", key, err)
		}
		if e := statusError(c); e != nil {
			return Token{}, e
		}
		now := s.now()
		if code, err := s.gateCode(ctx, c); err != nil {
			return Token{}, fmt.Errorf("access token of %s: %w", key, err)
		} else if code != "" {
			return Token{}, &Error{Code: code, Connection: c}
		}
		tok, err := s.o.Vault.OpenToken(ctx, key, c.SealedTokens)
		if err != nil {
			return Token{}, fmt.Errorf("access token of %s: open tokens: %w", key, err)
		}
		if p.force && p.replaced(tok) && stillValid(c, tok, now) {
			return tokenOf(tok, c, false), nil // refreshed meanwhile: that is the fresh token
		}
		if !p.force && usable(c, tok, now, s.o.Margin) && now.Sub(c.LastUsedAt) < touchInterval {
			return tokenOf(tok, c, false), nil // nothing to refresh, nothing to record
		}

		owner := newOwner("ondemand")
		claimedAt := time.Now()
		claimed, err := s.o.Store.ClaimLease(ctx, key, owner, now, now.Add(s.o.Lease))
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			if !p.force && stillValid(c, tok, now) {
				// The holder is refreshing it; the current token works meanwhile.
				return tokenOf(tok, c, false), nil
			}
			// Forced: the current token is the refused one. Wait for the
			// holder and read what it wrote.
			if time.Now().Add(pause).After(giveUp) {
				return Token{}, &Error{Code: CodeBusy, Connection: c}
			}
			if err := sleep(ctx, pause); err != nil {
				return Token{}, err
			}
			pause = min(2*pause, 500*time.Millisecond)
			continue // re-read what the holder wrote
		case errors.Is(err, store.ErrNotFound):
			return Token{}, &Error{Code: CodeNotConnected, err: err}
		case err != nil:
			return Token{}, fmt.Errorf("access token of %s: claim: %w", key, err)
		}

		actx, cancel := s.attemptContext(ctx, claimedAt)
		r := s.attempt(actx, claimed, s.newLease(ctx, owner, claimedAt), p, nil)
		cancel()
		s.logAttempt(ctx, key, r)
		switch r.outcome {
		case OutcomeRefreshed, OutcomeUsed:
			return tokenOf(r.token, r.conn, r.refreshed), nil
		case OutcomeLeaseLost:
			if time.Now().After(giveUp) {
				return Token{}, &Error{Code: CodeBusy, Connection: c, err: r.err}
			}
			continue // someone else wrote the record meanwhile: read it again
		case OutcomeTransient, OutcomeBlocked:
			if r.token != nil && stillValid(r.conn, r.token, s.now()) {
				return tokenOf(r.token, r.conn, false), nil
			}
			return Token{}, &Error{Code: CodeRefreshFailed, Failure: r.failure, Connection: r.conn}
		case OutcomeNeedsReconnect:
			return Token{}, &Error{Code: CodeNeedsReconnect, Failure: r.failure, Connection: r.conn}
		case OutcomeExhausted:
			return Token{}, &Error{Code: CodeRefreshExhausted, Failure: r.failure, Connection: r.conn}
		case OutcomeLeftForNext:
			return Token{}, &Error{Code: CodeBusy, Connection: r.conn, err: r.err}
		case OutcomeOffIndex:
			code := r.conn.OffIndexReason
			if e := statusError(r.conn); e != nil && code != store.ReasonClientChanged && code != store.ReasonSettingsChanged {
				return Token{}, e
			}
			return Token{}, &Error{Code: code, Connection: r.conn}
		default:
			return Token{}, fmt.Errorf("access token of %s: %s: %w", key, r.outcome, r.err)
		}
	}
}

// gateCode is why the connection may not be used now ("" when it may):
// the same rule the attempt applies under the lease
// (readiness.Value.Connection), read without one.
func (s *Service) gateCode(ctx context.Context, c store.Connection) (string, error) {
	p, ok := s.o.Catalog.Get(c.Provider)
	if !ok {
		return CodeProviderUnavailable, nil
	}
	in, found, err := s.integration(ctx, &gateEntry{}, c.OrgID, c.Provider)
	if err != nil {
		return "", err
	}
	return s.gate(p, in, found, c), nil
}

// statusError is the error for a connection someone must act on first.
func statusError(c store.Connection) *Error {
	switch c.Status {
	case store.StatusNeedsReconnect:
		code := CodeNeedsReconnect
		if c.StatusReason == store.ReasonClientChanged {
			code = CodeClientChanged
		}
		return &Error{Code: code, Connection: c}
	case store.StatusRefreshExhausted:
		return &Error{Code: CodeRefreshExhausted, Connection: c}
	}
	return nil
}

// stillValid reports whether the access token has not expired yet (it may be
// within the margin).
func stillValid(c store.Connection, tok *oauth2.Token, now time.Time) bool {
	return usable(c, tok, now, 0)
}

func tokenOf(tok *oauth2.Token, c store.Connection, refreshed bool) Token {
	exp := c.AccessExpiresAt
	if exp.IsZero() {
		exp = tok.Expiry
	}
	tt := tok.TokenType
	if tt == "" {
		tt = "Bearer"
	}
	return Token{AccessToken: tok.AccessToken, TokenType: tt, Expiry: exp, Refreshed: refreshed, Connection: c}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
