//go:build moto

// This file runs against moto_server (make test passes -tags moto; see the
// README's Tests): the package's other tests need nothing but Go.

package dynamostore

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
	"github.com/sofie/integrations/shared/store/storetest"
)

// seed writes connections as the store would, in batches (moto.PutItems).
func seed(t testing.TB, db *dynamodb.Client, table string, conns []store.Connection) {
	t.Helper()
	items := make([]map[string]types.AttributeValue, 0, len(conns))
	for _, c := range conns {
		c.Version = 1
		item, err := marshal(newConnItem(c))
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item)
	}
	moto.PutItems(t, db, table, items)
}

// TestDueQueryReadsOnlyDue: of 10,000 connections 100 are due; finding them
// reads at most 105 items (ScannedCount over every page DynamoDB returns),
// so the other 9,900 (half due later and on the index, half off it) are
// never read.
func TestDueQueryReadsOnlyDue(t *testing.T) {
	t.Parallel() // mostly moto's time: let the rest of the package overlap
	var calls awscount.Counter
	cfg := moto.Config(t)
	calls.Attach(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	table := moto.Prefix(t) + "table"
	if err := CreateTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	before := storetest.T0
	due := map[store.ConnKey]bool{}
	var conns []store.Connection
	for i := range 10_000 {
		k := store.ConnKey{OrgID: fmt.Sprintf("org-%02d", i%37), UserID: fmt.Sprintf("user-%05d", i), Provider: "microsoft365"}
		// Only what the due-index depends on: moto parses every attribute
		// of every item, and the test is about which items are read.
		c := store.Connection{ConnKey: k, Status: store.StatusConnected, UpdatedAt: storetest.T0}
		switch {
		case i%100 == 0: // 100 due, spread over the last 100 minutes
			c.NextRefreshAt = before.Add(-time.Duration(i/100) * time.Minute)
			due[k] = true
		case i%2 == 0: // due later: on the index, beyond the bound
			c.NextRefreshAt = before.Add(time.Duration(i) * time.Second)
		default: // off the index
			c.OffIndexReason = "needs_reconnect"
		}
		conns = append(conns, c)
	}
	start := time.Now()
	seed(t, db, table, conns)
	t.Logf("seeded 10,000 connections in %v (%d BatchWriteItem calls)", time.Since(start).Round(time.Millisecond), calls.Calls("DynamoDB", "BatchWriteItem"))

	s := New(db, table)
	// One listing in pages of 50: moto sorts the whole table for every
	// Query, so each Query costs it ~0.3 s here (DynamoDB: milliseconds).
	for _, limit := range []int{50} {
		calls.Reset()
		listStart := time.Now()
		got := map[store.ConnKey]bool{}
		cursor, pages := "", 0
		for {
			page, next, err := s.ListDue(t.Context(), before, store.Page{Cursor: cursor, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, r := range page {
				if !due[r.ConnKey] || got[r.ConnKey] {
					t.Fatalf("limit %d: listed %s, which is not due or was listed before", limit, r.ConnKey)
				}
				got[r.ConnKey] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(got) != len(due) {
			t.Fatalf("limit %d: %d due listed, want %d", limit, len(got), len(due))
		}
		scanned := calls.Scanned("DynamoDB", "Query")
		// calls counts this test's client only: the tests running in
		// parallel have their own.
		queries := calls.Calls("DynamoDB", "Query")
		t.Logf("limit %d: %d pages, %d Query calls, %d items read (ScannedCount), %d returned, in %v",
			limit, pages, queries, scanned, calls.Returned("DynamoDB", "Query"), time.Since(listStart).Round(time.Millisecond))
		// Each page reads at most one look-ahead item beyond what it returns.
		if scanned > int64(len(due)+pages) || scanned > 105 {
			t.Fatalf("limit %d: read %d items to find %d due in %d pages", limit, scanned, len(due), pages)
		}
		if n := calls.Calls("DynamoDB", "Scan"); n != 0 {
			t.Fatalf("%d Scan calls", n)
		}
	}
}

// TestMotoBehaviour pins what the adapter relies on from DynamoDB (and so
// from moto_server): a failed transaction names the failed condition and
// writes nothing; a failed condition returns the old item on request; a
// sparse GSI holds only items with its keys; Query reports ScannedCount.
func TestMotoBehaviour(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := dynamodb.NewFromConfig(moto.Config(t))
	table := moto.Prefix(t) + "table"
	if err := CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	item := func(pk, sk string, extra map[string]types.AttributeValue) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{AttrPK: sv(pk), AttrSK: sv(sk)}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	notExists := aws.String("attribute_not_exists(PK)")
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item("A", "1", nil)}); err != nil {
		t.Fatal(err)
	}

	t.Run("TransactionCancellationReasons", func(t *testing.T) {
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &table, Item: item("B", "1", nil), ConditionExpression: notExists}},
			{Put: &types.Put{TableName: &table, Item: item("A", "1", nil), ConditionExpression: notExists}},
		}})
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) || len(tc.CancellationReasons) != 2 ||
			aws.ToString(tc.CancellationReasons[0].Code) != "None" || aws.ToString(tc.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
			t.Fatalf("cancellation: %v %+v", err, tc)
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: item("B", "1", nil), ConsistentRead: aws.Bool(true)})
		if err != nil || len(out.Item) != 0 {
			t.Fatalf("a cancelled transaction wrote its first item (%v)", err)
		}
	})

	t.Run("ReturnValuesOnConditionCheckFailure", func(t *testing.T) {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &table, Key: item("A", "1", nil),
			ConditionExpression: aws.String("attribute_not_exists(PK)"), UpdateExpression: aws.String("SET x = :x"),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":x": sv("1")},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) || len(ccf.Item) == 0 {
			t.Fatalf("condition failure without the old item: %v", err)
		}
	})

	t.Run("SparseGSIAndScannedCount", func(t *testing.T) {
		for i := range 5 {
			extra := map[string]types.AttributeValue{}
			if i%2 == 0 {
				extra[AttrGSI2PK], extra[AttrGSI2SK] = sv("DUE#0"), sv(fmt.Sprintf("2030-01-0%d", i+1))
			}
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item("S", fmt.Sprint(i), extra)}); err != nil {
				t.Fatal(err)
			}
		}
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: &table, IndexName: aws.String(IndexDue),
			KeyConditionExpression:    aws.String("GSI2PK = :p AND GSI2SK <= :b"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("DUE#0"), ":b": sv("2030-01-04")},
		})
		if err != nil {
			t.Fatal(err)
		}
		// Items 0 and 2 are due; 4 is on the index but later; 1 and 3 are not on it.
		if out.Count != 2 || out.ScannedCount != 2 {
			t.Fatalf("Count %d ScannedCount %d, want 2 and 2", out.Count, out.ScannedCount)
		}
		// KEYS_ONLY: table and index keys, nothing else.
		for _, it := range out.Items {
			if len(it) != 4 {
				t.Fatalf("projected item has %d attributes, want the 4 keys", len(it))
			}
		}
		out, err = db.Query(ctx, &dynamodb.QueryInput{
			TableName: &table, IndexName: aws.String(IndexDue), Limit: aws.Int32(1),
			KeyConditionExpression:    aws.String("GSI2PK = :p AND GSI2SK <= :b"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("DUE#0"), ":b": sv("2030-01-04")},
		})
		if err != nil || out.ScannedCount != 1 || len(out.LastEvaluatedKey) != 4 {
			t.Fatalf("limited query: %v, ScannedCount %d, LastEvaluatedKey %v", err, out.ScannedCount, out.LastEvaluatedKey)
		}
	})

	t.Run("TableMatchesSpec", func(t *testing.T) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			t.Fatal(err)
		}
		spec := TableSpec(table)
		if len(out.Table.GlobalSecondaryIndexes) != len(spec.GlobalSecondaryIndexes) || len(out.Table.AttributeDefinitions) != len(spec.AttributeDefinitions) {
			t.Fatalf("table %+v differs from the spec", out.Table)
		}
		for i, g := range out.Table.GlobalSecondaryIndexes {
			want := spec.GlobalSecondaryIndexes[i]
			if aws.ToString(g.IndexName) != want.IndexName || string(g.Projection.ProjectionType) != want.Projection.ProjectionType {
				t.Fatalf("index %d: %s %s", i, aws.ToString(g.IndexName), g.Projection.ProjectionType)
			}
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
		if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != AttrTTL {
			t.Fatalf("TTL: %+v %v", ttl, err)
		}
	})
}
