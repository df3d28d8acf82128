package systemtest_test

// The fault suite. Provider faults come from the fake provider
// (fakeprovider.Fault); DynamoDB and Secrets Manager faults are injected at
// the wire by the moto proxy (moto.Inject), so the AWS SDK's own retries
// run: a fault on fewer attempts than the SDK makes must be invisible, one
// on every attempt (Calls) reaches the service as store.ErrThrottled, and a
// concurrent writer (Fault.Before) makes moto itself refuse a conditional
// write. Every case reads back what was stored.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

// transientFaults are the provider faults that must never cost a user their
// connection, with the code each is recorded as.
var transientFaults = []struct {
	name  string
	fault fakeprovider.Fault
	code  string
}{
	{"5xx", fakeprovider.Fault{Status: 503}, "provider_unavailable"},
	{"429", fakeprovider.Fault{Status: 429, RetryAfter: 25 * time.Minute}, "rate_limited"},
	// The provider timeout is providerTimeout in these tests: the answer
	// never comes.
	{"timeout", fakeprovider.Fault{Delay: 5 * time.Second, Status: 504}, "provider_timeout"},
	{"malformed", fakeprovider.Fault{Malformed: true}, "malformed_response"},
}

// providerTimeoutMS bounds provider calls in these tests: short, so a
// timeout case costs little, yet far above what the in-process fake takes
// on a busy machine.
const providerTimeoutMS = "1500"

// awsWorld is a world on the AWS adapters with a fixed morning clock and a
// short provider timeout.
func awsWorld(t *testing.T, opts ...localtest.Option) *world {
	t.Helper()
	return newWorld(t, append([]localtest.Option{
		localtest.WithAWS(), localtest.WithClock(morning), localtest.WithEnv("PROVIDER_TIMEOUT_MS", providerTimeoutMS),
	}, opts...)...)
}

// TestRefreshSurvivesProviderFaults: for each provider, one connection per
// transient fault kind and one whose grant is dead. A transient fault keeps
// the tokens (still the ones the fake considers live), records the failure
// with its code and a backoff (never before Retry-After), and from the
// second consecutive failure shows refresh_failing; only invalid_grant
// makes needs_reconnect. When the provider recovers, the next run refreshes
// every failing connection and clears the bookkeeping.
func TestRefreshSurvivesProviderFaults(t *testing.T) {
	t.Parallel()
	for _, provider := range providers {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			w := awsWorld(t)
			const org = "org-refresh-faults"
			w.enable(t, org, provider)
			type conn struct {
				user, email, code string
				fault             fakeprovider.Fault
				refreshToken      string
			}
			var conns []*conn
			var users []string
			for _, f := range transientFaults {
				conns = append(conns, &conn{user: "u-" + f.name, email: w.account(provider, "acct-"+f.name), code: f.code, fault: f.fault})
				users = append(users, "u-"+f.name)
			}
			dead := &conn{user: "u-dead", email: w.account(provider, "acct-dead")}
			for _, c := range append(slices.Clone(conns), dead) {
				w.connect(t, org, c.user, provider, c.email)
				c.refreshToken = w.tokens(t, w.conn(org, c.user, provider)).RefreshToken
				if !w.live(c.refreshToken) {
					t.Fatalf("%s: the stored refresh token is not live at the fake", c.user)
				}
			}
			var removes []func()
			for _, c := range conns {
				f := c.fault
				f.Provider, f.Kind, f.User = provider, fakeprovider.KindRefresh, c.email
				removes = append(removes, w.env.Fake.Inject(f))
			}
			w.env.Fake.Inject(fakeprovider.Fault{Provider: provider, Kind: fakeprovider.KindRefresh, User: dead.email, Error: fakeprovider.ErrInvalidGrant, Times: 1})

			// Two runs while the provider fails: the first failure keeps
			// connected, the second shows refresh_failing.
			for run := 1; run <= 2; run++ {
				now := w.env.Clock.Advance(50 * time.Minute)
				if run == 2 {
					now = latestNext(w, org, provider, users, now)
				}
				r := w.refresh(t)
				wantNR := 0
				if run == 1 {
					wantNR = 1
				}
				if r.TransientFailures != len(conns) || r.NeedsReconnect != wantNR || r.Refreshed != 0 || r.Errors != 0 || r.LeaseLost != 0 {
					t.Fatalf("run %d: %+v", run, r)
				}
				for _, c := range conns {
					got := w.conn(org, c.user, provider)
					wantStatus := store.StatusConnected
					if run == 2 {
						wantStatus = store.StatusRefreshFailing
					}
					if got.Status != wantStatus || got.ConsecutiveFailures != run || got.LastError == nil || got.LastError.Code != c.code || got.LastError.Owner != "none" {
						t.Fatalf("run %d, %s: status %s failures %d last error %+v; want %s, %d, %s", run, c.user, got.Status, got.ConsecutiveFailures, got.LastError, wantStatus, run, c.code)
					}
					if run == 2 && got.StatusReason != c.code {
						t.Errorf("%s: status reason %q, want %q", c.user, got.StatusReason, c.code)
					}
					if !got.NextRefreshAt.After(now) || got.OffIndexReason != "" {
						t.Fatalf("run %d, %s: next attempt %v (off index %q), want a backoff after %v", run, c.user, got.NextRefreshAt, got.OffIndexReason, now)
					}
					if c.fault.RetryAfter > 0 && got.NextRefreshAt.Before(now.Add(c.fault.RetryAfter)) {
						t.Fatalf("%s: next attempt %v before the provider's Retry-After (%v)", c.user, got.NextRefreshAt, now.Add(c.fault.RetryAfter))
					}
					if tok := w.tokens(t, got); tok.RefreshToken != c.refreshToken || !w.live(tok.RefreshToken) {
						t.Fatalf("run %d, %s: the stored refresh token changed or died after a transient failure", run, c.user)
					}
				}
				if run == 1 {
					got := w.conn(org, dead.user, provider)
					if got.Status != store.StatusNeedsReconnect || got.LastError == nil || got.LastError.Owner != "user" || !got.NextRefreshAt.IsZero() {
						t.Fatalf("invalid_grant: %s, %+v, next %v", got.Status, got.LastError, got.NextRefreshAt)
					}
				}
			}
			// The user sees it too.
			resp := w.do(t, "GET", "/v1/orgs/"+org+"/connections", w.member(org, conns[0].user), nil, nil)
			want(t, resp, 200, "")
			if !strings.Contains(string(resp.Body), `"status":"refresh_failing"`) {
				t.Fatalf("the user's list does not say refresh_failing: %s", resp.Body)
			}

			// The provider recovers.
			for _, remove := range removes {
				remove()
			}
			latestNext(w, org, provider, users, w.env.Clock.Now())
			r := w.refresh(t)
			if r.Refreshed != len(conns) || r.TransientFailures != 0 || r.NeedsReconnect != 0 {
				t.Fatalf("recovery run: %+v", r)
			}
			for _, c := range conns {
				got := w.conn(org, c.user, provider)
				if got.Status != store.StatusConnected || got.ConsecutiveFailures != 0 || got.FailureDays != nil || got.LastError != nil || got.StatusReason != "" {
					t.Fatalf("%s after recovery: %+v", c.user, got)
				}
				tok := w.tokens(t, got)
				if !w.live(tok.AccessToken) || !w.live(tok.RefreshToken) {
					t.Fatalf("%s: the stored tokens are not the live ones after recovery", c.user)
				}
			}
			if got := w.conn(org, dead.user, provider); got.Status != store.StatusNeedsReconnect {
				t.Fatalf("the dead grant was touched again: %s", got.Status)
			}
		})
	}
}

