package store

import (
	"context"
	"time"
)

// RateLimits are fixed-window counters shared by every container of a
// deployment (a limit kept in one Lambda container's memory would be
// multiplied by the number of containers). Each (name, subject, window) is
// one counter, written with a conditional increment, and deleted after its
// expiry (DynamoDB TTL; the embedded store sweeps).
type RateLimits interface {
	// Allow counts one event of name for subject (an org id) in the window
	// starting at window, unless limit events were already counted there,
	// and reports whether it counted it. A refused event is not counted.
	// expires is when the counter may be deleted (after the window ends).
	Allow(ctx context.Context, name, subject string, window time.Time, limit int, expires time.Time) (bool, error)
}
