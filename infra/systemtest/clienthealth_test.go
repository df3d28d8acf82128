package systemtest_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/app/refreshsvc"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

// Issue 14 §1: a refused OAuth client is the integration's failure, not
// each connection's. These tests drive it through the API and
// RefreshFunction, as an admin and the schedule would, and read back what
// was stored.

// dueAfter is how far the clock moves for the fake's one-hour access tokens
// to come due (expiry less the refresh margin).
const dueAfter = 55 * time.Minute

// clientHealthOf reads the integration's clientHealth through
// GET /v1/orgs/{orgId}/integrations/{provider}, and checks that the admin's
// list says the same.
func (w *world) clientHealthOf(t testing.TB, org, provider string) admin.ClientHealthView {
	t.Helper()
	resp := w.do(t, "GET", integrationPath(org, provider), w.admin(org), nil, nil)
	want(t, resp, 200, "")
	var v admin.IntegrationView
	if err := resp.Decode(&v); err != nil {
		t.Fatal(err)
	}
	list := w.do(t, "GET", "/v1/orgs/"+org+"/integrations", w.admin(org), nil, nil)
	want(t, list, 200, "")
	var cards admin.CardsResponse
	if err := list.Decode(&cards); err != nil {
		t.Fatal(err)
	}
	for _, c := range cards.Integrations {
		if c.Provider == provider && (c.Configuration == nil || c.Configuration.ClientHealth.Status != v.ClientHealth.Status || c.Configuration.ClientHealth.Cause != v.ClientHealth.Cause) {
			t.Errorf("%s: the list's clientHealth %+v differs from the integration's %+v", provider, c.Configuration, v.ClientHealth)
		}
	}
	return v.ClientHealth
}

// auditCount counts org's audit entries of action for provider, read
// through GET /v1/orgs/{orgId}/audit; each must be the refresh job's.
func (w *world) auditCount(t testing.TB, org, provider, action string) int {
	t.Helper()
	resp := w.do(t, "GET", "/v1/orgs/"+org+"/audit?limit=100", w.admin(org), nil, nil)
	want(t, resp, 200, "")
	var page admin.AuditPage
	if err := resp.Decode(&page); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range page.Entries {
		if e.Provider == provider && e.Action == action {
			if e.Actor != store.AuditActorRefresh {
				t.Errorf("%s audited as %q, want the refresh job", action, e.Actor)
			}
			n++
		}
	}
	return n
}

// listedStatus is the connection's status in the user's own listing
// (GET /v1/orgs/{orgId}/connections).
func (w *world) listedStatus(t testing.TB, org, user, provider string) string {
	t.Helper()
	resp := w.do(t, "GET", "/v1/orgs/"+org+"/connections", w.member(org, user), nil, nil)
	want(t, resp, 200, "")
	var l connections.ListResponse
	if err := resp.Decode(&l); err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Connections {
		if c.Provider == provider {
			return c.Status
		}
	}
	return ""
}

// diagCheck is one check of a diagnostics answer.
type diagCheck struct {
	ID, Status, Message, Remediation, Owner string
}

// diagnose runs the user's own diagnostics of provider's first capability
// through the API and returns its checks by id.
func (w *world) diagnose(t testing.TB, org, user, provider string) map[string]diagCheck {
	t.Helper()
	q := url.Values{}
	if provider != catalog.Salesforce {
		q.Set("capability", "email")
	}
	resp := w.do(t, "GET", "/v1/orgs/"+org+"/diagnostics/"+provider+"?"+q.Encode(), w.member(org, user), nil, nil)
	want(t, resp, 200, "")
	var rep struct {
		Overall string      `json:"overall"`
		Checks  []diagCheck `json:"checks"`
	}
	if err := resp.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	out := map[string]diagCheck{"": {Status: rep.Overall}}
	for _, c := range rep.Checks {
		out[c.ID] = c
	}
	return out
}

// setSecret saves the org's client secret through the API.
func (w *world) setSecret(t testing.TB, org, provider, secret string) {
	t.Helper()
	want(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil), 200, "")
}

