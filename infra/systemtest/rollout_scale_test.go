package systemtest_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store/awscount"
)

// rolloutConnections sizes TestRolloutViewCost. The README's figure is
// measured with -rollout.connections=10000 (about a minute on moto_server);
// make test runs 250 in pages of 100 (-rollout.page): the bound below is
// about pages, and three pages prove it as well as ten do.
var (
	rolloutConnections = flag.Int("rollout.connections", 250, "connections of the org in TestRolloutViewCost")
	rolloutPage        = flag.Int("rollout.page", 100, "the rollout view's page size in TestRolloutViewCost (0: the service's own)")
)

// TestRolloutViewCost measures the rollout view of an org with
// -rollout.connections connections of one provider on the AWS adapters
// (moto_server), counted at the SDK, and holds it to its bound: the org's
// connections are read through the ByProvider index in pages of
// admin.RolloutPageSize (each item once, plus one look-ahead per page), and
// nothing of another org. The org's connections are copies of one made
// through the real flow (real sealed tokens, so real item sizes), beside a
// fifth as many of another org.
//
// Not parallel: moto_server is one Python process per test binary, and
// its Query sorts the whole table, so while this test's thousands of items
// are read every other test's calls would queue behind them.
func TestRolloutViewCost(t *testing.T) {
	var calls awscount.Counter
	w := newWorld(t, localtest.WithAWS(), localtest.WithClock(morning), localtest.WithBuildOptions(app.WithAWSAPIOptions(calls.Middleware)))
	const org, provider = "org-scale", catalog.GoogleWorkspace
	n := *rolloutConnections
	pilot := integrationBody(provider)
	pilot["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot"}}
	want(t, w.do(t, "PUT", integrationPath(org, provider), w.admin(org), pilot, nil), 201, "")
	tok := w.env.Token("u-template", org, nil, []string{"pilot"})
	want(t, w.completeWith(t, org, tok, pending(t, w.callback(t, w.toCallback(t, w.start(t, org, tok, provider, ""))))), 200, "")
	w.enable(t, "org-noise", provider)
	w.connect(t, "org-noise", "u-template", provider, "")

	var tmpl, noise map[string]types.AttributeValue
	for _, it := range w.env.ScanTable() {
		switch pk := strAttr(it, "PK"); {
		case pk == "USER#"+org+"#u-template":
			tmpl = it
		case pk == "USER#org-noise#u-template":
			noise = it
		}
	}
	if tmpl == nil || noise == nil {
		t.Fatal("template connections not found")
	}
	var items []map[string]types.AttributeValue
	for i := range n - 1 {
		items = append(items, moto.CopyItem(tmpl, "u-template", fmt.Sprintf("u-%05d", i)))
	}
	for i := range n / 5 {
		items = append(items, moto.CopyItem(noise, "u-template", fmt.Sprintf("u-%05d", i)))
	}
	begin := time.Now()
	moto.PutItems(t, dynamodb.NewFromConfig(moto.Config(t)), w.env.Config.TableName, items)
	t.Logf("seeded %d items in %v", len(items), time.Since(begin).Round(time.Millisecond))

	// The service itself, on the functions' own AWS adapters (counted at
	// the SDK): through the emulated Lambda, moto_server's pace (it sorts
	// the whole table for every Query) would outlast AdminFunction's
	// timeout, which DynamoDB's would not.
	svc, err := admin.New(admin.Options{Catalog: w.env.Deps.Catalog, Store: w.env.Deps.Store, Secrets: w.env.Deps.Secrets, Now: w.env.Clock.Now, RolloutPageSize: *rolloutPage})
	if err != nil {
		t.Fatal(err)
	}
	calls.Reset()
	begin = time.Now()
	v, err := svc.Rollout(t.Context(), org, provider)
	took := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	if v.Connections != n || v.InRolloutConnected != n {
		t.Fatalf("counted %d connections (%d in the rollout), want %d", v.Connections, v.InRolloutConnected, n)
	}
	queries, read, returned := calls.Calls("DynamoDB", "Query"), calls.Scanned("DynamoDB", "Query"), calls.Returned("DynamoDB", "Query")
	gets, total := calls.Calls("DynamoDB", "GetItem"), calls.Total()
	t.Logf("rollout view of %d connections: %d DynamoDB calls (%d Query reading %d items, %d returned; %d GetItem), %v on moto_server; %s",
		n, total, queries, read, returned, gets, took.Round(time.Millisecond), calls.String())
	// Only the org's connections (and its attempts, none here) are read,
	// each once plus one look-ahead per page: never the other org's, never
	// a scan.
	pageSize := *rolloutPage
	if pageSize <= 0 {
		pageSize = admin.RolloutPageSize
	}
	pages := n/pageSize + 1
	if read > int64(n+pages) || returned > int64(n+pages) || calls.Calls("DynamoDB", "Scan") != 0 {
		t.Fatalf("read %d items for %d connections (bound %d)", read, n, n+pages)
	}
	// A page of 1,000 may take more than one call (DynamoDB's 1 MB per
	// call), and the attempts are one more.
	if queries > 3*pages+1 || gets != 2 {
		t.Fatalf("%d Query and %d GetItem calls for %d connections", queries, gets, n)
	}
}
