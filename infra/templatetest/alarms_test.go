package templatetest

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestEveryAlarmNotifiesTheTopic: with AlarmTopicArn set, every alarm of
// the stack notifies that topic going into ALARM and back to OK; with it
// empty (the default), no alarm has an action (issue 16 §3). The parameter
// takes an SNS topic ARN or nothing.
func TestEveryAlarmNotifiesTheTopic(t *testing.T) {
	tmpl := loadTemplate(t)
	const topic = "arn:aws:sns:us-east-1:123456789012:integrations-on-call"
	withTopic := maps.Clone(sampleParams)
	withTopic["AlarmTopicArn"] = topic
	var alarms []string
	for _, id := range slices.Sorted(maps.Keys(tmpl.Resources)) {
		r := tmpl.Resources[id]
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms = append(alarms, id)
		for _, prop := range []string{"AlarmActions", "OKActions"} {
			v, ok := r.Properties[prop]
			if !ok {
				t.Errorf("%s has no %s", id, prop)
				continue
			}
			set, err := tmpl.Evaluate(v, withTopic)
			if err != nil || !reflect.DeepEqual(set, []any{topic}) {
				t.Errorf("%s %s with AlarmTopicArn set: %v, %v; want [%s]", id, prop, set, err, topic)
			}
			unset, err := tmpl.Evaluate(v, sampleParams)
			if err != nil || unset != nil {
				t.Errorf("%s %s without AlarmTopicArn: %v, %v; want no actions", id, prop, unset, err)
			}
		}
	}
	want := []string{"EventsFailureAlarm", "EventsIteratorAgeAlarm", "FunctionErrorsAlarm", "RefreshFailureAlarm"}
	if !reflect.DeepEqual(alarms, want) {
		t.Errorf("alarms %v, want %v", alarms, want)
	}
	// The runbook says what each means and who acts.
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, runbook, _ := strings.Cut(string(readme), "## Who owns support for connection failures")
	runbook, _, _ = strings.Cut(runbook, "\n## ")
	for _, id := range alarms {
		if !strings.Contains(runbook, "`"+id+"`") {
			t.Errorf("the README's runbook does not name %s", id)
		}
	}
	for value, ok := range map[string]bool{
		"": true, topic: true, "arn:aws-us-gov:sns:us-gov-west-1:123456789012:ops": true,
		"arn:aws:sqs:us-east-1:123456789012:queue": false, "integrations-on-call": false,
		"arn:aws:sns:us-east-1:123456789012:ops.fifo": false,
	} {
		if err := tmpl.CheckParameter("AlarmTopicArn", value); (err == nil) != ok {
			t.Errorf("AlarmTopicArn %q accepted %v, want %v (%v)", value, err == nil, ok, err)
		}
	}
}
