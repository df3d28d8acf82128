package admin_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// TestSaveCostDoesNotGrowWithTheOrg (issue 18): an admin's save that changes
// what every connection may do (another client, disabled, enabled again)
// makes the same DynamoDB calls for an org of 2,000 connections as for an
// org of 10: nothing is written connection by connection in the request.
// (make bench measures the same at 10,000 with its latency.)
func TestSaveCostDoesNotGrowWithTheOrg(t *testing.T) {
	t.Parallel()
	var calls awscount.Counter
	env := localtest.New(t, localtest.WithAWS(), localtest.WithBuildOptions(app.WithAWSAPIOptions(calls.Middleware)))
	h := &harness{t: t, env: env}
	costs := map[int]map[string]string{}
	for _, size := range []int{10, 2000} {
		org := "org-size-" + strconv.Itoa(size)
		seedOrg(t, env, org, size)
		costs[size] = saveCosts(t, h, org, &calls)
	}
	for _, save := range slices.Sorted(maps.Keys(costs[10])) {
		if costs[10][save] != costs[2000][save] {
			t.Errorf("%s: %s for 10 connections, %s for 2,000", save, costs[10][save], costs[2000][save])
		}
	}
	t.Logf("DynamoDB calls per save: %v", costs[2000])
}

// saveCosts makes the three saves and returns each one's DynamoDB calls by
// operation.
func saveCosts(t *testing.T, h *harness, org string, calls *awscount.Counter) map[string]string {
	t.Helper()
	path := integrationPath(org, catalog.Microsoft365)
	saves := []struct {
		name string
		body map[string]any
	}{
		{"another client", msOrg(msClientID2)},
		{"disabled", map[string]any{"enabled": false, "tenant": contosoTenant, "capabilities": []string{"email"}}},
		{"enabled again", map[string]any{"enabled": true, "tenant": contosoTenant, "capabilities": []string{"email"}}},
	}
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID2, Secret: "fake-client-secret-scale"})
	out := map[string]string{}
	for i, s := range saves {
		calls.Reset()
		start := time.Now()
		resp := h.env.DoHeaders("PUT", path, h.admin(org), s.body, map[string][]string{"If-Match": {`"` + strconv.Itoa(i+1) + `"`}})
		took := time.Since(start)
		if resp.Status != 200 {
			t.Fatalf("%s: %s", s.name, resp)
		}
		var ops []string
		for _, op := range []string{"GetItem", "PutItem", "Query", "UpdateItem", "TransactWriteItems", "DeleteItem", "BatchWriteItem"} {
			if n := calls.Calls("DynamoDB", op); n > 0 {
				ops = append(ops, fmt.Sprintf("%s %d", op, n))
			}
		}
		out[s.name] = strings.Join(ops, ", ")
		t.Logf("%s: %s: %s in %v", org, s.name, out[s.name], took.Round(time.Millisecond))
	}
	return out
}

// seedOrg enables Microsoft 365 for org with the default client and stores
// n connections of it: one through the store port, the rest copies of its
// item written in batches.
func seedOrg(t testing.TB, env *localtest.Env, org string, n int) {
	t.Helper()
	ctx := context.Background()
	resp := env.Do("PUT", integrationPath(org, catalog.Microsoft365), env.AdminToken("u-admin-"+org, org),
		map[string]any{"enabled": true, "tenant": contosoTenant, "capabilities": []string{"email"}})
	if resp.Status != 201 {
		t.Fatalf("enable: %s", resp)
	}
	now := env.Clock.Now()
	tmpl := store.Connection{
		ConnKey: store.ConnKey{OrgID: org, UserID: "user-tmpl", Provider: catalog.Microsoft365},
		Status:  store.StatusConnected, ClientRef: store.ConfigModeDefault, Account: store.Account{ID: "acct-user-tmpl"},
		ConnectedAt: now, UpdatedAt: now, NextRefreshAt: now.Add(time.Hour),
	}
	if _, err := env.Deps.Store.PutConnection(ctx, tmpl, 0); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(moto.Config(t))
	table := env.Config.TableName
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		dynamostore.AttrPK: &types.AttributeValueMemberS{Value: "USER#" + org + "#user-tmpl"},
		dynamostore.AttrSK: &types.AttributeValueMemberS{Value: "CONN#" + catalog.Microsoft365},
	}})
	if err != nil || len(got.Item) == 0 {
		t.Fatalf("template item: %v", err)
	}
	items := make([]map[string]types.AttributeValue, 0, n-1)
	for i := 1; i < n; i++ {
		items = append(items, moto.CopyItem(got.Item, "user-tmpl", fmt.Sprintf("user-%06d", i)))
	}
	moto.PutItems(t, db, table, items)
}

// BenchmarkAdminSaveAtScale: the three saves against an org of 10,000
// connections on moto_server (make bench): latency per save (moto's, which
// grows with its table; DynamoDB's does not) and DynamoDB calls per save,
// which must be those of an org of 10.
//
//	go test -tags moto -run '^$' -bench BenchmarkAdminSaveAtScale -benchtime 1x ./infra/systemtest/admin/
func BenchmarkAdminSaveAtScale(b *testing.B) {
	var calls awscount.Counter
	env := localtest.New(b, localtest.WithAWS(), localtest.WithBuildOptions(app.WithAWSAPIOptions(calls.Middleware)))
	const size = 10_000
	org := "org-bench-scale"
	seedOrg(b, env, org, size)
	admin := env.AdminToken("u-admin-"+org, org)
	path := integrationPath(org, catalog.Microsoft365)
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID2, Secret: "fake-client-secret-scale"})
	bodies := []map[string]any{
		msOrg(msClientID2),
		{"enabled": false, "tenant": contosoTenant, "capabilities": []string{"email"}},
		{"enabled": true, "tenant": contosoTenant, "capabilities": []string{"email"}},
	}
	version := 1
	var total time.Duration
	saves := 0
	calls.Reset()
	for b.Loop() {
		for _, body := range bodies {
			start := time.Now()
			resp := env.DoHeaders("PUT", path, admin, body, map[string][]string{"If-Match": {`"` + strconv.Itoa(version) + `"`}})
			total += time.Since(start)
			if resp.Status != 200 {
				b.Fatalf("save: %s", resp)
			}
			version++
			saves++
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(saves), "ms/save")
	b.ReportMetric(float64(calls.Calls("DynamoDB", ""))/float64(saves), "dynamodb-calls/save")
	b.ReportMetric(size, "connections")
	b.ReportMetric(0, "ns/op")
}
