package refresh_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// clientAudits counts the org's audit entries of action.
func (f *fixture) clientAudits(org, action string) int {
	f.t.Helper()
	entries, _, err := f.env.Deps.Store.ListAudit(f.ctx, org, store.Page{Limit: 100})
	if err != nil {
		f.t.Fatalf("list audit: %v", err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == action {
			if e.Actor != store.AuditActorRefresh {
				f.t.Errorf("%s audited as %q, want the refresh job", action, e.Actor)
			}
			n++
		}
	}
	return n
}

func (f *fixture) health(org, provider string) store.ClientHealth {
	f.t.Helper()
	h, err := f.env.Deps.Store.GetClientHealth(f.ctx, org, provider)
	if err != nil {
		f.t.Fatalf("client health: %v", err)
	}
	return h
}

// refreshCalls counts the refresh calls the fake received for provider.
func (f *fixture) refreshCalls(provider string) int {
	return f.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindRefresh})
}

// TestClientRefusalsPauseTheIntegration (issue 14): every client-level
// answer of every provider (RFC 6749's invalid_client and
// unauthorized_client; Microsoft AADSTS7000215, 7000222, 700016; Salesforce
// invalid_client_id and invalid_client_credentials) is recorded once on the
// integration, asked about once per run, and pauses the connections
// without touching their tokens or status; once the client works again the
// next probe records the recovery and every paused connection refreshes.
func TestClientRefusalsPauseTheIntegration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		provider string
		fault    fakeprovider.Fault
		code     string
	}{
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidClient}, "invalid_client_secret"},       // AADSTS7000215
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrExpiredSecret}, "client_secret_expired"},       // AADSTS7000222
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrUnauthorizedClient}, "client_not_found"},       // AADSTS700016
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrInvalidClient}, "invalid_client"},           //
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrUnauthorizedClient}, "unauthorized_client"}, //
		{catalog.Salesforce, fakeprovider.Fault{Error: fakeprovider.ErrInvalidClient}, "invalid_client"},
		{catalog.Salesforce, fakeprovider.Fault{Error: fakeprovider.ErrUnauthorizedClient}, "unauthorized_client"},
		{catalog.Salesforce, fakeprovider.Fault{Error: "invalid_client_id", Description: "client identifier invalid"}, "invalid_client_id"},
		{catalog.Salesforce, fakeprovider.Fault{Error: "invalid_client_credentials", Description: "client secret invalid"}, "invalid_client_credentials"},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.opts...)
			s := f.service(nil)
			for i, tc := range cases {
				t.Run(tc.provider+"/"+tc.code, func(t *testing.T) {
					f.t = t
					org := fmt.Sprintf("o-client-%d", i)
					in := f.enable(integrationSpec{org: org, provider: tc.provider})
					conns := f.seed(in, "u-", 3, f.env.Clock.Now().Add(-time.Minute))
					before := map[store.ConnKey]store.Connection{}
					for _, sd := range conns {
						before[sd.key] = f.conn(sd.key)
					}
					fault := tc.fault
					fault.Provider, fault.Kind = tc.provider, fakeprovider.KindRefresh
					remove := f.env.Fake.Inject(fault)
					calls := f.refreshCalls(tc.provider)
					r := f.run(context.Background(), s)
					if r.ClientRefused != 1 || r.ClientPaused != 2 || r.NeedsReconnect != 0 {
						t.Fatalf("run %+v, want 1 refused and 2 paused", r)
					}
					if n := f.refreshCalls(tc.provider) - calls; n != 1 {
						t.Fatalf("%d refresh calls with a refused client, want one", n)
					}
					h := f.health(org, tc.provider)
					if !h.Failing() || h.Cause != tc.code || h.ConfigVersion != in.Version {
						t.Fatalf("client health %+v, want failing with %s", h, tc.code)
					}
					if n := f.clientAudits(org, store.ActionClientFailing); n != 1 {
						t.Fatalf("%d client.failing audit entries, want 1", n)
					}
					now := f.env.Clock.Now()
					for _, sd := range conns {
						c := f.conn(sd.key)
						if c.Status != store.StatusConnected || c.PausedReason != store.ReasonClientFailing || !bytes.Equal(c.SealedTokens, before[sd.key].SealedTokens) {
							t.Fatalf("%s: stored %s, paused %q, tokens changed %v", sd.key, c.Status, c.PausedReason, !bytes.Equal(c.SealedTokens, before[sd.key].SealedTokens))
						}
						if c.LastError == nil || c.LastError.Code != tc.code || c.LastError.Owner != "admin" || !c.NextRefreshAt.Equal(now.Add(refresh.ClientPause)) {
							t.Fatalf("%s: last error %+v, next %v", sd.key, c.LastError, c.NextRefreshAt)
						}
					}
					// On demand, within the pause: the valid token is handed
					// out, and a forced refresh does not ask the provider.
					tok, err := s.AccessToken(context.Background(), conns[0].key)
					if err != nil || tok.Refreshed {
						t.Fatalf("AccessToken while paused: %+v, %v", tok, err)
					}
					_, err = s.ForceRefresh(context.Background(), conns[0].key, "")
					var e *refresh.Error
					if !errors.As(err, &e) || e.Failure == nil || e.Failure.Kind != oauthfail.ClientRefused || e.Failure.Code != tc.code {
						t.Fatalf("ForceRefresh while paused: %v, want the client's refusal", err)
					}
					if n := f.refreshCalls(tc.provider) - calls; n != 1 {
						t.Fatalf("on demand asked the provider while paused (%d calls)", n)
					}

					// The client works again: after the pause one probe finds
					// out, records the recovery, and all refresh.
					remove()
					f.env.Clock.Advance(refresh.ClientPause)
					r = f.run(context.Background(), s)
					if r.Refreshed < 3 || r.ClientPaused+r.ClientRefused != 0 {
						t.Fatalf("run after the pause %+v, want all 3 refreshed", r)
					}
					if h := f.health(org, tc.provider); h.Failing() || f.clientAudits(org, store.ActionClientRecovered) != 1 {
						t.Fatalf("client health %+v after a success, want OK and one client.recovered", h)
					}
					for _, sd := range conns {
						if c := f.conn(sd.key); c.PausedReason != "" || c.LastError != nil || c.Status != store.StatusConnected || !c.LastRefreshAt.Equal(f.env.Clock.Now()) {
							t.Fatalf("%s after recovery: %s paused %q error %+v refreshed %v", sd.key, c.Status, c.PausedReason, c.LastError, c.LastRefreshAt)
						}
					}
				})
			}
		})
	}
}

