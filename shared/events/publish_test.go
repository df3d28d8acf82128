package events_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/store"
)

// bus records what was put, and fails entries on demand.
type bus struct {
	mu    sync.Mutex
	calls [][]events.Entry
	put   []events.Entry
	// fail decides, per call and entry, whether the entry fails; callErr
	// fails whole calls.
	fail    func(call int, e events.Entry) error
	callErr func(call int) error
}

func (b *bus) Publish(ctx context.Context, entries []events.Entry) ([]error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	call := len(b.calls)
	b.calls = append(b.calls, entries)
	if len(entries) > events.MaxBatch || len(entries) == 0 {
		return nil, fmt.Errorf("%d entries in one call", len(entries))
	}
	if b.callErr != nil {
		if err := b.callErr(call); err != nil {
			return nil, err
		}
	}
	failed := make([]error, len(entries))
	for i, e := range entries {
		if b.fail != nil {
			failed[i] = b.fail(call, e)
		}
		if failed[i] == nil {
			b.put = append(b.put, e)
		}
	}
	return failed, nil
}

func (b *bus) details(t *testing.T) []events.Detail {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []events.Detail
	for _, e := range b.put {
		var d events.Detail
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatalf("detail %s: %v", e.Detail, err)
		}
		out = append(out, d)
	}
	return out
}

// integrations answers GetIntegration and counts the calls.
type integrations struct {
	mu    sync.Mutex
	calls int
	err   error
}

func (i *integrations) GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls++
	if i.err != nil {
		return store.Integration{}, i.err
	}
	return store.Integration{OrgID: orgID, Provider: provider, Enabled: true, Tenant: "contoso.example"}, nil
}

