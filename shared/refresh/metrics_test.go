package refresh

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/tokenseal"
)

// TestMetricsAreEMF checks every line against the embedded metric format
// rules CloudWatch applies: one JSON object per line, _aws metadata with a
// millisecond timestamp, and every dimension and metric the directive names
// present as a root member (otherwise CloudWatch drops the metric).
func TestMetricsAreEMF(t *testing.T) {
	var buf bytes.Buffer
	e := &emf{w: &buf, function: "integrations-prod-RefreshFunction-X1"}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	r := Result{Due: 10, Claimed: 8, Refreshed: 5, TransientFailures: 2, NeedsReconnect: 1, Skipped: 1, LeftForNextRun: 1, DurationMs: 1234}
	e.run(at, r, []providerOutcomes{
		{"google_workspace", OutcomeRefreshed, 3},
		{"microsoft365", OutcomeRefreshed, 2},
		{"microsoft365", OutcomeTransient, 2},
		{"salesforce", OutcomeNeedsReconnect, 1},
		{"salesforce", OutcomeSkipped, 1},
	})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 5 outcome lines and 1 run line:\n%s", len(lines), buf.String())
	}
	values := map[string]float64{} // "dims|metric" → value
	for _, line := range lines {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("line is not one JSON object: %v\n%s", err, line)
		}
		meta, _ := doc["_aws"].(map[string]any)
		if ts, _ := meta["Timestamp"].(float64); int64(ts) != at.UnixMilli() {
			t.Fatalf("timestamp %v, want %d", meta["Timestamp"], at.UnixMilli())
		}
		dirs, _ := meta["CloudWatchMetrics"].([]any)
		if len(dirs) != 1 {
			t.Fatalf("want one directive: %s", line)
		}
		dir := dirs[0].(map[string]any)
		if dir["Namespace"] != MetricsNamespace {
			t.Fatalf("namespace %v", dir["Namespace"])
		}
		var key []string
		for _, set := range dir["Dimensions"].([]any) {
			for _, d := range set.([]any) {
				v, ok := doc[d.(string)].(string)
				if !ok || v == "" {
					t.Fatalf("dimension %v has no string value: %s", d, line)
				}
			}
		}
		for _, d := range dir["Dimensions"].([]any)[0].([]any) {
			key = append(key, doc[d.(string)].(string))
		}
		for _, m := range dir["Metrics"].([]any) {
			name := m.(map[string]any)["Name"].(string)
			v, ok := doc[name].(float64)
			if !ok {
				t.Fatalf("metric %s has no numeric value: %s", name, line)
			}
			values[strings.Join(key, "/")+"|"+name] = v
		}
	}
	const fn = "integrations-prod-RefreshFunction-X1"
	want := map[string]float64{
		fn + "/microsoft365/transient_failure|Refreshes": 2,
		fn + "/salesforce/needs_reconnect|Refreshes":     1,
		fn + "|Due":            10,
		fn + "|Attempts":       8, // 5 refreshed + 2 transient + 1 needs_reconnect
		fn + "|Failures":       3,
		fn + "|LeftForNextRun": 1,
		fn + "|Duration":       1234,
	}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %v, want %v", k, values[k], v)
		}
	}
}

// lambdaKeeps models Lambda's application log-level filtering with JSON
// logs: a line is sent when its level is the configured one or more severe;
// a missing or invalid level counts as INFO
// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
func lambdaKeeps(configured, lineLevel string) bool {
	line := slices.Index(LambdaLogLevels, strings.ToUpper(lineLevel))
	if line < 0 {
		line = slices.Index(LambdaLogLevels, "INFO")
	}
	return line >= slices.Index(LambdaLogLevels, configured)
}

// nopStores satisfies Stores for tests that never touch the store.
type nopStores struct{ Stores }

// TestMetricLinesSurviveLogLevelFiltering: whatever ApplicationLogLevel the
// function runs with, every metric line carries a level Lambda keeps, and
// no more severe than it must be (INFO unless the configured level is
// higher).
func TestMetricLinesSurviveLogLevelFiltering(t *testing.T) {
	for _, configured := range LambdaLogLevels {
		t.Run(configured, func(t *testing.T) {
			var buf bytes.Buffer
			svc, err := New(Options{
				Catalog: catalog.New(), Store: nopStores{}, Clients: &clients.Resolver{}, Vault: &tokenseal.Vault{},
				HTTPClient: http.DefaultClient, Metrics: &buf, LogLevel: strings.ToLower(configured),
			})
			if err != nil {
				t.Fatal(err)
			}
			svc.metrics.run(time.Now(), Result{Due: 1, Claimed: 1, Refreshed: 1}, []providerOutcomes{{"salesforce", OutcomeRefreshed, 1}})
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("%d lines, want 2", len(lines))
			}
			want := "INFO"
			if slices.Index(LambdaLogLevels, configured) > slices.Index(LambdaLogLevels, "INFO") {
				want = configured
			}
			for _, line := range lines {
				var doc struct {
					Level string `json:"level"`
				}
				if err := json.Unmarshal([]byte(line), &doc); err != nil {
					t.Fatal(err)
				}
				if !lambdaKeeps(configured, doc.Level) {
					t.Fatalf("level %q is filtered out at ApplicationLogLevel %s: %s", doc.Level, configured, line)
				}
				if doc.Level != want {
					t.Fatalf("level %q, want %s", doc.Level, want)
				}
			}
		})
	}
	for _, odd := range []string{"", "verbose"} {
		if got := MetricsLevel(odd); got != "INFO" {
			t.Errorf("MetricsLevel(%q) = %q, want INFO", odd, got)
		}
	}
}