// latestNext moves the clock past the latest NextRefreshAt of the users'
// connections (and at least past now) and returns the new time.
func latestNext(w *world, org, provider string, users []string, now time.Time) time.Time {
	latest := now
	for _, u := range users {
		if n := w.conn(org, u, provider).NextRefreshAt; n.After(latest) {
			latest = n
		}
	}
	next := latest.Add(time.Second)
	w.env.Clock.Set(next)
	return next
}

// TestCallbackSurvivesProviderFaults: a transient provider fault during the
// code exchange tells the user what happened (the redirect's code), consumes
// the state exactly once (a replay is state_invalid and never reaches the
// provider), stores no connection, and a new attempt connects with tokens
// the fake considers live.
func TestCallbackSurvivesProviderFaults(t *testing.T) {
	t.Parallel()
	for _, provider := range providers {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			w := awsWorld(t)
			const org = "org-callback-faults"
			w.enable(t, org, provider)
			for _, f := range transientFaults {
				user := "u-" + f.name
				fault := f.fault
				fault.Provider, fault.Kind, fault.Times = provider, fakeprovider.KindExchange, 1
				w.env.Fake.Inject(fault)
				cb := w.toCallback(t, w.start(t, org, w.member(org, user), provider, ""))
				out := w.callback(t, cb)
				if out.Get("status") != "error" || out.Get("code") != f.code || out.Get("provider") != provider {
					t.Fatalf("%s: callback outcome %v, want error %s", f.name, out, f.code)
				}
				if w.stateStored(t, stateOf(t, cb)) {
					t.Fatalf("%s: the state is still stored after its callback", f.name)
				}
				if c := w.conn(org, user, provider); c != nil {
					t.Fatalf("%s: a connection was stored after a failed exchange: %+v", f.name, c)
				}
				exchanges := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindExchange})
				replay := w.do(t, "GET", cb, "", nil, nil)
				wantStateInvalid(t, replay)
				if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindExchange}); n != exchanges {
					t.Fatalf("%s: a replayed callback reached the provider", f.name)
				}

				w.connect(t, org, user, provider, "")
				c := w.conn(org, user, provider)
				tok := w.tokens(t, c)
				if c.Status != store.StatusConnected || !w.live(tok.AccessToken) || !w.live(tok.RefreshToken) {
					t.Fatalf("%s: after the retry: %s, tokens live %v/%v", f.name, c.Status, w.live(tok.AccessToken), w.live(tok.RefreshToken))
				}
			}
		})
	}
}

