package refresh_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// TestTransientFaultsNeverNeedReconnect: a fifth of the refreshes meet a
// transient fault (5xx, 429 with Retry-After, malformed JSON, a provider too
// slow for the timeout). None of those connections is marked
// needs_reconnect; each keeps connected, records the failure and is retried
// after its backoff (not before a Retry-After), and the next run refreshes
// them all. No token appears in any log line.
func TestTransientFaultsNeverNeedReconnect(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			// A fifth of the refreshes of each provider meet a fault.
			k := b.size(2, 0.5) // faults of each kind per provider
			perProvider := 40 * k
			const retryAfter = 3 * time.Minute
			faults := []fakeprovider.Fault{
				{Status: 503, Times: 2 * k},
				{Status: 429, RetryAfter: retryAfter, Times: 2 * k},
				{Malformed: true, Times: 2 * k},
				{Status: 500, Times: k},
				{Delay: 3 * time.Second, Status: 504, Times: k}, // the provider timeout (1s) cuts it off
			}
			failing := 8 * k * 3
			seededBy := map[string][]seeded{}
			var all []seeded
			for _, p := range []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce} {
				seededBy[p] = f.seed(f.enable(integrationSpec{org: "o1", provider: p}), "u-", perProvider, now.Add(-time.Minute))
				all = append(all, seededBy[p]...)
				for _, fault := range faults {
					fault.Provider, fault.Kind = p, fakeprovider.KindRefresh
					f.env.Fake.Inject(fault)
				}
			}
			s := f.service(func(o *refresh.Options) {
				o.ProviderTimeout = time.Second
				o.WriteBudget = time.Second
				o.DeadlineMargin = 2 * time.Second
				o.Lease = 5 * time.Second
			})
			r := f.run(context.Background(), s)
			if r.TransientFailures != failing || r.Refreshed != 3*perProvider-failing || r.NeedsReconnect != 0 || r.Exhausted != 0 {
				t.Fatalf("first run: %+v, want %d transient failures and the rest refreshed", r, failing)
			}
			codes := map[string]int{}
			for _, sd := range all {
				c := f.conn(sd.key)
				if c.Status != store.StatusConnected {
					t.Fatalf("%s: status %s after a transient fault, want connected", sd.key, c.Status)
				}
				if c.ConsecutiveFailures == 0 {
					continue
				}
				codes[c.LastError.Code]++
				if c.ConsecutiveFailures != 1 || len(c.FailureDays) != 1 || c.LastError.Owner != "none" {
					t.Fatalf("%s: failure bookkeeping %+v", sd.key, c)
				}
				if !c.NextRefreshAt.After(now) || c.NextRefreshAt.After(now.Add(retryAfter)) && c.LastError.Code != "rate_limited" {
					t.Fatalf("%s: next attempt %v not within the first backoff", sd.key, c.NextRefreshAt)
				}
				if c.LastError.Code == "rate_limited" && c.NextRefreshAt.Before(now.Add(retryAfter)) {
					t.Fatalf("%s: next attempt %v before Retry-After", sd.key, c.NextRefreshAt)
				}
				// The token it holds is still the seeded one, still usable.
				if got := f.tokens(c).RefreshToken; got != sd.refreshToken {
					t.Fatalf("%s: refresh token changed after a failed refresh", sd.key)
				}
			}
			want := map[string]int{"provider_unavailable": 9 * k, "rate_limited": 6 * k, "malformed_response": 6 * k, "provider_timeout": 3 * k}
			for code, n := range want {
				if codes[code] != n {
					t.Errorf("%d connections failed with %s, want %d (all: %v)", codes[code], code, n, codes)
				}
			}

			// After the backoff, the next run refreshes every one of them.
			f.env.Clock.Advance(retryAfter + time.Second)
			r = f.run(context.Background(), s)
			if r.Refreshed != failing || r.TransientFailures != 0 || r.NeedsReconnect != 0 {
				t.Fatalf("second run: %+v, want the %d refreshed", r, failing)
			}
			for _, sd := range all {
				if c := f.conn(sd.key); c.Status != store.StatusConnected || c.ConsecutiveFailures != 0 || c.FailureDays != nil || c.LastError != nil {
					t.Fatalf("%s: not cleared after success: %+v", sd.key, c)
				}
			}
			assertNoTokenInLogs(t, f, all)
		})
	}
}

