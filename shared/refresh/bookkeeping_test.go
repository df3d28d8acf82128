package refresh

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

var (
	t0        = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	transient = oauthfail.Failure{Kind: oauthfail.Transient, Code: "provider_unavailable", Owner: oauthfail.OwnerNone, Cause: "The provider is unavailable; the refresh will be retried."}
	revoked   = oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "token_revoked", Owner: oauthfail.OwnerUser, Cause: "Reconnect the account."}
	blocked   = oauthfail.Failure{Kind: oauthfail.Blocked, Code: "admin_policy_enforced", Owner: oauthfail.OwnerExternalAdmin, Cause: "The administrator does not allow the app."}
	adminFix  = oauthfail.Failure{Kind: oauthfail.ClientRefused, Code: "client_secret_expired", Owner: oauthfail.OwnerAdmin, Cause: "An admin must create a new secret."}
)

func TestFailed(t *testing.T) {
	expiresLater := t0.Add(3 * time.Hour)
	tests := []struct {
		name        string
		c           store.Connection
		f           oauthfail.Failure
		delay       time.Duration
		wantOutcome string
		wantStatus  string
		wantReason  string
		wantCount   int
		wantDays    []string
		wantNext    time.Time // zero: off the index
		wantOff     string
		wantErr     string // LastError.Code
		wantOwner   string
	}{
		{
			name: "first transient failure keeps connected",
			c:    store.Connection{Status: store.StatusConnected, AccessExpiresAt: t0.Add(-time.Minute)},
			f:    transient, delay: 90 * time.Second,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusConnected, wantCount: 1,
			wantDays: []string{"2026-11-29"}, wantNext: t0.Add(90 * time.Second), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "second transient failure marks refresh_failing",
			c:    store.Connection{Status: store.StatusConnected, ConsecutiveFailures: 1, FailureDays: []string{"2026-11-29"}},
			f:    transient, delay: 3 * time.Minute,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusRefreshFailing, wantReason: "provider_unavailable", wantCount: 2,
			wantDays: []string{"2026-11-29"}, wantNext: t0.Add(3 * time.Minute), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "third distinct day is still failing",
			c:    store.Connection{Status: store.StatusRefreshFailing, ConsecutiveFailures: 9, FailureDays: []string{"2026-11-26", "2026-11-28"}},
			f:    transient, delay: time.Hour,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusRefreshFailing, wantReason: "provider_unavailable", wantCount: 10,
			wantDays: []string{"2026-11-26", "2026-11-28", "2026-11-29"}, wantNext: t0.Add(time.Hour), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "fourth distinct day exhausts",
			c:    store.Connection{Status: store.StatusRefreshFailing, ConsecutiveFailures: 12, FailureDays: []string{"2026-11-25", "2026-11-26", "2026-11-28"}, NextRefreshAt: t0},
			f:    transient, delay: time.Hour,
			wantOutcome: OutcomeExhausted, wantStatus: store.StatusRefreshExhausted, wantReason: CodeRefreshExhausted, wantCount: 13,
			wantDays: []string{"2026-11-25", "2026-11-26", "2026-11-28", "2026-11-29"}, wantOff: store.ReasonRefreshExhausted, wantErr: CodeRefreshExhausted, wantOwner: "user",
		},
		{
			name: "failures on the same day count once",
			c:    store.Connection{Status: store.StatusRefreshFailing, ConsecutiveFailures: 40, FailureDays: []string{"2026-11-27", "2026-11-28", "2026-11-29"}},
			f:    transient, delay: time.Hour,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusRefreshFailing, wantReason: "provider_unavailable", wantCount: 41,
			wantDays: []string{"2026-11-27", "2026-11-28", "2026-11-29"}, wantNext: t0.Add(time.Hour), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "a policy block is said at once, retried slowly and never exhausts",
			c:    store.Connection{Status: store.StatusConnected, ConsecutiveFailures: 30, FailureDays: []string{"2026-11-25", "2026-11-26", "2026-11-28"}, AccessExpiresAt: t0.Add(10 * time.Minute)},
			f:    blocked, delay: time.Minute,
			wantOutcome: OutcomeBlocked, wantStatus: store.StatusRefreshFailing, wantReason: "admin_policy_enforced", wantCount: 31,
			wantDays: []string{"2026-11-25", "2026-11-26", "2026-11-28"}, wantNext: t0.Add(oauthfail.BlockedRetry), wantErr: "admin_policy_enforced", wantOwner: "external_admin",
		},
		{
			name: "backoff beyond a valid token's expiry is pulled in before it lapses",
			c:    store.Connection{Status: store.StatusConnected, AccessExpiresAt: t0.Add(10 * time.Minute)},
			f:    transient, delay: time.Hour,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusConnected, wantCount: 1,
			wantDays: []string{"2026-11-29"}, wantNext: t0.Add(9 * time.Minute), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "Retry-After wins over the pull-in",
			c:    store.Connection{Status: store.StatusConnected, AccessExpiresAt: t0.Add(10 * time.Minute)},
			f:    withRetryAfter(transient, 20*time.Minute), delay: time.Hour,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusConnected, wantCount: 1,
			wantDays: []string{"2026-11-29"}, wantNext: t0.Add(20 * time.Minute), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "backoff shorter than the token's life is kept",
			c:    store.Connection{Status: store.StatusConnected, AccessExpiresAt: expiresLater},
			f:    transient, delay: 2 * time.Minute,
			wantOutcome: OutcomeTransient, wantStatus: store.StatusConnected, wantCount: 1,
			wantDays: []string{"2026-11-29"}, wantNext: t0.Add(2 * time.Minute), wantErr: "provider_unavailable", wantOwner: "none",
		},
		{
			name: "revoked grant needs the user",
			c:    store.Connection{Status: store.StatusConnected, NextRefreshAt: t0},
			f:    revoked, delay: time.Minute,
			wantOutcome: OutcomeNeedsReconnect, wantStatus: store.StatusNeedsReconnect, wantReason: "token_revoked", wantCount: 1,
			wantOff: store.ReasonNeedsReconnect, wantErr: "token_revoked", wantOwner: "user",
		},
		{
			name: "expired client secret needs an admin",
			c:    store.Connection{Status: store.StatusRefreshFailing, ConsecutiveFailures: 3, FailureDays: []string{"2026-11-28"}, NextRefreshAt: t0},
			f:    adminFix, delay: time.Minute,
			wantOutcome: OutcomeNeedsReconnect, wantStatus: store.StatusNeedsReconnect, wantReason: "client_secret_expired", wantCount: 4,
			wantDays: []string{"2026-11-28"}, wantOff: store.ReasonNeedsReconnect, wantErr: "client_secret_expired", wantOwner: "admin",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, outcome := failed(tc.c, tc.f, tc.delay, t0)
			if outcome != tc.wantOutcome {
				t.Errorf("outcome = %q, want %q", outcome, tc.wantOutcome)
			}
			if got.Status != tc.wantStatus || got.StatusReason != tc.wantReason {
				t.Errorf("status = %q/%q, want %q/%q", got.Status, got.StatusReason, tc.wantStatus, tc.wantReason)
			}
			if got.ConsecutiveFailures != tc.wantCount {
				t.Errorf("consecutive failures = %d, want %d", got.ConsecutiveFailures, tc.wantCount)
			}
			if !slices.Equal(got.FailureDays, tc.wantDays) {
				t.Errorf("failure days = %v, want %v", got.FailureDays, tc.wantDays)
			}
			if !got.NextRefreshAt.Equal(tc.wantNext) {
				t.Errorf("next refresh = %v, want %v", got.NextRefreshAt, tc.wantNext)
			}
			if got.OffIndexReason != tc.wantOff {
				t.Errorf("off-index reason = %q, want %q", got.OffIndexReason, tc.wantOff)
			}
			if got.LastError == nil || got.LastError.Code != tc.wantErr || got.LastError.Owner != tc.wantOwner || !got.LastError.At.Equal(t0) || got.LastError.Message == "" {
				t.Errorf("last error = %+v, want code %q owner %q at %v", got.LastError, tc.wantErr, tc.wantOwner, t0)
			}
			if !got.LastAttemptAt.Equal(t0) {
				t.Errorf("last attempt = %v, want %v", got.LastAttemptAt, t0)
			}
		})
	}
}