// TestMistypedSecretPausesAndTheFixResumes: an admin saves a mistyped
// organization client secret (the save is not blocked) and RefreshFunction
// runs. The integration shows clientHealth failing with the provider's
// cause, in its GET and the admin's list, and the audit trail has one
// client.failing; diagnostics fail client_healthy, owned by the admin;
// every connection keeps its status (connected, in the store and the
// user's listing) and its tokens. The admin saves the right secret: the
// paused connections are due at once, the next run refreshes every one of
// them, clientHealth is ok again with one client.recovered, and no user
// connected again. Then the Entra secret expires (AADSTS7000222): recorded
// as client_secret_expired, healed by saving a new one. On the embedded
// store and on the AWS adapters (moto_server).
func TestMistypedSecretPausesAndTheFixResumes(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org = "o-typo"
		users := []string{"u-ann", "u-bob"}
		right := map[string]string{}
		// The cause each provider's answer to a wrong secret is recorded as.
		wantCause := map[string]string{
			catalog.Microsoft365:    "invalid_client_secret", // AADSTS7000215
			catalog.GoogleWorkspace: "invalid_client",
			catalog.Salesforce:      "invalid_client",
		}
		for _, p := range providers {
			right[p] = "fake-client-secret-right-" + p
			w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: p, ClientID: orgClients[p], Secret: right[p]})
			want(t, w.do(t, "PUT", integrationPath(org, p), w.admin(org), orgBody(p), nil), 201, "")
			w.setSecret(t, org, p, right[p])
			for _, u := range users {
				w.connect(t, org, u, p, w.account(p, u+"-"+p))
			}
		}
		type snap struct {
			sealed      []byte
			connectedAt time.Time
		}
		before := map[string]snap{}
		for _, p := range providers {
			for _, u := range users {
				c := w.conn(org, u, p)
				before[p+"/"+u] = snap{c.SealedTokens, c.ConnectedAt}
			}
		}
		authorizations := w.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindAuthorize})

		// The typo.
		for _, p := range providers {
			w.setSecret(t, org, p, "fake-client-secret-mistyped-"+p)
		}
		w.env.Clock.Advance(dueAfter)
		r := w.refresh(t)
		if r.ClientRefused != len(providers) || r.ClientPaused != len(providers)*(len(users)-1) || r.NeedsReconnect != 0 || r.Refreshed != 0 {
			t.Fatalf("run with the mistyped secrets: %+v, want one refusal per integration and the rest paused", r)
		}
		for _, p := range providers {
			h := w.clientHealthOf(t, org, p)
			if h.Status != store.HealthFailing || h.Cause != wantCause[p] || h.Since == nil || !h.Since.Equal(w.env.Clock.Now()) {
				t.Errorf("%s: clientHealth %+v, want failing with %s since now", p, h, wantCause[p])
			}
			if n := w.auditCount(t, org, p, store.ActionClientFailing); n != 1 {
				t.Errorf("%s: %d client.failing audit entries, want 1", p, n)
			}
			for _, u := range users {
				c := w.conn(org, u, p)
				if c.Status != store.StatusConnected || c.PausedReason != store.ReasonClientFailing || !bytes.Equal(c.SealedTokens, before[p+"/"+u].sealed) || len(c.FailureDays) != 0 || c.ConsecutiveFailures != 0 {
					t.Errorf("%s/%s stored %s, paused %q, tokens kept %v, failure days %v, failures %d; want connected, paused, the same tokens, nothing counted",
						p, u, c.Status, c.PausedReason, bytes.Equal(c.SealedTokens, before[p+"/"+u].sealed), c.FailureDays, c.ConsecutiveFailures)
				}
				if s := w.listedStatus(t, org, u, p); s != store.StatusConnected {
					t.Errorf("%s/%s: the user's listing says %q, want connected", p, u, s)
				}
			}
			d := w.diagnose(t, org, users[0], p)
			if c := d["client_healthy"]; c.Status != "fail" || c.Owner != "admin" || !strings.Contains(c.Message, "("+wantCause[p]+")") || !strings.Contains(c.Remediation, "nobody needs to reconnect") {
				t.Errorf("%s: client_healthy %+v, want fail owned by the admin naming %s", p, c, wantCause[p])
			}
			if c := d["connection_healthy"]; c.Status != "skipped" || c.Owner != "admin" {
				t.Errorf("%s: connection_healthy %+v, want skipped for the admin's client", p, c)
			}
		}

		// Within the pause, another run asks nobody.
		calls := w.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh})
		if r := w.refresh(t); r.Claimed != 0 || w.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh}) != calls {
			t.Fatalf("a run within the pause: %+v, %d provider calls", r, w.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh})-calls)
		}

		// The fix: saving the right secret makes the paused connections due
		// now, and the next run (the clock has not moved) refreshes them.
		for _, p := range providers {
			w.setSecret(t, org, p, right[p])
		}
		r = w.refresh(t)
		if r.Refreshed != len(providers)*len(users) || r.ClientRefused+r.ClientPaused+r.NeedsReconnect != 0 {
			t.Fatalf("run after the fix: %+v, want every connection refreshed", r)
		}
		for _, p := range providers {
			if h := w.clientHealthOf(t, org, p); h.Status != store.HealthOK || h.Cause != "" {
				t.Errorf("%s: clientHealth after the fix %+v, want ok", p, h)
			}
			if n := w.auditCount(t, org, p, store.ActionClientRecovered); n != 1 {
				t.Errorf("%s: %d client.recovered audit entries, want 1", p, n)
			}
			for _, u := range users {
				c := w.conn(org, u, p)
				if c.Status != store.StatusConnected || c.PausedReason != "" || c.LastError != nil || !c.LastRefreshAt.Equal(w.env.Clock.Now()) ||
					!c.ConnectedAt.Equal(before[p+"/"+u].connectedAt) || bytes.Equal(c.SealedTokens, before[p+"/"+u].sealed) {
					t.Errorf("%s/%s after the fix: %s, paused %q, error %+v, refreshed %v; want refreshed now, the same connection", p, u, c.Status, c.PausedReason, c.LastError, c.LastRefreshAt)
				}
			}
			if c := w.diagnose(t, org, users[0], p)["client_healthy"]; c.Status != "pass" {
				t.Errorf("%s: client_healthy after the fix %+v", p, c)
			}
		}
		if n := w.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindAuthorize}); n != authorizations {
			t.Errorf("%d authorizations since the typo: somebody had to connect again", n-authorizations)
		}

		// The Entra secret expires (AADSTS7000222).
		ms := catalog.Microsoft365
		expired := w.env.Fake.Inject(fakeprovider.Fault{Provider: ms, Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrExpiredSecret})
		w.env.Clock.Advance(dueAfter)
		r = w.refresh(t)
		if r.ClientRefused != 1 || r.NeedsReconnect != 0 {
			t.Fatalf("run with the expired secret: %+v", r)
		}
		if h := w.clientHealthOf(t, org, ms); h.Status != store.HealthFailing || h.Cause != "client_secret_expired" {
			t.Errorf("clientHealth %+v, want failing with client_secret_expired", h)
		}
		if c := w.diagnose(t, org, users[0], ms)["client_healthy"]; c.Status != "fail" || !strings.Contains(c.Message, "expired") || !strings.Contains(c.Remediation, "new client secret") {
			t.Errorf("client_healthy %+v, want the expired secret and a new one as the fix", c)
		}
		expired()
		w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: ms, ClientID: orgClients[ms], Secret: "fake-client-secret-renewed"})
		w.setSecret(t, org, ms, "fake-client-secret-renewed")
		if r = w.refresh(t); r.ClientRefused+r.ClientPaused+r.NeedsReconnect != 0 {
			t.Fatalf("run after the renewal: %+v", r)
		}
		if h := w.clientHealthOf(t, org, ms); h.Status != store.HealthOK || w.auditCount(t, org, ms, store.ActionClientRecovered) != 2 {
			t.Errorf("after the renewal: clientHealth %+v, want ok and a second client.recovered", h)
		}
		for _, u := range users {
			if c := w.conn(org, u, ms); c.Status != store.StatusConnected || c.PausedReason != "" || !c.LastRefreshAt.Equal(w.env.Clock.Now()) {
				t.Errorf("%s after the renewal: %s paused %q refreshed %v", u, c.Status, c.PausedReason, c.LastRefreshAt)
			}
		}
	})
}

