package refresh_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
)

// TestRefreshFunctionThroughTheInvokeAPI runs RefreshFunction as Lambda
// would (the local server's Invoke API, the EventBridge scheduled event, the
// function's own handler from package app) and checks the result it returns
// and logs.
func TestRefreshFunctionThroughTheInvokeAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.env.Clock.Now()
	in := f.enable(integrationSpec{org: "o1", provider: catalog.Salesforce})
	conns := f.seed(in, "u-", 5, now.Add(-time.Minute))

	out, err := f.env.InvokeRefresh(context.Background())
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("result %s: %v", out, err)
	}
	for _, k := range []string{"due", "claimed", "refreshed", "needsReconnect", "transientFailures", "skipped", "leftForNextRun", "durationMs"} {
		if _, ok := res[k].(float64); !ok {
			t.Errorf("result has no number %q: %s", k, out)
		}
	}
	if res["due"] != 5.0 || res["refreshed"] != 5.0 || res["claimed"] != 5.0 {
		t.Fatalf("result %s, want 5 due, claimed and refreshed", out)
	}
	f.assertRefreshedOnce(catalog.Salesforce, conns)
	// Salesforce sends no expires_in: the expiry came from introspection.
	for _, sd := range conns {
		if c := f.conn(sd.key); c.StatusReason != "" || !c.AccessExpiresAt.After(f.env.Clock.Now()) {
			t.Fatalf("%s: expiry %v reason %q", sd.key, c.AccessExpiresAt, c.StatusReason)
		}
	}
	if !slices.ContainsFunc(f.env.Logs(), func(l string) bool {
		return strings.Contains(l, `"msg":"refresh run"`) && strings.Contains(l, `"refreshed":5`)
	}) {
		t.Fatal("the run's result was not logged")
	}
}
