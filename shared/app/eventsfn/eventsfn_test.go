package eventsfn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/eventsfn"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/store/storetest"
)

type bus struct {
	mu   sync.Mutex
	put  []events.Entry
	fail func(e events.Entry) error
}

func (b *bus) Publish(_ context.Context, entries []events.Entry) ([]error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	failed := make([]error, len(entries))
	for i, e := range entries {
		if b.fail != nil {
			failed[i] = b.fail(e)
		}
		if failed[i] == nil {
			b.put = append(b.put, e)
		}
	}
	return failed, nil
}

func deps(t *testing.T) *app.Deps {
	t.Helper()
	s, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &app.Deps{Store: s}
}

// record is a stream record as Lambda delivers it: the change of one
// connection from before to after (nil: none).
func record(t *testing.T, seq int, before, after *store.Connection) awsevents.DynamoDBEventRecord {
	t.Helper()
	img := func(c *store.Connection) map[string]awsevents.DynamoDBAttributeValue {
		if c == nil {
			return nil
		}
		item, err := dynamostore.ConnectionImage(*c)
		if err != nil {
			t.Fatal(err)
		}
		return eventsfn.LambdaItem(item)
	}
	r := awsevents.DynamoDBEventRecord{
		EventID: fmt.Sprint("rec-", seq), EventName: "MODIFY", EventSource: "aws:dynamodb",
		Change: awsevents.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", seq), OldImage: img(before), NewImage: img(after),
			ApproximateCreationDateTime: awsevents.SecondsEpochTime{Time: storetest.T0},
		},
	}
	// Through JSON, exactly as Lambda hands the event over.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out awsevents.DynamoDBEventRecord
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func invoke(t *testing.T, d *app.Deps, pub events.Publisher, recs ...awsevents.DynamoDBEventRecord) awsevents.DynamoDBEventResponse {
	t.Helper()
	payload, _ := json.Marshal(awsevents.DynamoDBEvent{Records: recs})
	out, err := eventsfn.Handler(d, pub).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	var resp awsevents.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.BatchItemFailures == nil {
		t.Fatalf("answer %s: batchItemFailures must be a list (Lambda reads null as total failure)", out)
	}
	return resp
}

func TestHandler(t *testing.T) {
	d := deps(t)
	conn := func(user, status string) *store.Connection {
		c := storetest.Connection(store.ConnKey{OrgID: "o1", UserID: user, Provider: "salesforce"})
		c.Status = status
		return &c
	}
	needs := func(user string) (*store.Connection, *store.Connection) {
		b, a := conn(user, store.StatusConnected), conn(user, store.StatusNeedsReconnect)
		a.StatusReason = "invalid_grant"
		return b, a
	}
	b1, a1 := needs("u1")
	b2, a2 := needs("u2")
	b3, a3 := needs("u3")
	recs := []awsevents.DynamoDBEventRecord{
		record(t, 1, b1, a1),
		record(t, 2, b1, b1), // a lease claim: no event
		record(t, 3, b2, a2),
		record(t, 4, b3, a3),
	}
	// Everything put: no failure reported.
	ok := &bus{}
	if resp := invoke(t, d, ok, recs...); len(resp.BatchItemFailures) != 0 || len(ok.put) != 3 {
		t.Fatalf("answer %+v after %d events put, want none failed and 3 put", resp, len(ok.put))
	}
	var detail events.Detail
	if err := json.Unmarshal(ok.put[0].Detail, &detail); err != nil || detail.EventID != "rec-1" || detail.UserID != "u1" || detail.Cause != "invalid_grant" {
		t.Errorf("detail %+v, %v", detail, err)
	}
	// u2's event fails for good: Lambda retries from its record.
	failing := &bus{fail: func(e events.Entry) error {
		var d events.Detail
		_ = json.Unmarshal(e.Detail, &d)
		if d.UserID == "u2" {
			return errors.New("InternalException")
		}
		return nil
	}}
	resp := invoke(t, d, failing, recs...)
	if want := []awsevents.DynamoDBBatchItemFailure{{ItemIdentifier: recs[2].Change.SequenceNumber}}; !reflect.DeepEqual(resp.BatchItemFailures, want) {
		t.Errorf("failures %+v, want %+v", resp.BatchItemFailures, want)
	}
	// A record that does not decode is passed over, not retried for ever.
	bad := record(t, 5, b1, a1)
	bad.Change.NewImage["version"] = awsevents.NewStringAttribute("not a number")
	good := &bus{}
	if resp := invoke(t, d, good, bad, recs[0]); len(resp.BatchItemFailures) != 0 || len(good.put) != 1 {
		t.Errorf("with an undecodable record: %+v, %d put; want it skipped and the next put", resp, len(good.put))
	}
}

func TestImagesSurviveLambdaJSON(t *testing.T) {
	c := storetest.Connection(store.ConnKey{OrgID: "o1", UserID: "u1", Provider: "microsoft365"})
	c.Version, c.NextRefreshAt, c.LeaseUntil = 7, storetest.T0.Add(time.Hour), storetest.T0
	ch, err := eventsfn.Change(record(t, 9, nil, &c))
	if err != nil {
		t.Fatal(err)
	}
	// ApproximateCreationDateTime is epoch seconds (a float in the JSON).
	if ch.Old.Connection != nil || ch.New.Connection == nil || !reflect.DeepEqual(*ch.New.Connection, c) || ch.ID != "rec-9" || ch.At.Sub(storetest.T0).Abs() > time.Millisecond {
		t.Fatalf("change %+v, want the connection as stored", ch)
	}
}

func TestHandlerNeedsItsDependencies(t *testing.T) {
	out, err := eventsfn.Handler(&app.Deps{}, &bus{}).Invoke(context.Background(), []byte(`{"Records":[]}`))
	if err == nil {
		t.Fatalf("a handler without a store answered %s", out)
	}
	if _, err := eventsfn.Publisher(&app.Deps{}); err == nil {
		t.Error("a publisher without the AWS configuration")
	}
}
