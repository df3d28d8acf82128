package catalog

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSettings: any provider fields (tenant, authBaseUrl, hostedDomain,
// clientId) are judged without a panic, each error naming its field with a
// stable code; and whatever Validate accepts builds endpoints on the
// provider's own hosts, each field confined to its place in the URL: a
// tenant is one path segment, a Salesforce base URL only a scheme and host
// (nothing can move the token endpoint's path into a query or fragment, or
// the request to another host). Seeds: testdata/fuzz/FuzzSettings.
func FuzzSettings(f *testing.F) {
	f.Add(uint8(2), "", "https://login.salesforce.com", "", "3MVG9fakeconsumerkeyfortests00")
	f.Add(uint8(0), "contoso.onmicrosoft.com", "", "", "11111111-2222-3333-4444-555555555555")
	f.Add(uint8(1), "", "", "example.com", "123456789012-abc12345.apps.googleusercontent.com")
	cat := New()
	ids := cat.IDs()
	f.Fuzz(func(t *testing.T, pi uint8, tenant, authBaseURL, hostedDomain, clientID string) {
		p, _ := cat.Get(ids[int(pi)%len(ids)])
		s := Settings{Tenant: tenant, AuthBaseURL: authBaseURL, HostedDomain: hostedDomain}
		errs := p.Validate(s)
		for _, e := range errs {
			if e.Code == "" || e.Message == "" || (e.Field != "tenant" && e.Field != "authBaseUrl" && e.Field != "hostedDomain") {
				t.Fatalf("field error %+v", e)
			}
		}
		for _, e := range p.ValidateClientID(clientID) {
			if e.Code == "" || e.Message == "" || e.Field != "clientId" {
				t.Fatalf("client id error %+v", e)
			}
		}
		// Required fields left empty are reported as missing, not errors.
		if len(errs) > 0 || (p.ID == Microsoft365 && tenant == "") || (p.ID == Salesforce && authBaseURL == "") {
			return
		}
		checkEndpoints(t, p, s)
	})
}

// checkEndpoints: every endpoint built from accepted settings is a plain
// https URL on the provider's host, with the provider's path.
func checkEndpoints(t *testing.T, p Provider, s Settings) {
	t.Helper()
	ep := p.Endpoints(s)
	for _, raw := range []string{ep.OAuth2.AuthURL, ep.OAuth2.TokenURL, ep.RevokeURL, ep.UserInfoURL, ep.IntrospectURL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") || u.Opaque != "" || u.Port() != "" {
			t.Fatalf("%s endpoint %q from %+v is not a plain https URL", p.ID, raw, s)
		}
		host := strings.ToLower(u.Hostname())
		switch p.ID {
		case Microsoft365:
			if host == "login.microsoftonline.com" {
				segs := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
				if u.RawQuery != "" || u.ForceQuery || len(segs) != 4 || segs[0] != strings.ToLower(s.Tenant) || segs[1] != "oauth2" {
					t.Fatalf("microsoft endpoint %q: the tenant %q is not one path segment", raw, s.Tenant)
				}
			} else if host != "graph.microsoft.com" {
				t.Fatalf("microsoft endpoint on %s", host)
			}
		case Salesforce:
			base, _ := url.Parse(s.AuthBaseURL)
			if host != strings.ToLower(base.Hostname()) || !strings.HasSuffix(host, ".salesforce.com") ||
				!strings.HasPrefix(u.Path, "/services/oauth2/") || u.RawQuery != "" || u.ForceQuery {
				t.Fatalf("salesforce endpoint %q from base URL %q", raw, s.AuthBaseURL)
			}
		case GoogleWorkspace:
			if !strings.HasSuffix(host, ".google.com") && !strings.HasSuffix(host, ".googleapis.com") {
				t.Fatalf("google endpoint on %s", host)
			}
		}
	}
}
