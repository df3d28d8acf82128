package refresh_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// TestConcurrentRunsEmitEachEventOnce: 8 refresh runs at once over two
// orgs' due connections, one org's refreshes refused with invalid_grant:
// each of those connections becomes needs_reconnect, and the bus gets
// exactly one Connection Needs Reconnect for each, whichever run wrote it,
// and nothing for the connections refreshed (issue 16, "exactly once per
// state change, including under the 8-concurrent-refresh-runs test").
// Runs that lost a lease wrote nothing, so the table's stream, and the
// bus, have nothing from them.
func TestConcurrentRunsEmitEachEventOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			n := b.size(150, 0.2) // per org
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			ok := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
			refused := f.enable(integrationSpec{org: "o2", provider: catalog.GoogleWorkspace, orgClient: true})
			f.seed(ok, "u-", n, now.Add(-time.Minute))
			failing := f.seed(refused, "u-", n, now.Add(-time.Minute))
			f.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRefresh,
				ClientID: orgClientID(catalog.GoogleWorkspace, "o2"), Error: fakeprovider.ErrInvalidGrant})
			before := f.env.Events() // the integrations enabled, the connections seeded
			if c, e := len(localtest.EventsOf(t, before, events.ConnectionConnected)), len(localtest.EventsOf(t, before, events.IntegrationEnabled)); c != 2*n || e != 2 || len(before) != 2*n+2 {
				t.Fatalf("after seeding: %d events, %d Connected, %d Enabled; want %d Connected and 2 Enabled", len(before), c, e, 2*n)
			}

			results := make([]refresh.Result, 8)
			var wg sync.WaitGroup
			for i := range results {
				s := f.service(nil)
				wg.Go(func() { results[i] = f.run(context.Background(), s) })
			}
			wg.Wait()
			var refreshed, marked int
			for _, r := range results {
				refreshed += r.Refreshed
				marked += r.NeedsReconnect
			}
			if refreshed != n || marked != n {
				t.Fatalf("runs refreshed %d and marked %d, want %d each: %+v", refreshed, marked, n, results)
			}

			all := f.env.Events()
			added := all[len(before):]
			nr := localtest.EventsOf(t, added, events.ConnectionNeedsReconnect)
			if len(nr) != n || len(added) != n {
				t.Fatalf("the runs added %d events, %d of them Needs Reconnect; want exactly %d Needs Reconnect: %v",
					len(added), len(nr), n, localtest.Summary(t, added))
			}
			perUser, ids := map[string]int{}, map[string]bool{}
			for _, d := range nr {
				perUser[d.OrgID+"/"+d.UserID]++
				if ids[d.EventID] {
					t.Errorf("event id %s twice", d.EventID)
				}
				ids[d.EventID] = true
				if d.Cause == "" || d.Owner != events.OwnerUser || d.Provider != catalog.GoogleWorkspace {
					t.Errorf("needs reconnect %+v", d)
				}
			}
			for _, s := range failing {
				if c := f.conn(s.key); c.Status != store.StatusNeedsReconnect {
					t.Fatalf("%s: %s", s.key, c.Status)
				}
				if got := perUser[s.key.OrgID+"/"+s.key.UserID]; got != 1 {
					t.Errorf("%s: %d Needs Reconnect events, want 1", s.key, got)
				}
			}
			// Later runs change nothing, and publish nothing.
			f.run(context.Background(), f.service(nil))
			if again := f.env.Events(); len(again) != len(all) {
				t.Errorf("a later run: %d events, want still %d", len(again), len(all))
			}
			t.Logf("%d connections per org: %s", n, fmt.Sprint(len(all), " events"))
		})
	}
}
