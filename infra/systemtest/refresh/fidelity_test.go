package refresh_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

// The providers' answers that used to be misread (issue 12, fidelity
// corrections), each on the fake provider, which answers them in the
// provider's own words.

// TestGoogleAdminPolicyIsRetriedSlowly (correction 1): a Google Workspace
// administrator restricting the app answers admin_policy_enforced. That is
// the administrator's policy, not a dead grant: the same refresh token works
// once the app is allowed again. So the connection is refresh_failing with
// owner external_admin, retried slowly, and never exhausted into asking the
// user to reconnect.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors-admin-policy-enforced
func TestGoogleAdminPolicyIsRetriedSlowly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.service(nil)
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
	sd := f.seed(in, "blocked-", 1, f.env.Clock.Now().Add(-time.Minute))[0]
	if err := f.env.Fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) { u.AdminPolicyBlocked = true }); err != nil {
		t.Fatal(err)
	}

	// Six days of scheduled runs every five minutes would be too many to
	// simulate; a run each time the connection is due is what they amount to.
	start := f.env.Clock.Now()
	attempts := 0
	for f.env.Clock.Now().Sub(start) < 6*24*time.Hour {
		c := f.conn(sd.key)
		if c.NextRefreshAt.IsZero() {
			t.Fatalf("taken off the due-index after %d attempts: %s/%s %+v", attempts, c.Status, c.StatusReason, c.LastError)
		}
		if c.NextRefreshAt.After(f.env.Clock.Now()) {
			f.env.Clock.Set(c.NextRefreshAt)
		}
		f.run(context.Background(), s)
		attempts++
		c = f.conn(sd.key)
		if c.Status != store.StatusRefreshFailing || c.StatusReason != "admin_policy_enforced" || c.LastError == nil ||
			c.LastError.Owner != "external_admin" || c.LastError.Code != "admin_policy_enforced" {
			t.Fatalf("after %d attempts: %s/%s, last error %+v; want refresh_failing/admin_policy_enforced owned by external_admin", attempts, c.Status, c.StatusReason, c.LastError)
		}
		if strings.Contains(strings.ToLower(c.LastError.Message), "reconnect") {
			t.Fatalf("the stored cause asks for a reconnect: %q", c.LastError.Message)
		}
		if wait := c.NextRefreshAt.Sub(f.env.Clock.Now()); wait < time.Hour {
			t.Fatalf("retried after %v: a policy is not lifted in minutes", wait)
		}
	}
	if attempts > 6*4+1 {
		t.Fatalf("%d attempts in six days", attempts)
	}

	// The administrator allows the app: the same refresh token works again.
	if err := f.env.Fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) { u.AdminPolicyBlocked = false }); err != nil {
		t.Fatal(err)
	}
	f.env.Clock.Set(f.conn(sd.key).NextRefreshAt)
	f.env.Fake.ResetCounts()
	if r := f.run(context.Background(), s); r.Refreshed != 1 {
		t.Fatalf("after the policy was lifted: %+v", r)
	}
	f.assertRefreshedOnce(catalog.GoogleWorkspace, []seeded{sd})
	if c := f.conn(sd.key); c.LastError != nil || c.ConsecutiveFailures != 0 {
		t.Fatalf("not cleared: %+v", c)
	}
}

// TestBlockedConnectionOnDemand: an on-demand token request of a blocked
// connection whose access token expired says who must act, not "retry".
func TestBlockedConnectionOnDemand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.service(nil)
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
	sd := f.seed(in, "od-", 1, f.env.Clock.Now().Add(time.Hour))[0]
	if err := f.env.Fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) { u.AdminPolicyBlocked = true }); err != nil {
		t.Fatal(err)
	}
	f.env.Clock.Advance(2 * time.Hour) // the access token has expired
	_, err := s.AccessToken(context.Background(), sd.key)
	var e *refresh.Error
	if !errors.As(err, &e) || e.Failure == nil || e.Failure.Code != "admin_policy_enforced" || e.Failure.Owner != "external_admin" || e.Failure.NeedsReconnect() {
		t.Fatalf("AccessToken = %v (%+v), want the policy failure owned by external_admin", err, e)
	}
}

// TestSalesforceTokenErrors (correction 2): Salesforce's own error codes.
// A deactivated user or a locked org is the Salesforce administrator's to
// fix (the grant survives, so it is retried slowly); an unknown consumer key
// or a wrong consumer secret is the org's client, refused. None is a
// passing fault.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm
func TestSalesforceTokenErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		user      func(*fakeprovider.User)
		fault     *fakeprovider.Fault
		status    string
		code      string
		owner     string
		reconnect bool
	}{
		{name: "inactive user", user: func(u *fakeprovider.User) { u.Inactive = true }, status: store.StatusRefreshFailing, code: "inactive_user", owner: "external_admin"},
		{name: "inactive org", user: func(u *fakeprovider.User) { u.OrgInactive = true }, status: store.StatusRefreshFailing, code: "inactive_org", owner: "external_admin"},
		{name: "unknown consumer key", fault: &fakeprovider.Fault{Error: "invalid_client_id", Description: "client identifier invalid"}, status: store.StatusNeedsReconnect, code: "invalid_client_id", owner: "admin", reconnect: true},
		{name: "wrong consumer secret", fault: &fakeprovider.Fault{Error: "invalid_client_credentials", Description: "client secret invalid"}, status: store.StatusNeedsReconnect, code: "invalid_client_credentials", owner: "admin", reconnect: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.service(nil)
			in := f.enable(integrationSpec{org: "o1", provider: catalog.Salesforce, orgClient: true})
			sd := f.seed(in, "sf-", 1, f.env.Clock.Now().Add(-time.Minute))[0]
			if tc.user != nil {
				if err := f.env.Fake.UpdateUser(catalog.Salesforce, fakeprovider.DefaultSalesforceUser, tc.user); err != nil {
					t.Fatal(err)
				}
			}
			if tc.fault != nil {
				fault := *tc.fault
				fault.Provider, fault.Kind = catalog.Salesforce, fakeprovider.KindRefresh
				f.env.Fake.Inject(fault)
			}
			f.run(context.Background(), s)
			c := f.conn(sd.key)
			if c.Status != tc.status || c.LastError == nil || c.LastError.Code != tc.code || c.LastError.Owner != tc.owner {
				t.Fatalf("stored %s/%s, last error %+v; want %s with %s owned by %s", c.Status, c.StatusReason, c.LastError, tc.status, tc.code, tc.owner)
			}
			if !tc.reconnect {
				if wait := c.NextRefreshAt.Sub(f.env.Clock.Now()); wait < time.Hour {
					t.Fatalf("retried after %v, as if the fault passes by itself", wait)
				}
				if strings.Contains(strings.ToLower(c.LastError.Message), "reconnect") {
					t.Fatalf("the stored cause asks for a reconnect: %q", c.LastError.Message)
				}
			}
		})
	}
}