// wantStateInvalid: the callback's own page for an unusable state.
func wantStateInvalid(t testing.TB, resp *localtest.Response) {
	t.Helper()
	if resp.Status != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(resp.Body), "<code>state_invalid</code>") {
		t.Fatalf("callback answered %s, want the state_invalid page", resp)
	}
}

// orgClients are organization-owned client ids of each provider's shape,
// registered at the fake by the tests that use them.
var orgClients = map[string]string{
	catalog.Microsoft365:    "11111111-2222-3333-4444-0000000000aa",
	catalog.GoogleWorkspace: "123456789012-systemtestorgclient000000000000.apps.googleusercontent.com",
	catalog.Salesforce:      "3MVG9systemtestconsumerkey.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
}

// orgBody is integrationBody in organization mode with the org's client.
func orgBody(provider string) map[string]any {
	body := integrationBody(provider)
	body["configMode"], body["clientId"] = "organization", orgClients[provider]
	return body
}

// TestAdminSaveSurvivesProviderFaults: a transient provider fault during the
// credential check never fails the save: the secret is stored and recorded
// with one audit entry, the check says unreachable, and it says valid when
// the provider is back.
func TestAdminSaveSurvivesProviderFaults(t *testing.T) {
	t.Parallel()
	w := awsWorld(t)
	for _, provider := range providers {
		t.Run(provider, func(t *testing.T) {
			org := "org-check-" + provider
			secret := "fake-client-secret-check-" + provider
			w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: provider, ClientID: orgClients[provider], Secret: secret})
			want(t, w.do(t, "PUT", integrationPath(org, provider), w.admin(org), orgBody(provider), nil), 201, "")
			kind := fakeprovider.KindExchange // a dummy code: the endpoint authenticates the client first
			if provider == catalog.Microsoft365 {
				kind = fakeprovider.KindClientCredentials
			}
			for i, f := range transientFaults {
				fault := f.fault
				fault.Provider, fault.Kind, fault.ClientID, fault.Times = provider, kind, orgClients[provider], 1
				w.env.Fake.Inject(fault)
				resp := w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil)
				want(t, resp, 200, "")
				var v admin.IntegrationView
				if err := resp.Decode(&v); err != nil {
					t.Fatal(err)
				}
				if v.CredentialCheck == nil || v.CredentialCheck.Result != admin.CheckUnreachable || v.Status != admin.StatusReady {
					t.Fatalf("%s: status %s, check %+v; want ready and unreachable", f.name, v.Status, v.CredentialCheck)
				}
				in, _ := w.integration(t, org, provider)
				sets := 0
				for _, e := range w.audit(t, org) {
					if e.Action == admin.ActionSecretSet {
						sets++
					}
				}
				if in.ClientSecretSetAt.IsZero() || in.Version != int64(2+i) || sets != i+1 {
					t.Fatalf("%s: stored version %d, secret set at %v, %d secret audit entries", f.name, in.Version, in.ClientSecretSetAt, sets)
				}
			}
			resp := w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil)
			var v admin.IntegrationView
			if err := resp.Decode(&v); err != nil || v.CredentialCheck == nil || v.CredentialCheck.Result != admin.CheckValid {
				t.Fatalf("after the provider recovered: %s", resp)
			}
		})
	}
}

// storeFault injects a DynamoDB fault on this world's table.
func (w *world) storeFault(t testing.TB, f moto.Fault) *moto.Injected {
	f.Table = w.env.Config.TableName
	return moto.Inject(t, f)
}

// auditActions lists org's audit actions, oldest first.
func (w *world) auditActions(t testing.TB, org string) []string {
	var out []string
	for _, e := range w.audit(t, org) {
		out = append([]string{e.Action}, out...)
	}
	return out
}

