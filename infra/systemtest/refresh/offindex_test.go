package refresh_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// TestNotRefreshableLeavesTheIndex: connections whose provider is disabled
// for the org, whose org has no integration, whose provider the deployment
// does not offer, or whose integration now uses another client are not
// refreshed (the fake sees no call) and leave the due-index with their
// reason, their status kept (a client change is derived: the listing asks
// the user to reconnect while it holds). Jobs put them back once the reason
// is gone: the provider enabled again (the admin's save enqueues it), the
// provider offered again (the run notices it), the client restored.
func TestNotRefreshableLeavesTheIndex(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	due := f.env.Clock.Now().Add(-time.Minute)
	ctx := context.Background()

	disabled := f.enable(integrationSpec{org: "o-disabled", provider: catalog.GoogleWorkspace})
	dis := f.seed(disabled, "u-", 2, due)
	disabled.Enabled = false
	disabled, err := f.env.Deps.Store.PutIntegration(ctx, disabled, disabled.Version)
	if err != nil {
		t.Fatal(err)
	}

	changed := f.enable(integrationSpec{org: "o-changed", provider: catalog.Microsoft365})
	chg := f.seed(changed, "u-", 1, due)
	// A connection of an org that has no integration (written with another
	// org's grant: only the record matters).
	orphan := f.seed(changed, "orphan-", 1, due)[0]
	c := f.conn(orphan.key)
	tok := f.tokens(c)
	if err := f.env.Deps.Store.DeleteConnection(ctx, orphan.key); err != nil {
		t.Fatal(err)
	}
	c.OrgID, c.Version = "o-none", 0
	if c.SealedTokens, c.TokenKeyID, err = f.env.Deps.Tokens.SealToken(ctx, c.ConnKey, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.env.Deps.Store.PutConnection(ctx, c, 0); err != nil {
		t.Fatal(err)
	}

	f.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: "99999999-2222-3333-4444-555555555555", Secret: "fake-client-secret-2"})
	changed.ConfigMode, changed.ClientID = store.ConfigModeOrganization, "99999999-2222-3333-4444-555555555555"
	if _, err := f.env.Deps.Store.PutIntegration(ctx, changed, changed.Version); err != nil {
		t.Fatal(err)
	}

	offered := f.enable(integrationSpec{org: "o-sf", provider: catalog.Salesforce})
	notOffered := f.seed(offered, "u-", 1, due)

	f.env.Fake.ResetCounts()
	s := f.service(func(o *refresh.Options) {
		o.AvailableProviders = []string{catalog.Microsoft365, catalog.GoogleWorkspace}
	})
	r := f.run(ctx, s)
	if r.OffIndex != 5 || r.Refreshed != 0 {
		t.Fatalf("run: %+v, want 5 taken off the index and none refreshed", r)
	}
	if n := f.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh}); n != 0 {
		t.Fatalf("the fake received %d refreshes for connections that must not refresh", n)
	}
	check := func(k store.ConnKey, status, reason string) {
		t.Helper()
		c := f.conn(k)
		if c.Status != status || !c.NextRefreshAt.IsZero() || c.OffIndexReason != reason || c.LeaseOwner != "" {
			t.Fatalf("%s: %s next %v off-index %q lease %q; want %s off-index %q", k, c.Status, c.NextRefreshAt, c.OffIndexReason, c.LeaseOwner, status, reason)
		}
	}
	for _, sd := range dis {
		check(sd.key, store.StatusConnected, store.ReasonProviderDisabled)
	}
	check(chg[0].key, store.StatusConnected, store.ReasonClientChanged)
	if c := f.conn(chg[0].key); c.StatusReason != "" || c.LastError != nil {
		t.Fatalf("client changed: the status was written: %+v", c)
	}
	check(c.ConnKey, store.StatusConnected, store.ReasonProviderDisabled)
	check(notOffered[0].key, store.StatusConnected, store.ReasonProviderUnavailable)

	if r := f.run(ctx, s); r.Due != 0 || r.Reinstated != 0 {
		t.Fatalf("a second run: %+v, want nothing due or put back", r)
	}

	// Enabled again, as the admin's save does it: the integration, and a
	// job; the next run puts both back, due now, and refreshes them.
	disabled.Enabled = true
	if _, err := f.env.Deps.Store.PutIntegration(ctx, disabled, disabled.Version); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Deps.Store.EnqueueJob(ctx, store.ReinstateJob("o-disabled", catalog.GoogleWorkspace, f.env.Clock.Now(), store.ReasonProviderDisabled)); err != nil {
		t.Fatal(err)
	}
	if r := f.run(ctx, s); r.Reinstated != 2 || r.Refreshed != 2 {
		t.Fatalf("after enabling again: %+v, want 2 put back and refreshed", r)
	}
	f.assertRefreshedOnce(catalog.GoogleWorkspace, dis)

	// The deployment offers Salesforce again: the run notices it by itself.
	all := f.service(nil)
	if r := f.run(ctx, all); r.Reinstated != 1 || r.Refreshed != 1 {
		t.Fatalf("with Salesforce offered again: %+v, want 1 put back and refreshed", r)
	}
	if c := f.conn(notOffered[0].key); c.NextRefreshAt.IsZero() || c.OffIndexReason != "" || c.LastRefreshAt.IsZero() {
		t.Fatalf("offered again: %+v", c)
	}

	// The org's previous client restored (and a job, as the save asks):
	// the connection is back, no reconnect.
	restored, err := f.env.Deps.Store.GetIntegration(ctx, "o-changed", catalog.Microsoft365)
	if err != nil {
		t.Fatal(err)
	}
	restored.ConfigMode, restored.ClientID = store.ConfigModeDefault, ""
	if _, err := f.env.Deps.Store.PutIntegration(ctx, restored, restored.Version); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Deps.Store.EnqueueJob(ctx, store.ReinstateJob("o-changed", catalog.Microsoft365, f.env.Clock.Now(), store.ReasonClientChanged)); err != nil {
		t.Fatal(err)
	}
	if r := f.run(ctx, all); r.Reinstated != 1 || r.Refreshed != 1 {
		t.Fatalf("with the client restored: %+v, want 1 put back and refreshed", r)
	}
	if jobs, err := f.env.Deps.Store.ListJobs(ctx, 0); err != nil || len(jobs) != 0 {
		t.Fatalf("jobs left: %+v %v", jobs, err)
	}
}

