package refresh_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// quick are settings for tests that play with deadlines and leases in real
// time: every bound small, their relations as in production.
func quick(o *refresh.Options) {
	o.Concurrency = 4
	o.ProviderTimeout = 500 * time.Millisecond
	o.WriteBudget = 300 * time.Millisecond
	o.DeadlineMargin = 800 * time.Millisecond
	o.Lease = 2 * time.Second
}

// TestShortDeadlineLeavesTheRestForTheNextRun: a run whose Lambda deadline
// comes mid-batch stops claiming DeadlineMargin before it, returns before
// the deadline, reports what it left, and the next run finishes the rest:
// every connection refreshed exactly once.
func TestShortDeadlineLeavesTheRestForTheNextRun(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
			const n = 80
			conns := f.seed(in, "u-", n, now.Add(-time.Minute))
			// Two workers and 150 ms a refresh: 6 s of work, 2 s (4 s on
			// moto_server) to do it in.
			f.env.Fake.SetLatency(150 * time.Millisecond)
			margin := 800 * time.Millisecond
			window := 2 * time.Second // from the run's start until it stops claiming
			s := f.service(func(o *refresh.Options) {
				quick(o)
				o.Concurrency = 2
				o.PageSize = 25
				if b.name == "dynamodb" {
					// moto_server, shared by the package's parallel tests
					// and one request at a time, can take longer than
					// quick's write budget for one write: give writes the
					// room DynamoDB's latency gives them in production.
					o.WriteBudget = 1500 * time.Millisecond
					o.DeadlineMargin = 2 * time.Second
					o.Lease = 3 * time.Second
					margin = o.DeadlineMargin
					// And listing the due-index there took 2.4 s once,
					// on a loaded machine, which left no time to claim
					// any: 4 s is still less than the 80 refreshes need
					// (two workers, 150 ms each, plus the writes).
					window = 4 * time.Second
				}
			})

			deadline := time.Now().Add(margin + window)
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			r := f.run(ctx, s)
			if time.Now().After(deadline) {
				t.Fatalf("the run returned after its deadline")
			}
			// An attempt the store was too slow for (moto under load) is
			// an error that leaves the connection, lease released, to the
			// next run like the ones never claimed; the embedded store has
			// none.
			if r.LeftForNextRun == 0 || r.Refreshed == 0 || r.Refreshed+r.LeftForNextRun+r.Errors != r.Due || (b.name != "dynamodb" && r.Errors != 0) {
				t.Fatalf("first run: %+v, want some refreshed and the rest left", r)
			}
			if r.Due == n && !r.Complete || r.Due < n && r.Complete {
				t.Fatalf("complete = %v with %d of %d listed", r.Complete, r.Due, n)
			}
			for _, sd := range conns {
				if c := f.conn(sd.key); c.LeaseOwner != "" {
					t.Fatalf("%s: lease still held after the run", sd.key)
				}
			}

			// The next run has ordinary bounds: only the first plays with
			// a deadline.
			r2 := f.run(context.Background(), f.service(nil))
			if r2.Refreshed != n-r.Refreshed || r2.LeftForNextRun != 0 || !r2.Complete {
				t.Fatalf("next run: %+v, want the %d left refreshed", r2, n-r.Refreshed)
			}
			f.assertRefreshedOnce(catalog.GoogleWorkspace, conns)
		})
	}
}

// TestCancelledRunStrandsNothing: cancelling a run (SIGTERM, say) stops its
// claims; what it had claimed is either finished (a provider call in flight
// runs to its end and is written) or handed back untouched. No lease is left
// behind, so a run right after, with the clock unmoved, refreshes the rest.
func TestCancelledRunStrandsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.env.Clock.Now()
	in := f.enable(integrationSpec{org: "o1", provider: catalog.Microsoft365})
	conns := f.seed(in, "u-", 120, now.Add(-time.Minute))
	f.env.Fake.SetLatency(30 * time.Millisecond)
	s := f.service(quick)

	// Cancel once ten refreshes have been answered, mid-batch.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeOK}) < 10 {
			time.Sleep(2 * time.Millisecond)
		}
		cancel()
	}()
	r := f.run(ctx, s)
	if r.Refreshed == 0 || r.Refreshed == 120 || r.Errors != 0 || r.LeaseLost != 0 {
		t.Fatalf("cancelled run: %+v, want part refreshed and no errors", r)
	}
	for _, sd := range conns {
		if c := f.conn(sd.key); c.LeaseOwner != "" {
			t.Fatalf("%s: lease left behind by a cancelled run", sd.key)
		}
	}
	r2 := f.run(context.Background(), s)
	if r.Refreshed+r2.Refreshed != 120 || r2.Skipped != 0 {
		t.Fatalf("next run: %+v after %+v, want the rest refreshed, nothing skipped", r2, r)
	}
	// Microsoft rotates: had a cancelled call's new token been dropped, the
	// next refresh would have presented a replaced one and failed.
	f.assertRefreshedOnce(catalog.Microsoft365, conns)
}

