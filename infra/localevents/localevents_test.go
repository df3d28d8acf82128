package localevents_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/localevents"
	"github.com/sofie/integrations/shared/events"
)

// TestFile: entries are appended as a rule's target receives EventBridge
// events, and read back in order; a call takes what PutEvents takes.
func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", localevents.FileName)
	f := &localevents.File{Path: path}
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	entry := func(id string) events.Entry {
		d, _ := json.Marshal(events.Detail{EventID: id, OrgID: "o1", Provider: "salesforce", Time: at})
		return events.Entry{DetailType: events.ConnectionDisconnected, Detail: d, Time: at}
	}
	if got, err := localevents.ReadFile(path); err != nil || len(got) != 0 {
		t.Fatalf("before any event: %v, %v", got, err)
	}
	for _, batch := range [][]events.Entry{{entry("a"), entry("b")}, {entry("c")}} {
		failed, err := f.Publish(t.Context(), batch)
		if err != nil || len(failed) != len(batch) || failed[0] != nil {
			t.Fatalf("publish: %v, %v", failed, err)
		}
	}
	got, err := localevents.ReadFile(path)
	if err != nil || len(got) != 3 {
		t.Fatalf("read back %d events, %v", len(got), err)
	}
	for i, id := range []string{"a", "b", "c"} {
		var d events.Detail
		if err := json.Unmarshal(got[i].Detail, &d); err != nil || d.EventID != id {
			t.Errorf("event %d: detail %s", i, got[i].Detail)
		}
		e := got[i]
		if e.Source != "integrations" || e.DetailType != events.ConnectionDisconnected || !e.Time.Equal(at) || e.Version != "0" || e.ID == "" || e.Region == "" || e.AccountID == "" {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	if got[0].ID == got[1].ID {
		t.Error("two events with one id")
	}
	many := make([]events.Entry, events.MaxBatch+1)
	for i := range many {
		many[i] = entry("x")
	}
	if _, err := f.Publish(t.Context(), many); err == nil {
		t.Error("11 entries in one call accepted")
	}
}
