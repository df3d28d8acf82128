// Package schedule decides when a connection is next due on the refresh
// index. The callback, the refresh job and on-demand refresh all use it, so
// a connection's place on the due-index has one definition.
//
// Two reasons make a connection due:
//   - in use: its access token expires within the margin, so the next use
//     finds a fresh token (a connection counts as in use when it was used or
//     connected within ActiveWindow);
//   - idle: its refresh token needs a keepalive before the provider revokes
//     it for disuse (Google: six months; Microsoft: 90 days; Salesforce: the
//     connected app's policy). Idle connections are refreshed once per
//     Keepalive instead of every hour, which keeps provider calls in
//     proportion to use.
package schedule

import (
	"context"
	"log/slog"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// Defaults.
const (
	DefaultMargin = 15 * time.Minute
	ActiveWindow  = 24 * time.Hour
	// MaxKeepalive bounds the keepalive of every provider: at least daily.
	MaxKeepalive = 24 * time.Hour
)

// Keepalive is how often an idle connection's refresh token is exercised.
func Keepalive(p catalog.Provider) time.Duration {
	if p.RefreshTokenIdle > 0 && p.RefreshTokenIdle/4 < MaxKeepalive {
		return p.RefreshTokenIdle / 4
	}
	return MaxKeepalive
}

// NextRefreshAt returns when c is next due, given its provider and the
// access-token margin. The zero time means "not schedulable" (no refresh
// token is held, or the connection needs someone to act).
func NextRefreshAt(p catalog.Provider, c store.Connection, hasRefreshToken bool, margin time.Duration, now time.Time) time.Time {
	if !hasRefreshToken || c.Status == store.StatusNeedsReconnect || c.Status == store.StatusRefreshExhausted {
		return time.Time{}
	}
	if margin <= 0 {
		margin = DefaultMargin
	}
	last := latest(c.LastRefreshAt, c.ConnectedAt)
	keepalive := last.Add(Keepalive(p))
	if last.IsZero() {
		keepalive = now.Add(Keepalive(p))
	}
	due := keepalive
	if active := latest(c.LastUsedAt, c.ConnectedAt); !active.IsZero() && now.Sub(active) < ActiveWindow && !c.AccessExpiresAt.IsZero() {
		if byExpiry := c.AccessExpiresAt.Add(-margin); byExpiry.Before(due) {
			due = byExpiry
		}
	}
	return due
}

// AssumedAccessLifetime is the access-token lifetime assumed when a token
// answer carries no expiry and the provider cannot tell it either
// (Salesforce sends no expires_in, and its introspection may fail). The
// callback and the refresh job both use it. It is deliberately short:
// Salesforce sessions can last as little as 15 minutes, a guess that is too
// long hands out a token that has expired, and a short one only makes the
// connection due again soon, when the next refresh simply asks again.
const AssumedAccessLifetime = 30 * time.Minute

// ReasonExpiryAssumed is the StatusReason of a connection whose access-token
// expiry was assumed (AssumedAccessLifetime) rather than learned.
const ReasonExpiryAssumed = "access_expiry_assumed"

// AssumeExpiry returns the expiry to store for an access token issued at
// now whose lifetime is unknown, and records the assumption the one way
// every caller records it: a warning naming the connection and the cause
// (providers.ExpiryIntrospectionFailed or ExpiryNotGiven; never the
// token). The caller sets the connection's StatusReason to
// ReasonExpiryAssumed. log nil uses slog.Default().
func AssumeExpiry(ctx context.Context, log *slog.Logger, key store.ConnKey, cause string, now time.Time) time.Time {
	if log == nil {
		log = slog.Default()
	}
	log.WarnContext(ctx, "access token expiry unknown; assuming a short lifetime",
		"orgId", key.OrgID, "userId", key.UserID, "provider", key.Provider,
		"code", ReasonExpiryAssumed, "cause", cause, "assumedSeconds", int(AssumedAccessLifetime.Seconds()))
	return now.Add(AssumedAccessLifetime)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
