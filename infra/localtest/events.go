package localtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localevents"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/events"
)

// eventBus creates a bus of the test's own on moto_server, with a rule
// sending everything of source "integrations" to a CloudWatch Logs group
// (a target moto delivers to), and returns its name: tests share one
// moto_server and its default bus.
//
// The target's input transformer names one input path: moto evaluates a
// transformer's paths with a JSON-path parser it builds anew for each
// (about 35 ms), and without a transformer it evaluates eight defaults per
// event and target, which made a few hundred events take minutes (moto
// 5.2.1's EventTemplateParser.parse). The template passes the event on
// whole, as a target without a transformer receives it.
func eventBus(t testing.TB, table string) string {
	t.Helper()
	name := strings.TrimSuffix(table, "table") + "bus"
	cfg := moto.Config(t)
	eb := eventbridge.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("localtest: create event bus: %v", err)
	}
	group := "/localtest/" + name
	if err := logsCall(t, "CreateLogGroup", map[string]any{"logGroupName": group}, nil); err != nil {
		t.Fatalf("localtest: create log group: %v", err)
	}
	pattern, _ := json.Marshal(map[string]any{"source": []string{events.Source}})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("all"), EventBusName: aws.String(name), EventPattern: aws.String(string(pattern))}); err != nil {
		t.Fatalf("localtest: put rule: %v", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("all"), EventBusName: aws.String(name), Targets: []ebtypes.Target{{
		Id:  aws.String("log"),
		Arn: aws.String("arn:aws:logs:" + moto.Region + ":123456789012:log-group:" + group),
		InputTransformer: &ebtypes.InputTransformer{
			InputPathsMap: map[string]string{"id": "$.id"}, InputTemplate: aws.String("<aws.events.event.json>"),
		},
	}}}); err != nil {
		t.Fatalf("localtest: put targets: %v", err)
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
// test's bus on moto_server's EventBridge, through a rule whose target is
// a CloudWatch Logs group.
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

// archived reads what the test bus's rule delivered to its log group: the
// events as a target receives them, in delivery order.
func (e *Env) archived() []awsevents.EventBridgeEvent {
	e.t.Helper()
	type logged struct {
		ingested float64
		event    awsevents.EventBridgeEvent
	}
	var all []logged
	in := map[string]any{"logGroupName": "/localtest/" + e.Config.EventBusName}
	for {
		var out struct {
			Events []struct {
				Message       string  `json:"message"`
				IngestionTime float64 `json:"ingestionTime"`
			} `json:"events"`
			NextToken string `json:"nextToken"`
		}
		if err := logsCall(e.t, "FilterLogEvents", in, &out); err != nil {
			e.t.Fatalf("localtest: read the events' log group: %v", err)
		}
		for _, le := range out.Events {
			var ev awsevents.EventBridgeEvent
			if err := json.Unmarshal([]byte(le.Message), &ev); err != nil {
				e.t.Fatalf("localtest: delivered event %s: %v", le.Message, err)
			}
			all = append(all, logged{le.IngestionTime, ev})
		}
		if out.NextToken == "" {
			break
		}
		in["nextToken"] = out.NextToken
	}
	slices.SortStableFunc(all, func(a, b logged) int { return cmp.Compare(a.ingested, b.ingested) })
	out := make([]awsevents.EventBridgeEvent, len(all))
	for i, l := range all {
		out[i] = l.event
	}
	return out
}

// logsCall makes one CloudWatch Logs call on moto_server with its JSON
// protocol. Not through the SDK: moto 5.2.1 answers timestamps as
// fractional milliseconds, which the SDK's deserializer refuses.
func logsCall(t testing.TB, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", moto.Endpoint(t)+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	// moto routes by the credential scope's service.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/"+moto.Region+"/logs/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", op, resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
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
