// Package soak_test is issue 14's proof: a thousand connections in three
// organizations, served by three warm containers on the AWS adapters
// (moto_server), through a sequence of admin actions and provider events,
// end with no connection needing a reconnect that the real provider would
// not require; the connections a tightened hosted domain or tenant
// excludes are exactly those that no longer conform.
//
//	go test -tags moto -run TestSoak -v ./infra/systemtest/soak/
//
// It has tests only. It is its own package so that it runs beside the
// other suites.
package soak_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

func TestMain(m *testing.M) { moto.Main(m) }

// start is the simulated clock's start, far from midnight UTC: failures
// hours apart stay on one day and never reach refresh_exhausted by date.
var start = time.Date(2030, 3, 12, 7, 0, 0, 0, time.UTC)

const (
	orgMS     = "o-contoso" // Microsoft 365, any work account at first
	orgGoogle = "o-example" // Google Workspace, any account at first
	orgSF     = "o-acme"    // Salesforce, with the org's own connected app
)

// Microsoft tenants: contoso is the fake's default tenant; fabrikam's users
// connected while the integration admitted any work account.
const fabrikamTenant, fabrikamDomain = "33333333-4444-5555-6666-777777777777", "fabrikam.example"

// Client ids of the organizations' own apps, of each provider's shape.
const (
	sfClient = "3MVG9soakconsumerkey.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	msClient = "11111111-2222-3333-4444-00000000500a"
)

// soak is the running sequence: the service, its three warm containers,
// what the refresh runs did and which events happened.
type soak struct {
	t      *testing.T
	env    *localtest.Env
	fleet  []*container
	bodies map[string]map[string]any // org → the integration as last saved
	runs   int
	total  refresh.Result
	events []string
}

func (s *soak) event(name string) {
	s.events = append(s.events, name)
	s.t.Logf("event %2d at +%v: %s", len(s.events), s.env.Clock.Now().Sub(start), name)
}

// ticks lets n schedule intervals pass, one refresh run at the end of each,
// on the containers in turn (or on c alone when given). No run may mark a
// connection for reconnection or give up on one: nothing in the sequence
// ends a grant at the provider.
func (s *soak) ticks(n int, only ...*container) {
	s.t.Helper()
	for range n {
		s.env.Clock.Advance(tick)
		c := s.fleet[s.runs%len(s.fleet)]
		if len(only) > 0 {
			c = only[0]
		}
		s.runOn(c)
	}
}

func (s *soak) runOn(c *container) refresh.Result {
	s.t.Helper()
	r := c.run(s.t)
	s.runs++
	s.total.Due += r.Due
	s.total.Refreshed += r.Refreshed
	s.total.TransientFailures += r.TransientFailures
	s.total.ClientRefused += r.ClientRefused
	s.total.ClientPaused += r.ClientPaused
	s.total.OffIndex += r.OffIndex
	s.total.Reinstated += r.Reinstated
	s.total.NeedsReconnect += r.NeedsReconnect
	s.total.Exhausted += r.Exhausted
	s.total.Errors += r.Errors
	if r.NeedsReconnect != 0 || r.Exhausted != 0 || r.Errors != 0 || r.LeaseLost != 0 {
		s.t.Errorf("run %d on %s at +%v: %+v", s.runs, c.name, s.env.Clock.Now().Sub(start), r)
	}
	return r
}

// save PUTs org's integration of provider through c, after changing its
// last saved body with mod.
func (s *soak) save(c *container, org, provider string, mod func(map[string]any)) {
	s.t.Helper()
	body := s.bodies[org]
	mod(body)
	path := "/v1/orgs/" + org + "/integrations/" + provider
	tok := c.token(s.t, "u-admin", org, true)
	// The version edited is the one stored (an admin's console reads it
	// first; nothing else changes it meanwhile).
	var hdr http.Header
	if in, err := s.env.Deps.Store.GetIntegration(context.Background(), org, provider); err == nil {
		hdr = http.Header{"If-Match": {admin.ETag(in.Version)}}
	}
	if a := c.do(s.t, "PUT", path, tok, body, hdr); a.status != 200 && a.status != 201 {
		s.t.Fatalf("PUT %s through %s: %s", path, c.name, a)
	}
}