// wantUnavailable: a 503 service_unavailable that asks the client to retry.
func wantUnavailable(t testing.TB, resp *localtest.Response) {
	t.Helper()
	want(t, resp, http.StatusServiceUnavailable, "service_unavailable")
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

// TestAdminSaveSurvivesStoreFaults: DynamoDB throttling and a concurrent
// writer during admin saves. The integration and its audit entry are
// written together or not at all; a save the store refused answers an
// opaque 503 and succeeds on retry; a concurrent writer's change is never
// overwritten (412 with the current ETag).
func TestAdminSaveSurvivesStoreFaults(t *testing.T) {
	t.Parallel()
	w := awsWorld(t)
	const provider = catalog.GoogleWorkspace
	put := func(t *testing.T, org string, body map[string]any, etag string) *localtest.Response {
		var h http.Header
		if etag != "" {
			h = http.Header{"If-Match": {etag}}
		}
		return w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, h)
	}
	withCaps := func(caps ...string) map[string]any {
		b := integrationBody(provider)
		b["capabilities"] = caps
		return b
	}
	// onOrg narrows a fault to one org's integration partition.
	onOrg := func(org string) []string { return []string{`"ORG#` + org + `"`} }

	t.Run("create throttled beyond the SDK's retries", func(t *testing.T) {
		t.Parallel()
		org := "org-create-busy"
		f := w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Code: moto.Throttling, Calls: 1})
		wantUnavailable(t, put(t, org, integrationBody(provider), ""))
		if f.Hits() != moto.SDKAttemptsDynamoDB {
			t.Fatalf("the fault answered %d attempts, want all %d", f.Hits(), moto.SDKAttemptsDynamoDB)
		}
		if _, found := w.integration(t, org, provider); found || len(w.audit(t, org)) != 0 {
			t.Fatal("a refused save left an integration or an audit entry")
		}
		want(t, put(t, org, integrationBody(provider), ""), 201, "")
		if in, _ := w.integration(t, org, provider); in.Version != 1 || !slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated}) {
			t.Fatalf("after the retry: version %d, audit %v", in.Version, w.auditActions(t, org))
		}
	})
	t.Run("update throttled within the SDK's retries", func(t *testing.T) {
		t.Parallel()
		org := "org-update-absorbed"
		etag := w.enable(t, org, provider)
		f := w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Code: moto.ProvisionedThroughputExceeded, Times: moto.SDKAttemptsDynamoDB - 1})
		want(t, put(t, org, withCaps("email"), etag), 200, "")
		if f.Hits() != moto.SDKAttemptsDynamoDB-1 {
			t.Fatalf("hits %d", f.Hits())
		}
		in, _ := w.integration(t, org, provider)
		if in.Version != 2 || !slices.Equal(in.Capabilities, []string{"email"}) || !slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated, admin.ActionUpdated}) {
			t.Fatalf("stored version %d caps %v, audit %v", in.Version, in.Capabilities, w.auditActions(t, org))
		}
	})
	t.Run("transaction cancelled by throttling", func(t *testing.T) {
		t.Parallel()
		org := "org-update-cancelled"
		etag := w.enable(t, org, provider)
		w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Code: moto.TransactionCanceled, Reasons: []string{"ThrottlingError", "None"}, Times: 1})
		wantUnavailable(t, put(t, org, withCaps("email"), etag))
		in, _ := w.integration(t, org, provider)
		if in.Version != 1 || len(in.Capabilities) != 2 || len(w.audit(t, org)) != 1 {
			t.Fatalf("a cancelled transaction left version %d caps %v, %d audit entries", in.Version, in.Capabilities, len(w.audit(t, org)))
		}
		want(t, put(t, org, withCaps("email"), etag), 200, "")
		if !slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated, admin.ActionUpdated}) {
			t.Fatalf("audit %v", w.auditActions(t, org))
		}
	})
	t.Run("concurrent writer", func(t *testing.T) {
		t.Parallel()
		org := "org-update-raced"
		etag := w.enable(t, org, provider)
		// Another admin's save lands between this save's read and its
		// conditional write.
		w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Times: 1, Before: func() {
			resp := w.do(t, "PUT", integrationPath(org, provider), w.env.AdminToken("u-other-admin", org), withCaps("calendar"), http.Header{"If-Match": {etag}})
			if resp.Status != 200 {
				t.Errorf("the other admin's save: %s", resp)
			}
		}})
		resp := put(t, org, withCaps("email"), etag)
		want(t, resp, http.StatusPreconditionFailed, "precondition_failed")
		if resp.Header.Get("ETag") != `"2"` {
			t.Fatalf("412 carries ETag %q, want the other admin's version", resp.Header.Get("ETag"))
		}
		in, _ := w.integration(t, org, provider)
		audit := w.audit(t, org)
		if in.Version != 2 || !slices.Equal(in.Capabilities, []string{"calendar"}) || in.UpdatedBy != "u-other-admin" ||
			len(audit) != 2 || audit[0].Actor != "u-other-admin" {
			t.Fatalf("stored %+v, audit %+v: the other admin's change must stand alone", in, audit)
		}
		want(t, put(t, org, withCaps("email"), `"2"`), 200, "")
	})
	t.Run("secret store throttled", func(t *testing.T) {
		t.Parallel()
		org := "org-secret-busy"
		w.enable(t, org, provider)
		secret := "fake-client-secret-busy"
		moto.Inject(t, moto.Fault{Operation: "PutSecretValue", Contains: []string{"/" + org + "/"}, Code: moto.Throttling, Calls: 1})
		wantUnavailable(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil))
		in, _ := w.integration(t, org, provider)
		if _, err := w.env.Deps.Secrets.GetClientSecret(context.Background(), org, provider); err == nil || !in.ClientSecretSetAt.IsZero() || len(w.audit(t, org)) != 1 {
			t.Fatalf("after a refused secret write: stored %v, set at %v, %d audit entries", err == nil, in.ClientSecretSetAt, len(w.audit(t, org)))
		}
		want(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil), 200, "")
		if got, err := w.env.Deps.Secrets.GetClientSecret(context.Background(), org, provider); err != nil || got != secret {
			t.Fatalf("secret after the retry: %v", err)
		}
		if !slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated, admin.ActionSecretSet}) {
			t.Fatalf("audit %v", w.auditActions(t, org))
		}
	})
	t.Run("secret recorded under throttling", func(t *testing.T) {
		t.Parallel()
		org := "org-secret-record-busy"
		w.enable(t, org, provider)
		secret := "fake-client-secret-record"
		w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Code: moto.Throttling, Calls: 1})
		wantUnavailable(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil))
		// The secret was stored first; the integration does not claim it
		// until the record is written, and a retry writes it once.
		if in, _ := w.integration(t, org, provider); !in.ClientSecretSetAt.IsZero() || in.Version != 1 || len(w.audit(t, org)) != 1 {
			t.Fatalf("half-recorded secret: set at %v, version %d, %d audit entries", in.ClientSecretSetAt, in.Version, len(w.audit(t, org)))
		}
		want(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": secret}, nil), 200, "")
		if in, _ := w.integration(t, org, provider); in.ClientSecretSetAt.IsZero() || !slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated, admin.ActionSecretSet}) {
			t.Fatalf("after the retry: set at %v, audit %v", in.ClientSecretSetAt, w.auditActions(t, org))
		}
	})
	t.Run("secret recorded beside a concurrent writer", func(t *testing.T) {
		t.Parallel()
		org := "org-secret-raced"
		etag := w.enable(t, org, provider)
		w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Times: 1, Before: func() {
			resp := w.do(t, "PUT", integrationPath(org, provider), w.env.AdminToken("u-other-admin", org), withCaps("calendar"), http.Header{"If-Match": {etag}})
			if resp.Status != 200 {
				t.Errorf("the other admin's save: %s", resp)
			}
		}})
		want(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": "fake-client-secret-raced"}, nil), 200, "")
		in, _ := w.integration(t, org, provider)
		if in.Version != 3 || in.ClientSecretSetAt.IsZero() || !slices.Equal(in.Capabilities, []string{"calendar"}) ||
			!slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated, admin.ActionUpdated, admin.ActionSecretSet}) {
			t.Fatalf("stored version %d caps %v set at %v, audit %v: both changes must stand", in.Version, in.Capabilities, in.ClientSecretSetAt, w.auditActions(t, org))
		}
	})
	t.Run("secret removal recorded under throttling", func(t *testing.T) {
		t.Parallel()
		org := "org-secret-remove-busy"
		w.enable(t, org, provider)
		want(t, w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": "fake-client-secret-remove"}, nil), 200, "")
		w.storeFault(t, moto.Fault{Operation: "TransactWriteItems", Contains: onOrg(org), Code: moto.Throttling, Calls: 1})
		wantUnavailable(t, w.do(t, "DELETE", integrationPath(org, provider)+"/client-secret", w.admin(org), nil, nil))
		if len(w.audit(t, org)) != 2 {
			t.Fatalf("a refused removal was audited: %v", w.auditActions(t, org))
		}
		want(t, w.do(t, "DELETE", integrationPath(org, provider)+"/client-secret", w.admin(org), nil, nil), 200, "")
		in, _ := w.integration(t, org, provider)
		if !in.ClientSecretSetAt.IsZero() || !slices.Equal(w.auditActions(t, org), []string{admin.ActionCreated, admin.ActionSecretSet, admin.ActionSecretRemoved}) {
			t.Fatalf("after the retry: set at %v, audit %v", in.ClientSecretSetAt, w.auditActions(t, org))
		}
	})
}

