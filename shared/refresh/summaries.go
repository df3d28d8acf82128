package refresh

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// An admin's rollout view shows "the last refresh run's time and outcome
// for this org". A run's result and metrics are per deployment, so at its
// end a run writes one store.RefreshSummary per org and provider it had
// work for: the counts of its outcomes for them. That is at most one small
// write per org and provider touched, never more than the connections the
// run listed, and nothing for orgs with nothing due, so a run's cost stays
// in proportion to what is due. A summary that cannot be written is logged
// and counted; it never fails the run.

type orgProvider struct{ org, provider string }

// orgTally counts a run's outcomes per org and provider (tally holds its
// lock).
type orgTally map[orgProvider]map[string]int

func (o orgTally) add(k store.ConnKey, outcome string) {
	op := orgProvider{k.OrgID, k.Provider}
	m, ok := o[op]
	if !ok {
		m = map[string]int{}
		o[op] = m
	}
	m[outcome]++
}

// writeSummaries stores what the run that started at startedAt (the
// service's clock) did for each org and provider. The writes get
// WriteBudget of their own, past the caller's cancellation (the run's work
// is done; only its record remains), Concurrency at a time, but never past
// the caller's deadline less returnReserve: the last attempts' writes may
// have used the time up to it, and a summary is worth less than the run's
// answer.
func (s *Service) writeSummaries(ctx context.Context, runID string, startedAt time.Time, t *tally) {
	t.mu.Lock()
	sums := make([]store.RefreshSummary, 0, len(t.orgs))
	finished := s.now()
	for op, m := range t.orgs {
		sums = append(sums, store.RefreshSummary{
			OrgID: op.org, Provider: op.provider, RunID: runID,
			StartedAt: startedAt, FinishedAt: finished, Outcome: runOutcome(m), Outcomes: maps.Clone(m),
		})
	}
	t.mu.Unlock()
	if len(sums) == 0 {
		return
	}
	end := time.Now().Add(s.o.WriteBudget)
	if by, ok := answerBy(ctx); ok && by.Before(end) {
		end = by
	}
	wctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), end)
	defer cancel()
	work := make(chan store.RefreshSummary)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range min(s.o.Concurrency, len(sums)) {
		wg.Go(func() {
			for sum := range work {
				if err := s.o.Store.PutRefreshSummary(wctx, sum); err != nil {
					failed.Add(1)
					s.o.Logger.WarnContext(ctx, "refresh summary not written", "runId", runID, "orgId", sum.OrgID, "provider", sum.Provider, "err", err.Error())
				}
			}
		})
	}
	for _, sum := range sums {
		work <- sum
	}
	close(work)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		s.o.Logger.WarnContext(ctx, "refresh summaries not written", "runId", runID, "failed", n, "of", len(sums))
	}
}

// runOutcome is a run's verdict for one org from its outcome counts.
func runOutcome(m map[string]int) string {
	switch {
	case m[OutcomeNeedsReconnect]+m[OutcomeTransient]+m[OutcomeExhausted]+m[OutcomeError]+m[OutcomeLeaseLost]+m[OutcomeClientRefused]+m[OutcomeClientPaused] > 0:
		return store.RunOutcomeFailures
	case m[OutcomeLeftForNext] > 0:
		return store.RunOutcomePartial
	}
	return store.RunOutcomeOK
}
