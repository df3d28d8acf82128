package admin_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// TestReenablingPutsConnectionsBack, end to end (admin API, OAuth connect,
// RefreshFunction through the Invoke API, the fake provider's counters), on
// the embedded store and on DynamoDB: a provider disabled for the org takes
// its connections off the due-index at the next run (provider_disabled, no
// refresh at the provider); enabling it again with the same client asks the
// next run to put them back, which refreshes them. Enabling it with another
// client leaves them off (client_changed, derived), and nothing is
// refreshed.
func TestReenablingPutsConnectionsBack(t *testing.T) {
	for _, b := range []struct {
		name string
		opts []localtest.Option
	}{{"embedded", nil}, {"dynamodb", []localtest.Option{localtest.WithAWS()}}} {
		t.Run(b.name, func(t *testing.T) {
			if b.name == "dynamodb" && testing.Short() {
				t.Skip("moto_server scenarios skipped in -short mode")
			}
			reenable(t, newHarness(t, b.opts...))
		})
	}
}

func reenable(t *testing.T, h *harness) {
	ctx := context.Background()
	env := h.env
	const org, user = "org-reenable", "u-carol"
	email := fakeprovider.DefaultGoogleUser
	key := store.ConnKey{OrgID: org, UserID: user, Provider: catalog.GoogleWorkspace}
	path := integrationPath(org, catalog.GoogleWorkspace)
	settings := func(enabled bool) map[string]any {
		return map[string]any{"enabled": enabled, "configMode": "default", "capabilities": []string{"email"}}
	}
	conn := func() store.Connection {
		t.Helper()
		c, err := env.Deps.Store.GetConnection(ctx, key)
		if err != nil {
			t.Fatalf("read connection: %v", err)
		}
		return c
	}
	refreshes := func(o fakeprovider.Outcome) int {
		return env.Fake.Count(fakeprovider.Filter{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRefresh, User: email, Outcome: o})
	}
	run := func() refresh.Result {
		t.Helper()
		out, err := env.InvokeRefresh(ctx)
		if err != nil {
			t.Fatalf("RefreshFunction: %v", err)
		}
		var r refresh.Result
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("refresh result %s: %v", out, err)
		}
		return r
	}

	want(t, h.do(t, "PUT", path, h.admin(org), settings(true), nil), 201, "")
	start := h.do(t, "POST", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, env.MemberToken(user, org),
		map[string]any{"returnTo": localtest.ReturnURL, "loginHint": email}, nil)
	want(t, start, 201, "")
	authURL, _ := start.Object()["authorizationUrl"].(string)
	if done := env.Complete(env.MemberToken(user, org), org, env.Authorize(authURL)); done.Status != 200 {
		t.Fatalf("connect: %s", done)
	}
	connected := conn()
	if connected.Status != store.StatusConnected || connected.NextRefreshAt.IsZero() {
		t.Fatalf("after connect: %+v", connected)
	}

	// Disabled; the next run, once the connection is due, takes it off the
	// index without asking the provider.
	want(t, h.do(t, "PUT", path, h.admin(org), settings(false), ifMatch(`"1"`)), 200, "")
	env.Clock.Set(connected.NextRefreshAt.Add(time.Minute))
	env.Fake.ResetCounts()
	if r := run(); r.OffIndex != 1 || r.Refreshed != 0 {
		t.Fatalf("run while disabled: %+v, want 1 taken off the index", r)
	}
	if c := conn(); c.Status != store.StatusConnected || !c.NextRefreshAt.IsZero() || c.OffIndexReason != store.ReasonProviderDisabled {
		t.Fatalf("while disabled: status %s next %v off-index %q", c.Status, c.NextRefreshAt, c.OffIndexReason)
	}
	if r := run(); r.Due != 0 {
		t.Fatalf("a second run found %d due", r.Due)
	}
	if n := env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh}); n != 0 {
		t.Fatalf("the fake received %d refreshes while the provider was disabled", n)
	}

	// Enabled again with the same client: the save writes no connection
	// (it asks the refresh runs to); the next run puts it back on the
	// index, due now, and refreshes it.
	before := conn()
	want(t, h.do(t, "PUT", path, h.admin(org), settings(true), ifMatch(`"2"`)), 200, "")
	if c := conn(); c.Version != before.Version {
		t.Fatalf("the enabling save wrote the connection: %+v", c)
	}
	if r := run(); r.Reinstated != 1 || r.Refreshed != 1 || r.OffIndex != 0 {
		t.Fatalf("run after enabling: %+v, want 1 put back and refreshed", r)
	}
	if ok, all := refreshes(fakeprovider.OutcomeOK), refreshes(""); ok != 1 || all != 1 {
		t.Fatalf("refreshes at the fake: %d ok of %d, want exactly 1", ok, all)
	}
	c := conn()
	if c.Status != store.StatusConnected || !c.LastRefreshAt.Equal(env.Clock.Now()) || !c.NextRefreshAt.After(env.Clock.Now()) {
		t.Fatalf("after the refresh: status %s lastRefresh %v next %v", c.Status, c.LastRefreshAt, c.NextRefreshAt)
	}
	var list struct {
		Connections []struct{ Provider, Status string }
	}
	if err := h.do(t, "GET", "/v1/orgs/"+org+"/connections", env.MemberToken(user, org), nil, nil).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list.Connections) != 1 || list.Connections[0].Status != store.StatusConnected {
		t.Fatalf("the user's list: %+v", list.Connections)
	}

	// Disabled again, taken off again; enabled with the org's own client:
	// the tokens were issued by the default client, so the user must
	// reconnect, and nothing is refreshed.
	want(t, h.do(t, "PUT", path, h.admin(org), settings(false), ifMatch(`"3"`)), 200, "")
	env.Clock.Set(c.NextRefreshAt.Add(time.Minute))
	if r := run(); r.OffIndex != 1 {
		t.Fatalf("run while disabled again: %+v", r)
	}
	secret := h.plant()
	orgClient := "123456789012-reenable0123456789abcdefghij.apps.googleusercontent.com"
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.GoogleWorkspace, ClientID: orgClient, Secret: secret})
	want(t, h.do(t, "PUT", path+"/client-secret", h.admin(org), map[string]string{"clientSecret": secret}, nil), 200, "")
	body := settings(true)
	body["configMode"], body["clientId"] = "organization", orgClient
	resp := h.do(t, "PUT", path, h.admin(org), body, ifMatch(`"5"`))
	want(t, resp, 200, "")
	env.Fake.ResetCounts()
	if r := run(); r.Due != 0 || r.Reinstated != 0 {
		t.Fatalf("run after the client change: %+v, want nothing due or put back", r)
	}
	// Kept off, now for the client change (the user is told to reconnect;
	// restoring the default client would restore it).
	if c := conn(); c.Status != store.StatusConnected || !c.NextRefreshAt.IsZero() || c.OffIndexReason != store.ReasonClientChanged {
		t.Fatalf("enabled with another client: status %s reason %s next %v off-index %q", c.Status, c.StatusReason, c.NextRefreshAt, c.OffIndexReason)
	}
	if n := env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh}); n != 0 {
		t.Fatalf("the fake received %d refreshes after the client change", n)
	}
}
