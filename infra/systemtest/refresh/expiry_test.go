package refresh_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// TestAssumedExpiryIsOnePolicy: Salesforce sends no expires_in, and when its
// introspection fails the connection's access-token expiry is assumed. The
// callback (connect) and the refresh job assume the same 30 minutes and
// record it the same way: StatusReason access_expiry_assumed, and one
// warning line with the same code and cause.
func TestAssumedExpiryIsOnePolicy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const org, user = "o-assumed", "u-assumed"
	f.enable(integrationSpec{org: org, provider: catalog.Salesforce})
	f.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Salesforce, Kind: fakeprovider.KindIntrospect, Status: 503})
	key := store.ConnKey{OrgID: org, UserID: user, Provider: catalog.Salesforce}

	// Connect through the API and the fake's consent, as a user would.
	resp := f.env.Do("POST", "/v1/orgs/"+org+"/connections/"+catalog.Salesforce, f.env.MemberToken(user, org), map[string]any{"returnTo": localtest.ReturnURL})
	if resp.Status != 201 {
		t.Fatalf("start: %s", resp)
	}
	authURL, _ := resp.Object()["authorizationUrl"].(string)
	if done := f.env.Complete(f.env.MemberToken(user, org), org, f.env.Authorize(authURL)); done.Status != 200 {
		t.Fatalf("complete: %s", done)
	}
	check := func(stage string) store.Connection {
		t.Helper()
		c := f.conn(key)
		now := f.env.Clock.Now()
		if want := now.Add(30 * time.Minute); schedule.AssumedAccessLifetime != 30*time.Minute || !c.AccessExpiresAt.Equal(want) {
			t.Fatalf("%s: accessExpiresAt %v, want %v (30 minutes assumed)", stage, c.AccessExpiresAt, want)
		}
		if c.Status != store.StatusConnected || c.StatusReason != schedule.ReasonExpiryAssumed || c.NextRefreshAt.IsZero() {
			t.Fatalf("%s: status %s reason %q next %v", stage, c.Status, c.StatusReason, c.NextRefreshAt)
		}
		return c
	}
	c := check("after connect")
	if !c.NextRefreshAt.Before(c.AccessExpiresAt) {
		t.Fatalf("next refresh %v is not before the assumed expiry %v", c.NextRefreshAt, c.AccessExpiresAt)
	}

	// The refresh job, when the connection is due: introspection still fails.
	f.env.Clock.Set(c.NextRefreshAt)
	if r := f.run(ctx, f.service(nil)); r.Refreshed != 1 {
		t.Fatalf("run: %+v, want 1 refreshed", r)
	}
	check("after refresh")

	// Both recorded it in the one shape.
	var lines []map[string]any
	for _, l := range f.env.Logs() {
		if !strings.Contains(l, schedule.ReasonExpiryAssumed) || !strings.Contains(l, user) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %s: %v", l, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines record the assumption, want 2 (connect, refresh): %v", len(lines), lines)
	}
	for _, m := range lines {
		if m["level"] != "WARN" || m["code"] != schedule.ReasonExpiryAssumed || m["cause"] != providers.ExpiryIntrospectionFailed ||
			m["orgId"] != org || m["provider"] != catalog.Salesforce || m["assumedSeconds"] != float64(1800) {
			t.Fatalf("log line %v is not the shared record of an assumed expiry", m)
		}
		if m["msg"] != lines[0]["msg"] {
			t.Fatalf("messages differ: %q and %q", m["msg"], lines[0]["msg"])
		}
	}
}