// assertNoTokenInLogs checks that no token the fake issued for the seeded
// connections, nor their current ones, appears in any log line or metric.
func assertNoTokenInLogs(t *testing.T, f *fixture, conns []seeded) {
	t.Helper()
	var secrets []string
	for _, s := range conns {
		tok := f.tokens(f.conn(s.key))
		secrets = append(secrets, s.refreshToken, tok.RefreshToken, tok.AccessToken)
	}
	lines := append(f.env.Logs(), strings.Split(f.metrics.String(), "\n")...)
	for _, line := range lines {
		for _, sec := range secrets {
			if sec != "" && strings.Contains(line, sec) {
				t.Fatalf("a token appears in a log line: %s", line)
			}
		}
	}
}

// TestInvalidGrantNeedsReconnect: every wording in which a provider says the
// grant is dead makes the connection needs_reconnect with the classified
// cause and who must act, and takes it off the due-index. (A refused client
// does not: TestClientRefusalsPauseTheIntegration.)
func TestInvalidGrantNeedsReconnect(t *testing.T) {
	t.Parallel()
	cases := []struct {
		provider  string
		fault     fakeprovider.Fault
		wantCode  string
		wantOwner string
	}{
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant}, "grant_revoked", "user"},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 700082}, "refresh_token_inactive", "user"},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 70043}, "sign_in_frequency", "user"},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 65001}, "consent_required", "user"},
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant}, "token_revoked", "user"},
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrInvalidRAPT}, "reauth_required", "user"},
		{catalog.Salesforce, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant}, "token_expired", "user"},
	}
	f := newFixture(t)
	s := f.service(nil)
	ins := map[string]store.Integration{}
	for _, p := range []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce} {
		ins[p] = f.enable(integrationSpec{org: "o1", provider: p})
	}
	for i, tc := range cases {
		name := tc.provider + "/" + tc.wantCode
		t.Run(name, func(t *testing.T) {
			sd := f.seed(ins[tc.provider], "case"+string(rune('a'+i))+"-", 1, f.env.Clock.Now().Add(-time.Minute))[0]
			fault := tc.fault
			fault.Provider, fault.Kind, fault.Times = tc.provider, fakeprovider.KindRefresh, 1
			f.env.Fake.Inject(fault)
			r := f.run(context.Background(), s)
			if r.Due != 1 || r.NeedsReconnect != 1 {
				t.Fatalf("run: %+v, want the one connection needs_reconnect", r)
			}
			c := f.conn(sd.key)
			if c.Status != store.StatusNeedsReconnect || c.StatusReason != tc.wantCode || c.LastError == nil ||
				c.LastError.Code != tc.wantCode || c.LastError.Owner != tc.wantOwner || c.LastError.Message == "" {
				t.Fatalf("stored %s/%s, last error %+v; want needs_reconnect/%s owner %s", c.Status, c.StatusReason, c.LastError, tc.wantCode, tc.wantOwner)
			}
			if !c.NextRefreshAt.IsZero() || c.OffIndexReason != store.ReasonNeedsReconnect {
				t.Fatalf("still on the due-index: next %v reason %q", c.NextRefreshAt, c.OffIndexReason)
			}
			// The provider's own words are never stored.
			if strings.Contains(c.LastError.Message, "AADSTS") || strings.Contains(c.LastError.Message, "Trace ID") {
				t.Fatalf("provider text in the stored message: %q", c.LastError.Message)
			}
			// On demand, the same connection explains itself without calling the provider.
			before := f.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh})
			_, err := s.AccessToken(context.Background(), sd.key)
			var e *refresh.Error
			if !errors.As(err, &e) || e.Code != refresh.CodeNeedsReconnect {
				t.Fatalf("AccessToken: %v, want code %s", err, refresh.CodeNeedsReconnect)
			}
			if n := f.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh}); n != before {
				t.Fatalf("AccessToken called the provider for a connection that needs reconnecting")
			}
		})
	}
	// Every case was seen by the failure log with its code.
	var logged []string
	for _, l := range f.env.Logs() {
		if strings.Contains(l, `"msg":"refresh failed"`) {
			logged = append(logged, l)
		}
	}
	for _, tc := range cases {
		if !slices.ContainsFunc(logged, func(l string) bool { return strings.Contains(l, `"code":"`+tc.wantCode+`"`) }) {
			t.Errorf("no failure log line with code %s", tc.wantCode)
		}
	}
}