// putSecret saves org's client secret of provider through c.
func (s *soak) putSecret(c *container, org, provider, value string) {
	s.t.Helper()
	a := c.do(s.t, "PUT", "/v1/orgs/"+org+"/integrations/"+provider+"/client-secret", c.token(s.t, "u-admin", org, true),
		map[string]string{"clientSecret": value}, nil)
	if a.status != 200 {
		s.t.Fatalf("client secret through %s: %d", c.name, a.status)
	}
}

func (s *soak) health(org, provider string) store.ClientHealth {
	s.t.Helper()
	h, err := s.env.Deps.Store.GetClientHealth(context.Background(), org, provider)
	if err != nil {
		s.t.Fatal(err)
	}
	return h
}

// conns reads every stored connection of org's provider.
func (s *soak) conns(org, provider string) []store.Connection {
	s.t.Helper()
	var out []store.Connection
	page := store.Page{Limit: 500}
	for {
		cs, next, err := s.env.Deps.Store.ListProviderConnections(context.Background(), org, provider, page)
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, cs...)
		if next == "" {
			return out
		}
		page.Cursor = next
	}
}

// listed is a user's connection to provider as the listing of c shows it.
type listed struct {
	Provider           string   `json:"provider"`
	Status             string   `json:"status"`
	StatusReason       string   `json:"statusReason"`
	UsableCapabilities []string `json:"usableCapabilities"`
}

func (s *soak) listed(c *container, org, user, provider string, groups ...string) listed {
	s.t.Helper()
	var l struct {
		Connections []listed `json:"connections"`
	}
	a := c.do(s.t, "GET", "/v1/orgs/"+org+"/connections", c.token(s.t, user, org, false, groups...), nil, nil)
	if a.status != 200 {
		s.t.Fatalf("list %s/%s: %s", org, user, a)
	}
	a.decode(s.t, &l)
	for _, x := range l.Connections {
		if x.Provider == provider {
			return x
		}
	}
	s.t.Fatalf("%s/%s lists no %s connection", org, user, provider)
	return listed{}
}

// check is one diagnostics check of user's connection, through c.
func (s *soak) check(c *container, org, user, provider, capability, id string) string {
	s.t.Helper()
	var rep struct {
		Checks []struct{ ID, Status string } `json:"checks"`
	}
	a := c.do(s.t, "GET", "/v1/orgs/"+org+"/diagnostics/"+provider+"?capability="+capability, c.token(s.t, user, org, false), nil, nil)
	if a.status != 200 {
		s.t.Fatalf("diagnostics %s/%s: %s", org, user, a)
	}
	a.decode(s.t, &rep)
	for _, ch := range rep.Checks {
		if ch.ID == id {
			return ch.Status
		}
	}
	s.t.Fatalf("no %s check", id)
	return ""
}

// offSchedule fails the test if a connection of org's provider is still
// off the due-index for reason: what took it off no longer holds.
func (s *soak) offSchedule(org, provider, reason string) {
	s.t.Helper()
	for _, c := range s.conns(org, provider) {
		if c.OffIndexReason == reason || c.NextRefreshAt.IsZero() && c.OffIndexReason == "" {
			s.t.Fatalf("%s is still off the schedule (%q) at +%v", c.ConnKey, c.OffIndexReason, s.env.Clock.Now().Sub(start))
		}
	}
}

// connect runs a user's whole connection through c: start, the provider's
// authorization, the callback and the completion.
func (s *soak) connect(c *container, org, user, provider, loginHint string) {
	s.t.Helper()
	tok := c.token(s.t, user, org, false)
	a := c.do(s.t, "POST", "/v1/orgs/"+org+"/connections/"+provider, tok, map[string]any{"returnTo": localtest.ReturnURL + "settings", "loginHint": loginHint}, nil)
	var started struct {
		AuthorizationURL string `json:"authorizationUrl"`
	}
	if a.status != 201 {
		s.t.Fatalf("start: %s", a)
	}
	a.decode(s.t, &started)
	resp, err := noRedirects.Get(started.AuthorizationURL)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != 302 {
		s.t.Fatalf("the provider answered %d (%q)", resp.StatusCode, resp.Header.Get("Location"))
	}
	a = c.do(s.t, "GET", cb.RequestURI(), "", nil, nil)
	out, err := url.Parse(a.header.Get("Location"))
	if err != nil || a.status != 302 || out.Query().Get("status") != "pending" {
		s.t.Fatalf("callback: %s (%s)", a, a.header.Get("Location"))
	}
	if a = c.do(s.t, "POST", "/v1/orgs/"+org+"/connections/"+provider+"/complete", tok, map[string]any{"completion": out.Query().Get("completion")}, nil); a.status != 200 {
		s.t.Fatalf("complete: %s", a)
	}
}