// wantRetryPage: the callback answered its own page (no returnTo is known) with
// code, and the page tells the user to try again.
func wantRetryPage(t testing.TB, resp *localtest.Response, code string) {
	t.Helper()
	if resp.Status != 400 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(resp.Body), "<code>"+code+"</code>") || !strings.Contains(string(resp.Body), "Try again") {
		t.Fatalf("callback answered %s, want a %s page asking to try again", resp, code)
	}
}

// unkeptTokensDead: every refresh token the fake issued to the service is
// either held by a stored connection or no longer usable, except where the
// provider offers no revocation (Microsoft), whose unkept tokens simply
// lapse.
func unkeptTokensDead(t testing.TB, w *world, wire *localtest.Wire, provider, account string, held ...*store.Connection) {
	t.Helper()
	keep := map[string]bool{}
	for _, c := range held {
		if c != nil {
			keep[w.tokens(t, c).RefreshToken] = true
		}
	}
	checked := 0
	for v, kind := range wire.Values() {
		info, ok := w.env.Fake.TokenInfo(v)
		if kind != "refresh_token" || !ok || info.Provider != provider || !strings.EqualFold(info.User, account) || keep[v] {
			continue
		}
		checked++
		if info.Active && provider != catalog.Microsoft365 {
			t.Errorf("%s: a refresh token the service did not keep is still live", provider)
		}
	}
	if checked == 0 {
		t.Errorf("%s: no unkept refresh token was seen: the check proved nothing", provider)
	}
}

