package fakeprovider_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	prov "github.com/sofie/integrations/shared/providers"
)

// TestAdminConsent: the v2.0 admin consent endpoint, as the Microsoft
// dialect builds its URL (providers.AdminConsenter): approved, it
// redirects with admin_consent=True, the directory id, the state and the
// scopes, and keeps the consent; refused (an Error fault), with error and
// error_description; an unregistered redirect URI or an unknown tenant is a
// page, never a redirect.
func TestAdminConsent(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	p := e.provider(catalog.Microsoft365)
	consenter := p.Dialect.(prov.AdminConsenter)
	scopes := p.RequestedScopes(p.CapabilityIDs(), false)
	id := testClientID[catalog.Microsoft365]
	consentURL := func(tenant, redirect string) string {
		s := testSettings[catalog.Microsoft365]
		s.Tenant = tenant
		return consenter.AdminConsentURL(s, id, redirect, "st-consent", scopes)
	}

	resp := e.get(e.browser, consentURL(fakeprovider.DefaultMicrosoftTenantDomain, testRedirect), "")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil || !strings.HasPrefix(loc.String(), testRedirect) {
		t.Fatalf("approve: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	if q.Get("admin_consent") != "True" || q.Get("tenant") != fakeprovider.DefaultMicrosoftTenantID || q.Get("state") != "st-consent" || q.Get("scope") != strings.Join(scopes, " ") {
		t.Fatalf("approve: %v", q)
	}
	if got := e.fake.AdminConsents(id, fakeprovider.DefaultMicrosoftTenantID); !slices.Equal(got, scopes) {
		t.Fatalf("kept consent %v, want %v", got, scopes)
	}

	// organizations: the administrator's own directory; common is refused.
	if q := e.get(e.browser, consentURL("organizations", testRedirect), "").Header.Get("Location"); !strings.Contains(q, "tenant="+fakeprovider.DefaultMicrosoftTenantID) {
		t.Fatalf("organizations: %q", q)
	}

	remove := e.fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindAdminConsent, Error: "access_denied", Times: 1})
	defer remove()
	resp = e.get(e.browser, consentURL(fakeprovider.DefaultMicrosoftTenantID, testRedirect), "")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc == nil {
		t.Fatalf("deny: %d", resp.StatusCode)
	}
	if q := loc.Query(); q.Get("error") != "access_denied" || !strings.Contains(q.Get("error_description"), "AADSTS65004") || q.Get("state") != "st-consent" || q.Get("admin_consent") != "" {
		t.Fatalf("deny: %v", q)
	}
	if n := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindAdminConsent, Outcome: fakeprovider.OutcomeFaulted}); n != 1 {
		t.Fatalf("faulted admin consents: %d", n)
	}

	for _, bad := range []string{consentURL(fakeprovider.DefaultMicrosoftTenantID, "https://evil.example/cb"), consentURL("nosuch.example", testRedirect)} {
		if resp := e.get(e.browser, bad, ""); resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q", bad, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}
