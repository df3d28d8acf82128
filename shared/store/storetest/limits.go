package storetest

import (
	"sync"
	"testing"
	"time"
)

// TestRateLimits is the contract of store.RateLimits: at most limit events
// per (name, subject, window), refusals not counted, concurrent callers
// included.
func TestRateLimits(t *testing.T, newStore NewStore) {
	window := T0.Truncate(time.Minute)
	expires := window.Add(2 * time.Minute)

	t.Run("CountsToTheLimit", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= 5; i++ {
			ok, err := s.Allow(ctx(t), "credential_check", "org-1", window, 3, expires)
			must(t, "allow", err)
			if ok != (i <= 3) {
				t.Fatalf("event %d of limit 3: allowed %v", i, ok)
			}
		}
		// Other subjects, names and windows count apart.
		for _, c := range []struct {
			name, subject string
			window        time.Time
		}{
			{"credential_check", "org-2", window},
			{"credential_check", "org-1#x", window},
			{"other", "org-1", window},
			{"credential_check", "org-1", window.Add(time.Minute)},
		} {
			ok, err := s.Allow(ctx(t), c.name, c.subject, c.window, 3, c.window.Add(2*time.Minute))
			must(t, "allow", err)
			if !ok {
				t.Fatalf("%s/%s at %v shares a counter with credential_check/org-1", c.name, c.subject, c.window)
			}
		}
		// A later window, once the earlier expired, starts from zero again.
		later := window.Add(10 * time.Minute)
		for i := 1; i <= 4; i++ {
			ok, err := s.Allow(ctx(t), "credential_check", "org-1", later, 3, later.Add(2*time.Minute))
			must(t, "allow", err)
			if ok != (i <= 3) {
				t.Fatalf("later window, event %d: allowed %v", i, ok)
			}
		}
		if ok, err := s.Allow(ctx(t), "credential_check", "org-3", window, 0, expires); err != nil || ok {
			t.Fatalf("limit 0: %v %v", ok, err)
		}
	})

	t.Run("ConcurrentCallersNeverExceed", func(t *testing.T) {
		s := newStore(t)
		const callers, limit = 25, 10
		var wg sync.WaitGroup
		var mu sync.Mutex
		allowed := 0
		for range callers {
			wg.Go(func() {
				ok, err := s.Allow(ctx(t), "credential_check", "org-1", window, limit, expires)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != limit {
			t.Fatalf("%d of %d concurrent callers allowed, want exactly %d", allowed, callers, limit)
		}
	})
}
