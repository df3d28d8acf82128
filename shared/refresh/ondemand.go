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
	CodeProviderDisabled    = ReasonProviderDisabled
	CodeProviderUnavailable = ReasonProviderUnavailable
	CodeNoRefreshToken      = ReasonNoRefreshToken
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
		if usable(c, tok, now, s.o.Margin) && now.Sub(c.LastUsedAt) < touchInterval {
			return tokenOf(tok, c, false), nil // nothing to refresh, nothing to record
		}

		owner := newOwner("ondemand")
		claimedAt := time.Now()
		claimed, err := s.o.Store.ClaimLease(ctx, key, owner, now, now.Add(s.o.Lease))
		switch {
		case errors.Is(err, store.ErrLeaseHeld):
			if stillValid(c, tok, now) {
				// The holder is refreshing it; the current token works meanwhile.
				return tokenOf(tok, c, false), nil
			}
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
		r := s.attempt(actx, claimed, s.newLease(ctx, owner, claimedAt), purpose{onDemand: true}, nil)
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
		case OutcomeTransient:
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
			if e := statusError(r.conn); e != nil && code != ReasonClientChanged {
				return Token{}, e
			}
			return Token{}, &Error{Code: code, Connection: r.conn}
		default:
			return Token{}, fmt.Errorf("access token of %s: %s: %w", key, r.outcome, r.err)
		}
	}
}

// gateCode is why the connection may not be used now ("" when it may): the
// same checks the attempt makes under the lease, read without one.
func (s *Service) gateCode(ctx context.Context, c store.Connection) (string, error) {
	if _, ok := s.o.Catalog.Get(c.Provider); !ok || !s.offered(c.Provider) {
		return CodeProviderUnavailable, nil
	}
	in, found, err := s.integration(ctx, &gateEntry{}, c.OrgID, c.Provider)
	if err != nil {
		return "", err
	}
	if !found || !in.Enabled {
		return CodeProviderDisabled, nil
	}
	if in.ClientRef() != c.ClientRef {
		return CodeClientChanged, nil
	}
	return "", nil
}

// statusError is the error for a connection someone must act on first.
func statusError(c store.Connection) *Error {
	switch c.Status {
	case store.StatusNeedsReconnect:
		code := CodeNeedsReconnect
		if c.StatusReason == ReasonClientChanged {
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

// Reinstate puts back on the due-index the org's connections of provider
// that were taken off because the provider was disabled or not offered,
// due at once, so the next run refreshes them (or takes them off again with
// the current reason). The admin API calls it when a provider is enabled
// again. Connections someone holds a lease on, or that change meanwhile, are
// left alone: whoever holds them decides. It returns how many it put back.
func (s *Service) Reinstate(ctx context.Context, orgID, provider string) (int, error) {
	n := 0
	cursor := ""
	for {
		page, next, err := s.o.Store.ListProviderConnections(ctx, orgID, provider, store.Page{Cursor: cursor})
		if err != nil {
			return n, fmt.Errorf("reinstate %s/%s: %w", orgID, provider, err)
		}
		now := s.now()
		for _, c := range page {
			if c.OffIndexReason != ReasonProviderDisabled && c.OffIndexReason != ReasonProviderUnavailable {
				continue
			}
			if c.Status != store.StatusConnected && c.Status != store.StatusRefreshFailing {
				continue
			}
			if c.LeaseOwner != "" && c.LeaseUntil.After(now) {
				continue
			}
			c.NextRefreshAt, c.OffIndexReason = now, ""
			_, err := s.o.Store.PutConnection(ctx, c, c.Version)
			switch {
			case errors.Is(err, store.ErrConflict):
			case err != nil:
				return n, fmt.Errorf("reinstate %s: %w", c.ConnKey, err)
			default:
				n++
			}
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}
