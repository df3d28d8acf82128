package localevents

import (
	"context"
	"errors"
	"fmt"
	"sync"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// DynamoDB reads a table's DynamoDB stream (on moto_server, STORE=aws) as
// Lambda's event source mapping does, from the position it had when it
// was opened (StartingPosition LATEST), one shard after another.
type DynamoDB struct {
	client *dynamodbstreams.Client
	arn    string

	mu sync.Mutex
	// after is the sequence number of the last acknowledged record, per
	// shard; last the records of the last Read (with their shards).
	after map[string]string
	last  []shardRecord
}

type shardRecord struct {
	shard string
	seq   string
}

// OpenDynamoDB opens the stream of table, positioned after its current last
// record.
func OpenDynamoDB(ctx context.Context, cfg aws.Config, table string) (*DynamoDB, error) {
	out, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("localevents: describe %s: %w", table, err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		return nil, fmt.Errorf("localevents: table %s has no stream", table)
	}
	d := &DynamoDB{client: dynamodbstreams.NewFromConfig(cfg), arn: arn, after: map[string]string{}}
	// LATEST: skip what is there already.
	for {
		recs, err := d.Read(ctx, 1000)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return d, nil
		}
		if err := d.Ack(ctx, len(recs)); err != nil {
			return nil, err
		}
	}
}

// Read implements localserver.StreamSource.
func (d *DynamoDB) Read(ctx context.Context, limit int) ([]awsevents.DynamoDBEventRecord, error) {
	desc, err := d.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(d.arn)})
	if err != nil {
		return nil, fmt.Errorf("localevents: describe stream: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = nil
	var out []awsevents.DynamoDBEventRecord
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(d.arn), ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon}
		if seq, ok := d.after[id]; ok {
			in.ShardIteratorType, in.SequenceNumber = streamtypes.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
		}
		it, err := d.client.GetShardIterator(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("localevents: shard iterator: %w", err)
		}
		got, err := d.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(int32(limit))})
		if err != nil {
			return nil, fmt.Errorf("localevents: get records: %w", err)
		}
		for _, r := range got.Records {
			rec, err := lambdaRecord(r, d.arn)
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
			d.last = append(d.last, shardRecord{shard: id, seq: rec.Change.SequenceNumber})
		}
		if len(out) > 0 {
			return out, nil // one shard per batch, as a mapping's batch is
		}
	}
	return out, nil
}

// Ack implements localserver.StreamSource.
func (d *DynamoDB) Ack(_ context.Context, n int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n > len(d.last) {
		return fmt.Errorf("localevents: %d acknowledged of %d read", n, len(d.last))
	}
	for _, r := range d.last[:n] {
		d.after[r.shard] = r.seq
	}
	return nil
}

func lambdaRecord(r streamtypes.Record, arn string) (awsevents.DynamoDBEventRecord, error) {
	if r.Dynamodb == nil {
		return awsevents.DynamoDBEventRecord{}, errors.New("localevents: a stream record without its dynamodb part")
	}
	rec := awsevents.DynamoDBEventRecord{
		AWSRegion: aws.ToString(r.AwsRegion), EventID: aws.ToString(r.EventID), EventName: string(r.EventName),
		EventSource: aws.ToString(r.EventSource), EventVersion: aws.ToString(r.EventVersion), EventSourceArn: arn,
		Change: awsevents.DynamoDBStreamRecord{
			Keys: lambdaItem(r.Dynamodb.Keys), NewImage: lambdaItem(r.Dynamodb.NewImage), OldImage: lambdaItem(r.Dynamodb.OldImage),
			SequenceNumber: aws.ToString(r.Dynamodb.SequenceNumber), SizeBytes: aws.ToInt64(r.Dynamodb.SizeBytes),
			StreamViewType: string(r.Dynamodb.StreamViewType),
		},
	}
	if t := r.Dynamodb.ApproximateCreationDateTime; t != nil {
		rec.Change.ApproximateCreationDateTime = awsevents.SecondsEpochTime{Time: *t}
	}
	return rec, nil
}

func lambdaItem(item map[string]streamtypes.AttributeValue) map[string]awsevents.DynamoDBAttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]awsevents.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = lambdaValue(v)
	}
	return out
}

func lambdaValue(v streamtypes.AttributeValue) awsevents.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return awsevents.NewStringAttribute(x.Value)
	case *streamtypes.AttributeValueMemberN:
		return awsevents.NewNumberAttribute(x.Value)
	case *streamtypes.AttributeValueMemberB:
		return awsevents.NewBinaryAttribute(x.Value)
	case *streamtypes.AttributeValueMemberBOOL:
		return awsevents.NewBooleanAttribute(x.Value)
	case *streamtypes.AttributeValueMemberSS:
		return awsevents.NewStringSetAttribute(x.Value)
	case *streamtypes.AttributeValueMemberNS:
		return awsevents.NewNumberSetAttribute(x.Value)
	case *streamtypes.AttributeValueMemberBS:
		return awsevents.NewBinarySetAttribute(x.Value)
	case *streamtypes.AttributeValueMemberL:
		l := make([]awsevents.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = lambdaValue(e)
		}
		return awsevents.NewListAttribute(l)
	case *streamtypes.AttributeValueMemberM:
		return awsevents.NewMapAttribute(lambdaItem(x.Value))
	}
	return awsevents.NewNullAttribute()
}
