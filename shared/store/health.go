package store

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Client health statuses.
const (
	HealthOK      = "ok"
	HealthFailing = "failing"
)

// ClientHealth is the health of an org's OAuth client for one provider, as
// the refresh job last saw it. A failure of the client itself (its secret
// refused, the app deleted at the provider) belongs to the integration, not
// to each connection: every connection's grant is still good, and they
// work again the moment the client does. It is stored apart from the
// integration's configuration, so that the refresh job recording it never
// moves the version an admin's If-Match names.
type ClientHealth struct {
	OrgID    string `json:"orgId"`
	Provider string `json:"provider"`
	// Status is HealthOK or HealthFailing; a never-recorded health is OK.
	Status string `json:"status"`
	// Cause is the failure's stable code (invalid_client, ...), while
	// failing.
	Cause string `json:"cause,omitempty"`
	// Since is when it started failing; LastSeen when the failure was last
	// met. Both zero while OK.
	Since    time.Time `json:"since,omitzero"`
	LastSeen time.Time `json:"lastSeen,omitzero"`
	// RecoveredAt is when it last turned OK again.
	RecoveredAt time.Time `json:"recoveredAt,omitzero"`
	// ConfigVersion is the integration's version (Integration.Version)
	// the failure was last met under, while failing. Every save of the
	// client's configuration or secret moves that version, so a failing
	// health with another version than the integration's has not been
	// tried with what the admin saved since: the refresh job asks the
	// provider again at once instead of waiting out its pause.
	ConfigVersion int64 `json:"configVersion,omitempty"`
}

// Audit actions of client health transitions. The refresh job records them
// (its actor is AuditActorRefresh), in the same write as the transition.
const (
	ActionClientFailing   = "client.failing"
	ActionClientRecovered = "client.recovered"
	// AuditActorRefresh is the actor of what the refresh job records: no
	// user made the change.
	AuditActorRefresh = "refresh-job"
)

// Failing reports whether the client is failing.
func (h ClientHealth) Failing() bool { return h.Status == HealthFailing }

// Health stores the org clients' health. The transitions are conditional
// writes, so that of concurrent reporters (overlapping refresh runs) exactly
// one sees a change start or end: it is the one that audits it and emits
// its event. The audit entries a reporter passes are written in the same
// transaction as the transition, and only when its call makes it: both or
// neither, so the trail has each start and end exactly once.
type Health interface {
	// GetClientHealth returns the provider's client health for the org; a
	// never-recorded one is {Status: HealthOK}.
	GetClientHealth(ctx context.Context, orgID, provider string) (ClientHealth, error)
	// ListClientHealth returns the recorded health of the org's clients, by
	// provider (providers never recorded are absent: OK).
	ListClientHealth(ctx context.Context, orgID string) (map[string]ClientHealth, error)
	// ReportClientFailure records a client failure met at `at` under the
	// integration's version configVersion. started is true when this call
	// turned the health from OK to failing (Since = at), and then audit is
	// appended with it; otherwise it only moves LastSeen, Cause and
	// ConfigVersion (never back in time), and audit is not written. An
	// audit id that exists is ErrConflict and nothing is written.
	ReportClientFailure(ctx context.Context, orgID, provider, cause string, configVersion int64, at time.Time, audit ...AuditEntry) (h ClientHealth, started bool, err error)
	// ReportClientOK records that the client worked at `at`. recovered is
	// true when this call turned the health from failing to OK, and then
	// audit is appended with it; an OK health is not written.
	ReportClientOK(ctx context.Context, orgID, provider string, at time.Time, audit ...AuditEntry) (h ClientHealth, recovered bool, err error)
}

// Job kinds.
const (
	// JobReinstate puts back on the due-index, due at once, the
	// connections of an org's provider (or of every org when OrgID is
	// empty) taken off it for one of Reasons, when nothing keeps them off
	// any more. The refresh run drains it.
	JobReinstate = "reinstate"
	// JobResume makes the connections of an org's provider whose refreshes
	// the integration's refused client paused (PausedReason
	// ReasonClientFailing) due at once: an admin saved a client secret or
	// client configuration, or a refresh found the client working again.
	JobResume = "resume"
)

// Job is org-wide work on connections that an admin's save or the refresh
// run asks for and the refresh run does, page by page, within its
// deadline: a save answers at once whatever the org's size.
type Job struct {
	// ID names the job; enqueueing an ID that exists replaces it (a later
	// request for the same work restarts it from the beginning).
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	OrgID    string   `json:"orgId,omitempty"` // empty: every org
	Provider string   `json:"provider"`
	Reasons  []string `json:"reasons,omitempty"`
	// Cursor is where the drain got to ("" from the beginning).
	Cursor    string    `json:"cursor,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// JobID is the id of the job of kind for provider in org (org may be
// empty: every org).
func JobID(kind, orgID, provider string) string {
	return kind + "/" + provider + "/" + orgID
}

// ReinstateJob asks the refresh runs to put back on the due-index the
// connections of provider in orgID (every org when empty) taken off it for
// one of reasons, once nothing keeps them off any more. Enqueueing it again
// restarts it.
func ReinstateJob(orgID, provider string, now time.Time, reasons ...string) Job {
	rs := slices.Clone(reasons)
	slices.Sort(rs)
	return Job{
		ID:   JobID(JobReinstate, orgID, provider) + "/" + strings.Join(rs, "+"),
		Kind: JobReinstate, OrgID: orgID, Provider: provider, Reasons: rs,
		CreatedAt: now, UpdatedAt: now,
	}
}

// ResumeJob asks the refresh runs to make the paused connections of
// provider in orgID due at once (JobResume). Enqueueing it again restarts
// it.
func ResumeJob(orgID, provider string, now time.Time) Job {
	return Job{
		ID:   JobID(JobResume, orgID, provider),
		Kind: JobResume, OrgID: orgID, Provider: provider,
		Reasons:   []string{ReasonClientFailing},
		CreatedAt: now, UpdatedAt: now,
	}
}

// Jobs stores pending jobs.
type Jobs interface {
	// EnqueueJob stores j (CreatedAt and UpdatedAt as given), replacing a
	// job of the same ID.
	EnqueueJob(ctx context.Context, j Job) error
	// ListJobs returns at most limit jobs, oldest first.
	ListJobs(ctx context.Context, limit int) ([]Job, error)
	// SaveJobProgress stores j's cursor if the stored job is still the one
	// j was read as (same CreatedAt): a job enqueued again meanwhile is
	// not overwritten. ErrConflict otherwise, ErrNotFound when it is gone.
	SaveJobProgress(ctx context.Context, j Job) error
	// FinishJob removes the job if it is still the one j was read as;
	// a job enqueued again meanwhile stays (it must run again).
	FinishJob(ctx context.Context, j Job) error
}

// OffIndexRef is a connection taken off the due-index, as the off-index
// listing returns it.
type OffIndexRef struct {
	ConnKey
	Reason string `json:"reason"`
}

// OffIndex lists the connections taken off the due-index for a reason: a
// sparse index, so that putting them back after the reason went away
// (a provider enabled or offered again, the org's previous client
// restored) reads only them.
type OffIndex interface {
	// ListOffIndex returns the connections of provider off the due-index
	// for reason, of orgID (every org when empty), ordered by org and
	// user, a page at a time.
	ListOffIndex(ctx context.Context, provider, reason, orgID string, page Page) ([]OffIndexRef, string, error)
}