// TestCallbackSurvivesStoreFaults: DynamoDB throttling and a concurrent
// writer during the OAuth callback. The state is consumed exactly once; a
// callback the store refused tells the user to try again and keeps nothing
// half-written (no connection, the unkept tokens given back); a connection
// written beside a concurrent writer is the new authorization, whole.
func TestCallbackSurvivesStoreFaults(t *testing.T) {
	t.Parallel()
	wire := &localtest.Wire{}
	w := awsWorld(t, localtest.WithWire(wire))
	ctx := context.Background()
	const provider = catalog.GoogleWorkspace
	setup := func(t *testing.T, org string, ps ...string) {
		for _, p := range ps {
			w.enable(t, org, p)
		}
	}

	t.Run("state consumption throttled beyond the SDK's retries", func(t *testing.T) {
		t.Parallel()
		org, user := "org-cb-consume", "u-cb-consume"
		setup(t, org, provider)
		email := w.account(provider, "acct-cb-consume")
		cb := w.toCallback(t, w.start(t, org, w.member(org, user), provider, email))
		w.storeFault(t, moto.Fault{Operation: "DeleteItem", Contains: []string{"STATE#" + connections.StateID(stateOf(t, cb))}, Code: moto.Throttling, Calls: 1})
		wantRetryPage(t, w.do(t, "GET", cb, "", nil, nil), "internal_error")
		if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindExchange, User: email}); n != 0 {
			t.Fatalf("the code was exchanged although the state was not consumed (%d)", n)
		}
		if !w.stateStored(t, stateOf(t, cb)) || w.conn(org, user, provider) != nil {
			t.Fatal("the state must stay pending and no connection exist")
		}
		// The user reloads the page: the same state now completes, once.
		if resp := w.complete(t, org, user, pending(t, w.callback(t, cb))); resp.Status != 200 {
			t.Fatalf("complete after the reload: %s", resp)
		}
		wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))
		if w.stateStored(t, stateOf(t, cb)) {
			t.Fatal("the state survived its use")
		}
	})
	t.Run("state consumption throttled within the SDK's retries", func(t *testing.T) {
		t.Parallel()
		org, user := "org-cb-consume-absorbed", "u-cb-consume-absorbed"
		setup(t, org, provider)
		cb := w.toCallback(t, w.start(t, org, w.member(org, user), provider, ""))
		f := w.storeFault(t, moto.Fault{Operation: "DeleteItem", Contains: []string{"STATE#" + connections.StateID(stateOf(t, cb))}, Code: moto.ProvisionedThroughputExceeded, Times: moto.SDKAttemptsDynamoDB - 1})
		if out := w.callback(t, cb); out.Get("status") != "pending" || f.Hits() != moto.SDKAttemptsDynamoDB-1 {
			t.Fatalf("callback %v after %d throttles", out, f.Hits())
		}
		wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))
	})
	for _, p := range providers {
		// The callback's one write is the pending completion: refused,
		// nothing is kept, and the new tokens are given back.
		t.Run("pending completion write throttled/"+p, func(t *testing.T) {
			t.Parallel()
			org, user := "org-cb-pend-"+p, "u-cb-pend"
			setup(t, org, p)
			email := w.account(p, "acct-cb-pend")
			cb := w.toCallback(t, w.start(t, org, w.member(org, user), p, email))
			w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: []string{`"COMPLETION#`, `"` + org + `"`}, Code: moto.Throttling, Calls: 1})
			out := w.callback(t, cb)
			if out.Get("status") != "error" || out.Get("code") != "internal_error" || out.Get("provider") != p || out.Has("completion") {
				t.Fatalf("callback %v, want error internal_error", out)
			}
			if w.conn(org, user, p) != nil || w.stateStored(t, stateOf(t, cb)) {
				t.Fatal("a refused callback left a connection, or the state unconsumed")
			}
			wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))
			w.connect(t, org, user, p, email)
			c := w.conn(org, user, p)
			if tok := w.tokens(t, c); !w.live(tok.RefreshToken) || !w.live(tok.AccessToken) {
				t.Fatal("the retried connection's tokens are not live")
			}
			unkeptTokensDead(t, w, wire, p, email, c)
		})
		// The completion's write is the connection: refused, the pending
		// tokens are spent and given back, nothing is half-written, and
		// connecting again works.
		t.Run("connection write throttled/"+p, func(t *testing.T) {
			t.Parallel()
			org, user := "org-cb-save-"+p, "u-cb-save"
			setup(t, org, p)
			email := w.account(p, "acct-cb-save")
			out := pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), p, email))))
			w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: []string{`"USER#` + org + `#` + user + `"`}, Code: moto.Throttling, Calls: 1})
			if resp := w.complete(t, org, user, out); resp.Status < 500 {
				t.Fatalf("complete under a refused write answered %s", resp)
			}
			if w.conn(org, user, p) != nil {
				t.Fatal("a refused completion left a connection")
			}
			if resp := w.complete(t, org, user, out); resp.Status != 404 || resp.Code() != "completion_not_found" {
				t.Fatalf("the spent completion again: %s", resp)
			}
			w.connect(t, org, user, p, email)
			c := w.conn(org, user, p)
			if tok := w.tokens(t, c); !w.live(tok.RefreshToken) || !w.live(tok.AccessToken) {
				t.Fatal("the retried connection's tokens are not live")
			}
			unkeptTokensDead(t, w, wire, p, email, c)
		})
	}
	for _, p := range providers {
		// A reconnect whose save fails must not cost the connection the
		// user already has: Google's revocation ends every token of the
		// client and account, so giving the new tokens back there would
		// kill the stored ones too.
		t.Run("reconnect write throttled keeps the old connection/"+p, func(t *testing.T) {
			t.Parallel()
			org, user := "org-cb-resave-"+p, "u-cb-resave"
			setup(t, org, p)
			email := w.account(p, "acct-cb-resave")
			w.connect(t, org, user, p, email)
			old := w.conn(org, user, p)
			oldTok := w.tokens(t, old)
			out := pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), p, email))))
			w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: []string{`"USER#` + org + `#` + user + `"`}, Code: moto.Throttling, Calls: 1})
			if resp := w.complete(t, org, user, out); resp.Status < 500 {
				t.Fatalf("complete under a refused write answered %s", resp)
			}
			c := w.conn(org, user, p)
			if c == nil || c.Version != old.Version || !bytes.Equal(c.SealedTokens, old.SealedTokens) {
				t.Fatal("the existing connection changed under a refused reconnect")
			}
			if !w.live(oldTok.RefreshToken) {
				t.Fatal("the existing connection's refresh token died with the refused reconnect")
			}
		})
	}
	t.Run("integration read throttled", func(t *testing.T) {
		t.Parallel()
		org, user := "org-cb-integration", "u-cb-integration"
		setup(t, org, provider)
		cb := w.toCallback(t, w.start(t, org, w.member(org, user), provider, ""))
		w.storeFault(t, moto.Fault{Operation: "GetItem", Contains: []string{`"ORG#` + org + `"`, `"INTEG#` + provider + `"`}, Code: moto.Throttling, Calls: 1})
		if out := w.callback(t, cb); out.Get("status") != "error" || out.Get("code") != "internal_error" {
			t.Fatalf("callback %v", out)
		}
		if w.conn(org, user, provider) != nil || w.stateStored(t, stateOf(t, cb)) {
			t.Fatal("a refused callback left a connection, or the state unconsumed")
		}
		w.connect(t, org, user, provider, "")
	})
	t.Run("reconnect beside a refresh holding the lease", func(t *testing.T) {
		t.Parallel()
		org, user := "org-cb-race", "u-cb-race"
		setup(t, org, catalog.Microsoft365)
		w.connect(t, org, user, catalog.Microsoft365, "")
		old := w.conn(org, user, catalog.Microsoft365)
		cb := w.toCallback(t, w.start(t, org, w.member(org, user), catalog.Microsoft365, ""))
		// A refresh claims the connection between the callback's read and
		// its conditional write.
		const owner = "refresh-run-elsewhere"
		var claimed store.Connection
		w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: []string{`"USER#` + org + `#` + user + `"`}, Times: 1, Before: func() {
			var err error
			now := w.env.Clock.Now()
			if claimed, err = w.env.Deps.Store.ClaimLease(ctx, old.ConnKey, owner, now, now.Add(time.Minute)); err != nil {
				t.Errorf("concurrent claim: %v", err)
			}
		}})
		if resp := w.complete(t, org, user, pending(t, w.callback(t, cb))); resp.Status != 200 {
			t.Fatalf("reconnect beside a concurrent writer: %s", resp)
		}
		c := w.conn(org, user, catalog.Microsoft365)
		tok := w.tokens(t, c)
		if c.LeaseOwner != "" || c.Version <= claimed.Version || !w.live(tok.RefreshToken) || tok.RefreshToken == w.tokens(t, old).RefreshToken {
			t.Fatalf("stored after the race: lease %q version %d (claim %d), new live tokens %v", c.LeaseOwner, c.Version, claimed.Version, w.live(tok.RefreshToken))
		}
		// The refresh that held the lease cannot overwrite the new grant.
		if _, err := w.env.Deps.Store.CompleteLease(ctx, claimed, owner); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("the earlier lease holder's write: %v, want ErrLeaseLost", err)
		}
	})
}

