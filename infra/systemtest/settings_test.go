package systemtest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

// Issue 14 §2: tightening an integration's settings applies to the
// connections already made, and exactly to those that no longer conform;
// loosening them again gives those back with nobody reconnecting.

// listed is the caller's connection to provider as the listing shows it.
func (w *world) listedView(t *testing.T, org, user, provider string) connections.View {
	t.Helper()
	var l struct {
		Connections []connections.View `json:"connections"`
	}
	if err := w.do(t, "GET", "/v1/orgs/"+org+"/connections", w.member(org, user), nil, nil).Decode(&l); err != nil {
		t.Fatal(err)
	}
	for _, c := range l.Connections {
		if c.Provider == provider {
			return c
		}
	}
	t.Fatalf("%s/%s lists no %s connection", org, user, provider)
	return connections.View{}
}

// check is one diagnostics check of user's connection for capability.
func (w *world) check(t *testing.T, org, user, provider, capability, id string) (status, owner string) {
	t.Helper()
	var rep struct {
		Checks []struct{ ID, Status, Owner string } `json:"checks"`
	}
	if err := w.do(t, "GET", "/v1/orgs/"+org+"/diagnostics/"+provider+"?capability="+capability, w.member(org, user), nil, nil).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.ID == id {
			return c.Status, c.Owner
		}
	}
	t.Fatalf("no %s check", id)
	return "", ""
}

// save PUTs body over org's integration of provider under etag and returns
// the new ETag.
func (w *world) save(t *testing.T, org, provider, etag string, body map[string]any) string {
	t.Helper()
	resp := w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, http.Header{"If-Match": {etag}})
	want(t, resp, 200, "")
	return resp.Header.Get("ETag")
}

// conforming checks, after a refresh run, that each user of users keeps a
// usable connection on the schedule, and each of excluded is listed as
// needing a reconnect for settings_changed, off the schedule with its
// tokens kept (their grant still live at the provider).
func (w *world) conforming(t *testing.T, org, provider string, users, excluded []string, kept map[string]string) {
	t.Helper()
	for _, u := range users {
		l := w.listedView(t, org, u, provider)
		if l.Status != store.StatusConnected || len(l.UsableCapabilities) == 0 {
			t.Errorf("%s conforms but is listed %s/%s with %v usable", u, l.Status, l.StatusReason, l.UsableCapabilities)
		}
		if c := w.conn(org, u, provider); c.NextRefreshAt.IsZero() || c.OffIndexReason != "" {
			t.Errorf("%s conforms but is off the schedule (%q)", u, c.OffIndexReason)
		}
	}
	for _, u := range excluded {
		l := w.listedView(t, org, u, provider)
		if l.Status != store.StatusNeedsReconnect || l.StatusReason != store.ReasonSettingsChanged || len(l.UsableCapabilities) != 0 ||
			l.LastError == nil || l.LastError.Code != store.ReasonSettingsChanged || l.LastError.Owner != "user" {
			t.Errorf("%s no longer conforms but is listed %s/%s usable %v error %+v", u, l.Status, l.StatusReason, l.UsableCapabilities, l.LastError)
		}
		c := w.conn(org, u, provider)
		if !c.NextRefreshAt.IsZero() || c.OffIndexReason != store.ReasonSettingsChanged || c.Status != store.StatusConnected {
			t.Errorf("%s stored next %v off-index %q status %s, want off the schedule for settings_changed, status kept", u, c.NextRefreshAt, c.OffIndexReason, c.Status)
		}
		if tok := w.tokens(t, c); tok.RefreshToken != kept[u] || !w.live(tok.RefreshToken) {
			t.Errorf("%s: the grant was not kept", u)
		}
		if st, owner := w.check(t, org, u, provider, "email", "connection_healthy"); st != "fail" || owner != "user" {
			t.Errorf("%s: diagnostics connection_healthy %s (%s), want fail owned by the user", u, st, owner)
		}
	}
}

