package events

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"
)

// Metrics in CloudWatch embedded metric format, one line per invocation,
// as RefreshFunction writes its own (shared/refresh/metrics.go explains the
// format and the level): namespace MetricsNamespace, dimension [Function],
// metrics Changes, Events, Published, Failed, Retried, Calls, Skipped
// (Count) and Duration (Milliseconds). template.yaml alarms on Failed:
// events not put after every attempt, whose stream records Lambda then
// retries.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
const (
	MetricsNamespace = "Integrations/Events"
	// DefaultMetricsFunction is the Function dimension outside Lambda.
	DefaultMetricsFunction = "EventsFunction"
)

// lambdaLogLevels are Lambda's application log levels, least severe first.
var lambdaLogLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// MetricsLevel is the level the metric lines carry at the function's
// application log level: INFO, or that level when more severe, so Lambda's
// log-level filter never drops them (the same rule as refresh.MetricsLevel;
// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
func MetricsLevel(appLevel string) string {
	app := slices.Index(lambdaLogLevels, strings.ToUpper(strings.TrimSpace(appLevel)))
	if info := slices.Index(lambdaLogLevels, "INFO"); app < info {
		return "INFO"
	}
	return lambdaLogLevels[app]
}

type emf struct {
	w        io.Writer
	function string
	level    string
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

func (e emf) run(at time.Time, r Result) {
	counts := []struct {
		name string
		v    int
	}{
		{"Changes", r.Changes}, {"Events", r.Events}, {"Published", r.Published}, {"Failed", r.Failed},
		{"Retried", r.Retried}, {"Calls", r.Calls}, {"Skipped", r.Skipped},
	}
	metrics := make([]emfMetric, 0, len(counts)+1)
	doc := map[string]any{"Function": e.function, "level": cmp.Or(e.level, "INFO"), "Duration": r.DurationMs}
	for _, c := range counts {
		metrics = append(metrics, emfMetric{Name: c.name, Unit: "Count"})
		doc[c.name] = c.v
	}
	metrics = append(metrics, emfMetric{Name: "Duration", Unit: "Milliseconds"})
	doc["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace": MetricsNamespace, "Dimensions": [][]string{{"Function"}}, "Metrics": metrics,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return
	}
	_, _ = e.w.Write(append(b, '\n')) // best effort: a failed write must not fail the invocation
}
