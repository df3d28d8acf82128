package refresh_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
)

// Benchmarks (not part of make test):
//
//	go test -run '^$' -bench RefreshThroughput -benchtime 3x ./shared/refresh/
//
// BenchmarkRefreshThroughput measures refreshes per second with the fake
// provider answering every call in 50 ms (Google: one call per refresh),
// for the worker pool at its default size and one at a time, against the
// bound concurrency ÷ latency. Each iteration refreshes a fresh batch of due
// connections; seeding is not timed.
func BenchmarkRefreshThroughput(b *testing.B) {
	const latency = 50 * time.Millisecond
	for _, tc := range []struct {
		name        string
		concurrency int
		batch       int
	}{
		{"pool-16", refresh.DefaultConcurrency, 480},
		{"one-at-a-time", 1, 40},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b)
			in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
			s := f.service(func(o *refresh.Options) { o.Concurrency = tc.concurrency })
			var refreshed int
			var elapsed time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				f.env.Fake.SetLatency(0)
				f.seed(in, fmt.Sprintf("i%d-", i), tc.batch, f.env.Clock.Now().Add(-time.Minute))
				f.env.Fake.SetLatency(latency)
				i++
				b.StartTimer()
				start := time.Now()
				r := f.run(context.Background(), s)
				elapsed += time.Since(start)
				if r.Refreshed != tc.batch {
					b.Fatalf("refreshed %d of %d: %+v", r.Refreshed, tc.batch, r)
				}
				refreshed += r.Refreshed
			}
			rate := float64(refreshed) / elapsed.Seconds()
			bound := float64(tc.concurrency) / latency.Seconds()
			b.ReportMetric(rate, "refreshes/s")
			b.ReportMetric(bound, "bound/s")
			b.ReportMetric(100*rate/bound, "%-of-bound")
		})
	}
}

// BenchmarkRunAtScale: a run over 100,000 stored connections on moto_server
// of which 1,000 are due. items-read/due is what the due-index reads cost
// per due connection (ScannedCount over every Query page; the bound is
// 1.05); the rest of the table is never read.
//
//	go test -run '^$' -bench RunAtScale -benchtime 3x -timeout 30m ./shared/refresh/
func BenchmarkRunAtScale(b *testing.B) {
	const stored, due = 100_000, 1_000
	f := newFixture(b, localtest.WithAWS())
	st, db, calls := countingStore(b, f)
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
	f.seed(in, "due-", due, f.env.Clock.Now().Add(-time.Minute))
	fill(b, f, db, st, stored-due, f.env.Clock.Now())
	s := f.service(func(o *refresh.Options) { o.Store = st })
	var read, listed, runs int64
	for b.Loop() {
		b.StopTimer()
		f.env.Clock.Advance(2 * time.Hour) // the 1,000 are due again
		calls.Reset()
		b.StartTimer()
		r := f.run(context.Background(), s)
		b.StopTimer()
		if r.Due != due || r.Refreshed != due {
			b.Fatalf("run: %+v, want %d due and refreshed", r, due)
		}
		read += calls.Scanned("DynamoDB", "Query")
		listed += int64(r.Due)
		runs++
		b.StartTimer()
	}
	b.ReportMetric(float64(read)/float64(listed), "items-read/due")
	b.ReportMetric(float64(read)/float64(runs), "items-read/run")
}