// TestOverlappingRunsReportTheClientOnce: eight runs at once over an
// integration whose client is refused record the failure once (one audit
// entry), each asks the provider at most once, and none marks a
// connection for reconnection.
func TestOverlappingRunsReportTheClientOnce(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, b.opts...)
			const org = "o-overlap"
			in := f.enable(integrationSpec{org: org, provider: catalog.GoogleWorkspace})
			n := b.size(120, 0.25)
			conns := f.seed(in, "u-", n, f.env.Clock.Now().Add(-time.Minute))
			f.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrInvalidClient})
			f.env.Fake.SetLatency(20 * time.Millisecond)
			const runs = 8
			results := make([]refresh.Result, runs)
			var wg sync.WaitGroup
			for i := range runs {
				s := f.service(nil)
				wg.Go(func() { results[i] = f.run(context.Background(), s) })
			}
			wg.Wait()
			refused, paused := 0, 0
			for _, r := range results {
				if r.ClientRefused > 1 || r.NeedsReconnect != 0 {
					t.Fatalf("a run %+v: more than one probe, or a reconnect", r)
				}
				refused += r.ClientRefused
				paused += r.ClientPaused
			}
			if refused+paused != n {
				t.Fatalf("%d refused + %d paused, want every one of the %d connections once", refused, paused, n)
			}
			if calls := f.refreshCalls(catalog.GoogleWorkspace); calls != refused || calls > runs {
				t.Fatalf("%d refresh calls for %d probes of %d runs", calls, refused, runs)
			}
			if a := f.clientAudits(org, store.ActionClientFailing); a != 1 {
				t.Fatalf("%d client.failing audit entries from overlapping runs, want 1", a)
			}
			for _, sd := range conns {
				if c := f.conn(sd.key); c.Status != store.StatusConnected || c.PausedReason != store.ReasonClientFailing {
					t.Fatalf("%s: %s, paused %q", sd.key, c.Status, c.PausedReason)
				}
			}
		})
	}
}