// refreshTokens are the users' stored refresh tokens.
func (w *world) refreshTokens(t *testing.T, org, provider string, users ...string) map[string]string {
	out := map[string]string{}
	for _, u := range users {
		out[u] = w.tokens(t, w.conn(org, u, provider)).RefreshToken
	}
	return out
}

func TestHostedDomainNarrowedAppliesToExactlyTheOthers(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org, provider = "o-hd", catalog.GoogleWorkspace
		etag := w.enable(t, org, provider)
		gmail := "pat@gmail.example"
		w.env.Fake.AddUser(fakeprovider.User{Provider: provider, Email: gmail}) // a consumer account: no hd
		other := "sam@other.example"
		w.env.Fake.AddUser(fakeprovider.User{Provider: provider, Email: other, HostedDomain: "other.example"})
		accounts := map[string]string{"u-ws": w.account(provider, "ws"), "u-ws2": w.account(provider, "ws2"), "u-gmail": gmail, "u-other": other}
		users := []string{"u-gmail", "u-other", "u-ws", "u-ws2"}
		for _, u := range users {
			w.connect(t, org, u, provider, accounts[u])
		}
		kept := w.refreshTokens(t, org, provider, users...)
		connected := map[string]time.Time{}
		for _, u := range users {
			connected[u] = w.conn(org, u, provider).ConnectedAt
		}

		body := integrationBody(provider)
		body["hostedDomain"] = fakeprovider.DefaultGoogleDomain
		etag = w.save(t, org, provider, etag, body)
		w.env.Clock.Advance(55 * time.Minute)
		if r := w.refresh(t); r.Refreshed != 2 || r.OffIndex != 2 || r.NeedsReconnect != 0 {
			t.Fatalf("refresh after narrowing: %+v, want the 2 of the domain refreshed and 2 taken off", r)
		}
		w.conforming(t, org, provider, []string{"u-ws", "u-ws2"}, []string{"u-gmail", "u-other"}, kept)

		// Widened again: the excluded come back on the next run, with the
		// grant they had, nobody reconnecting.
		delete(body, "hostedDomain")
		w.save(t, org, provider, etag, body)
		if r := w.refresh(t); r.Reinstated != 2 {
			t.Fatalf("refresh after widening: %+v, want 2 reinstated", r)
		}
		w.conforming(t, org, provider, users, nil, kept)
		w.env.Clock.Advance(2 * time.Hour)
		if r := w.refresh(t); r.Refreshed != 4 || r.NeedsReconnect != 0 {
			t.Fatalf("refresh after widening: %+v, want every connection refreshed", r)
		}
		for _, u := range users {
			if c := w.conn(org, u, provider); !c.ConnectedAt.Equal(connected[u]) || c.Status != store.StatusConnected {
				t.Errorf("%s: connected at %v (was %v), status %s: a reconnect happened", u, c.ConnectedAt, connected[u], c.Status)
			}
		}
	})
}

