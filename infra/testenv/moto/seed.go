package moto

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// PutItems writes items to table with BatchWriteItem, 25 a call (the API's
// limit) from 4 writers, resending whatever comes back unprocessed. Seeding
// thousands of items one PutItem at a time would take minutes on
// moto_server; the store's own writes are what tests exercise, not this.
func PutItems(t testing.TB, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	batches := make(chan []types.WriteRequest)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for b := range batches {
				for len(b) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: b}})
					if err != nil {
						t.Errorf("seeding %s: %v", table, err)
						return
					}
					b = out.UnprocessedItems[table]
				}
			}
		})
	}
	for i := 0; i < len(items); i += 25 {
		batch := make([]types.WriteRequest, 0, 25)
		for _, it := range items[i:min(i+25, len(items))] {
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		batches <- batch
	}
	close(batches)
	wg.Wait()
}

// CopyItem copies an item, replacing old by new in every string attribute
// (keys, index keys and record fields alike): a stored connection of user
// old becomes one of user new, for seeding thousands with PutItems.
func CopyItem(item map[string]types.AttributeValue, old, new string) map[string]types.AttributeValue {
	return copyValue(&types.AttributeValueMemberM{Value: item}, old, new).(*types.AttributeValueMemberM).Value
}

func copyValue(v types.AttributeValue, old, new string) types.AttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: strings.ReplaceAll(x.Value, old, new)}
	case *types.AttributeValueMemberM:
		m := make(map[string]types.AttributeValue, len(x.Value))
		for k, e := range x.Value {
			m[k] = copyValue(e, old, new)
		}
		return &types.AttributeValueMemberM{Value: m}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = copyValue(e, old, new)
		}
		return &types.AttributeValueMemberL{Value: l}
	}
	return v
}

// Capture is a DynamoDB client that keeps the items put instead of writing
// them: a store built on it (dynamostore.New(&c, table)) encodes records
// exactly as it would for the table, and Write then writes them to the
// table on moto_server 25 a call. Any other operation panics (its embedded
// client is nil).
type Capture struct {
	*dynamodb.Client

	mu    sync.Mutex
	items []map[string]types.AttributeValue
}

// PutItem keeps the item.
func (c *Capture) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = append(c.items, in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

// Write writes the items kept so far to table with PutItems.
func (c *Capture) Write(t testing.TB, table string) {
	t.Helper()
	c.mu.Lock()
	items := slices.Clone(c.items)
	c.mu.Unlock()
	PutItems(t, dynamodb.NewFromConfig(Config(t)), table, items)
}
