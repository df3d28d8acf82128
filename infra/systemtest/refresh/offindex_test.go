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
// reason; client_changed also asks the user to reconnect. Re-enabling the
// provider and Reinstate put the disabled ones back.
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
	check(chg[0].key, store.StatusNeedsReconnect, store.ReasonClientChanged)
	if c := f.conn(chg[0].key); c.StatusReason != store.ReasonClientChanged || c.LastError == nil || c.LastError.Code != refresh.CodeClientChanged {
		t.Fatalf("client changed: %+v", c)
	}
	check(c.ConnKey, store.StatusConnected, store.ReasonProviderDisabled)
	check(notOffered[0].key, store.StatusConnected, store.ReasonProviderUnavailable)

	if r := f.run(ctx, s); r.Due != 0 {
		t.Fatalf("a second run found %d due", r.Due)
	}

	// Enabled again: Reinstate puts both back, due now; the next run refreshes them.
	disabled.Enabled = true
	if _, err := f.env.Deps.Store.PutIntegration(ctx, disabled, disabled.Version); err != nil {
		t.Fatal(err)
	}
	n, err := store.Reinstate(ctx, f.env.Deps.Store, "o-disabled", catalog.GoogleWorkspace, f.env.Clock.Now)
	if err != nil || n != 2 {
		t.Fatalf("Reinstate = %d, %v; want 2", n, err)
	}
	if r := f.run(ctx, s); r.Refreshed != 2 {
		t.Fatalf("after reinstating: %+v, want 2 refreshed", r)
	}
	f.assertRefreshedOnce(catalog.GoogleWorkspace, dis)
}

// TestReinstateWaitsForAHeldLease: an attempt that read the integration
// while it was disabled holds the lease when the provider is enabled again,
// and takes the connection off the index after Reinstate has walked past
// it. Reinstate does not write under the lease; it waits for the holder and
// puts the connection back on what the holder wrote.
func TestReinstateWaitsForAHeldLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	now := f.env.Clock.Now()
	in := f.enable(integrationSpec{org: "o-held", provider: catalog.GoogleWorkspace})
	sd := f.seed(in, "u-", 1, now.Add(-time.Minute))[0]
	st := f.env.Deps.Store

	// The holder claims, as a run's worker would, and reads "disabled".
	claimed, err := st.ClaimLease(ctx, sd.key, "run-stale", now, now.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var n int
	var rerr error
	go func() {
		defer close(done)
		n, rerr = store.Reinstate(ctx, st, "o-held", catalog.GoogleWorkspace, f.env.Clock.Now)
	}()
	time.Sleep(150 * time.Millisecond) // Reinstate has walked past it
	off := claimed
	off.NextRefreshAt, off.OffIndexReason = time.Time{}, store.ReasonProviderDisabled
	if _, err := st.CompleteLease(ctx, off, "run-stale"); err != nil {
		t.Fatalf("the holder's write was refused: %v", err)
	}
	<-done
	if rerr != nil || n != 1 {
		t.Fatalf("Reinstate = %d, %v; want 1 (after the holder released it)", n, rerr)
	}
	if c := f.conn(sd.key); !c.NextRefreshAt.Equal(now) || c.OffIndexReason != "" || c.LeaseOwner != "" {
		t.Fatalf("after Reinstate: next %v off-index %q lease %q", c.NextRefreshAt, c.OffIndexReason, c.LeaseOwner)
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
