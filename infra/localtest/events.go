package localtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localevents"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/events"
)

// eventBus creates a bus of the test's own on moto_server, with an archive
// of everything source "integrations" put on it (moto delivers an archive
// through a rule, as EventBridge does), and returns its name: tests share
// one moto_server and its default bus.
func eventBus(t testing.TB, table string) string {
	t.Helper()
	name := strings.TrimSuffix(table, "table") + "bus"
	eb := eventbridge.NewFromConfig(moto.Config(t))
	ctx := context.Background()
	bus, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("localtest: create event bus: %v", err)
	}
	pattern, _ := json.Marshal(map[string]any{"source": []string{events.Source}})
	if _, err := eb.CreateArchive(ctx, &eventbridge.CreateArchiveInput{
		ArchiveName: aws.String(name), EventSourceArn: bus.EventBusArn, EventPattern: aws.String(string(pattern)),
	}); err != nil {
		t.Fatalf("localtest: create archive: %v", err)
	}
	return name
}

// DrainEvents plays the table's stream into EventsFunction once, as
// Lambda's event source mapping would (localserver.DrainStreams).
func (e *Env) DrainEvents() localserver.StreamResult {
	e.t.Helper()
	res, err := e.Server.DrainStreams(context.Background())
	if err != nil {
		e.t.Fatalf("localtest: drain the stream: %v", err)
	}
	return res
}

// Events drains the stream and returns every lifecycle event published in
// the test so far, oldest first, as a rule's target receives them: from
// LOCAL_DATA_DIR/events.jsonl on the embedded store; WithAWS, from the
// test's bus on moto_server's EventBridge (its archive, read through moto's
// inspection API).
func (e *Env) Events() []awsevents.EventBridgeEvent {
	e.t.Helper()
	e.DrainEvents()
	if e.Config.Store == "embedded" {
		out, err := localevents.ReadFile(localapp.EventsFile(e.Config))
		if err != nil {
			e.t.Fatalf("localtest: %v", err)
		}
		return out
	}
	return e.archived()
}

// archived reads the test bus's archive from moto_server's model data
// (GET /moto-api/data.json: an archive keeps the events it received).
func (e *Env) archived() []awsevents.EventBridgeEvent {
	e.t.Helper()
	resp, err := http.Get(moto.Endpoint(e.t) + "/moto-api/data.json")
	if err != nil {
		e.t.Fatalf("localtest: moto inspection API: %v", err)
	}
	defer resp.Body.Close()
	var data struct {
		Events struct {
			Archive []struct {
				Name   string            `json:"name"`
				Events []json.RawMessage `json:"events"`
			} `json:"Archive"`
		} `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&data); err != nil {
		e.t.Fatalf("localtest: moto inspection API: %v", err)
	}
	var out []awsevents.EventBridgeEvent
	for _, a := range data.Events.Archive {
		if a.Name != e.Config.EventBusName {
			continue
		}
		for _, raw := range a.Events {
			// moto keeps "time" as epoch seconds; EventBridge delivers
			// RFC 3339.
			var ev struct {
				awsevents.EventBridgeEvent
				Time float64 `json:"time"`
			}
			if err := json.Unmarshal(raw, &ev); err != nil {
				e.t.Fatalf("localtest: archived event %s: %v", raw, err)
			}
			ev.EventBridgeEvent.Time = time.Unix(0, int64(ev.Time*1e9)).UTC()
			out = append(out, ev.EventBridgeEvent)
		}
	}
	return out
}

// Detail decodes an event's detail.
func Detail(t testing.TB, e awsevents.EventBridgeEvent) events.Detail {
	t.Helper()
	var d events.Detail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		t.Fatalf("localtest: detail of %s: %v", e.DetailType, err)
	}
	return d
}

// EventsOf are the events of one detail type, with their decoded details.
func EventsOf(t testing.TB, all []awsevents.EventBridgeEvent, detailType string) []events.Detail {
	t.Helper()
	var out []events.Detail
	for _, e := range all {
		if e.DetailType == detailType {
			out = append(out, Detail(t, e))
		}
	}
	return out
}

// Summary lists events as "<detail-type> <org>/<provider>/<user> <cause>"
// lines, sorted: for failure messages and exact comparisons.
func Summary(t testing.TB, all []awsevents.EventBridgeEvent) []string {
	t.Helper()
	var out []string
	for _, e := range all {
		d := Detail(t, e)
		out = append(out, fmt.Sprintf("%s %s/%s/%s %s", e.DetailType, d.OrgID, d.Provider, d.UserID, d.Cause))
	}
	slices.Sort(out)
	return out
}
