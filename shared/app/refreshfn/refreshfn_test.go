package refreshfn_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/refreshfn"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store/boltstore"
)

// TestRefreshHandlerPayloads: a scheduled event runs the refresh, the
// re-seal payload re-seals, and any other payload is refused.
func TestRefreshHandlerPayloads(t *testing.T) {
	env := map[string]string{"ENVIRONMENT": "local", "STORE": "embedded", "LOCAL_DATA_DIR": t.TempDir()}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(env["LOCAL_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.Build(t.Context(), cfg, app.WithStores(st, st, st.Close))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	h := refreshfn.Handler(d)
	scheduled, _ := json.Marshal(events.EventBridgeEvent{Version: "0", ID: "e1", DetailType: "Scheduled Event", Source: "aws.events", Time: time.Now()})

	out, err := h.Invoke(t.Context(), scheduled)
	var run refresh.Result
	if err != nil || json.Unmarshal(out, &run) != nil || !run.Complete {
		t.Fatalf("scheduled event: %s %v", out, err)
	}
	out, err = h.Invoke(t.Context(), []byte(`{"action":"reseal"}`))
	var rs refresh.ResealResult
	if err != nil || json.Unmarshal(out, &rs) != nil || rs.KeyID == "" || rs.Cursor != "" {
		t.Fatalf("reseal: %s %v", out, err)
	}
	for _, bad := range []string{`{"action":"rotate"}`, `{"action":"reseal","cursr":"x"}`, `{"action":"reseal","cursor":"not-a-cursor"}`, `[1]`, `"reseal"`} {
		out, err := h.Invoke(t.Context(), []byte(bad))
		if err == nil {
			t.Errorf("%s: answered %s, want an error", bad, out)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
