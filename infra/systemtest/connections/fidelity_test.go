package connections_test

import (
	"context"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// The providers' sign-in answers that used to be misread (issue 12,
// fidelity corrections), on the fake provider.

// TestGoogleAdminPolicyAtSignIn (correction 1): a Workspace administrator's
// API controls refuse the sign-in with admin_policy_enforced; the app is
// told that, not that the sign-in merely failed, and no code is redeemed.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors-admin-policy-enforced
func TestGoogleAdminPolicyAtSignIn(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	if err := env.Fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) { u.AdminPolicyBlocked = true }); err != nil {
		t.Fatal(err)
	}
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL}))
	if got.Get("status") != "error" || got.Get("code") != "admin_policy_enforced" {
		t.Fatalf("callback outcome %v, want error admin_policy_enforced", got)
	}
	if n := count(env, catalog.GoogleWorkspace, fakeprovider.KindExchange, ""); n != 0 {
		t.Fatalf("%d token exchanges after a refused sign-in", n)
	}
}

// TestMicrosoftNotAssignedAtSignIn (correction 5): an app that requires
// user assignment refuses a user who is not assigned (AADSTS50105); the
// app is told the tenant's administrator must assign them.
// Docs: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
func TestMicrosoftNotAssignedAtSignIn(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Microsoft365, nil)
	if err := env.Fake.UpdateUser(catalog.Microsoft365, fakeprovider.DefaultMicrosoftUser, func(u *fakeprovider.User) { u.NotAssigned = true }); err != nil {
		t.Fatal(err)
	}
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.Microsoft365, map[string]any{"returnTo": localtest.ReturnURL}))
	if got.Get("status") != "error" || got.Get("code") != "user_not_assigned" {
		t.Fatalf("callback outcome %v, want error user_not_assigned", got)
	}
}

// TestMicrosoftSingleTenantAppAtSignIn (correction 6): a single-tenant Entra
// app under organizations fails at sign-in with AADSTS50194; the code says
// the admin must set the tenant, not that the user should try again.
// Docs: https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant
func TestMicrosoftSingleTenantAppAtSignIn(t *testing.T) {
	env := localtest.New(t)
	const clientID, secret = "11111111-2222-4333-8444-555555555555", "fake-client-secret-single"
	env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: clientID, Secret: secret, SingleTenant: true})
	if err := env.Deps.Secrets.PutClientSecret(context.Background(), org, catalog.Microsoft365, secret); err != nil {
		t.Fatal(err)
	}
	enable(t, env, catalog.Microsoft365, func(in *store.Integration) {
		in.ConfigMode, in.ClientID, in.Tenant, in.ClientSecretSetAt = store.ConfigModeOrganization, clientID, "organizations", env.Clock.Now()
	})
	got := outcome(t, connect(t, env, env.MemberToken("u-1", org), catalog.Microsoft365, map[string]any{"returnTo": localtest.ReturnURL}))
	if got.Get("status") != "error" || got.Get("code") != "single_tenant_app" {
		t.Fatalf("callback outcome %v, want error single_tenant_app", got)
	}
}

// TestSalesforcePartitionedMyDomainConnects (correction 8): a Developer
// Edition org's My Domain (partition develop) is an authentication base URL
// users connect through.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.domain_name_app_url_changes.htm&type=5
func TestSalesforcePartitionedMyDomainConnects(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Salesforce, func(in *store.Integration) { in.AuthBaseURL = "https://acme-dev-ed.develop.my.salesforce.com" })
	tok := env.MemberToken("u-1", org)
	mustConnect(t, env, tok, catalog.Salesforce, map[string]any{"returnTo": localtest.ReturnURL})
	if n := count(env, catalog.Salesforce, fakeprovider.KindExchange, fakeprovider.OutcomeOK); n != 1 {
		t.Fatalf("%d successful code exchanges, want 1", n)
	}
}
