package refresh

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

func TestRunOutcome(t *testing.T) {
	for _, tc := range []struct {
		m    map[string]int
		want string
	}{
		{map[string]int{OutcomeRefreshed: 3, OutcomeNotDue: 1, OutcomeSkipped: 1, OutcomeOffIndex: 1}, store.RunOutcomeOK},
		{map[string]int{OutcomeRefreshed: 3, OutcomeLeftForNext: 2}, store.RunOutcomePartial},
		{map[string]int{OutcomeRefreshed: 3, OutcomeLeftForNext: 2, OutcomeTransient: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeNeedsReconnect: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeExhausted: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeError: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeLeaseLost: 1}, store.RunOutcomeFailures},
	} {
		if got := runOutcome(tc.m); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.m, got, tc.want)
		}
	}
}

// summaryDeadlines is a store that records the deadline each summary write
// was given.
type summaryDeadlines struct {
	store.Store
	mu        sync.Mutex
	deadlines []time.Time
}

func (s *summaryDeadlines) PutRefreshSummary(ctx context.Context, _ store.RefreshSummary) error {
	d, ok := ctx.Deadline()
	if !ok || ctx.Err() != nil {
		return errors.New("a summary write without its own time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadlines = append(s.deadlines, d)
	return nil
}

// TestSummariesEndBeforeTheDeadline: a run's summary writes never run past
// its caller's deadline less returnReserve, however long WriteBudget is
// (the last attempts' writes may have used the time up to the deadline);
// they get WriteBudget when that ends first, and after a cancellation.
func TestSummariesEndBeforeTheDeadline(t *testing.T) {
	start := time.Now()
	for _, tc := range []struct {
		name        string
		deadline    time.Time // zero for none
		cancel      bool
		writeBudget time.Duration
		latest      time.Time // the writes' deadline is at most this
		earliest    time.Time // and at least this
	}{
		{"deadline first", start.Add(time.Second), false, time.Hour, start.Add(time.Second - returnReserve), start.Add(time.Second - returnReserve)},
		{"budget first", start.Add(time.Hour), false, time.Second, start.Add(time.Minute), start.Add(time.Second)},
		{"cancelled, no deadline", time.Time{}, true, time.Second, start.Add(time.Minute), start.Add(time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &summaryDeadlines{}
			s := &Service{o: Options{Store: st, WriteBudget: tc.writeBudget, Concurrency: 2, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}}
			ctx, cancel := context.WithCancel(context.Background())
			if !tc.deadline.IsZero() {
				ctx, cancel = context.WithDeadline(context.Background(), tc.deadline)
			}
			defer cancel()
			if tc.cancel {
				cancel()
			}
			tl := newTally()
			tl.add(store.ConnKey{OrgID: "o1", Provider: "google_workspace", UserID: "u1"}, OutcomeRefreshed, true)
			tl.add(store.ConnKey{OrgID: "o2", Provider: "salesforce", UserID: "u1"}, OutcomeRefreshed, true)
			s.writeSummaries(ctx, "run-1", start, tl)
			if len(st.deadlines) != 2 {
				t.Fatalf("%d summaries written, want 2", len(st.deadlines))
			}
			for _, d := range st.deadlines {
				if d.After(tc.latest) || d.Before(tc.earliest) {
					t.Fatalf("a summary write's deadline is %v from the start, want between %v and %v", d.Sub(start), tc.earliest.Sub(start), tc.latest.Sub(start))
				}
			}
		})
	}
}
