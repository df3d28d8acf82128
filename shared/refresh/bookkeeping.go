package refresh

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// The functions here decide what a connection record looks like after an
// attempt. They do no I/O, so every transition is tested as a table.

// Error codes refresh records in Connection.LastError besides oauthfail's.
const (
	CodeClientChanged       = "client_changed"
	CodeSettingsChanged     = store.ReasonSettingsChanged
	CodeRefreshExhausted    = "refresh_exhausted"
	CodeIntegrationNotReady = "integration_incomplete"
)

// lastChanceLead is how long before the access token lapses the last retry
// is placed, when backoff would otherwise wait past its expiry.
const lastChanceLead = time.Minute

const dayLayout = "2006-01-02"

// succeeded is c after a refresh at now that gave an access token expiring
// at expiry: connected, failure bookkeeping cleared, next due time set.
func succeeded(p catalog.Provider, c store.Connection, expiry time.Time, expiryAssumed bool, margin time.Duration, now time.Time) store.Connection {
	c.Status = store.StatusConnected
	c.StatusReason = ""
	if expiryAssumed {
		c.StatusReason = schedule.ReasonExpiryAssumed
	}
	c.AccessExpiresAt = expiry
	c.LastRefreshAt = now
	c.LastAttemptAt = now
	c.ConsecutiveFailures = 0
	c.FailureDays = nil
	c.LastError = nil
	c.OffIndexReason = ""
	c.NextRefreshAt = nextDue(p, c, margin, now)
	return c
}

// nextDue is when a connection holding a refresh token is next due. It
// follows package schedule, except that an access token living shorter than
// the margin is refreshed at half its life rather than at once: otherwise
// such a connection would be due again immediately, every run.
func nextDue(p catalog.Provider, c store.Connection, margin time.Duration, now time.Time) time.Time {
	next := schedule.NextRefreshAt(p, c, true, margin, now)
	if exp := c.AccessExpiresAt; exp.After(now) {
		if half := now.Add(exp.Sub(now) / 2); next.Before(half) {
			next = half
		}
	}
	return next
}

// failed is c after an attempt at now that failed with f; delay is the
// backoff before the next attempt (oauthfail.NextDelay for the new
// consecutive-failure count). It returns the outcome recorded.
func failed(c store.Connection, f oauthfail.Failure, delay time.Duration, now time.Time) (store.Connection, string) {
	c.LastAttemptAt = now
	c.ConsecutiveFailures++
	c.LastError = &store.ConnError{Code: f.Code, Message: f.Cause, Owner: string(f.Owner), At: now}
	if f.NeedsReconnect() {
		c.Status = store.StatusNeedsReconnect
		c.StatusReason = f.Code
		c.NextRefreshAt = time.Time{}
		c.OffIndexReason = store.ReasonNeedsReconnect
		return c, OutcomeNeedsReconnect
	}
	if f.Kind == oauthfail.Blocked {
		// The grant survives the policy: nobody needs to reconnect, and
		// the days it lasts do not count towards refresh_exhausted (if the
		// grant dies meanwhile, the provider says so, and that is a
		// Reconnect). It is said at once and asked again slowly.
		c.Status = store.StatusRefreshFailing
		c.StatusReason = f.Code
		c.NextRefreshAt = now.Add(max(oauthfail.BlockedRetry, f.RetryAfter))
		c.OffIndexReason = ""
		return c, OutcomeBlocked
	}
	c.FailureDays = addDay(c.FailureDays, now)
	if n := len(c.FailureDays); n >= oauthfail.ExhaustedAfterDays {
		c.Status = store.StatusRefreshExhausted
		c.StatusReason = CodeRefreshExhausted
		c.LastError = &store.ConnError{
			Code:    CodeRefreshExhausted,
			Message: fmt.Sprintf("Refreshing the connection failed on %d separate days without a success. Last failure: %s Reconnect the account.", n, f.Cause),
			Owner:   string(oauthfail.OwnerUser),
			At:      now,
		}
		c.NextRefreshAt = time.Time{}
		c.OffIndexReason = store.ReasonRefreshExhausted
		return c, OutcomeExhausted
	}
	// One failure is not news: the status changes from the second on.
	if c.ConsecutiveFailures > 1 {
		c.Status = store.StatusRefreshFailing
		c.StatusReason = f.Code
	}
	c.NextRefreshAt = retryAt(c.AccessExpiresAt, f.RetryAfter, delay, now)
	c.OffIndexReason = ""
	return c, OutcomeTransient
}

// retryAt places the next attempt after a transient failure: after the
// backoff delay, except that while the access token still works the attempt
// is pulled in to just before it lapses, so that a passing fault does not
// cost an active user a working connection. A provider's Retry-After always
// wins over that: asking again sooner would only be refused. At most one
// attempt per token lifetime is pulled in this way (the next one finds the
// token lapsed or about to), so backoff still spaces out a failing provider.
func retryAt(accessExpiresAt time.Time, retryAfter, delay time.Duration, now time.Time) time.Time {
	next := now.Add(delay)
	if accessExpiresAt.After(now) {
		last := accessExpiresAt.Add(-lastChanceLead)
		if last.After(now) && next.After(last) {
			next = last
			if floor := now.Add(retryAfter); next.Before(floor) {
				next = floor
			}
		}
	}
	return next
}

// addDay adds now's UTC date to the distinct, sorted failure days.
func addDay(days []string, now time.Time) []string {
	d := now.UTC().Format(dayLayout)
	if slices.Contains(days, d) {
		return days
	}
	out := append(slices.Clone(days), d)
	slices.Sort(out)
	return out
}

// offIndex is c taken off the due-index for reason, its status unchanged
// (the connection is kept; diagnostics say why it is not refreshed).
func offIndex(c store.Connection, reason string) store.Connection {
	c.NextRefreshAt = time.Time{}
	c.OffIndexReason = reason
	return c
}

// integrationNotReady is the transient failure of a connection whose
// integration cannot issue tokens right now (organization mode without a
// client secret, no default client). It is not the user's doing and may be
// fixed in minutes, so the connection is retried with backoff rather than
// broken.
var integrationNotReady = oauthfail.Failure{
	Kind:  oauthfail.Transient,
	Code:  CodeIntegrationNotReady,
	Owner: oauthfail.OwnerAdmin,
	Cause: "The integration's OAuth client is not complete (client secret or default client missing), so the token cannot be refreshed. An admin must complete the integration settings.",
}