// TestReinstatementWalksAHeldLeaseAgain: an attempt that read the
// integration while it was disabled holds the lease when the provider is
// enabled again, and takes the connection off the index after the job has
// walked past it. The job does not write under the lease; it walks again at
// the next run, which puts the connection back on what the holder wrote.
func TestReinstatementWalksAHeldLeaseAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := f.env.Clock.Now()
	in := f.enable(integrationSpec{org: "o-held", provider: catalog.GoogleWorkspace})
	sd := f.seed(in, "u-", 1, now.Add(-time.Minute))[0]
	st := f.env.Deps.Store
	// Off the index while the provider was disabled.
	c := f.conn(sd.key)
	c.NextRefreshAt, c.OffIndexReason = time.Time{}, store.ReasonProviderDisabled
	if _, err := st.PutConnection(ctx, c, c.Version); err != nil {
		t.Fatal(err)
	}

	// The holder claims, as an on-demand use would, and reads "disabled".
	claimed, err := st.ClaimLease(ctx, sd.key, "ondemand-stale", now, now.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueJob(ctx, store.ReinstateJob("o-held", catalog.GoogleWorkspace, now, store.ReasonProviderDisabled)); err != nil {
		t.Fatal(err)
	}
	s := f.service(nil)
	if r := f.run(ctx, s); r.Reinstated != 0 {
		t.Fatalf("the job wrote under a held lease: %+v", r)
	}
	if _, err := st.CompleteLease(ctx, claimed, "ondemand-stale"); err != nil {
		t.Fatalf("the holder's write was refused: %v", err)
	}
	if r := f.run(ctx, s); r.Reinstated != 1 || r.Refreshed != 1 {
		t.Fatalf("the next run: %+v, want the job to put it back and refresh it", r)
	}
	if jobs, err := st.ListJobs(ctx, 0); err != nil || len(jobs) != 0 {
		t.Fatalf("jobs left: %+v %v", jobs, err)
	}
}

// enablingStore plays an admin enabling the provider right after a run read
// (and cached) the integration as disabled.
type enablingStore struct {
	refresh.Stores
	once sync.Once
	put  func(store.Integration) error
}

func (e *enablingStore) GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error) {
	in, err := e.Stores.GetIntegration(ctx, orgID, provider)
	if err == nil && !in.Enabled {
		e.once.Do(func() {
			on := in
			on.Enabled = true
			err = e.put(on)
		})
	}
	return in, err
}

// TestStaleGateNeverTakesAConnectionOff: a run caches each integration; a
// cached "disabled" (or another client) must not take connections off the
// index when the integration changed since: the attempt reads it again
// first.
func TestStaleGateNeverTakesAConnectionOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	in := f.enable(integrationSpec{org: "o-stale", provider: catalog.GoogleWorkspace})
	conns := f.seed(in, "u-", 3, f.env.Clock.Now().Add(-time.Minute))
	in.Enabled = false
	in, err := f.env.Deps.Store.PutIntegration(ctx, in, in.Version)
	if err != nil {
		t.Fatal(err)
	}
	wrapped := &enablingStore{Stores: f.env.Deps.Store, put: func(on store.Integration) error {
		_, err := f.env.Deps.Store.PutIntegration(ctx, on, on.Version)
		return err
	}}
	f.env.Fake.ResetCounts()
	s := f.service(func(o *refresh.Options) { o.Store = wrapped; o.Concurrency = 1 })
	if r := f.run(ctx, s); r.Refreshed != 3 || r.OffIndex != 0 {
		t.Fatalf("run: %+v, want all 3 refreshed (the integration was enabled after the run first read it)", r)
	}
	f.assertRefreshedOnce(catalog.GoogleWorkspace, conns)
}