// TestWarmContainerHealsAStaleSecret: two warm containers (two dependency
// sets built from one configuration, each with its own Secrets Manager
// cache) on the AWS adapters. The admin rotates the org's client secret
// through container A; the provider drops the old one at once; container
// B still holds the old one in its cache. B's refresh run meets
// invalid_client, reads the secret again past its cache, refreshes with
// the current one, and records no client failure: clientHealth stays ok,
// no client.failing audit entry, no connection paused. (The embedded store
// has no secrets cache, so nothing there can be stale.)
func TestWarmContainerHealsAStaleSecret(t *testing.T) {
	t.Parallel()
	w := newWorld(t, localtest.WithAWS(), localtest.WithClock(morning))
	ctx := context.Background()
	const org, p = "o-rotate-warm", catalog.GoogleWorkspace
	oldSecret, newSecret := "fake-client-secret-before-rotation", "fake-client-secret-after-rotation"
	w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: p, ClientID: orgClients[p], Secret: oldSecret})
	want(t, w.do(t, "PUT", integrationPath(org, p), w.admin(org), orgBody(p), nil), 201, "")
	w.setSecret(t, org, p, oldSecret)
	users := []string{"u-cy", "u-di"}
	for _, u := range users {
		w.connect(t, org, u, p, w.account(p, u))
	}

	// Container B: built as a cold start builds it, then warmed up (its
	// cache holds the secret as it was).
	b, err := localapp.Build(ctx, w.env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	b.Now = w.env.Clock.Now
	runB, err := refreshsvc.New(b)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := b.Secrets.GetClientSecret(ctx, org, p); err != nil || s != oldSecret {
		t.Fatalf("warming container B: %v (holds the old secret: %v)", err, s == oldSecret)
	}

	// The rotation: a new secret at the provider, which drops the old one,
	// saved through container A (the API's).
	w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: p, ClientID: orgClients[p], Secret: newSecret})
	w.setSecret(t, org, p, newSecret)
	if s, _ := b.Secrets.GetClientSecret(ctx, org, p); s != oldSecret {
		t.Fatal("container B's cache does not hold the old secret: the test would prove nothing")
	}

	w.env.Clock.Advance(dueAfter)
	rctx, cancel := context.WithTimeout(ctx, time.Minute) // a Lambda invocation has a deadline
	defer cancel()
	r, err := runB.Run(rctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Refreshed != len(users) || r.ClientRefused+r.ClientPaused+r.NeedsReconnect+r.TransientFailures != 0 {
		t.Fatalf("container B's run: %+v, want every connection refreshed", r)
	}
	if calls := w.env.Fake.Count(fakeprovider.Filter{Provider: p, Kind: fakeprovider.KindRefresh}); calls != len(users)+1 {
		t.Errorf("%d refresh calls, want %d: one refused with the cached secret, then one each with the current", calls, len(users)+1)
	}
	if s, _ := b.Secrets.GetClientSecret(ctx, org, p); s != newSecret {
		t.Error("container B's cache still holds the old secret after reading past it")
	}
	if h := w.clientHealthOf(t, org, p); h.Status != store.HealthOK {
		t.Errorf("clientHealth %+v after a stale cache, want ok", h)
	}
	if h, err := w.env.Deps.Store.GetClientHealth(ctx, org, p); err != nil || h.Failing() || !h.Since.IsZero() {
		t.Errorf("stored client health %+v (%v): a failure was recorded", h, err)
	}
	if n := w.auditCount(t, org, p, store.ActionClientFailing); n != 0 {
		t.Errorf("%d client.failing audit entries for a stale cache, want none", n)
	}
	for _, u := range users {
		if c := w.conn(org, u, p); c.Status != store.StatusConnected || c.PausedReason != "" || c.LastError != nil || !c.LastRefreshAt.Equal(w.env.Clock.Now()) {
			t.Errorf("%s: %s, paused %q, error %+v, refreshed %v; want refreshed by container B", u, c.Status, c.PausedReason, c.LastError, c.LastRefreshAt)
		}
	}
}
