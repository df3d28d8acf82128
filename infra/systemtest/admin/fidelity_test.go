package admin_test

import (
	"strings"
	"testing"

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