func withRetryAfter(f oauthfail.Failure, d time.Duration) oauthfail.Failure {
	f.RetryAfter = d
	return f
}

func TestExhaustedMessageNamesTheLastCause(t *testing.T) {
	c := store.Connection{ConsecutiveFailures: 3, FailureDays: []string{"2026-11-25", "2026-11-26", "2026-11-27"}}
	got, _ := failed(c, transient, time.Minute, t0)
	if !strings.Contains(got.LastError.Message, "4 separate days") || !strings.Contains(got.LastError.Message, transient.Cause) {
		t.Fatalf("message %q does not say how many days and the last cause", got.LastError.Message)
	}
}

func TestSucceededClearsFailures(t *testing.T) {
	ms, _ := catalog.New().Get(catalog.Microsoft365)
	c := store.Connection{
		Status: store.StatusRefreshFailing, StatusReason: "provider_unavailable", ConnectedAt: t0.Add(-time.Hour),
		ConsecutiveFailures: 5, FailureDays: []string{"2026-11-27", "2026-11-28"},
		LastError: &store.ConnError{Code: "provider_unavailable"}, OffIndexReason: "x",
	}
	exp := t0.Add(time.Hour)
	got := succeeded(ms, c, exp, false, 15*time.Minute, t0)
	if got.Status != store.StatusConnected || got.StatusReason != "" || got.ConsecutiveFailures != 0 || got.FailureDays != nil || got.LastError != nil || got.OffIndexReason != "" {
		t.Fatalf("failure bookkeeping not cleared: %+v", got)
	}
	if !got.AccessExpiresAt.Equal(exp) || !got.LastRefreshAt.Equal(t0) || !got.LastAttemptAt.Equal(t0) {
		t.Fatalf("times not set: %+v", got)
	}
	// Connected an hour ago counts as in use: due at expiry minus the margin.
	if want := exp.Add(-15 * time.Minute); !got.NextRefreshAt.Equal(want) {
		t.Fatalf("next refresh = %v, want %v", got.NextRefreshAt, want)
	}
	if got := succeeded(ms, c, exp, true, 15*time.Minute, t0); got.StatusReason != schedule.ReasonExpiryAssumed {
		t.Fatalf("assumed expiry not said: %q", got.StatusReason)
	}
}

