package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
)

// The provider facts admins are told that used to be out of date (issue 12,
// fidelity corrections), through the admin API of an environment with the
// fake provider.

// providerInfo returns the provider's entry of GET /v1/providers.
func providerInfo(t *testing.T, h *harness, id string) admin.ProviderInfo {
	t.Helper()
	resp := h.do(t, "GET", "/v1/providers", h.member(h.org("catalog")), nil, nil)
	want(t, resp, 200, "")
	var ps admin.ProvidersResponse
	if err := resp.Decode(&ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps.Providers {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no provider %s: %s", id, resp)
	return admin.ProviderInfo{}
}

// TestSalesforceSetupDescribesExternalClientApps (correction 4): from
// Spring '26 customers can no longer create connected apps; the setup steps
// describe an External Client App, and keep a note for orgs that already
// have a connected app (it keeps working, with its consumer key and secret).
// Docs: https://help.salesforce.com/s/articleView?id=005228017&type=1
// and https://help.salesforce.com/s/articleView?id=xcloud.external_integrations.htm&type=5
func TestSalesforceSetupDescribesExternalClientApps(t *testing.T) {
	h := newHarness(t)
	p := providerInfo(t, h, catalog.Salesforce)
	steps := strings.Join(p.SetupSteps, "\n")
	for _, want := range []string{"External Client App Manager", "<redirect-uri>", "PKCE", "Consumer Key and Secret", "already has a connected app"} {
		if !strings.Contains(steps, want) {
			t.Errorf("setup steps lack %q:\n%s", want, steps)
		}
	}
	if strings.Contains(steps, "create a new connected app") {
		t.Errorf("setup steps still create a connected app:\n%s", steps)
	}
	if !strings.Contains(p.Registers, "External Client App") {
		t.Errorf("registers %q", p.Registers)
	}
}

// TestMicrosoftSingleTenantAppUnderOrganizations (correction 6): an Entra
// app registered for a single tenant cannot sign in through organizations
// or common (AADSTS50194). The save's credential check, which redeems a
// dummy code there, sees it and says what to change: the tenant setting.
// Docs: https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant
// and https://learn.microsoft.com/entra/identity-platform/reference-error-codes
func TestMicrosoftSingleTenantAppUnderOrganizations(t *testing.T) {
	h := newHarness(t)
	org := h.org("single")
	tok := h.admin(org)
	secret := h.plant()
	h.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Microsoft365, ClientID: msClientID, Secret: secret, SingleTenant: true})
	path := integrationPath(org, catalog.Microsoft365)
	body := msOrg(msClientID)
	body["tenant"] = "organizations"
	want(t, h.do(t, "PUT", path, tok, body, nil), 201, "")
	resp := h.do(t, "PUT", path+"/client-secret", tok, map[string]string{"clientSecret": secret}, nil)
	want(t, resp, 200, "")
	c := view(t, resp).CredentialCheck
	if c == nil || c.Result != admin.CheckSettingsMismatch || !strings.Contains(c.Message, "tenant") {
		t.Fatalf("credential check %+v, want settings_mismatch naming the tenant", c)
	}
	// With its own tenant, the same app is valid.
	body["tenant"] = fakeprovider.DefaultMicrosoftTenantID
	resp = h.do(t, "PUT", path, tok, body, ifMatch(resp.Header.Get("ETag")))
	want(t, resp, 200, "")
	if c := view(t, resp).CredentialCheck; c == nil || c.Result != admin.CheckValid {
		t.Fatalf("credential check with the app's tenant: %+v", c)
	}
}

// TestSalesforceMyDomainHosts (correction 8): the My Domain login hosts
// Salesforce documents, partitioned by org type (Developer Edition,
// sandbox, scratch, demo, Trailhead Playground), are accepted as the
// authentication base URL; anything else under salesforce.com is not.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.domain_name_app_url_changes.htm&type=5
// (My Domain URL formats) and the DomainPartition values of
// https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/tooling_api_objects_mydomainlog.htm
func TestSalesforceMyDomainHosts(t *testing.T) {
	h := newHarness(t)
	org := h.org("hosts")
	tok := h.admin(org)
	path := integrationPath(org, catalog.Salesforce)
	etag := ""
	save := func(base string) *localtest.Response {
		t.Helper()
		body := map[string]any{"enabled": true, "configMode": "default", "capabilities": []string{"crm"}, "authBaseUrl": base}
		var hdr http.Header
		if etag != "" {
			hdr = ifMatch(etag)
		}
		resp := h.do(t, "PUT", path, tok, body, hdr)
		if resp.Status == 200 || resp.Status == 201 {
			etag = resp.Header.Get("ETag")
		}
		return resp
	}
	for _, base := range []string{
		"https://acme.my.salesforce.com",
		"https://acme-dev-ed.develop.my.salesforce.com",
		"https://acme--uat.sandbox.my.salesforce.com",
		"https://acme-sample.scratch.my.salesforce.com",
		"https://acme.demo.my.salesforce.com",
		"https://curious-fox-abc123.trailblaze.my.salesforce.com",
	} {
		if resp := save(base); resp.Status != 200 && resp.Status != 201 {
			t.Errorf("%s refused: %s", base, resp)
		}
	}
	for _, base := range []string{
		"https://acme.sandbox.my.salesforce.com",         // a sandbox's name is <my-domain>--<sandbox>
		"https://acme--x.develop.my.salesforce.com",      // only sandboxes have two parts
		"https://acme.free.my.salesforce.com",            // a partition reserved for Salesforce
		"https://acme.internal.my.salesforce.com",        // not a partition
		"https://a.b.develop.my.salesforce.com",          // one name only
		"https://acme.develop.my.salesforce.com.evil.io", // not under salesforce.com
	} {
		resp := save(base)
		want(t, resp, 400, "validation_failed")
		if errs := fieldErrors(resp); len(errs) != 1 || !strings.HasPrefix(errs[0], "authBaseUrl") {
			t.Errorf("%s: field errors %v", base, errs)
		}
	}
}