// TestRefreshSurvivesStoreFaults: DynamoDB throttling and a concurrent
// writer during a refresh run, on Microsoft, which replaces the refresh
// token at every refresh (the case where a lost write loses the
// connection). Whatever the store does, the stored refresh token is one the
// fake considers live, and nothing is left half-done: no lease held, no
// failure recorded for a fault of our own store.
func TestRefreshSurvivesStoreFaults(t *testing.T) {
	t.Parallel()
	const provider = catalog.Microsoft365
	const org, user = "org-refresh-store", "u-refresh-store"
	// due sets up a world with one connection due for refresh.
	due := func(t *testing.T) (*world, *store.Connection, []string) {
		w := awsWorld(t)
		w.enable(t, org, provider)
		w.connect(t, org, user, provider, "")
		c := w.conn(org, user, provider)
		w.env.Clock.Advance(50 * time.Minute)
		return w, c, []string{`"USER#` + org + `#` + user + `"`}
	}
	// unchanged: the connection is as before the run, still due, its
	// tokens live, no lease held.
	unchanged := func(t *testing.T, w *world, before *store.Connection) {
		t.Helper()
		c := w.conn(org, user, provider)
		if c.Version != before.Version || !bytes.Equal(c.SealedTokens, before.SealedTokens) || c.LeaseOwner != "" ||
			c.ConsecutiveFailures != 0 || c.Status != store.StatusConnected || !c.NextRefreshAt.Equal(before.NextRefreshAt) {
			t.Fatalf("the connection changed: %+v", c)
		}
		if !w.live(w.tokens(t, c).RefreshToken) {
			t.Fatal("the stored refresh token is no longer live")
		}
	}
	// refreshed: the stored tokens are new and live, the old refresh token
	// is spent.
	refreshed := func(t *testing.T, w *world, before *store.Connection) {
		t.Helper()
		c := w.conn(org, user, provider)
		tok, old := w.tokens(t, c), w.tokens(t, before)
		if c.Status != store.StatusConnected || c.LeaseOwner != "" || c.ConsecutiveFailures != 0 || tok.RefreshToken == old.RefreshToken {
			t.Fatalf("after the refresh: %+v", c)
		}
		if !w.live(tok.RefreshToken) || !w.live(tok.AccessToken) || w.live(old.RefreshToken) {
			t.Fatal("the stored tokens are not the live ones")
		}
	}

	t.Run("due-index read throttled", func(t *testing.T) {
		t.Parallel()
		w, before, _ := due(t)
		w.storeFault(t, moto.Fault{Operation: "Query", Contains: []string{`"DueRefresh"`}, Code: moto.Throttling, Calls: 1})
		if _, err := w.env.InvokeRefresh(context.Background()); err == nil {
			t.Fatal("a run that could not read the due-index reported success")
		}
		unchanged(t, w, before)
		if r := w.refresh(t); r.Refreshed != 1 {
			t.Fatalf("next run: %+v", r)
		}
		refreshed(t, w, before)
	})
	t.Run("claim throttled", func(t *testing.T) {
		t.Parallel()
		w, before, key := due(t)
		w.storeFault(t, moto.Fault{Operation: "UpdateItem", Contains: key, Code: moto.Throttling, Calls: 1})
		if r := w.refresh(t); r.Errors != 1 || r.Refreshed != 0 || r.TransientFailures != 0 {
			t.Fatalf("run: %+v, want the connection left for the next run", r)
		}
		unchanged(t, w, before)
		if r := w.refresh(t); r.Refreshed != 1 {
			t.Fatalf("next run: %+v", r)
		}
		refreshed(t, w, before)
	})
	t.Run("write throttled beyond the SDK's retries", func(t *testing.T) {
		t.Parallel()
		w, before, key := due(t)
		f := w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: key, Code: moto.Throttling, Calls: 1})
		if r := w.refresh(t); r.Refreshed != 1 || r.Errors != 0 {
			t.Fatalf("run: %+v, want the rotated token written after the throttling", r)
		}
		if f.Hits() != moto.SDKAttemptsDynamoDB {
			t.Fatalf("the fault answered %d attempts", f.Hits())
		}
		refreshed(t, w, before)
	})
	t.Run("write throttled within the SDK's retries", func(t *testing.T) {
		t.Parallel()
		w, before, key := due(t)
		w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: key, Code: moto.ProvisionedThroughputExceeded, Times: moto.SDKAttemptsDynamoDB - 1})
		if r := w.refresh(t); r.Refreshed != 1 {
			t.Fatalf("run: %+v", r)
		}
		refreshed(t, w, before)
	})
	t.Run("write refused after a concurrent reconnect", func(t *testing.T) {
		t.Parallel()
		w, before, key := due(t)
		// The user reconnects while the refresh is at the provider: the
		// reconnect's record lands before the refresh's write.
		w.storeFault(t, moto.Fault{Operation: "PutItem", Contains: key, Times: 1, Before: func() {
			if err := w.tryConnect(org, user, provider); err != nil {
				t.Errorf("concurrent reconnect: %v", err)
			}
		}})
		if r := w.refresh(t); r.LeaseLost != 1 || r.Refreshed != 0 {
			t.Fatalf("run: %+v, want the refresh's write refused", r)
		}
		c := w.conn(org, user, provider)
		tok := w.tokens(t, c)
		if c.LeaseOwner != "" || c.Status != store.StatusConnected || !w.live(tok.RefreshToken) || tok.RefreshToken == w.tokens(t, before).RefreshToken {
			t.Fatalf("the reconnect's record did not stand: %+v", c)
		}
	})
}
