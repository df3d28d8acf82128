package store

import (
	"context"
	"time"
)

// What the rollout view (GET .../integrations/{provider}/rollout) needs
// beyond the connections themselves, recorded as a side effect of the
// refresh run and of the connect flow, one small item each.

// RefreshSummary is what one refresh run did with one org's connections of
// one provider. A run writes one for each org and provider it attempted
// any connection of, so the latest stored is the last run that had work
// for them; runs with nothing due for the org write none.
type RefreshSummary struct {
	OrgID      string    `json:"orgId"`
	Provider   string    `json:"provider"`
	RunID      string    `json:"runId"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Outcome is the run's verdict for the org: one of the RunOutcome*
	// values.
	Outcome string `json:"outcome"`
	// Outcomes counts the run's outcomes (package refresh's Outcome*
	// values: refreshed, needs_reconnect, transient_failure, ...) for the
	// org's connections.
	Outcomes map[string]int `json:"outcomes"`
}

// Verdicts of a refresh run for one org (RefreshSummary.Outcome).
const (
	// RunOutcomeOK: every connection the run attempted was refreshed, or
	// needed nothing.
	RunOutcomeOK = "ok"
	// RunOutcomeFailures: at least one failed (a reconnect needed, a
	// transient failure, a store error).
	RunOutcomeFailures = "failures"
	// RunOutcomePartial: nothing failed, but some were left for the next
	// run (the run's deadline).
	RunOutcomePartial = "partial"
)

// ConnectFlowLifetime is how long after its start a connection can still
// be completed: the state's 10 minutes to reach the callback, then the
// pending completion's 10 (package connections holds both).
const ConnectFlowLifetime = 20 * time.Minute

// AttemptRetention is how long a connect attempt that was never completed
// is remembered (a TTL deletes it then).
const AttemptRetention = 30 * 24 * time.Hour

// ConnectAttempt records that a user started connecting a provider. The
// completion of their connection deletes it; one left standing after the
// flow could no longer complete is someone who tried and never finished.
// One per user and provider: a new start overwrites it.
type ConnectAttempt struct {
	OrgID     string    `json:"orgId"`
	Provider  string    `json:"provider"`
	UserID    string    `json:"userId"`
	StartedAt time.Time `json:"startedAt"`
	// ExpiresAt is when it is forgotten (StartedAt + AttemptRetention).
	ExpiresAt time.Time `json:"expiresAt"`
}

// RolloutRecords stores refresh-run summaries and connect attempts.
type RolloutRecords interface {
	// PutRefreshSummary stores s unless a summary of a run that started
	// later is stored for the same org and provider (concurrent runs: the
	// newest run's stands). Keeping the older one is not an error.
	PutRefreshSummary(ctx context.Context, s RefreshSummary) error
	// GetRefreshSummary returns the stored summary, ErrNotFound when no
	// run has had work for the org's provider.
	GetRefreshSummary(ctx context.Context, orgID, provider string) (RefreshSummary, error)

	// RecordConnectAttempt stores a, replacing the user's previous attempt
	// of the provider.
	RecordConnectAttempt(ctx context.Context, a ConnectAttempt) error
	// ClearConnectAttempt deletes the user's attempt of the provider;
	// deleting a missing one is not an error.
	ClearConnectAttempt(ctx context.Context, orgID, provider, userID string) error
	// ListConnectAttempts returns the org's attempts of the provider,
	// ordered by user id, and the cursor of the next page ("" when none).
	// Attempts past ExpiresAt that the TTL has not deleted yet may be
	// among them: callers judge by the times.
	ListConnectAttempts(ctx context.Context, orgID, provider string, page Page) ([]ConnectAttempt, string, error)
}