// killableStore and killableTransport play a process killed mid-batch:
// from the kill on, nothing the run does reaches the store or the provider.
type killableStore struct {
	refresh.Stores
	claims    atomic.Int64
	killAfter int64
	killed    atomic.Bool
	onKill    func()
}

var errKilled = errors.New("process killed")

func (k *killableStore) ClaimLease(ctx context.Context, key store.ConnKey, owner string, now, until time.Time) (store.Connection, error) {
	if k.killed.Load() {
		return store.Connection{}, errKilled
	}
	c, err := k.Stores.ClaimLease(ctx, key, owner, now, until)
	if err == nil && k.claims.Add(1) == k.killAfter {
		k.killed.Store(true)
		k.onKill()
	}
	return c, err
}

func (k *killableStore) CompleteLease(ctx context.Context, c store.Connection, owner string) (store.Connection, error) {
	if k.killed.Load() {
		return store.Connection{}, errKilled
	}
	return k.Stores.CompleteLease(ctx, c, owner)
}

func (k *killableStore) GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error) {
	if k.killed.Load() {
		return store.Integration{}, errKilled
	}
	return k.Stores.GetIntegration(ctx, orgID, provider)
}

type killableTransport struct {
	next   http.RoundTripper
	killed *atomic.Bool
}

func (t killableTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.killed.Load() {
		return nil, errKilled
	}
	return t.next.RoundTrip(r)
}

// TestKilledRunRecoversOnceLeasesExpire: a run killed right after claiming
// 30 % of what is due leaves leases behind; until they expire other runs skip those
// connections, and once they have (the clock moves past the lease) the next
// run refreshes everything left. Nothing stays stuck and nothing breaks.
// (Google: it does not rotate, so a refresh whose answer died with the
// process costs nothing.)
func TestKilledRunRecoversOnceLeasesExpire(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
			n := b.size(100, 0.6)
			conns := f.seed(in, "u-", n, now.Add(-time.Minute))
			f.env.Fake.SetLatency(20 * time.Millisecond)

			ctx, cancel := context.WithCancel(context.Background())
			ks := &killableStore{Stores: f.env.Deps.Store, killAfter: int64(n * 3 / 10), onKill: cancel}
			victim := f.service(func(o *refresh.Options) {
				quick(o)
				o.Store = ks
				hc := *o.HTTPClient
				hc.Transport = killableTransport{next: hc.Transport, killed: &ks.killed}
				o.HTTPClient = &hc
			})
			res, err := victim.Run(ctx)
			if err != nil {
				t.Fatalf("killed run: %v", err)
			}
			held := 0
			for _, sd := range conns {
				if c := f.conn(sd.key); c.LeaseOwner != "" {
					held++
				}
			}
			if held == 0 {
				t.Fatalf("the kill left no lease behind (%+v): the test did not kill mid-batch", res)
			}

			s := f.service(quick)
			r := f.run(context.Background(), s)
			if r.Skipped != held {
				t.Fatalf("before the leases expire: %+v, want the %d held ones skipped", r, held)
			}
			f.env.Clock.Advance(3 * time.Second) // past the 2s lease
			r = f.run(context.Background(), s)
			if r.Refreshed != held || r.Skipped != 0 {
				t.Fatalf("after the leases expired: %+v, want the %d held ones refreshed", r, held)
			}
			for _, sd := range conns {
				c := f.conn(sd.key)
				if c.Status != store.StatusConnected || c.LeaseOwner != "" || c.LastRefreshAt.IsZero() || !c.NextRefreshAt.After(f.env.Clock.Now()) {
					t.Fatalf("%s: stuck after recovery: %+v", sd.key, c)
				}
				if info, ok := f.env.Fake.TokenInfo(f.tokens(c).AccessToken); !ok || !info.Active {
					t.Fatalf("%s: stored access token not live", sd.key)
				}
			}
		})
	}
}

// stealingTransport lets another holder take the lease of key while the
// refresh request is on its way to the provider, as if this holder had
// stalled past its lease.
type stealingTransport struct {
	next  http.RoundTripper
	steal func()
	once  sync.Once
}

func (t *stealingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/token") {
		t.once.Do(t.steal)
	}
	return t.next.RoundTrip(r)
}