func TestTenantChangedAppliesToExactlyTheOtherTenant(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org, provider = "o-tenant", catalog.Microsoft365
		body := integrationBody(provider)
		body["tenant"] = "organizations"
		resp := w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, nil)
		want(t, resp, 201, "")
		etag := resp.Header.Get("ETag")
		own := w.account(provider, "lee")
		fabrikam := victimAccount(w, provider) // a work account of another tenant
		w.connect(t, org, "u-own", provider, own)
		w.connect(t, org, "u-fab", provider, fabrikam)
		kept := w.refreshTokens(t, org, provider, "u-own", "u-fab")

		// A domain the provider does not know is refused, and nothing is
		// saved.
		body["tenant"] = "nowhere.example"
		resp = w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, http.Header{"If-Match": {etag}})
		want(t, resp, 400, "validation_failed")
		if !strings.Contains(string(resp.Body), `"code":"tenant_not_found"`) {
			t.Fatalf("refusal %s, want the tenant_not_found field error", resp)
		}
		if in, _ := w.integration(t, org, provider); in.Tenant != "organizations" {
			t.Fatalf("the refused tenant was saved: %q", in.Tenant)
		}

		// The org's own tenant by its verified domain: resolved to its
		// directory id, which excludes exactly the other tenant's account.
		body["tenant"] = fakeprovider.DefaultMicrosoftTenantDomain
		etag = w.save(t, org, provider, etag, body)
		if in, _ := w.integration(t, org, provider); in.TenantID != fakeprovider.DefaultMicrosoftTenantID {
			t.Fatalf("tenant %q resolved to %q, want %s", in.Tenant, in.TenantID, fakeprovider.DefaultMicrosoftTenantID)
		}
		w.env.Clock.Advance(55 * time.Minute)
		if r := w.refresh(t); r.Refreshed != 1 || r.OffIndex != 1 {
			t.Fatalf("refresh after the tenant change: %+v", r)
		}
		w.conforming(t, org, provider, []string{"u-own"}, []string{"u-fab"}, kept)

		// The same tenant by its GUID: the same accounts conform.
		body["tenant"] = fakeprovider.DefaultMicrosoftTenantID
		etag = w.save(t, org, provider, etag, body)
		w.refresh(t)
		w.conforming(t, org, provider, []string{"u-own"}, []string{"u-fab"}, kept)

		// Any work account again: both, nobody reconnecting.
		body["tenant"] = "organizations"
		w.save(t, org, provider, etag, body)
		if r := w.refresh(t); r.Reinstated != 1 {
			t.Fatalf("refresh after organizations: %+v, want 1 reinstated", r)
		}
		w.conforming(t, org, provider, []string{"u-own", "u-fab"}, nil, kept)
	})
}

// TestRolloutNarrowedThenWidened: users outside a narrowed rollout cannot
// use the integration (no usable capabilities, diagnostics' user_in_rollout
// failing) but keep their grants, which the schedule keeps fresh; widening
// it restores them with no reconnect.
func TestRolloutNarrowedThenWidened(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org, provider = "o-rollout", catalog.GoogleWorkspace
		etag := w.enable(t, org, provider)
		w.connect(t, org, "u-out", provider, w.account(provider, "out"))
		before := w.conn(org, "u-out", provider)

		body := integrationBody(provider)
		body["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot"}}
		etag = w.save(t, org, provider, etag, body)
		l := w.listedView(t, org, "u-out", provider)
		if l.Status != store.StatusConnected || len(l.UsableCapabilities) != 0 {
			t.Fatalf("outside the rollout: listed %s with %v usable", l.Status, l.UsableCapabilities)
		}
		if st, owner := w.check(t, org, "u-out", provider, "email", "user_in_rollout"); st != "fail" || owner != "admin" {
			t.Fatalf("user_in_rollout %s (%s), want fail owned by an admin", st, owner)
		}
		w.env.Clock.Advance(55 * time.Minute)
		if r := w.refresh(t); r.Refreshed != 1 {
			t.Fatalf("refresh outside the rollout: %+v, want the grant kept fresh", r)
		}
		if c := w.conn(org, "u-out", provider); c.NextRefreshAt.IsZero() || !w.live(w.tokens(t, c).RefreshToken) {
			t.Fatal("the grant of a user outside the rollout was not kept")
		}

		body["rollout"] = map[string]any{"mode": "everyone"}
		w.save(t, org, provider, etag, body)
		l = w.listedView(t, org, "u-out", provider)
		if l.Status != store.StatusConnected || !slices.Contains(l.UsableCapabilities, catalog.Email) {
			t.Fatalf("widened: listed %s with %v usable", l.Status, l.UsableCapabilities)
		}
		if c := w.conn(org, "u-out", provider); !c.ConnectedAt.Equal(before.ConnectedAt) {
			t.Fatal("widening the rollout made the user reconnect")
		}
	})
}
