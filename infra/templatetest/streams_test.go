package templatetest

import (
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/app/eventsfn"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// TestEventsStreamMapping holds the event source mapping to what
// EventsFunction's handler expects (shared/app/eventsfn): the table's
// stream with both images, every record of a connection, an integration or
// a client's health and nothing else, partial batch responses on (the handler answers with
// them; without them Lambda would read its answer as success and drop
// failed events), and batches of at least one PutEvents call. No other
// function reads the stream.
func TestEventsStreamMapping(t *testing.T) {
	tmpl := loadTemplate(t)
	if v := dig(tmpl.Resources["Table"].Properties, "StreamSpecification", "StreamViewType"); v != "NEW_AND_OLD_IMAGES" {
		t.Fatalf("the table's stream view is %v: Derive needs NEW_AND_OLD_IMAGES", v)
	}
	for _, id := range tmpl.FunctionIDs() {
		st := tmpl.Functions[id].Streams
		if id != config.EventsFunction {
			if len(st) != 0 {
				t.Errorf("%s reads the table's stream", id)
			}
			continue
		}
		if len(st) != 1 {
			t.Fatalf("EventsFunction has %d stream mappings, want 1", len(st))
		}
		s := st[0]
		if s.Source != "Table" || !s.PartialBatch || s.BatchSize < events.MaxBatch {
			t.Errorf("mapping %+v: want the table's stream, partial batch responses, batches of at least %d", s, events.MaxBatch)
		}
		props := tmpl.Resources[s.Mapping].Properties
		if props["StartingPosition"] != "LATEST" || props["BisectBatchOnFunctionError"] != false {
			t.Errorf("mapping %s: StartingPosition %v (LATEST: a first deployment does not replay the last day), BisectBatchOnFunctionError %v",
				s.Mapping, props["StartingPosition"], props["BisectBatchOnFunctionError"])
		}
		image := func(typ string) map[string]awsevents.DynamoDBAttributeValue {
			return map[string]awsevents.DynamoDBAttributeValue{"PK": awsevents.NewStringAttribute("X"), "type": awsevents.NewStringAttribute(typ)}
		}
		record := func(name, oldType, newType string) awsevents.DynamoDBEventRecord {
			r := awsevents.DynamoDBEventRecord{EventName: name}
			if oldType != "" {
				r.Change.OldImage = image(oldType)
			}
			if newType != "" {
				r.Change.NewImage = image(newType)
			}
			return r
		}
		for _, c := range []struct {
			r    awsevents.DynamoDBEventRecord
			pass bool
		}{
			{record("INSERT", "", "connection"), true},
			{record("MODIFY", "connection", "connection"), true},
			{record("REMOVE", "connection", ""), true},
			{record("INSERT", "", "integration"), true},
			{record("MODIFY", "integration", "integration"), true},
			{record("INSERT", "", "health"), true},
			{record("MODIFY", "health", "health"), true},
			{record("INSERT", "", "job"), false},
			{record("INSERT", "", "state"), false},
			{record("REMOVE", "state", ""), false},
			{record("INSERT", "", "completion"), false},
			{record("INSERT", "", "audit"), false},
			{record("MODIFY", "limit", "limit"), false},
		} {
			if got := s.Passes(c.r); got != c.pass {
				t.Errorf("a %s of a %v → %v record passes the filters: %v, want %v", c.r.EventName, c.r.Change.OldImage["type"], c.r.Change.NewImage["type"], got, c.pass)
			}
		}
		// And the items as dynamostore writes them (the filters name its
		// item types).
		c, err := dynamostore.ConnectionImage(store.Connection{ConnKey: store.ConnKey{OrgID: "o", UserID: "u", Provider: "p"}})
		if err != nil {
			t.Fatal(err)
		}
		in, err := dynamostore.IntegrationImage(store.Integration{OrgID: "o", Provider: "p"})
		if err != nil {
			t.Fatal(err)
		}
		h, err := dynamostore.HealthImage(store.ClientHealth{OrgID: "o", Provider: "p", Status: store.HealthFailing})
		if err != nil {
			t.Fatal(err)
		}
		for name, item := range map[string]map[string]awsevents.DynamoDBAttributeValue{"connection": eventsfn.LambdaItem(c), "integration": eventsfn.LambdaItem(in), "health": eventsfn.LambdaItem(h)} {
			if !s.Passes(awsevents.DynamoDBEventRecord{Change: awsevents.DynamoDBStreamRecord{NewImage: item}}) {
				t.Errorf("a stored %s does not pass the filters", name)
			}
		}
	}
}
