package refresh_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
)

// TestConcurrentRunsRefreshEachOnce: connections due across the three
// providers and 8 runs started at once: the fake sees exactly one refresh per
// connection, every connection ends refreshed, none is lost.
//
// 300 on the embedded store and 100 on moto_server (which serves a few
// hundred requests a second, and the 8 overlapping runs make about ten
// store calls per connection) prove it: every run lists every due
// connection and 8 runs of 16 workers claim at once, so each connection is
// contended by several runs either way, as it would be with thousands.
// The test checks that the runs did overlap: more than one refreshed.
// REFRESH_OVERLAP_CONNECTIONS sets another size for both (1000 for the
// figure in the README). It is not run in parallel with the package's
// other tests: they share one moto_server, which it keeps busy, and
// several of them play with real-time deadlines.
func TestConcurrentRunsRefreshEachOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			total := 300
			if b.name == "dynamodb" {
				total = 100
			}
			if n, err := strconv.Atoi(os.Getenv("REFRESH_OVERLAP_CONNECTIONS")); err == nil && n > 0 {
				total = n
			}
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			perProvider := map[string]int{catalog.Microsoft365: total - 2*(total/3), catalog.GoogleWorkspace: total / 3, catalog.Salesforce: total / 3}
			seeded := map[string][]seeded{}
			start := time.Now()
			for p, n := range perProvider {
				in := f.enable(integrationSpec{org: "o1", provider: p})
				seeded[p] = f.seed(in, "u-", n, now.Add(-time.Minute))
			}
			t.Logf("seeded %d connections in %v", total, time.Since(start))

			start = time.Now()
			results := make([]refresh.Result, 8)
			var wg sync.WaitGroup
			for i := range results {
				s := f.service(nil)
				wg.Go(func() { results[i] = f.run(context.Background(), s) })
			}
			wg.Wait()
			t.Logf("8 concurrent runs took %v", time.Since(start))

			var sum refresh.Result
			busy := 0
			for _, r := range results {
				if r.Refreshed > 0 {
					busy++
				}
				sum.Refreshed += r.Refreshed
				sum.Errors += r.Errors + r.LeaseLost + r.TransientFailures + r.NeedsReconnect + r.LeftForNextRun + r.OffIndex
			}
			if sum.Refreshed != total || sum.Errors != 0 {
				t.Fatalf("runs refreshed %d (want %d), failures/errors/left %d; results %+v", sum.Refreshed, total, sum.Errors, results)
			}
			t.Logf("%d of the 8 runs refreshed some", busy)
			if busy < 2 {
				t.Fatalf("one run refreshed everything: the runs never overlapped (results %+v)", results)
			}
			for p, conns := range seeded {
				f.assertRefreshedOnce(p, conns)
			}
			if got := f.metricSum("Refreshes", map[string]string{"Outcome": refresh.OutcomeRefreshed}); got != float64(total) {
				t.Fatalf("metrics report %v refreshed, want %d", got, total)
			}
			// A run after all of them finds nothing due.
			if r := f.run(context.Background(), f.service(nil)); r.Due != 0 || r.Refreshed != 0 {
				t.Fatalf("a later run found work: %+v", r)
			}
		})
	}
}
