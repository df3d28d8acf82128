// Package eventsfn wires EventsFunction: the table's DynamoDB stream in,
// connection lifecycle events on Amazon EventBridge out (package events).
package eventsfn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/events/eventbridge"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// Publisher is the EventBridge publisher of the configured bus
// (EVENT_BUS_NAME), on the SDK configuration of the AWS stores.
func Publisher(d *app.Deps) (events.Publisher, error) {
	if d.AWS == nil {
		return nil, errors.New("eventsfn: no AWS configuration (the stores were injected): give the handler a publisher")
	}
	return eventbridge.NewFromConfig(*d.AWS, d.Config.EventBusName), nil
}

// Handler is EventsFunction's Lambda handler. It takes a batch of the
// table's stream records (the event source mapping delivers them in order,
// per shard), publishes the events they imply through pub, and answers
// with the partial batch response (FunctionResponseTypes
// ReportBatchItemFailures): the sequence number of the first record whose
// events could not be put, from which Lambda retries
// (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-batchfailurereporting.html).
// A record that cannot be decoded is logged, counted (metric Skipped) and
// passed over: retrying it would block the shard behind it for good. The
// handler fails the invocation only when it could not be built.
func Handler(d *app.Deps, pub events.Publisher) lambda.Handler {
	p, buildErr := newProcessor(d, pub)
	return lambda.NewHandler(func(ctx context.Context, ev awsevents.DynamoDBEvent) (awsevents.DynamoDBEventResponse, error) {
		if buildErr != nil {
			return awsevents.DynamoDBEventResponse{}, buildErr
		}
		changes := make([]events.Change, 0, len(ev.Records))
		seqs := make([]string, 0, len(ev.Records))
		skipped := 0
		for _, r := range ev.Records {
			ch, err := Change(r)
			if err != nil {
				skipped++
				slog.ErrorContext(ctx, "stream record skipped: it does not decode", "eventId", r.EventID,
					"sequenceNumber", r.Change.SequenceNumber, "eventName", r.EventName, "err", err.Error())
				continue
			}
			changes, seqs = append(changes, ch), append(seqs, r.Change.SequenceNumber)
		}
		_, failedAt := p.Process(ctx, changes, skipped)
		resp := awsevents.DynamoDBEventResponse{BatchItemFailures: []awsevents.DynamoDBBatchItemFailure{}}
		if failedAt < len(changes) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, awsevents.DynamoDBBatchItemFailure{ItemIdentifier: seqs[failedAt]})
		}
		return resp, nil
	})
}

func newProcessor(d *app.Deps, pub events.Publisher) (*events.Processor, error) {
	if d.Store == nil {
		return nil, errors.New("eventsfn: no store")
	}
	if pub == nil {
		return nil, errors.New("eventsfn: no publisher")
	}
	return events.NewProcessor(events.Options{
		Publisher:    pub,
		Integrations: d.Store,
		// Set by the Lambda runtime and by Lambda from LoggingConfig, as
		// RefreshFunction's metrics use them (refreshsvc).
		FunctionName: lambdacontext.FunctionName,
		LogLevel:     os.Getenv("AWS_LAMBDA_LOG_LEVEL"),
	})
}

// Change decodes one stream record into the change it records.
func Change(r awsevents.DynamoDBEventRecord) (events.Change, error) {
	ch := events.Change{ID: r.EventID, At: r.Change.ApproximateCreationDateTime.UTC()}
	var err error
	if ch.Old, err = record(r.Change.OldImage); err != nil {
		return ch, fmt.Errorf("old image: %w", err)
	}
	if ch.New, err = record(r.Change.NewImage); err != nil {
		return ch, fmt.Errorf("new image: %w", err)
	}
	return ch, nil
}

func record(image map[string]awsevents.DynamoDBAttributeValue) (events.Record, error) {
	if len(image) == 0 {
		return events.Record{}, nil
	}
	item, err := sdkItem(image)
	if err != nil {
		return events.Record{}, err
	}
	img, err := dynamostore.DecodeImage(item)
	return events.Record{Connection: img.Connection, Integration: img.Integration, Health: img.Health}, err
}
