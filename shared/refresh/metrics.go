package refresh

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Metrics in CloudWatch embedded metric format (EMF): JSON lines on stdout
// that CloudWatch Logs turns into metrics, with no API call and no extra
// permission. See
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
//
// Per run, namespace MetricsNamespace, every metric with the dimension
// Function (the Lambda function's name, so deployments sharing an account
// do not mix):
//   - Refreshes (Count), one line per provider and outcome, dimensions
//     [Function, Provider, Outcome] and [Function, Outcome];
//   - Due, Claimed, Refreshed, Attempts, Failures, LeftForNextRun, Skipped,
//     LeaseLost (Count) and Duration (Milliseconds), dimension [Function].
//
// Attempts are the claimed connections that went to the provider (or should
// have: internal errors count), Failures those that did not end refreshed;
// template.yaml alarms on Failures / Attempts. Connections paused for a
// refused client without asking the provider (client_paused) are neither.
//
// Every line carries a "level" that Lambda's log-level filtering never
// drops (MetricsLevel). With LogFormat JSON, Lambda sends CloudWatch only
// the lines at the function's ApplicationLogLevel or more severe, and reads
// a line without a valid "level" as INFO
// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html):
// a level raised to WARN would otherwise drop every metric, and the refresh
// alarm, which treats missing data as not breaching, would go quiet.
const (
	MetricsNamespace = "Integrations/Refresh"
	// DefaultMetricsFunction is the Function dimension's value outside
	// Lambda.
	DefaultMetricsFunction = "RefreshFunction"
)

// LambdaLogLevels are Lambda's application log levels, least severe first.
var LambdaLogLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// MetricsLevel is the level of the metric lines of a function whose
// application log level is appLevel (AWS_LAMBDA_LOG_LEVEL, which Lambda
// sets from LoggingConfig.ApplicationLogLevel): INFO, or appLevel when that
// is more severe, so that Lambda never filters a metric line out. Not FATAL
// always: alerts and searches on ERROR and FATAL lines would then fire on
// every run.
func MetricsLevel(appLevel string) string {
	app := slices.Index(LambdaLogLevels, strings.ToUpper(strings.TrimSpace(appLevel)))
	if info := slices.Index(LambdaLogLevels, "INFO"); app < info {
		return "INFO"
	}
	return LambdaLogLevels[app]
}

// failureOutcomes are the outcomes counted as failed attempts.
var failureOutcomes = map[string]bool{
	OutcomeNeedsReconnect: true,
	OutcomeTransient:      true,
	OutcomeBlocked:        true,
	OutcomeClientRefused:  true,
	OutcomeExhausted:      true,
	OutcomeLeaseLost:      true,
	OutcomeError:          true,
}

type emf struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	level    string // MetricsLevel
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// line writes one EMF document: the metadata, then dimension values and
// metric values as root members.
func (e *emf) line(at time.Time, dims [][]string, metrics []emfMetric, members map[string]any) {
	doc := map[string]any{
		"_aws": emfMeta{
			Timestamp:         at.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{Namespace: MetricsNamespace, Dimensions: dims, Metrics: metrics}},
		},
	}
	for k, v := range members {
		doc[k] = v
	}
	doc["level"] = cmp.Or(e.level, "INFO")
	b, err := json.Marshal(doc)
	if err != nil {
		return // cannot happen: only strings and numbers
	}
	b = append(b, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(b) // metrics are best effort; a failed write must not fail the run
}

// run writes a run's metrics.
func (e *emf) run(at time.Time, r Result, outcomes []providerOutcomes) {
	attempts, failures := 0, 0
	for _, o := range outcomes {
		e.line(at, [][]string{{"Function", "Provider", "Outcome"}, {"Function", "Outcome"}},
			[]emfMetric{{Name: "Refreshes", Unit: "Count"}},
			map[string]any{"Function": e.function, "Provider": o.provider, "Outcome": o.outcome, "Refreshes": o.n})
		if o.outcome == OutcomeRefreshed || failureOutcomes[o.outcome] {
			attempts += o.n
		}
		if failureOutcomes[o.outcome] {
			failures += o.n
		}
	}
	counts := []struct {
		name string
		v    any
	}{
		{"Due", r.Due}, {"Claimed", r.Claimed}, {"Refreshed", r.Refreshed},
		{"Attempts", attempts}, {"Failures", failures},
		{"LeftForNextRun", r.LeftForNextRun}, {"Skipped", r.Skipped}, {"LeaseLost", r.LeaseLost},
	}
	metrics := make([]emfMetric, 0, len(counts)+1)
	members := map[string]any{"Function": e.function}
	for _, c := range counts {
		metrics = append(metrics, emfMetric{Name: c.name, Unit: "Count"})
		members[c.name] = c.v
	}
	metrics = append(metrics, emfMetric{Name: "Duration", Unit: "Milliseconds"})
	members["Duration"] = r.DurationMs
	e.line(at, [][]string{{"Function"}}, metrics, members)
}
