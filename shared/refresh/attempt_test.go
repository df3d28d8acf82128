package refresh

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// leaseWrites is a store that records the deadline of each attempt's final
// write.
type leaseWrites struct {
	store.Store
	deadline time.Time
}

func (s *leaseWrites) CompleteLease(ctx context.Context, c store.Connection, _ string) (store.Connection, error) {
	s.deadline, _ = ctx.Deadline()
	c.Version++
	return c, nil
}

// TestAttemptsEndBeforeTheDeadline: near the caller's deadline an attempt
// ends WriteBudget and returnReserve before it, and its final write, which
// otherwise gets at least WriteBudget, never runs past the deadline less
// returnReserve.
func TestAttemptsEndBeforeTheDeadline(t *testing.T) {
	st := &leaseWrites{}
	s := &Service{o: Options{Store: st, Lease: time.Hour, WriteBudget: 10 * time.Second, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}}
	now := time.Now()
	deadline := now.Add(30 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	actx, acancel := s.attemptContext(ctx, now)
	defer acancel()
	if d, _ := actx.Deadline(); !d.Equal(deadline.Add(-10*time.Second - returnReserve)) {
		t.Errorf("the attempt ends %v before the deadline, want WriteBudget and returnReserve", deadline.Sub(d))
	}

	l := s.newLease(ctx, "run-1/w", now)
	// A write starting late (the deadline 5 s away, less than WriteBudget)
	// still stops returnReserve before the deadline.
	lateCtx, lateCancel := context.WithDeadline(context.Background(), time.Now().Add(5*time.Second))
	defer lateCancel()
	late := s.newLease(lateCtx, "run-1/w", now)
	for _, tc := range []struct {
		name     string
		l        lease
		deadline time.Time
	}{{"early", l, deadline}, {"late", late, func() time.Time { d, _ := lateCtx.Deadline(); return d }()}} {
		if _, err := s.write(ctx, store.Connection{Version: 1}, tc.l); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if want := tc.deadline.Add(-returnReserve); st.deadline.After(want) {
			t.Errorf("%s: the write may run until %v after the deadline less returnReserve", tc.name, st.deadline.Sub(want))
		}
	}
}
