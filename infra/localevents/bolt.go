package localevents

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/app/eventsfn"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// Bolt reads the embedded store's change feed as the table's stream
// records (localserver.StreamSource), with the items as the DynamoDB table
// would hold them.
type Bolt struct {
	Store *boltstore.Store
	// Table names the stream's ARN in the records.
	Table string

	mu   sync.Mutex
	last []boltstore.Change
}

// Read implements localserver.StreamSource.
func (b *Bolt) Read(ctx context.Context, limit int) ([]awsevents.DynamoDBEventRecord, error) {
	changes, err := b.Store.ReadChanges(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]awsevents.DynamoDBEventRecord, 0, len(changes))
	for _, ch := range changes {
		r, err := b.record(ch)
		if err != nil {
			return nil, fmt.Errorf("localevents: change %d: %w", ch.Seq, err)
		}
		out = append(out, r)
	}
	b.mu.Lock()
	b.last = changes
	b.mu.Unlock()
	return out, nil
}

// Ack implements localserver.StreamSource: the changes are deleted from
// the feed.
func (b *Bolt) Ack(ctx context.Context, n int) error {
	b.mu.Lock()
	last := b.last
	b.mu.Unlock()
	if n <= 0 {
		return nil
	}
	if n > len(last) {
		return fmt.Errorf("localevents: %d acknowledged of %d read", n, len(last))
	}
	return b.Store.DeleteChanges(ctx, last[n-1].Seq)
}

// record is the stream record DynamoDB would write for ch.
func (b *Bolt) record(ch boltstore.Change) (awsevents.DynamoDBEventRecord, error) {
	oldImg, err := image(ch.OldConnection, ch.OldIntegration, ch.OldHealth)
	if err != nil {
		return awsevents.DynamoDBEventRecord{}, err
	}
	newImg, err := image(ch.NewConnection, ch.NewIntegration, ch.NewHealth)
	if err != nil {
		return awsevents.DynamoDBEventRecord{}, err
	}
	name := "MODIFY"
	switch {
	case oldImg == nil:
		name = "INSERT"
	case newImg == nil:
		name = "REMOVE"
	}
	keysOf := newImg
	if keysOf == nil {
		keysOf = oldImg
	}
	keys := map[string]types.AttributeValue{dynamostore.AttrPK: keysOf[dynamostore.AttrPK], dynamostore.AttrSK: keysOf[dynamostore.AttrSK]}
	return awsevents.DynamoDBEventRecord{
		AWSRegion: Region,
		EventID:   strconv.FormatUint(ch.Seq, 10) + "-" + strconv.FormatInt(ch.At.UnixNano(), 36),
		EventName: name, EventSource: "aws:dynamodb", EventVersion: "1.1",
		EventSourceArn: StreamARN(b.Table),
		Change: awsevents.DynamoDBStreamRecord{
			ApproximateCreationDateTime: awsevents.SecondsEpochTime{Time: ch.At},
			Keys:                        eventsfn.LambdaItem(keys),
			OldImage:                    eventsfn.LambdaItem(oldImg),
			NewImage:                    eventsfn.LambdaItem(newImg),
			SequenceNumber:              fmt.Sprintf("%021d", ch.Seq),
			StreamViewType:              "NEW_AND_OLD_IMAGES",
		},
	}, nil
}

// StreamARN is the local stream ARN of a table.
func StreamARN(table string) string {
	return "arn:aws:dynamodb:" + Region + ":" + Account + ":table/" + table + "/stream/local"
}

// image is the item of the connection, integration or client health a
// change holds (nil: none), as the table stores it.
func image(c *store.Connection, in *store.Integration, h *store.ClientHealth) (map[string]types.AttributeValue, error) {
	switch {
	case c != nil:
		return dynamostore.ConnectionImage(*c)
	case in != nil:
		return dynamostore.IntegrationImage(*in)
	case h != nil:
		return dynamostore.HealthImage(*h)
	}
	return nil, nil
}
