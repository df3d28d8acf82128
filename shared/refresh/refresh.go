// Package refresh keeps users' OAuth connections usable: the scheduled run
// of RefreshFunction (Run) and the on-demand refresh diagnostics uses
// (AccessToken, and ForceRefresh when the provider refuses a token that has
// not expired) share one code path, one lease and one failure policy.
//
// # A run
//
// Run reads the due-index page by page (store.Connections.ListDue, never the
// table) and feeds a bounded pool of workers. For each due connection a
// worker claims the refresh lease (a conditional write; a connection held by
// another run or an on-demand caller is skipped), and works on the record
// the claim returned, which is the re-read after taking the lock. It does not
// refresh, and takes the connection off the due-index with its reason, when
// the org's integration is missing or disabled, the provider is not offered,
// or the integration's client is not the one that issued the tokens. A record
// that is no longer due (another run refreshed it after it was listed) is
// released untouched. Otherwise the worker refreshes with golang.org/x/oauth2
// and the connection's client (org-owned or default), and stores the new
// access token, expiry and any rotated refresh token, the cleared failure
// bookkeeping and the next due time (package schedule) in the single
// conditional write that also releases the lease (CompleteLease).
//
// Workers stop claiming once the Lambda deadline is within DeadlineMargin;
// what was listed and not claimed is reported as leftForNextRun and stays on
// the due-index for the next run.
//
// # Why a lease never expires under a holder that can still write
//
// Losing the lease after the provider has rotated the refresh token is the
// worst case: the new refresh token cannot be stored, the next holder
// refreshes with the old one, and Salesforce (rotation on) then revokes the
// whole token family. The design rules it out within its bounds:
//
//   - New refuses a Lease shorter than two provider calls (the refresh and,
//     for Salesforce, introspection) plus WriteBudget, and a DeadlineMargin
//     shorter than one provider call plus WriteBudget.
//   - Every attempt runs under its own deadline: the claim time plus Lease
//     minus WriteBudget, and never later than the Lambda deadline minus
//     WriteBudget and a small returnReserve. Provider calls end (answered
//     or cancelled) before it, so at least WriteBudget of lease is left for
//     the write, and the run answers before Lambda's deadline.
//   - Cancelling the run (SIGTERM, a caller giving up) stops new claims but
//     does not abort an attempt in flight: its provider call and its write
//     run to the end under that deadline, so a rotated token reaching this
//     process is always written.
//   - The write is not given up lightly: it is retried until the lease ends
//     (at least WriteBudget, but never past the Lambda deadline less
//     returnReserve, where Lambda would kill it anyway), and a failure whose
//     outcome is unknown (a timeout; the SDK retrying a write that had
//     landed, which the condition then refuses) is settled by reading the
//     record back.
//   - The write is conditional on the lease owner and the version returned by
//     the claim, so every retry is safe. If the lease was lost anyway (the
//     store stalled past the lease and someone else claimed), the write is
//     refused (store.ErrLeaseLost), nothing is overwritten, and the loss is
//     logged as an error and counted (outcome lease_lost, metric LeaseLost).
//
// No lease outlives its run by more than Lease: claims stop DeadlineMargin
// before the Lambda deadline.
//
// A process killed between the provider's answer and the write (which only a
// hard kill can do, since the Lambda deadline is kept clear of attempts) or
// a provider call timing out after the provider rotated cannot be repaired
// by anyone: the connection then fails on its next refresh and asks the user
// to reconnect, as it should.
//
// # Failures
//
// Failures are classified by the provider's dialect in the vocabulary of
// package oauthfail. The user or an admin must act (Reconnect,
// AdminAction): the connection becomes needs_reconnect with the cause and
// leaves the due-index. A refused OAuth client (ClientRefused) is the
// integration's failure, not the connection's: it is recorded once on the
// integration and the connection's refresh is paused, keeping its tokens
// and status, until the client works again (client.go). A transient failure keeps the status
// (first failure) or marks refresh_failing, counts consecutive failures,
// records the UTC day, and schedules the next attempt with exponential
// backoff and jitter, never sooner than the provider's Retry-After; while
// the access token still works, an attempt that backoff would place after
// its expiry is pulled in to just before it, once per token lifetime.
// Failures on oauthfail.ExhaustedAfterDays separate days make the
// connection refresh_exhausted. A policy of the provider's tenant or org
// (oauthfail.Blocked: a Workspace administrator's API controls, a
// deactivated Salesforce user, a device-compliance requirement) marks it
// refresh_failing at once, with who must act, and asks again only every
// oauthfail.BlockedRetry; those days never exhaust it, since the grant
// survives the policy. A success clears all of it.
package refresh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// Defaults of Options.
const (
	DefaultConcurrency     = 16
	DefaultLease           = 120 * time.Second
	DefaultDeadlineMargin  = 20 * time.Second
	DefaultProviderTimeout = 10 * time.Second
	DefaultWriteBudget     = 5 * time.Second
	DefaultPageSize        = 100
)

