package refresh

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/store"
)

func TestInitialState(t *testing.T) {
	failing := store.ClientHealth{Status: store.HealthFailing, Cause: "invalid_client", Since: t0.Add(-3 * time.Hour), LastSeen: t0.Add(-10 * time.Minute), ConfigVersion: 4}
	tests := []struct {
		name    string
		h       store.ClientHealth
		version int64
		now     time.Time
		want    probeState
	}{
		{"never failed: the run's first call finds out", store.ClientHealth{Status: store.HealthOK}, 4, t0, probeNeeded},
		{"recovered: the same", store.ClientHealth{Status: store.HealthOK, RecoveredAt: t0.Add(-time.Hour)}, 4, t0, probeNeeded},
		{"failing, nothing saved, within the pause: nobody asks", failing, 4, t0, probeShut},
		{"failing, nothing saved, just before the pause ends", failing, 4, failing.LastSeen.Add(ClientPause - time.Second), probeShut},
		{"failing, the pause has passed: one asks", failing, 4, failing.LastSeen.Add(ClientPause), probeNeeded},
		{"failing, saved since: one asks at once", failing, 5, t0, probeNeeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := initialState(tc.h, tc.version, tc.now); got != tc.want {
				t.Fatalf("initialState = %v, want %v", got, tc.want)
			}
		})
	}
}

// enterAll has n callers enter g at once and returns their turns, after
// the first probe among them ends with r.
func enterAll(t *testing.T, g *clientGate, h store.ClientHealth, n int, r probeResult) map[turn]int {
	t.Helper()
	var mu sync.Mutex
	turns := map[turn]int{}
	loads := 0
	load := func() (store.ClientHealth, error) { loads++; return h, nil }
	var wg sync.WaitGroup
	probed := make(chan struct{})
	for range n {
		wg.Go(func() {
			tn, _, _, err := g.enter(context.Background(), load, 4, t0)
			if err != nil {
				t.Errorf("enter: %v", err)
				return
			}
			mu.Lock()
			turns[tn]++
			mu.Unlock()
			if tn == turnProbe {
				close(probed)
				time.Sleep(20 * time.Millisecond) // the others arrive meanwhile
				g.finish(r, oauthfail.ClientFailure("invalid_client"), t0)
			}
		})
	}
	wg.Wait()
	if loads != 1 {
		t.Errorf("the health was read %d times, want once per run", loads)
	}
	return turns
}

// TestOneProbePerIntegration: of the callers of one run, one asks the
// provider; the others wait for its answer and then call freely (the
// client works), pause without calling (refused), or leave the rest for
// the next run (failing, and the probe learnt nothing).
func TestOneProbePerIntegration(t *testing.T) {
	ok := store.ClientHealth{Status: store.HealthOK}
	failing := store.ClientHealth{Status: store.HealthFailing, Cause: "invalid_client", LastSeen: t0.Add(-2 * ClientPause), ConfigVersion: 4}
	tests := []struct {
		name string
		h    store.ClientHealth
		r    probeResult
		want map[turn]int
	}{
		{"the client works", ok, probeWorked, map[turn]int{turnProbe: 1, turnOpen: 9}},
		{"refused since the last run", ok, probeRefused, map[turn]int{turnProbe: 1, turnShut: 9}},
		{"another failure says nothing about a healthy client", ok, probeNothing, map[turn]int{turnProbe: 1, turnOpen: 9}},
		{"recovered", failing, probeWorked, map[turn]int{turnProbe: 1, turnOpen: 9}},
		{"still refused", failing, probeRefused, map[turn]int{turnProbe: 1, turnShut: 9}},
		{"failing, and the probe learnt nothing", failing, probeNothing, map[turn]int{turnProbe: 1, turnDeferred: 9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := enterAll(t, &clientGate{}, tc.h, 10, tc.r)
			if len(got) != len(tc.want) {
				t.Fatalf("turns %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Fatalf("turns %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestAbandonedProbePassesOn: a probe that never asked the provider hands
// the turn to the next caller; a waiter whose time runs out gives up.
func TestAbandonedProbePassesOn(t *testing.T) {
	g := &clientGate{}
	load := func() (store.ClientHealth, error) { return store.ClientHealth{Status: store.HealthOK}, nil }
	if tn, _, _, _ := g.enter(context.Background(), load, 1, t0); tn != turnProbe {
		t.Fatalf("first turn %v", tn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, _, err := g.enter(ctx, load, 1, t0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a waiter out of time: %v", err)
	}
	g.finish(probeAbandoned, oauthfail.Failure{}, time.Time{})
	if tn, _, _, _ := g.enter(context.Background(), load, 1, t0); tn != turnProbe {
		t.Fatalf("after an abandoned probe: %v, want another probe", tn)
	}
	// A health that cannot be read is not remembered.
	g = &clientGate{}
	boom := errors.New("store down")
	if _, _, _, err := g.enter(context.Background(), func() (store.ClientHealth, error) { return store.ClientHealth{}, boom }, 1, t0); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	if tn, _, _, _ := g.enter(context.Background(), load, 1, t0); tn != turnProbe {
		t.Fatalf("after a read error: %v", tn)
	}
}

// TestShutNamesTheStoredCause: a run that starts with a failing client
// pauses with the stored cause, owned by the admin, as last seen.
func TestShutNamesTheStoredCause(t *testing.T) {
	h := store.ClientHealth{Status: store.HealthFailing, Cause: "client_secret_expired", LastSeen: t0.Add(-time.Minute), ConfigVersion: 2}
	tn, f, seen, err := (&clientGate{}).enter(context.Background(), func() (store.ClientHealth, error) { return h, nil }, 2, t0)
	if err != nil || tn != turnShut || f.Kind != oauthfail.ClientRefused || f.Code != "client_secret_expired" || f.Owner != oauthfail.OwnerAdmin || !seen.Equal(h.LastSeen) {
		t.Fatalf("turn %v, failure %+v, seen %v, %v", tn, f, seen, err)
	}
}