func processor(t *testing.T, pub events.Publisher, in events.Integrations, metrics io.Writer) *events.Processor {
	t.Helper()
	if metrics == nil {
		metrics = io.Discard
	}
	p, err := events.NewProcessor(events.Options{
		Publisher: pub, Integrations: in, Backoff: time.Millisecond,
		Metrics: metrics, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// needsReconnect is n stream records of connections becoming
// needs_reconnect, as a refresh run writes them, with lease claims (no
// event) in between.
func needsReconnect(n int) []events.Change {
	var out []events.Change
	for i := range n {
		before := conn("connected", "", t0.Add(-time.Hour), nil)
		before.UserID = fmt.Sprintf("u-%03d", i)
		claimed := *before
		claimed.LeaseOwner = "run-1"
		after := claimed
		after.Status, after.StatusReason = store.StatusNeedsReconnect, "invalid_grant"
		after.LastError = &store.ConnError{Code: "invalid_grant", Owner: "user", At: t0}
		after.LeaseOwner = ""
		out = append(out,
			events.Change{ID: fmt.Sprintf("claim-%03d", i), At: t0, Old: events.Record{Connection: before}, New: events.Record{Connection: &claimed}},
			events.Change{ID: fmt.Sprintf("rec-%03d", i), At: t0, Old: events.Record{Connection: &claimed}, New: events.Record{Connection: &after}},
		)
	}
	return out
}

func TestBatchesOfAtMostTen(t *testing.T) {
	b, in := &bus{}, &integrations{}
	var metrics bytes.Buffer
	changes := needsReconnect(25)
	res, failedAt := processor(t, b, in, &metrics).Process(t.Context(), changes, 0)
	if failedAt != len(changes) {
		t.Fatalf("failedAt %d, want %d (nothing failed)", failedAt, len(changes))
	}
	var sizes []int
	for _, c := range b.calls {
		sizes = append(sizes, len(c))
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Errorf("PutEvents calls of %v entries, want [10 10 5]", sizes)
	}
	if res.Changes != 50 || res.Events != 25 || res.Published != 25 || res.Failed != 0 || res.Calls != 3 {
		t.Errorf("result %+v", res)
	}
	seen := map[string]int{}
	for _, d := range b.details(t) {
		seen[d.EventID]++
		if d.OrgID != "o1" || d.Provider != "google_workspace" || d.Cause != "invalid_grant" || d.Owner != "user" || d.AccountName != "bob@example.com" || !d.Time.Equal(t0) {
			t.Errorf("detail %+v", d)
		}
	}
	for i := range 25 {
		if id := fmt.Sprintf("rec-%03d", i); seen[id] != 1 {
			t.Errorf("event of record %s put %d times, want once", id, seen[id])
		}
	}
	if in.calls != 1 {
		t.Errorf("%d integration reads for one integration's events, want 1", in.calls)
	}
	e := b.put[0]
	if e.DetailType != events.ConnectionNeedsReconnect || !e.Time.Equal(t0) {
		t.Errorf("entry %s at %v", e.DetailType, e.Time)
	}
	// Nothing of the records but identifiers and classifications: not the
	// sealed tokens, not the integration's settings.
	for _, e := range b.put {
		for _, bad := range []string{"sealed", "contoso", "leaseOwner", "run-1"} {
			if strings.Contains(string(e.Detail), bad) {
				t.Errorf("detail %s carries %q", e.Detail, bad)
			}
		}
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(metrics.Bytes()), &line); err != nil {
		t.Fatalf("metric line %q: %v", metrics.String(), err)
	}
	if line["Published"] != float64(25) || line["Failed"] != float64(0) || line["Calls"] != float64(3) || line["Function"] != events.DefaultMetricsFunction || line["level"] != "INFO" {
		t.Errorf("metric line %v", line)
	}
}

func TestFailedEntriesAreRetried(t *testing.T) {
	changes := needsReconnect(4)
	// The second entry fails in the first call (EventBridge's per-entry
	// ThrottlingException); the whole second call fails too.
	b := &bus{
		fail: func(call int, e events.Entry) error {
			if call == 0 && bytes.Contains(e.Detail, []byte("u-001")) {
				return errors.New("ThrottlingException")
			}
			return nil
		},
		callErr: func(call int) error {
			if call == 1 {
				return errors.New("connection reset")
			}
			return nil
		},
	}
	res, failedAt := processor(t, b, &integrations{}, nil).Process(t.Context(), changes, 0)
	if failedAt != len(changes) || res.Published != 4 || res.Failed != 0 || res.Retried != 2 || res.Calls != 3 {
		t.Errorf("result %+v, failedAt %d: want 4 published, the failed entry sent again twice in 3 calls", res, failedAt)
	}
	if len(b.calls[1]) != 1 || len(b.calls[2]) != 1 {
		t.Errorf("retries sent %d and %d entries, want only the failed one", len(b.calls[1]), len(b.calls[2]))
	}
	seen := map[string]int{}
	for _, d := range b.details(t) {
		seen[d.EventID]++
	}
	if len(seen) != 4 || seen["rec-001"] != 1 {
		t.Errorf("published %v, want each of the 4 once", seen)
	}
}

func TestBusDownReportsTheFirstFailedRecord(t *testing.T) {
	changes := needsReconnect(15) // 30 records, 15 events
	down := &bus{callErr: func(int) error { return errors.New("ServiceUnavailable") }}
	var metrics bytes.Buffer
	res, failedAt := processor(t, down, &integrations{}, &metrics).Process(t.Context(), changes, 0)
	if failedAt != 1 {
		t.Fatalf("failedAt %d, want 1: the first record with an event", failedAt)
	}
	if res.Published != 0 || res.Failed != 15 || len(down.calls) != events.DefaultAttempts {
		t.Errorf("result %+v after %d calls: want the first batch tried %d times, then nothing more", res, len(down.calls), events.DefaultAttempts)
	}
	if !strings.Contains(metrics.String(), `"Failed":15`) {
		t.Errorf("metric line %s does not count the failures", metrics.String())
	}

	// One entry of the second batch fails for good: Lambda retries from
	// its record; the first batch is out for good.
	b := &bus{fail: func(_ int, e events.Entry) error {
		if bytes.Contains(e.Detail, []byte("u-012")) {
			return errors.New("InternalException")
		}
		return nil
	}}
	res, failedAt = processor(t, b, &integrations{}, nil).Process(t.Context(), changes, 0)
	if failedAt != 2*12+1 {
		t.Fatalf("failedAt %d, want %d (the record of u-012)", failedAt, 2*12+1)
	}
	if res.Published != 12 || res.Failed != 3 {
		t.Errorf("result %+v: want the 12 events before u-012's record out, 3 left for the retry", res)
	}
	// Lambda's retry from that record, the bus healthy again: everything
	// is out at least once, what came after u-012 in its call twice, with
	// the same ids.
	b.fail = nil
	res, failedAt = processor(t, b, &integrations{}, nil).Process(t.Context(), changes[failedAt:], 0)
	if failedAt != len(changes[2*12+1:]) || res.Published != 3 {
		t.Fatalf("retry: %+v, failedAt %d", res, failedAt)
	}
	seen := map[string]int{}
	for _, d := range b.details(t) {
		seen[d.EventID]++
	}
	for i := range 15 {
		id := fmt.Sprintf("rec-%03d", i)
		want := 1
		if i > 12 {
			want = 2
		}
		if seen[id] != want {
			t.Errorf("%s put %d times, want %d", id, seen[id], want)
		}
	}
}

func TestDeadlineLeavesRecordsForTheRetry(t *testing.T) {
	b := &bus{}
	ctx, cancel := context.WithTimeout(t.Context(), events.DefaultDeadlineMargin/2)
	defer cancel()
	res, failedAt := processor(t, b, &integrations{}, nil).Process(ctx, needsReconnect(3), 0)
	if failedAt != 1 || res.Failed != 3 || len(b.calls) != 0 {
		t.Fatalf("near the deadline: %+v, failedAt %d, %d calls; want nothing sent, all left for the retry", res, failedAt, len(b.calls))
	}
}

func TestUnreadableIntegrationStillPublishes(t *testing.T) {
	b := &bus{}
	res, failedAt := processor(t, b, &integrations{err: errors.New("throttled")}, nil).Process(t.Context(), needsReconnect(2), 0)
	if failedAt != 4 || res.Published != 2 {
		t.Fatalf("result %+v, failedAt %d", res, failedAt)
	}
	for _, d := range b.details(t) {
		if d.SupportContact != nil {
			t.Errorf("support contact %+v from an unreadable integration", d.SupportContact)
		}
	}
}

func TestMetricsLevel(t *testing.T) {
	for app, want := range map[string]string{"": "INFO", "TRACE": "INFO", "debug": "INFO", "INFO": "INFO", "WARN": "WARN", "ERROR": "ERROR", "FATAL": "FATAL"} {
		if got := events.MetricsLevel(app); got != want {
			t.Errorf("MetricsLevel(%q) = %s, want %s", app, got, want)
		}
	}
}
