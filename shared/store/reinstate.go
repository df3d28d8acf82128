package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ReinstateLeaseWait bounds how long Reinstate waits for leases held on
// the org's connections to be released.
const ReinstateLeaseWait = 3 * time.Second

// Reinstate puts back on the due-index the org's connections of provider
// that were taken off because the provider was disabled or not offered,
// due at once, so the next refresh run refreshes them (or takes them off
// again with the reason that holds then). The admin service calls it when
// a provider is enabled again. It returns how many it put back.
//
// A connection someone holds the lease of may be in the middle of an
// attempt that read the integration before it was enabled, and is about to
// take the connection off the index. Reinstate does not write under a live
// lease (the holder's write would then be refused, and a rotated refresh
// token lost): it waits, up to ReinstateLeaseWait in all, for each such
// lease to be released, and then decides on what the holder wrote. A lease
// still held after that belongs to an attempt that is talking to the
// provider, which it does only for an enabled integration, so its outcome
// leaves the connection where it belongs.
func Reinstate(ctx context.Context, st ConnectionWriter, orgID, provider string, now func() time.Time) (int, error) {
	held := map[ConnKey]bool{}
	mutate := func(c *Connection) bool {
		if c.Status != StatusConnected && c.Status != StatusRefreshFailing {
			delete(held, c.ConnKey)
			return false // someone must act first; it stays off
		}
		t := now().UTC()
		if c.LeaseOwner != "" && c.LeaseUntil.After(t) {
			held[c.ConnKey] = true
			return false
		}
		delete(held, c.ConnKey)
		if c.OffIndexReason != ReasonProviderDisabled && c.OffIndexReason != ReasonProviderUnavailable {
			return false
		}
		c.NextRefreshAt, c.OffIndexReason, c.UpdatedAt = t, "", t
		return true
	}
	n, err := UpdateProviderConnections(ctx, st, orgID, provider, mutate)
	if err != nil {
		return n, fmt.Errorf("reinstate %s/%s: %w", orgID, provider, err)
	}
	giveUp := time.Now().Add(ReinstateLeaseWait)
	pause := 50 * time.Millisecond
	for len(held) > 0 && time.Now().Add(pause).Before(giveUp) {
		if err := sleep(ctx, pause); err != nil {
			return n, fmt.Errorf("reinstate %s/%s: %w", orgID, provider, err)
		}
		pause = min(2*pause, 500*time.Millisecond)
		for k := range held {
			c, err := st.GetConnection(ctx, k)
			if errors.Is(err, ErrNotFound) {
				delete(held, k)
				continue
			}
			if err != nil {
				return n, fmt.Errorf("reinstate %s: %w", k, err)
			}
			_, wrote, err := UpdateConnection(ctx, st, c, mutate)
			if err != nil {
				return n, fmt.Errorf("reinstate %s/%s: %w", orgID, provider, err)
			}
			if wrote {
				n++
			}
		}
	}
	return n, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
