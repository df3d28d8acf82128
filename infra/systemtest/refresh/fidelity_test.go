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
// or a wrong consumer secret is the org's client, refused: the refresh is
// paused, the connection keeps its status. None is a passing fault, and
// none asks the user to reconnect.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm
func TestSalesforceTokenErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		user   func(*fakeprovider.User)
		fault  *fakeprovider.Fault
		status string
		code   string
		owner  string
	}{
		{name: "inactive user", user: func(u *fakeprovider.User) { u.Inactive = true }, status: store.StatusRefreshFailing, code: "inactive_user", owner: "external_admin"},
		{name: "inactive org", user: func(u *fakeprovider.User) { u.OrgInactive = true }, status: store.StatusRefreshFailing, code: "inactive_org", owner: "external_admin"},
		{name: "unknown consumer key", fault: &fakeprovider.Fault{Error: "invalid_client_id", Description: "client identifier invalid"}, status: store.StatusConnected, code: "invalid_client_id", owner: "admin"},
		{name: "wrong consumer secret", fault: &fakeprovider.Fault{Error: "invalid_client_credentials", Description: "client secret invalid"}, status: store.StatusConnected, code: "invalid_client_credentials", owner: "admin"},
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
			if wait := c.NextRefreshAt.Sub(f.env.Clock.Now()); wait < time.Hour {
				t.Fatalf("retried after %v, as if the fault passes by itself", wait)
			}
			if strings.Contains(strings.ToLower(c.LastError.Message), "reconnect") {
				t.Fatalf("the stored cause asks for a reconnect: %q", c.LastError.Message)
			}
		})
	}
}

// TestMicrosoftTenantPolicies (correction 5): Microsoft Entra answers that
// are the tenant's policies, not a dead grant: the user not assigned to an
// app that requires assignment (AADSTS50105), an account that must first be
// added to the tenant as an external user (AADSTS90072), a device that must
// be compliant or managed (AADSTS53000, AADSTS530003), a Conditional Access
// block (AADSTS53003). The tenant's administrator acts; nobody is told to
// reconnect, and the same refresh token works once the policy allows it.
// Consent (AADSTS65001) is the user's to give again, or their admin's where
// users may not consent.
// Docs: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
func TestMicrosoftTenantPolicies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		user      func(*fakeprovider.User)
		aadsts    int
		code      string
		owner     string
		reconnect bool
		mentions  []string
	}{
		{name: "not assigned to the app", user: func(u *fakeprovider.User) { u.NotAssigned = true }, code: "user_not_assigned", owner: "external_admin", mentions: []string{"assign"}},
		{name: "external user required", aadsts: 90072, code: "external_user_required", owner: "external_admin", mentions: []string{"external"}},
		{name: "device not compliant", aadsts: 53000, code: "device_not_compliant", owner: "external_admin", mentions: []string{"device"}},
		{name: "device not managed", aadsts: 530003, code: "device_not_managed", owner: "external_admin", mentions: []string{"device"}},
		{name: "conditional access", aadsts: 53003, code: "conditional_access_blocked", owner: "external_admin", mentions: []string{"Conditional Access"}},
		{name: "consent", aadsts: 65001, code: "consent_required", owner: "user", reconnect: true, mentions: []string{"consent again", "admin"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			s := f.service(nil)
			in := f.enable(integrationSpec{org: "o1", provider: catalog.Microsoft365})
			sd := f.seed(in, "ms-", 1, f.env.Clock.Now().Add(-time.Minute))[0]
			if tc.user != nil {
				if err := f.env.Fake.UpdateUser(catalog.Microsoft365, fakeprovider.DefaultMicrosoftUser, tc.user); err != nil {
					t.Fatal(err)
				}
			} else {
				f.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrInvalidGrant, AADSTS: tc.aadsts})
			}
			f.run(context.Background(), s)
			c := f.conn(sd.key)
			if c.LastError == nil || c.LastError.Code != tc.code || c.LastError.Owner != tc.owner {
				t.Fatalf("stored %s/%s, last error %+v; want %s owned by %s", c.Status, c.StatusReason, c.LastError, tc.code, tc.owner)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(c.LastError.Message, m) {
					t.Errorf("the cause %q does not mention %q", c.LastError.Message, m)
				}
			}
			if tc.reconnect {
				if c.Status != store.StatusNeedsReconnect {
					t.Fatalf("status %s, want needs_reconnect", c.Status)
				}
				return
			}
			if c.Status != store.StatusRefreshFailing || strings.Contains(strings.ToLower(c.LastError.Message), "reconnect") {
				t.Fatalf("stored %s, cause %q: a policy neither breaks the connection nor asks for a reconnect", c.Status, c.LastError.Message)
			}
			if wait := c.NextRefreshAt.Sub(f.env.Clock.Now()); wait < time.Hour {
				t.Fatalf("retried after %v", wait)
			}
		})
	}
}

// TestGoogleTestingAppTokensExpireInSevenDays (correction 9): Google
// expires the refresh tokens of an external app in Testing publishing
// status seven days after issue. An invalid_grant about seven days after an
// org-owned client's grant is that, the admin's to fix (publish the app or
// make it Internal), not a token unused for months; an invalid_grant at
// another age is still the user's.
// Docs: https://developers.google.com/identity/protocols/oauth2#expiration
// and https://support.google.com/cloud/answer/15549945 (publishing status)
func TestGoogleTestingAppTokensExpireInSevenDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.service(nil)
	in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace, orgClient: true})
	f.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.GoogleWorkspace, ClientID: in.ClientID, Secret: "fake-client-secret-o1", Testing: true})
	revoked := f.seed(in, "revoked-", 1, f.env.Clock.Now().Add(2*24*time.Hour))[0]

	// Two days on, the user removes the app's access: the user's to fix.
	f.env.Clock.Advance(2 * 24 * time.Hour)
	if err := f.env.Fake.RevokeUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser); err != nil {
		t.Fatal(err)
	}
	f.run(context.Background(), s)
	if c := f.conn(revoked.key); c.Status != store.StatusNeedsReconnect || c.LastError == nil || c.LastError.Code != "token_revoked" || c.LastError.Owner != "user" {
		t.Fatalf("revoked after two days: %s, %+v", c.Status, c.LastError)
	}

	// A fresh grant, and seven days later Google ends it.
	fresh := f.seed(in, "fresh-", 1, f.env.Clock.Now().Add(7*24*time.Hour+time.Hour))[0]
	f.env.Clock.Advance(7*24*time.Hour + time.Hour)
	f.run(context.Background(), s)
	c := f.conn(fresh.key)
	if c.Status != store.StatusNeedsReconnect || c.LastError == nil || c.LastError.Code != "testing_app_token_expired" || c.LastError.Owner != "admin" {
		t.Fatalf("seven days after issue: %s, %+v; want needs_reconnect with testing_app_token_expired owned by admin", c.Status, c.LastError)
	}
	if msg := strings.ToLower(c.LastError.Message); strings.Contains(msg, "months") || !strings.Contains(msg, "testing") {
		t.Fatalf("the cause %q", c.LastError.Message)
	}
}
