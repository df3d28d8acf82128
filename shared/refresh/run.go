package refresh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// Result is what one run did. RefreshFunction returns it and logs it.
//
// Every connection listed is counted once in due and ends in exactly one of
// claimed, skipped, leftForNextRun or (a claim that failed in the store)
// errors; every claimed one ends in exactly one of refreshed,
// needsReconnect, transientFailures, blocked, clientRefused, clientPaused,
// exhausted, offIndex, notDue, leaseLost or errors.
type Result struct {
	Due               int   `json:"due"`
	Claimed           int   `json:"claimed"`
	Refreshed         int   `json:"refreshed"`
	NeedsReconnect    int   `json:"needsReconnect"`
	TransientFailures int   `json:"transientFailures"`
	Skipped           int   `json:"skipped"`
	LeftForNextRun    int   `json:"leftForNextRun"`
	DurationMs        int64 `json:"durationMs"`

	// Exhausted: transient failures that reached oauthfail.ExhaustedAfterDays.
	Exhausted int `json:"exhausted"`
	// Blocked: refused by a policy of the provider's tenant or org
	// (oauthfail.Blocked); retried slowly.
	Blocked int `json:"blocked"`
	// OffIndex: not refreshable (provider disabled or not offered, client
	// changed, no refresh token) and taken off the due-index.
	OffIndex int `json:"offIndex"`
	// NotDue: refreshed by someone else after being listed; released untouched.
	NotDue int `json:"notDue"`
	// LeaseLost: the final write was refused because someone else holds the
	// record now. Should stay 0 (see the package doc); alarm if not.
	LeaseLost int `json:"leaseLost"`
	// Errors: store or key failures; those connections are left for the next run.
	Errors int `json:"errors"`
	// Complete: the whole due-index was read. False when the run stopped
	// listing for the deadline or cancellation (more may be due than counted).
	Complete bool `json:"complete"`
	// Reinstated: connections the run's jobs put back on the due-index
	// or made due again before it listed what is due (jobs.go).
	Reinstated int `json:"reinstated"`
	// ClientRefused: the provider refused the integration's OAuth client
	// (recorded on the integration; the connection is paused, keeps its
	// tokens and status). ClientPaused: paused again without asking the
	// provider, while the client is refused (client.go).
	ClientRefused int `json:"clientRefused"`
	ClientPaused  int `json:"clientPaused"`
}

// tally counts outcomes by provider, for the result and the metrics.
type tally struct {
	mu       sync.Mutex
	due      map[string]int
	outcomes map[string]map[string]int // provider → outcome → count
	orgs     orgTally                  // the same per org and provider (summaries.go)
	claimed  int
	complete bool
}

func newTally() *tally {
	return &tally{due: map[string]int{}, outcomes: map[string]map[string]int{}, orgs: orgTally{}}
}

func (t *tally) listed(provider string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.due[provider]++
}

func (t *tally) add(k store.ConnKey, outcome string, claimed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	provider := k.Provider
	t.orgs.add(k, outcome)
	m, ok := t.outcomes[provider]
	if !ok {
		m = map[string]int{}
		t.outcomes[provider] = m
	}
	m[outcome]++
	if claimed {
		t.claimed++
	}
}

func (t *tally) result() Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := Result{Claimed: t.claimed, Complete: t.complete}
	for _, n := range t.due {
		r.Due += n
	}
	for _, m := range t.outcomes {
		r.Refreshed += m[OutcomeRefreshed]
		r.NeedsReconnect += m[OutcomeNeedsReconnect]
		r.TransientFailures += m[OutcomeTransient]
		r.Skipped += m[OutcomeSkipped]
		r.LeftForNextRun += m[OutcomeLeftForNext]
		r.Exhausted += m[OutcomeExhausted]
		r.Blocked += m[OutcomeBlocked]
		r.ClientRefused += m[OutcomeClientRefused]
		r.ClientPaused += m[OutcomeClientPaused]
		r.OffIndex += m[OutcomeOffIndex]
		r.NotDue += m[OutcomeNotDue]
		r.LeaseLost += m[OutcomeLeaseLost]
		r.Errors += m[OutcomeError]
	}
	return r
}