// TestLostLeaseRefusesTheWrite: the worst case the design must keep out.
// If a holder's lease is taken over while its refresh is at the provider,
// its write is refused: the record keeps what the new holder claimed, the
// outcome is counted as lease_lost and logged as an error, and nothing is
// overwritten.
func TestLostLeaseRefusesTheWrite(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
			sd := f.seed(in, "u-", 1, now.Add(-time.Minute))[0]
			before := f.conn(sd.key)

			var thief store.Connection
			s := f.service(func(o *refresh.Options) {
				quick(o)
				hc := *o.HTTPClient
				hc.Transport = &stealingTransport{next: hc.Transport, steal: func() {
					later := f.env.Clock.Advance(3 * time.Second) // the 2s lease has expired
					c, err := f.env.Deps.Store.ClaimLease(context.Background(), sd.key, "thief", later, later.Add(time.Minute))
					if err != nil {
						t.Errorf("thief's claim: %v", err)
					}
					thief = c
				}}
				o.HTTPClient = &hc
			})
			r := f.run(context.Background(), s)
			if r.LeaseLost != 1 || r.Refreshed != 0 {
				t.Fatalf("run: %+v, want the write refused as lease_lost", r)
			}
			after := f.conn(sd.key)
			if after.LeaseOwner != "thief" || after.Version != thief.Version || string(after.SealedTokens) != string(before.SealedTokens) || !after.LastRefreshAt.IsZero() {
				t.Fatalf("the refused write changed the record: %+v", after)
			}
			if got := f.metricSum("LeaseLost", map[string]string{"Function": refresh.DefaultMetricsFunction}); got != 1 {
				t.Fatalf("LeaseLost metric = %v, want 1", got)
			}
			found := false
			for _, l := range f.env.Logs() {
				if strings.Contains(l, `"level":"ERROR"`) && strings.Contains(l, `"code":"lease_lost_after_refresh"`) && strings.Contains(l, sd.key.UserID) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error log line for the lost lease")
			}
			// The thief's own write still works.
			if _, err := f.env.Deps.Store.CompleteLease(context.Background(), after, "thief"); err != nil {
				t.Fatalf("the holder's write: %v", err)
			}
		})
	}
}

// flakyWrites makes the store's final writes fail in the two ways whose
// outcome the writer cannot see: the write lands but its answer is lost
// (lostAnswers), or the write fails before reaching the store (dropped).
type flakyWrites struct {
	refresh.Stores
	lostAnswers atomic.Int64
	dropped     atomic.Int64
}

var errTimeout = errors.New("operation error DynamoDB: PutItem, context deadline exceeded")

func (s *flakyWrites) CompleteLease(ctx context.Context, c store.Connection, owner string) (store.Connection, error) {
	if s.dropped.Add(-1) >= 0 {
		return store.Connection{}, errTimeout
	}
	stored, err := s.Stores.CompleteLease(ctx, c, owner)
	if err == nil && s.lostAnswers.Add(-1) >= 0 {
		return store.Connection{}, errTimeout
	}
	return stored, err
}

// TestWriteWithUnknownOutcomeIsSettled: a final write whose answer was lost
// is recognised as landed by reading the record back (not reported as a
// failure, not written twice), and one that did not land is tried again
// while the lease holds. Microsoft rotates, so either mistake would break
// the next refresh.
func TestWriteWithUnknownOutcomeIsSettled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.env.Clock.Now()
	in := f.enable(integrationSpec{org: "o1", provider: catalog.Microsoft365})
	conns := f.seed(in, "u-", 6, now.Add(-time.Minute))
	flaky := &flakyWrites{Stores: f.env.Deps.Store}
	flaky.lostAnswers.Store(3)
	flaky.dropped.Store(3)
	s := f.service(func(o *refresh.Options) {
		quick(o)
		o.Concurrency = 1
		o.Store = flaky
	})
	if r := f.run(context.Background(), s); r.Refreshed != 6 || r.Errors != 0 || r.LeaseLost != 0 {
		t.Fatalf("run: %+v, want all 6 refreshed despite the lost answers and dropped writes", r)
	}
	f.assertRefreshedOnce(catalog.Microsoft365, conns)
	for _, sd := range conns {
		if c := f.conn(sd.key); c.Version != 3 { // put, claim, one outcome write
			t.Fatalf("%s: version %d, want 3: the outcome was written more than once", sd.key, c.Version)
		}
	}
	// A second round refreshes with the stored (rotated) tokens.
	f.env.Clock.Advance(50 * time.Minute)
	if r := f.run(context.Background(), f.service(nil)); r.Refreshed != 6 || r.NeedsReconnect != 0 {
		t.Fatalf("second round: %+v", r)
	}
}