// Vault seals a connection's tokens for storage and opens them again (package
// tokenseal implements it).
type Vault interface {
	SealToken(ctx context.Context, key store.ConnKey, tok *oauth2.Token) (sealed []byte, keyID string, err error)
	OpenToken(ctx context.Context, key store.ConnKey, sealed []byte) (*oauth2.Token, error)
	// NeedsReseal and CurrentKeyID serve Reseal: whether sealed tokens are
	// under an older key or format, and which key seals now.
	NeedsReseal(ctx context.Context, sealed []byte) (bool, error)
	CurrentKeyID(ctx context.Context) (string, error)
}

// Stores are the storage ports refresh uses (store.Store has them all).
type Stores interface {
	GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error)
	GetConnection(ctx context.Context, key store.ConnKey) (store.Connection, error)
	ListProviderConnections(ctx context.Context, orgID, provider string, page store.Page) ([]store.Connection, string, error)
	PutConnection(ctx context.Context, c store.Connection, expectedVersion int64) (store.Connection, error)
	ClaimLease(ctx context.Context, key store.ConnKey, owner string, now, until time.Time) (store.Connection, error)
	CompleteLease(ctx context.Context, c store.Connection, owner string) (store.Connection, error)
	ListDue(ctx context.Context, before time.Time, page store.Page) ([]store.DueRef, string, error)
	// ScanConnections serves Reseal only: the scheduled run never scans.
	ScanConnections(ctx context.Context, page store.Page) ([]store.Connection, string, error)
	// PutRefreshSummary records what a run did for one org (summaries.go).
	PutRefreshSummary(ctx context.Context, s store.RefreshSummary) error
	// The org-wide jobs a run drains (jobs.go).
	EnqueueJob(ctx context.Context, j store.Job) error
	ListJobs(ctx context.Context, limit int) ([]store.Job, error)
	SaveJobProgress(ctx context.Context, j store.Job) error
	FinishJob(ctx context.Context, j store.Job) error
	ListOffIndex(ctx context.Context, provider, reason, orgID string, page store.Page) ([]store.OffIndexRef, string, error)
	// The integration's client health (client.go).
	GetClientHealth(ctx context.Context, orgID, provider string) (store.ClientHealth, error)
	ReportClientFailure(ctx context.Context, orgID, provider, cause string, configVersion int64, at time.Time, audit ...store.AuditEntry) (store.ClientHealth, bool, error)
	ReportClientOK(ctx context.Context, orgID, provider string, at time.Time, audit ...store.AuditEntry) (store.ClientHealth, bool, error)
}

var _ Stores = (store.Store)(nil)

// ClientResolver resolves an integration's OAuth client (*clients.Resolver).
type ClientResolver interface {
	Resolve(ctx context.Context, in store.Integration) (clients.Client, error)
}

var _ ClientResolver = (*clients.Resolver)(nil)

