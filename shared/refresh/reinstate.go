package refresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// ReinstateLeaseWait bounds how long Reinstate waits for leases held on
// the org's connections to be released.
const ReinstateLeaseWait = 3 * time.Second

// Reinstate puts back on the due-index the org's connections of provider
// that were taken off because the provider was disabled or not offered,
// due at once, so the next run refreshes them (or takes them off again with
// the reason that holds then). The admin service calls it when a provider
// is enabled again. It returns how many it put back.
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
func Reinstate(ctx context.Context, st store.ConnectionWriter, orgID, provider string, now func() time.Time) (int, error) {
	held := map[store.ConnKey]bool{}
	mutate := func(c *store.Connection) bool {
		if c.Status != store.StatusConnected && c.Status != store.StatusRefreshFailing {
			delete(held, c.ConnKey)
			return false // someone must act first; it stays off
		}
		t := now().UTC()
		if c.LeaseOwner != "" && c.LeaseUntil.After(t) {
			held[c.ConnKey] = true
			return false
		}
		delete(held, c.ConnKey)
		if c.OffIndexReason != store.ReasonProviderDisabled && c.OffIndexReason != store.ReasonProviderUnavailable {
			return false
		}
		c.NextRefreshAt, c.OffIndexReason, c.UpdatedAt = t, "", t
		return true
	}
	n, err := store.UpdateProviderConnections(ctx, st, orgID, provider, mutate)
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
			if errors.Is(err, store.ErrNotFound) {
				delete(held, k)
				continue
			}
			if err != nil {
				return n, fmt.Errorf("reinstate %s: %w", k, err)
			}
			_, wrote, err := store.UpdateConnection(ctx, st, c, mutate)
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

// Reinstate is the package's Reinstate on the service's store and clock.
func (s *Service) Reinstate(ctx context.Context, orgID, provider string) (int, error) {
	return Reinstate(ctx, s.o.Store, orgID, provider, s.now)
}