func TestNextDue(t *testing.T) {
	cat := catalog.New()
	ms, _ := cat.Get(catalog.Microsoft365)
	g, _ := cat.Get(catalog.GoogleWorkspace)
	active := store.Connection{Status: store.StatusConnected, ConnectedAt: t0.Add(-time.Hour), LastRefreshAt: t0}
	idle := store.Connection{Status: store.StatusConnected, ConnectedAt: t0.Add(-30 * 24 * time.Hour), LastRefreshAt: t0}
	tests := []struct {
		name string
		p    catalog.Provider
		c    store.Connection
		exp  time.Time
		want time.Time
	}{
		{"active, hour-long token: margin before expiry", ms, active, t0.Add(time.Hour), t0.Add(45 * time.Minute)},
		{"active, token shorter than the margin: half its life", ms, active, t0.Add(10 * time.Minute), t0.Add(5 * time.Minute)},
		{"idle: keepalive", g, idle, t0.Add(time.Hour), t0.Add(24 * time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.AccessExpiresAt = tc.exp
			if got := nextDue(tc.p, c, 15*time.Minute, t0); !got.Equal(tc.want) {
				t.Fatalf("nextDue = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClientChangedAndOffIndex(t *testing.T) {
	c := store.Connection{Status: store.StatusConnected, NextRefreshAt: t0}
	// Off the index with its reason, its status kept: the change is
	// derived, and undone by restoring the client.
	got := offIndex(c, store.ReasonClientChanged)
	if got.Status != store.StatusConnected || got.StatusReason != "" || !got.NextRefreshAt.IsZero() || got.OffIndexReason != store.ReasonClientChanged || got.LastError != nil {
		t.Fatalf("client changed: %+v", got)
	}
	off := offIndex(c, store.ReasonProviderDisabled)
	if off.Status != store.StatusConnected || !off.NextRefreshAt.IsZero() || off.OffIndexReason != store.ReasonProviderDisabled {
		t.Fatalf("provider disabled: %+v", off)
	}
}