// live reports whether the fake provider would refresh with c's stored
// refresh token: the grant is intact.
func (s *soak) live(c store.Connection) bool {
	s.t.Helper()
	tok, err := s.fleet[0].deps.Tokens.OpenToken(context.Background(), c.ConnKey, c.SealedTokens)
	if err != nil {
		s.t.Fatalf("open tokens of %s: %v", c.ConnKey, err)
	}
	info, ok := s.env.Fake.TokenInfo(tok.RefreshToken)
	return ok && info.Active
}

func TestSoak(t *testing.T) {
	t.Parallel()
	began := time.Now()
	env := localtest.New(t, localtest.WithAWS(), localtest.WithClock(start),
		localtest.WithFakeOptions(fakeprovider.Options{AutoApprove: true, TokenTTL: tokenTTL}),
		// Timeouts in the outage are real time: a short provider timeout
		// keeps them to seconds.
		localtest.WithEnv("PROVIDER_TIMEOUT_MS", "3000"))
	s := &soak{t: t, env: env, bodies: map[string]map[string]any{}}
	// Three warm containers, each built as a cold start does: its own
	// secrets cache, its own API server and refresh service.
	for i := range 3 {
		s.fleet = append(s.fleet, newContainer(t, env, fmt.Sprintf("c%d", i)))
	}
	c0, c1, c2 := s.fleet[0], s.fleet[1], s.fleet[2]
	ctx := context.Background()

	// The integrations, saved through the API.
	s.bodies[orgMS] = map[string]any{"enabled": true, "rollout": map[string]any{"mode": "everyone"}, "tenant": "organizations", "capabilities": []string{"email", "calendar"}}
	s.bodies[orgGoogle] = map[string]any{"enabled": true, "rollout": map[string]any{"mode": "everyone"}, "capabilities": []string{"email", "calendar"}}
	s.bodies[orgSF] = map[string]any{"enabled": true, "rollout": map[string]any{"mode": "everyone"}, "authBaseUrl": "https://login.salesforce.com",
		"capabilities": []string{"crm"}, "configMode": "organization", "clientId": sfClient}
	sfSecret := secret(t)
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Salesforce, ClientID: sfClient, Secret: sfSecret, RotateRefreshTokens: true})
	keep := func(map[string]any) {}
	s.save(c0, orgMS, catalog.Microsoft365, keep)
	s.save(c0, orgGoogle, catalog.GoogleWorkspace, keep)
	s.putSecret(c0, orgSF, catalog.Salesforce, sfSecret)
	s.save(c0, orgSF, catalog.Salesforce, keep)

	// The accounts at the provider: most Microsoft users in contoso, every
	// seventh in fabrikam; most Google users in example.com, every tenth
	// in other.example and every tenth a consumer account; Salesforce users
	// in the org's own Salesforce org.
	var accts []account
	add := func(org, provider, user string, u fakeprovider.User, conforms bool) {
		u.Provider = provider
		env.Fake.AddUser(u)
		accts = append(accts, account{org: org, user: user, provider: provider, fake: u, conforms: conforms})
	}
	for i := range 400 {
		u, ok := fakeprovider.User{Email: fmt.Sprintf("m%04d@%s", i, fakeprovider.DefaultMicrosoftTenantDomain)}, true
		if i%7 == 3 {
			u, ok = fakeprovider.User{Email: fmt.Sprintf("m%04d@%s", i, fabrikamDomain), Tenant: fabrikamTenant, TenantDomains: []string{fabrikamDomain}}, false
		}
		add(orgMS, catalog.Microsoft365, fmt.Sprintf("u-m%04d", i), u, ok)
	}
	for i := range 398 {
		u, ok := fakeprovider.User{Email: fmt.Sprintf("g%04d@%s", i, fakeprovider.DefaultGoogleDomain), HostedDomain: fakeprovider.DefaultGoogleDomain}, true
		switch i % 10 {
		case 4:
			u, ok = fakeprovider.User{Email: fmt.Sprintf("g%04d@other.example", i), HostedDomain: "other.example"}, false
		case 7:
			u, ok = fakeprovider.User{Email: fmt.Sprintf("g%04d@gmail.example", i)}, false // consumer: no hd
		}
		add(orgGoogle, catalog.GoogleWorkspace, fmt.Sprintf("u-g%04d", i), u, ok)
	}
	for i := range 200 {
		add(orgSF, catalog.Salesforce, fmt.Sprintf("u-s%04d", i), fakeprovider.User{Email: fmt.Sprintf("s%04d@acme.example", i)}, true)
	}
	byOrg := map[string][]account{}
	for _, a := range accts {
		byOrg[a.org] = append(byOrg[a.org], a)
	}
	for org, these := range byOrg {
		in, err := env.Deps.Store.GetIntegration(ctx, org, these[0].provider)
		if err != nil {
			t.Fatal(err)
		}
		seed(t, env, in, these)
	}
	// The last two: a shared support mailbox, connected by two users of
	// the Google org through the whole flow, on two containers. One grant
	// at Google.
	mailbox := "support@" + fakeprovider.DefaultGoogleDomain
	env.Fake.AddUser(fakeprovider.User{Provider: catalog.GoogleWorkspace, Email: mailbox, HostedDomain: fakeprovider.DefaultGoogleDomain})
	s.connect(c1, orgGoogle, "u-ana", catalog.GoogleWorkspace, mailbox)
	s.connect(c2, orgGoogle, "u-ben", catalog.GoogleWorkspace, mailbox)
	seeded := len(accts) + 2
	t.Logf("seeded %d connections in %v", seeded, time.Since(began).Round(time.Millisecond))

	// 1. An org client secret typo, then its fix. The refused client is
	// recorded on the integration; the connections keep their tokens and
	// status, paused. Meanwhile, in the other orgs, 2. the hosted domain is
	// narrowed and 3. the tenant changed.
	typo := sfSecret[:len(sfSecret)-1] + strings.Map(func(r rune) rune {
		if r == '0' {
			return '1'
		}
		return '0'
	}, sfSecret[len(sfSecret)-1:])
	s.event("Salesforce client secret saved with a typo")
	s.putSecret(c0, orgSF, catalog.Salesforce, typo)
	s.event("Google hostedDomain narrowed to example.com")
	s.save(c1, orgGoogle, catalog.GoogleWorkspace, func(b map[string]any) { b["hostedDomain"] = fakeprovider.DefaultGoogleDomain })
	s.event("Microsoft tenant changed from organizations to contoso")
	s.save(c2, orgMS, catalog.Microsoft365, func(b map[string]any) { b["tenant"] = fakeprovider.DefaultMicrosoftTenantID })
	s.ticks(1)
	if !s.health(orgSF, catalog.Salesforce).Failing() {
		t.Fatal("the mistyped secret was never refused")
	}
	var view struct {
		ClientHealth struct{ Status, Cause string } `json:"clientHealth"`
	}
	c2.do(t, "GET", "/v1/orgs/"+orgSF+"/integrations/"+catalog.Salesforce, c2.token(t, "u-admin", orgSF, true), nil, nil).decode(t, &view)
	if view.ClientHealth.Status != "failing" || view.ClientHealth.Cause == "" {
		t.Fatalf("the integration shows client health %+v while the secret is mistyped", view.ClientHealth)
	}
	paused := 0
	for _, c := range s.conns(orgSF, catalog.Salesforce) {
		if c.Status != store.StatusConnected {
			t.Fatalf("%s: %s/%s under a refused client", c.ConnKey, c.Status, c.StatusReason)
		}
		if c.PausedReason == store.ReasonClientFailing {
			paused++
		}
	}
	if paused < 2 {
		t.Fatalf("%d connections paused under the refused client", paused)
	}
	s.event("Salesforce client secret fixed")
	s.putSecret(c0, orgSF, catalog.Salesforce, sfSecret)
	s.ticks(1)
	if h := s.health(orgSF, catalog.Salesforce); h.Failing() {
		t.Fatalf("client health %+v after the fix", h)
	}
	for _, c := range s.conns(orgSF, catalog.Salesforce) {
		if c.PausedReason != "" || c.Status != store.StatusConnected || c.NextRefreshAt.Before(env.Clock.Now()) {
			t.Fatalf("%s after the fix: %s paused %q next %v", c.ConnKey, c.Status, c.PausedReason, c.NextRefreshAt)
		}
	}
	t.Logf("typo: %d connections paused, then resumed", paused)

	// 4. A rotation where the provider drops the old secret while every
	// warm container still holds it in its cache: each re-reads it once
	// when refused, and nothing is recorded.
	for _, c := range s.fleet {
		if _, err := c.deps.Secrets.GetClientSecret(ctx, orgSF, catalog.Salesforce); err != nil {
			t.Fatal(err)
		}
	}
	refused := func() int {
		return env.Fake.Count(fakeprovider.Filter{Provider: catalog.Salesforce, Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeRefused})
	}
	before, recorded := refused(), s.total.ClientRefused
	s.event("Salesforce client secret rotated; the provider drops the old one")
	sfSecret = secret(t)
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Salesforce, ClientID: sfClient, Secret: sfSecret, RotateRefreshTokens: true})
	s.putSecret(c0, orgSF, catalog.Salesforce, sfSecret)
	for _, c := range []*container{c1, c2} {
		s.ticks(1, c)
		if h := s.health(orgSF, catalog.Salesforce); h.Failing() {
			t.Fatalf("client health %+v after a rotation the caches lagged behind", h)
		}
	}
	if refused() == before {
		t.Fatal("no container presented the rotated-away secret: the stale caches were not exercised")
	}
	if s.total.ClientRefused != recorded {
		t.Fatalf("%d client refusals recorded for a secret only a stale cache held", s.total.ClientRefused-recorded)
	}

	// 5. Rollout narrowed, then widened: outside it nobody can use the
	// integration, but the grants stay. 6. Meanwhile the Microsoft org
	// goes from the default client to its own, and back.
	s.event("Google rollout narrowed to the pilot group")
	s.save(c1, orgGoogle, catalog.GoogleWorkspace, func(b map[string]any) {
		b["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot"}}
	})
	if l := s.listed(c2, orgGoogle, "u-g0000", catalog.GoogleWorkspace); l.Status != store.StatusConnected || len(l.UsableCapabilities) != 0 {
		t.Fatalf("outside the rollout: listed %s with %v usable", l.Status, l.UsableCapabilities)
	}
	if st := s.check(c0, orgGoogle, "u-g0000", catalog.GoogleWorkspace, "email", "user_in_rollout"); st != "fail" {
		t.Fatalf("user_in_rollout %s outside the rollout", st)
	}
	if l := s.listed(c1, orgGoogle, "u-g0001", catalog.GoogleWorkspace, "pilot"); len(l.UsableCapabilities) == 0 {
		t.Fatalf("a pilot user cannot use the integration: %+v", l)
	}
	s.event("Microsoft: the organization's own client instead of the default")
	msSecret := secret(t)
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClient, Secret: msSecret})
	s.putSecret(c2, orgMS, catalog.Microsoft365, msSecret)
	s.save(c2, orgMS, catalog.Microsoft365, func(b map[string]any) { b["configMode"], b["clientId"] = "organization", msClient })
	s.ticks(1)
	s.event("Google rollout widened to everyone")
	s.save(c0, orgGoogle, catalog.GoogleWorkspace, func(b map[string]any) { b["rollout"] = map[string]any{"mode": "everyone"} })
	if l := s.listed(c1, orgGoogle, "u-g0000", catalog.GoogleWorkspace); !slices.Contains(l.UsableCapabilities, "email") {
		t.Fatalf("widened: listed %+v", l)
	}
	s.event("Microsoft: back to the default client")
	s.save(c1, orgMS, catalog.Microsoft365, func(b map[string]any) { b["configMode"] = "default"; delete(b, "clientId") })
	// 7. Meanwhile, the provider disabled, then enabled: Salesforce, and
	// Google, whose narrowed hosted domain still excludes some of the
	// connections the re-enabling puts back.
	s.event("Salesforce and Google disabled")
	s.save(c2, orgSF, catalog.Salesforce, func(b map[string]any) { b["enabled"] = false })
	s.save(c0, orgGoogle, catalog.GoogleWorkspace, func(b map[string]any) { b["enabled"] = false })
	s.ticks(1)
	s.offSchedule(orgMS, catalog.Microsoft365, store.ReasonClientChanged)
	s.event("Salesforce and Google enabled")
	s.save(c0, orgSF, catalog.Salesforce, func(b map[string]any) { b["enabled"] = true })
	s.save(c1, orgGoogle, catalog.GoogleWorkspace, func(b map[string]any) { b["enabled"] = true })
	s.ticks(1)
	s.offSchedule(orgSF, catalog.Salesforce, store.ReasonProviderDisabled)
	s.offSchedule(orgGoogle, catalog.GoogleWorkspace, store.ReasonProviderDisabled)

	// 8. One user of the shared mailbox disconnects: only their stored
	// tokens go; the other's grant is the same one and stays.
	s.event("shared Google grant disconnected by one of its two users")
	var gone struct {
		Deleted bool   `json:"deleted"`
		Revoked bool   `json:"revoked"`
		Reason  string `json:"reason"`
	}
	a := c1.do(t, "DELETE", "/v1/orgs/"+orgGoogle+"/connections/"+catalog.GoogleWorkspace, c1.token(t, "u-ana", orgGoogle, false), nil, nil)
	if a.status != 200 {
		t.Fatalf("disconnect: %s", a)
	}
	if a.decode(t, &gone); !gone.Deleted || gone.Revoked || gone.Reason != "shared_grant" {
		t.Fatalf("disconnecting a shared grant answered %s", a.body)
	}
	ben := store.ConnKey{OrgID: orgGoogle, UserID: "u-ben", Provider: catalog.GoogleWorkspace}
	if _, err := c2.refresh.ForceRefresh(ctx, ben, ""); err != nil {
		t.Fatalf("the other holder's grant no longer refreshes: %v", err)
	}

	// 9. A provider outage of 30 simulated minutes: every provider's token
	// endpoint answers 5xx, the first few after a timeout.
	s.event("outage: every provider's token endpoint fails (5xx, timeouts)")
	transientBefore := s.total.TransientFailures
	var removes []func()
	for _, p := range []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce} {
		removes = append(removes,
			env.Fake.Inject(fakeprovider.Fault{Provider: p, Kind: fakeprovider.KindRefresh, Times: 2, Delay: 3500 * time.Millisecond, Status: 503}),
			env.Fake.Inject(fakeprovider.Fault{Provider: p, Kind: fakeprovider.KindRefresh, Status: 503}))
	}
	s.ticks(3)
	for _, r := range removes {
		r()
	}
	s.event("outage over")
	if s.total.TransientFailures == transientBefore {
		t.Fatal("the outage failed no refresh")
	}
	// Every backoff the outage caused is a few minutes: the next run
	// refreshes them all, and one more retries whatever the machine's load
	// made time out there.
	s.ticks(2)

	// The accounting, on what is stored.
	s.account(accts, seeded, began)
}