// TestClientFailureNeverExhaustsAConnection (issue 14 §1): two simulated
// weeks of a refused client (the provider stopped accepting the org's
// secret), runs every day past the pause, well beyond
// oauthfail.ExhaustedAfterDays. Every run asks the provider once and
// records nothing on the connections but the pause: they stay connected
// (one that was already refresh_failing stays so, its failure count and
// days as they were), keep their tokens, and no day of the client's
// failure is counted. Once the client works again, one run refreshes them
// all and clears the earlier failures with the success.
func TestClientFailureNeverExhaustsAConnection(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 5, 6, 1, 0, 0, 0, time.UTC)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, append([]localtest.Option{localtest.WithClock(start)}, b.opts...)...)
			s := f.service(nil)
			const org, provider = "o-weeks", catalog.Microsoft365
			in := f.enable(integrationSpec{org: org, provider: provider, orgClient: true})
			conns := f.seed(in, "u-", 3, start.Add(-time.Minute))
			// One connection already failed transiently on two earlier days.
			failing := f.conn(conns[0].key)
			failing.Status, failing.ConsecutiveFailures = store.StatusRefreshFailing, 2
			failing.FailureDays = []string{start.AddDate(0, 0, -2).Format(time.DateOnly), start.AddDate(0, 0, -1).Format(time.DateOnly)}
			failing.LastError = &store.ConnError{Code: "provider_unavailable", Owner: "none", At: start.AddDate(0, 0, -1)}
			if _, err := f.env.Deps.Store.PutConnection(f.ctx, failing, failing.Version); err != nil {
				t.Fatal(err)
			}
			before := map[store.ConnKey]store.Connection{}
			for _, sd := range conns {
				before[sd.key] = f.conn(sd.key)
			}

			// The provider drops the org's secret (rotated at the provider,
			// nobody saved the new one here).
			f.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: provider, ClientID: in.ClientID, Secret: "fake-client-secret-only-the-provider-knows"})
			// Four runs a day on the embedded store, one on moto_server
			// (which serves a few hundred requests a second): each day
			// still has its failures.
			const days = 14
			runsPerDay := b.size(4, 0.25)
			for day := range days {
				for range runsPerDay {
					calls := f.refreshCalls(provider)
					r := f.run(context.Background(), s)
					if r.ClientRefused != 1 || r.ClientPaused != len(conns)-1 || r.NeedsReconnect+r.Exhausted+r.TransientFailures != 0 {
						t.Fatalf("day %d: run %+v, want one probe refused and the rest paused, nothing else", day, r)
					}
					if n := f.refreshCalls(provider) - calls; n != 1 {
						t.Fatalf("day %d: %d refresh calls in a run, want the one probe", day, n)
					}
					f.env.Clock.Advance(24 * time.Hour / time.Duration(runsPerDay))
				}
				for _, sd := range conns {
					c, was := f.conn(sd.key), before[sd.key]
					if c.Status != was.Status || c.ConsecutiveFailures != was.ConsecutiveFailures || !slices.Equal(c.FailureDays, was.FailureDays) ||
						!bytes.Equal(c.SealedTokens, was.SealedTokens) || c.PausedReason != store.ReasonClientFailing || c.NextRefreshAt.IsZero() {
						t.Fatalf("day %d: %s is %s with %d failures on %v, paused %q, due %v, tokens kept %v; want it as it was (%s, %d, %v), paused, on the schedule",
							day, sd.key, c.Status, c.ConsecutiveFailures, c.FailureDays, c.PausedReason, c.NextRefreshAt, bytes.Equal(c.SealedTokens, was.SealedTokens),
							was.Status, was.ConsecutiveFailures, was.FailureDays)
					}
				}
			}
			if h := f.health(org, provider); !h.Failing() || h.Cause != "invalid_client_secret" || !h.Since.Equal(start) || f.clientAudits(org, store.ActionClientFailing) != 1 {
				t.Fatalf("client health after %d days %+v, want one failure since the first run", days, h)
			}

			// The right secret is accepted again (restored at the provider):
			// the next probe, a pause later, finds out and everyone refreshes.
			f.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: provider, ClientID: in.ClientID, Secret: "fake-client-secret-" + org})
			r := f.run(context.Background(), s)
			if r.Refreshed != len(conns) || r.ClientRefused+r.ClientPaused+r.NeedsReconnect+r.Exhausted != 0 {
				t.Fatalf("run once the client works: %+v, want all %d refreshed", r, len(conns))
			}
			for _, sd := range conns {
				if c := f.conn(sd.key); c.Status != store.StatusConnected || c.ConsecutiveFailures != 0 || len(c.FailureDays) != 0 || c.PausedReason != "" || c.LastError != nil {
					t.Fatalf("%s after the recovery: %s, %d failures on %v, paused %q, error %+v", sd.key, c.Status, c.ConsecutiveFailures, c.FailureDays, c.PausedReason, c.LastError)
				}
			}
		})
	}
}