// Options are the dependencies and settings of a Service.
type Options struct {
	Catalog *catalog.Catalog
	Store   Stores
	Clients ClientResolver
	Vault   Vault
	// HTTPClient makes every provider call; in local runs it rewrites
	// provider URLs to the fake provider.
	HTTPClient *http.Client
	// Now is the clock of stored times (due times, leases, failure days).
	// Lambda's deadline is always compared with the wall clock.
	Now func() time.Time

	// AvailableProviders are the providers this deployment offers.
	AvailableProviders []string

	Concurrency     int           // refreshes in flight in one run
	Margin          time.Duration // refresh access tokens expiring within it
	Lease           time.Duration // how long a claim holds a connection
	DeadlineMargin  time.Duration // stop claiming when the deadline is this close
	ProviderTimeout time.Duration // bound of every provider call
	// WriteBudget is the lease time kept free for the final write.
	WriteBudget time.Duration
	// PageSize of due-index reads.
	PageSize int
	// OnDemandWait bounds how long AccessToken waits for a lease another
	// caller holds before giving up; default Lease's provider part.
	OnDemandWait time.Duration

	// Logger gets one line per failure and one per run; slog.Default() when nil.
	Logger *slog.Logger
	// Metrics receives CloudWatch embedded-metric-format lines; os.Stdout
	// when nil (Lambda turns stdout into CloudWatch Logs).
	Metrics io.Writer
	// FunctionName is the metrics' Function dimension (the Lambda function's
	// name); DefaultMetricsFunction when empty.
	FunctionName string
	// LogLevel is the function's application log level
	// (AWS_LAMBDA_LOG_LEVEL); metric lines carry MetricsLevel(LogLevel).
	LogLevel string
	// Rand is the jitter source of retry delays (tests); shared, so it is
	// guarded. nil uses math/rand/v2's global source.
	Rand *mrand.Rand
}

// Service refreshes connections: Run for the schedule, AccessToken on demand.
type Service struct {
	o       Options
	metrics *emf

	randMu sync.Mutex
}

// New checks the options and builds the service.
func New(o Options) (*Service, error) {
	if o.Catalog == nil || o.Store == nil || o.Clients == nil || o.Vault == nil || o.HTTPClient == nil {
		return nil, errors.New("refresh: catalog, store, clients, vault and HTTP client are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Margin <= 0 {
		o.Margin = schedule.DefaultMargin
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.DeadlineMargin <= 0 {
		o.DeadlineMargin = DefaultDeadlineMargin
	}
	if o.ProviderTimeout <= 0 {
		o.ProviderTimeout = DefaultProviderTimeout
	}
	if o.WriteBudget <= 0 {
		o.WriteBudget = DefaultWriteBudget
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	if o.OnDemandWait <= 0 {
		o.OnDemandWait = 2*o.ProviderTimeout + o.WriteBudget
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = os.Stdout
	}
	if o.FunctionName == "" {
		o.FunctionName = DefaultMetricsFunction
	}
	if need := 2*o.ProviderTimeout + o.WriteBudget; o.Lease < need {
		return nil, fmt.Errorf("refresh: lease %v is shorter than two provider calls plus the write budget (%v): a lease could expire under a holder that can still write", o.Lease, need)
	}
	if need := o.ProviderTimeout + o.WriteBudget; o.DeadlineMargin < need {
		return nil, fmt.Errorf("refresh: deadline margin %v is shorter than a provider call plus the write budget (%v): the last attempts could be cut off by the Lambda deadline", o.DeadlineMargin, need)
	}
	return &Service{o: o, metrics: &emf{w: o.Metrics, function: o.FunctionName, level: MetricsLevel(o.LogLevel)}}, nil
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// offered reports whether the deployment offers provider.
func (s *Service) offered(provider string) bool {
	return slices.Contains(s.o.AvailableProviders, provider)
}

// jitter returns a retry delay source safe for concurrent workers.
func (s *Service) withRand(f func(r *mrand.Rand) time.Duration) time.Duration {
	if s.o.Rand == nil {
		return f(nil)
	}
	s.randMu.Lock()
	defer s.randMu.Unlock()
	return f(s.o.Rand)
}

// newOwner returns a lease owner id unique to one claim: the run (or
// on-demand call) and a random suffix, so that two claims never share an
// owner even within one run.
func newOwner(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}