// account checks the end state of every connection and prints the counts.
func (s *soak) account(accts []account, seeded int, began time.Time) {
	t := s.t
	want := map[store.ConnKey]account{}
	for _, a := range accts {
		want[store.ConnKey{OrgID: a.org, UserID: a.user, Provider: a.provider}] = a
	}
	cat := s.env.Deps.Catalog
	stored, unneeded, marked := 0, 0, map[string]int{}
	nonconforming := map[string]int{}
	for _, a := range accts {
		if !a.conforms {
			nonconforming[a.provider]++
		}
	}
	for _, p := range []struct{ org, provider string }{{orgMS, catalog.Microsoft365}, {orgGoogle, catalog.GoogleWorkspace}, {orgSF, catalog.Salesforce}} {
		in, err := s.env.Deps.Store.GetIntegration(context.Background(), p.org, p.provider)
		if err != nil {
			t.Fatal(err)
		}
		if h := s.health(p.org, p.provider); h.Failing() {
			t.Errorf("%s/%s: client health %+v at the end", p.org, p.provider, h)
		}
		prov, _ := cat.Get(p.provider)
		v := readiness.Of(prov, readiness.Facts{Offered: true, Integration: &in, DefaultClient: true, ClientSecret: true})
		for _, c := range s.conns(p.org, p.provider) {
			stored++
			a, seededHere := want[c.ConnKey]
			conforms := !seededHere || a.conforms // the shared mailbox conforms
			why := v.Connection(c)
			live := s.live(c)
			switch {
			case !conforms && why == readiness.ReasonSettingsChanged && live && c.Status == store.StatusConnected:
				marked[p.provider]++
				if c.OffIndexReason != "" && c.OffIndexReason != store.ReasonSettingsChanged {
					t.Errorf("%s: excluded by the settings but off the schedule for %q", c.ConnKey, c.OffIndexReason)
				}
			case conforms && why == "" && live && c.Status == store.StatusConnected && c.PausedReason == "" &&
				c.OffIndexReason == "" && !c.NextRefreshAt.IsZero() && c.LastError == nil:
			default:
				if conforms {
					unneeded++
				}
				t.Errorf("%s (conforms %v): unusable for %q, status %s/%s, grant live %v, off-index %q, paused %q, next %v, last error %+v",
					c.ConnKey, conforms, why, c.Status, c.StatusReason, live, c.OffIndexReason, c.PausedReason, c.NextRefreshAt, c.LastError)
			}
		}
	}
	// The shared grant's other user keeps a working connection; the one
	// who left has none.
	benKept := 0
	for _, c := range s.conns(orgGoogle, catalog.GoogleWorkspace) {
		if c.UserID == "u-ana" {
			t.Error("the disconnected user's connection is still stored")
		}
		if c.UserID == "u-ben" && s.live(c) {
			benKept = 1
		}
	}
	if l := s.listed(s.fleet[0], orgGoogle, "u-ben", catalog.GoogleWorkspace); len(l.UsableCapabilities) == 0 {
		t.Errorf("the shared grant's other user cannot use it: %+v", l)
	}
	if stored != seeded-1 {
		t.Errorf("%d connections stored at the end, want %d", stored, seeded-1)
	}
	if unneeded != 0 || benKept != 1 {
		t.Errorf("%d unneeded reconnects, shared grant kept %d", unneeded, benKept)
	}
	for _, p := range []string{catalog.GoogleWorkspace, catalog.Microsoft365} {
		if marked[p] != nonconforming[p] {
			t.Errorf("%s: %d marked for the settings, %d no longer conform", p, marked[p], nonconforming[p])
		}
	}
	r := s.total
	t.Logf("soak: connections %d (stored at the end %d), orgs 3, providers 3, containers %d, events %d, refresh runs %d",
		seeded, stored, len(s.fleet), len(s.events), s.runs)
	t.Logf("soak: refreshed %d, transient failures %d, client refused %d, client paused %d, taken off the schedule %d, put back %d",
		r.Refreshed, r.TransientFailures, r.ClientRefused, r.ClientPaused, r.OffIndex, r.Reinstated)
	t.Logf("soak: unneeded reconnects %d; marked for hostedDomain %d (non-conforming %d); marked for tenant %d (non-conforming %d); shared grant kept %d",
		unneeded, marked[catalog.GoogleWorkspace], nonconforming[catalog.GoogleWorkspace], marked[catalog.Microsoft365], nonconforming[catalog.Microsoft365], benKept)
	t.Logf("soak: %v simulated, %v real", s.env.Clock.Now().Sub(start), time.Since(began).Round(time.Second))
}
