package refresh_test

import (
	"context"
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
		check(sd.key, store.StatusConnected, refresh.ReasonProviderDisabled)
	}
	check(chg[0].key, store.StatusNeedsReconnect, refresh.ReasonClientChanged)
	if c := f.conn(chg[0].key); c.StatusReason != refresh.ReasonClientChanged || c.LastError == nil || c.LastError.Code != refresh.CodeClientChanged {
		t.Fatalf("client changed: %+v", c)
	}
	check(c.ConnKey, store.StatusConnected, refresh.ReasonProviderDisabled)
	check(notOffered[0].key, store.StatusConnected, refresh.ReasonProviderUnavailable)

	if r := f.run(ctx, s); r.Due != 0 {
		t.Fatalf("a second run found %d due", r.Due)
	}

	// Enabled again: Reinstate puts both back, due now; the next run refreshes them.
	disabled.Enabled = true
	if _, err := f.env.Deps.Store.PutIntegration(ctx, disabled, disabled.Version); err != nil {
		t.Fatal(err)
	}
	n, err := s.Reinstate(ctx, "o-disabled", catalog.GoogleWorkspace)
	if err != nil || n != 2 {
		t.Fatalf("Reinstate = %d, %v; want 2", n, err)
	}
	if r := f.run(ctx, s); r.Refreshed != 2 {
		t.Fatalf("after reinstating: %+v, want 2 refreshed", r)
	}
	f.assertRefreshedOnce(catalog.GoogleWorkspace, dis)
}
