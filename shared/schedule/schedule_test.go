package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

func TestNextRefreshAt(t *testing.T) {
	cat := catalog.New()
	ms, _ := cat.Get(catalog.Microsoft365)
	g, _ := cat.Get(catalog.GoogleWorkspace)
	sf, _ := cat.Get(catalog.Salesforce)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	hour := now.Add(time.Hour)
	tests := []struct {
		name  string
		p     catalog.Provider
		c     store.Connection
		hasRT bool
		want  time.Time
	}{
		{"active: margin before expiry", ms, store.Connection{Status: store.StatusConnected, ConnectedAt: now, AccessExpiresAt: hour}, true, hour.Add(-15 * time.Minute)},
		{"recently used", g, store.Connection{Status: store.StatusConnected, ConnectedAt: now.Add(-30 * 24 * time.Hour), LastUsedAt: now.Add(-time.Hour), LastRefreshAt: now, AccessExpiresAt: hour}, true, hour.Add(-15 * time.Minute)},
		{"idle: keepalive after last refresh", g, store.Connection{Status: store.StatusConnected, ConnectedAt: now.Add(-30 * 24 * time.Hour), LastRefreshAt: now, AccessExpiresAt: hour}, true, now.Add(24 * time.Hour)},
		{"failing still scheduled", sf, store.Connection{Status: store.StatusRefreshFailing, ConnectedAt: now, AccessExpiresAt: hour}, true, hour.Add(-15 * time.Minute)},
		{"needs reconnect: off the index", ms, store.Connection{Status: store.StatusNeedsReconnect, ConnectedAt: now, AccessExpiresAt: hour}, true, time.Time{}},
		{"exhausted: off the index", ms, store.Connection{Status: store.StatusRefreshExhausted, ConnectedAt: now}, true, time.Time{}},
		{"no refresh token: off the index", g, store.Connection{Status: store.StatusConnected, ConnectedAt: now, AccessExpiresAt: hour}, false, time.Time{}},
		{"unknown expiry: keepalive", sf, store.Connection{Status: store.StatusConnected, ConnectedAt: now}, true, now.Add(24 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextRefreshAt(tc.p, tc.c, tc.hasRT, DefaultMargin, now); !got.Equal(tc.want) {
				t.Fatalf("NextRefreshAt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKeepaliveWithinIdleLifetime(t *testing.T) {
	for _, p := range catalog.New().All() {
		k := Keepalive(p)
		if k <= 0 || k > MaxKeepalive {
			t.Errorf("%s keepalive %v out of (0, %v]", p.ID, k, MaxKeepalive)
		}
		if p.RefreshTokenIdle > 0 && k >= p.RefreshTokenIdle {
			t.Errorf("%s keepalive %v does not beat idle revocation %v", p.ID, k, p.RefreshTokenIdle)
		}
	}
}

func TestAssumeExpiry(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	key := store.ConnKey{OrgID: "o1", UserID: "u1", Provider: catalog.Salesforce}
	if got := AssumeExpiry(context.Background(), log, key, providers.ExpiryIntrospectionFailed, now); !got.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("AssumeExpiry = %v, want 30 minutes after %v", got, now)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	want := map[string]any{"level": "WARN", "orgId": "o1", "userId": "u1", "provider": catalog.Salesforce,
		"code": ReasonExpiryAssumed, "cause": providers.ExpiryIntrospectionFailed, "assumedSeconds": float64(1800)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
}
