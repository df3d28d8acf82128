package refresh_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// countingStore is the DynamoDB adapter on the environment's table with
// every API call counted, and the items each Query read.
func countingStore(t testing.TB, f *fixture) (*dynamostore.Store, *dynamodb.Client, *awscount.Counter) {
	t.Helper()
	calls := &awscount.Counter{}
	cfg := moto.Config(t)
	calls.Attach(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	return dynamostore.New(db, f.env.Config.TableName), db, calls
}

// fill stores n connections that are not due: half on the due-index later
// than the run looks, half off it. No run may read them. Writing them one
// PutItem at a time is slow on moto_server, so two are written through the
// store port and the rest are copies of their items (the user id replaced
// in every string attribute), written with BatchWriteItem. The copies share
// the template's due-index shard, which only changes how writes would
// spread, not what a due query reads.
func fill(t testing.TB, f *fixture, db *dynamodb.Client, st store.Connections, n int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	table := f.env.Config.TableName
	templates := map[string]store.Connection{
		"idle-tmpl-on":  {NextRefreshAt: now.Add(30 * 24 * time.Hour)},
		"idle-tmpl-off": {OffIndexReason: store.ReasonNeedsReconnect},
	}
	for user, c := range templates {
		c.ConnKey = store.ConnKey{OrgID: "org-idle", UserID: user, Provider: catalog.Microsoft365}
		c.Status, c.ClientRef, c.UpdatedAt = store.StatusConnected, store.ConfigModeDefault, now
		if _, err := st.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
	}
	items := map[string]map[string]types.AttributeValue{}
	var start map[string]types.AttributeValue
	for {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &table, ExclusiveStartKey: start})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			if pk, ok := it[dynamostore.AttrPK].(*types.AttributeValueMemberS); ok {
				for user := range templates {
					if strings.Contains(pk.Value, user) {
						items[user] = it
					}
				}
			}
		}
		if start = out.LastEvaluatedKey; start == nil {
			break
		}
	}
	if len(items) != len(templates) {
		t.Fatalf("fill: found %d of %d template items", len(items), len(templates))
	}
	copies := make([]map[string]types.AttributeValue, 0, n)
	for i := range n {
		user := "idle-tmpl-on"
		if i%2 == 1 {
			user = "idle-tmpl-off"
		}
		copies = append(copies, moto.CopyItem(items[user], user, fmt.Sprintf("idle-%06d", i)))
	}
	moto.PutItems(t, db, table, copies)
}

// TestRunReadsOnlyWhatIsDue: with 2,000 connections stored and 100 due, a
// run's due-index reads (ScannedCount over every Query page DynamoDB
// returns) are at most 1.05 × the due connections; the other 1,900 are
// never read. (A run that read the table would read 20 times as much; the
// storage side's own test, in shared/store/dynamostore, and make bench
// hold the same at 10,000 and 100,000.)
func TestRunReadsOnlyWhatIsDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localtest.WithAWS())
	st, db, calls := countingStore(t, f)
	now := f.env.Clock.Now()
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
	due := f.seed(in, "due-", 100, now.Add(-time.Minute))
	begin := time.Now()
	fill(t, f, db, st, 1_900, now)
	t.Logf("stored 1,900 more connections in %v", time.Since(begin).Round(time.Millisecond))

	for user, onIndex := range map[string]bool{"idle-000000": true, "idle-001899": false} {
		c, err := st.GetConnection(context.Background(), store.ConnKey{OrgID: "org-idle", UserID: user, Provider: catalog.Microsoft365})
		if err != nil || c.NextRefreshAt.IsZero() == onIndex {
			t.Fatalf("filler %s: %v, next refresh %v (want on the index: %v)", user, err, c.NextRefreshAt, onIndex)
		}
	}

	calls.Reset()
	r := f.run(context.Background(), f.service(func(o *refresh.Options) { o.Store = st }))
	if r.Due != 100 || r.Refreshed != 100 {
		t.Fatalf("run: %+v, want the 100 due refreshed", r)
	}
	read := calls.Scanned("DynamoDB", "Query")
	t.Logf("run: %d Query calls read %d items for %d due; %d GetItem, %d UpdateItem, %d PutItem",
		calls.Calls("DynamoDB", "Query"), read, r.Due,
		calls.Calls("DynamoDB", "GetItem"), calls.Calls("DynamoDB", "UpdateItem"), calls.Calls("DynamoDB", "PutItem"))
	if float64(read) > 1.05*float64(r.Due) {
		t.Fatalf("the run read %d items from the due-index for %d due connections (limit %.0f)", read, r.Due, 1.05*float64(r.Due))
	}
	f.assertRefreshedOnce(catalog.GoogleWorkspace, due)
}