// byProvider returns the outcome counts in a stable order.
func (t *tally) byProvider() []providerOutcomes {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []providerOutcomes
	for p, m := range t.outcomes {
		for o, n := range m {
			out = append(out, providerOutcomes{provider: p, outcome: o, n: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].provider != out[j].provider {
			return out[i].provider < out[j].provider
		}
		return out[i].outcome < out[j].outcome
	})
	return out
}

type providerOutcomes struct {
	provider, outcome string
	n                 int
}

// Run refreshes every connection due now, as described in the package doc.
// It returns an error only when the due-index could not be read; failures
// of single connections are counted in the result and logged.
func (s *Service) Run(ctx context.Context) (Result, error) {
	started := time.Now()
	reinstated := s.drain(ctx)
	horizon := s.now()
	runID := newOwner("run")
	t := newTally()
	gates := newGateCache()

	refs := make(chan store.DueRef)
	var wg sync.WaitGroup
	for range s.o.Concurrency {
		wg.Go(func() {
			for ref := range refs {
				if s.stopClaiming(ctx) {
					t.add(ref.ConnKey, OutcomeLeftForNext, false)
					continue
				}
				s.runOne(ctx, ref, runID, horizon, gates, t)
			}
		})
	}
	listErr := s.list(ctx, horizon, refs, t)
	close(refs)
	wg.Wait()

	res := t.result()
	res.Reinstated = reinstated
	s.writeSummaries(ctx, runID, horizon, t)
	res.DurationMs = time.Since(started).Milliseconds()
	s.metrics.run(time.Now(), res, t.byProvider())
	attrs := []any{"runId", runID, "result", res}
	if listErr != nil {
		s.o.Logger.ErrorContext(ctx, "refresh run could not read the due-index", append(attrs, "err", listErr.Error())...)
	} else {
		s.o.Logger.InfoContext(ctx, "refresh run", attrs...)
	}
	return res, listErr
}

// returnReserve is the time a run keeps after all its writes, before the
// caller's deadline (Lambda's): enough to log, emit its metrics and answer
// the runtime. A run still busy at the deadline is killed, and its result
// and metrics are lost with it.
const returnReserve = 100 * time.Millisecond

// answerBy is when the run's last write must end, if the caller has a
// deadline: that deadline less returnReserve. Like the deadline, it is
// wall-clock time.
func answerBy(ctx context.Context) (time.Time, bool) {
	d, ok := ctx.Deadline()
	return d.Add(-returnReserve), ok
}

// stopClaiming reports whether the run must not claim more: cancelled, or
// the deadline (Lambda's, from the context) is within DeadlineMargin. The
// deadline is wall-clock time, so it is compared with time.Now, never with
// Options.Now.
func (s *Service) stopClaiming(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < s.o.DeadlineMargin
}

// list feeds the due-index to the workers page by page. When it has to stop
// (deadline, cancellation) the rest of the current page is counted as left
// for the next run and no further page is read.
func (s *Service) list(ctx context.Context, horizon time.Time, refs chan<- store.DueRef, t *tally) error {
	cursor := ""
	for {
		if s.stopClaiming(ctx) {
			return nil
		}
		page, next, err := s.o.Store.ListDue(ctx, horizon, store.Page{Cursor: cursor, Limit: s.o.PageSize})
		if err != nil {
			if ctx.Err() != nil {
				return nil // cancelled or out of time: the next run goes on
			}
			return fmt.Errorf("list due connections: %w", err)
		}
		for _, ref := range page {
			t.listed(ref.Provider)
			if s.stopClaiming(ctx) {
				t.add(ref.ConnKey, OutcomeLeftForNext, false)
				continue
			}
			select {
			case refs <- ref:
			case <-ctx.Done():
				t.add(ref.ConnKey, OutcomeLeftForNext, false)
			}
		}
		if next == "" {
			t.mu.Lock()
			t.complete = true
			t.mu.Unlock()
			return nil
		}
		cursor = next
	}
}

// runOne claims one due connection and attempts it.
func (s *Service) runOne(ctx context.Context, ref store.DueRef, runID string, horizon time.Time, gates *gateCache, t *tally) {
	owner := newOwner(runID)
	claimedAt := time.Now()
	now := s.now()
	c, err := s.o.Store.ClaimLease(ctx, ref.ConnKey, owner, now, now.Add(s.o.Lease))
	switch {
	case errors.Is(err, store.ErrLeaseHeld), errors.Is(err, store.ErrNotFound):
		t.add(ref.ConnKey, OutcomeSkipped, false)
		return
	case err != nil && ctx.Err() != nil:
		// Cancelled while claiming: if the claim landed, its lease expires.
		t.add(ref.ConnKey, OutcomeLeftForNext, false)
		return
	case err != nil:
		t.add(ref.ConnKey, OutcomeError, false)
		s.o.Logger.ErrorContext(ctx, "refresh claim failed", "connection", ref.ConnKey.String(), "outcome", OutcomeError, "err", err.Error())
		return
	}
	actx, cancel := s.attemptContext(ctx, claimedAt)
	defer cancel()
	l := s.newLease(ctx, owner, claimedAt)
	if ctx.Err() != nil {
		// Cancelled between claim and work: hand the lease back untouched.
		r := s.release(actx, c, l, OutcomeLeftForNext, nil)
		t.add(ref.ConnKey, OutcomeLeftForNext, false)
		if r.err != nil {
			s.logAttempt(ctx, ref.ConnKey, r)
		}
		return
	}
	r := s.attempt(actx, c, l, purpose{horizon: horizon}, gates)
	// Handed back unattempted (no time left to ask the provider) counts as
	// left for the next run, not as claimed.
	t.add(ref.ConnKey, r.outcome, r.outcome != OutcomeLeftForNext)
	s.logAttempt(ctx, ref.ConnKey, r)
}

// logAttempt writes one line per failed attempt: the classified code and
// who can fix it, never a token and never the provider's answer.
func (s *Service) logAttempt(ctx context.Context, k store.ConnKey, r result) {
	base := []any{
		"orgId", k.OrgID, "userId", k.UserID, "provider", k.Provider,
		"outcome", r.outcome,
	}
	switch r.outcome {
	case OutcomeNeedsReconnect, OutcomeTransient, OutcomeBlocked, OutcomeExhausted, OutcomeClientRefused:
		f := r.failure
		attrs := append(base,
			"code", f.Code, "kind", string(f.Kind), "owner", string(f.Owner),
			"consecutiveFailures", r.conn.ConsecutiveFailures,
		)
		if f.HTTPStatus != 0 {
			attrs = append(attrs, "httpStatus", f.HTTPStatus)
		}
		if f.RetryAfter > 0 {
			attrs = append(attrs, "retryAfterSeconds", int(f.RetryAfter.Seconds()))
		}
		if !r.conn.NextRefreshAt.IsZero() {
			attrs = append(attrs, "nextAttemptAt", r.conn.NextRefreshAt)
		}
		s.o.Logger.WarnContext(ctx, "refresh failed", attrs...)
	case OutcomeOffIndex:
		s.o.Logger.InfoContext(ctx, "connection taken off the due-index", append(base, "code", r.conn.OffIndexReason)...)
	case OutcomeClientPaused:
		// One line per integration says so when the failure starts
		// (client.go); one per connection would flood the logs.
		s.o.Logger.DebugContext(ctx, "refresh paused: the integration's OAuth client is refused", base...)
	case OutcomeLeaseLost:
		level := slog.LevelWarn
		code := "lease_lost"
		if r.refreshed {
			// The provider issued tokens this process could not store.
			level, code = slog.LevelError, "lease_lost_after_refresh"
		}
		s.o.Logger.Log(ctx, level, "refresh outcome not written", append(base, "code", code, "err", errText(r.err))...)
	case OutcomeError:
		s.o.Logger.ErrorContext(ctx, "refresh attempt failed", append(base, "code", "internal_error", "err", errText(r.err))...)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
