package fakeprovider_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

// apiErrorCode reads the code of an API error in each dialect's shape:
// Graph error.code, Google error.status, Salesforce [0].errorCode.
func apiErrorCode(t *testing.T, provider string, body any) string {
	t.Helper()
	switch provider {
	case catalog.Microsoft365:
		return str(obj(t, obj(t, body)["error"])["code"])
	case catalog.GoogleWorkspace:
		e := obj(t, obj(t, body)["error"])
		if _, ok := e["code"].(float64); !ok || str(e["message"]) == "" {
			t.Errorf("Google error without code or message: %v", e)
		}
		return str(e["status"])
	}
	arr, ok := body.([]any)
	if !ok || len(arr) != 1 {
		t.Fatalf("Salesforce error is not a one-element array: %v", body)
	}
	return str(obj(t, arr[0])["errorCode"])
}

// expected API error codes: provider -> situation -> code (files may differ).
var wantAPIError = map[string]map[string]string{
	catalog.Microsoft365:    {"401": "InvalidAuthenticationToken", "403": "ErrorAccessDenied", "404": "ErrorItemNotFound", "403files": "accessDenied", "404files": "itemNotFound", "scope": "ErrorAccessDenied", "scopefiles": "accessDenied"},
	catalog.GoogleWorkspace: {"401": "UNAUTHENTICATED", "403": "PERMISSION_DENIED", "404": "NOT_FOUND", "scope": "PERMISSION_DENIED"},
	catalog.Salesforce:      {"401": "INVALID_SESSION_ID", "403": "INSUFFICIENT_ACCESS", "404": "NOT_FOUND", "scope": "INVALID_SESSION_ID"},
}

func want(provider string, c catalog.Capability, situation string) string {
	if c == catalog.Files {
		if w, ok := wantAPIError[provider][situation+"files"]; ok {
			return w
		}
	}
	return wantAPIError[provider][situation]
}

// TestProbesFromCatalog walks every probe URL of the catalog: the fake must
// serve exactly what diagnostics will call, with permissions and items.
func TestProbesFromCatalog(t *testing.T) {
	cat := catalog.New()
	for _, p := range cat.All() {
		t.Run(p.ID, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			user := defaultUser[p.ID]
			ids := map[catalog.Capability][3]string{} // ok, forbidden, missing
			for _, c := range p.CapabilityIDs() {
				ok, forbidden, missing := "item-ok-"+string(c), "item-forbidden-"+string(c), "item-missing-"+string(c)
				if c == catalog.CRM {
					ok, forbidden, missing = "Account/001000000000042AAA", "Opportunity/006000000000042AAA", "Account/001000000000404AAA"
				}
				ids[c] = [3]string{ok, forbidden, missing}
				if err := e.fake.UpdateUser(p.ID, user, func(u *fakeprovider.User) {
					u.Items = append(u.Items,
						fakeprovider.Item{Capability: c, ID: ok, Name: "Readable " + string(c), MimeType: "text/plain", Content: []byte("content of " + ok)},
						fakeprovider.Item{Capability: c, ID: forbidden, Name: "Secret", Forbidden: true})
				}); err != nil {
					t.Fatal(err)
				}
			}
			// The narrow token first: Google's include_granted_scopes would
			// otherwise add the full grant to it.
			narrowCfg := e.config(p.ID)
			narrowCfg.Scopes = p.BaseScopes
			narrow := e.connect(p.ID, narrowCfg)
			tok := e.connect(p.ID, e.config(p.ID))

			probeURL := func(tmpl, id string) string {
				u := strings.ReplaceAll(tmpl, "{instance}", fakeprovider.DefaultSalesforceInstanceURL)
				return strings.ReplaceAll(u, "{id}", id)
			}
			expect := func(rawURL, token string, status int, code string) {
				t.Helper()
				got, body, _ := e.getJSON(rawURL, token)
				if got != status {
					t.Errorf("GET %s: %d %v, want %d", rawURL, got, body, status)
					return
				}
				if code != "" {
					if c := apiErrorCode(t, p.ID, body); c != code {
						t.Errorf("GET %s: error code %q, want %q", rawURL, c, code)
					}
				}
			}
			for _, cs := range p.Capabilities {
				c, pr := cs.ID, cs.Probe
				ok, forbidden, missing := ids[c][0], ids[c][1], ids[c][2]
				expect(probeURL(pr.ReadURL, ""), tok.AccessToken, 200, "")
				expect(probeURL(pr.ItemURL, ok), tok.AccessToken, 200, "")
				expect(probeURL(pr.ItemURL, url.PathEscape(ok)), tok.AccessToken, 200, "")
				expect(probeURL(pr.ItemURL, missing), tok.AccessToken, 404, want(p.ID, c, "404"))
				expect(probeURL(pr.ItemURL, forbidden), tok.AccessToken, 403, want(p.ID, c, "403"))
				expect(probeURL(pr.ReadURL, ""), "", 401, want(p.ID, c, "401"))
				expect(probeURL(pr.ItemURL, ok), "not-a-token", 401, want(p.ID, c, "401"))
				scopeStatus := 403
				if p.ID == catalog.Salesforce {
					scopeStatus = 401 // "This session is not valid for use with the REST API"
				}
				expect(probeURL(pr.ReadURL, ""), narrow.AccessToken, scopeStatus, want(p.ID, c, "scope"))
				if pr.ContentURL != "" {
					resp := e.get(e.hc, probeURL(pr.ContentURL, ok), tok.AccessToken)
					if body := readBody(resp); resp.StatusCode != 200 || body != "content of "+ok {
						t.Errorf("content %s: %d %q", c, resp.StatusCode, body)
					}
					expect(probeURL(pr.ContentURL, forbidden), tok.AccessToken, 403, want(p.ID, c, "403"))
					expect(probeURL(pr.ContentURL, missing), tok.AccessToken, 404, want(p.ID, c, "404"))
				}

				// Deny the capability: every probe of it is the provider's 403,
				// the other capabilities are untouched.
				deny(t, e, p.ID, user, c, true)
				expect(probeURL(pr.ReadURL, ""), tok.AccessToken, 403, want(p.ID, c, "403"))
				expect(probeURL(pr.ItemURL, ok), tok.AccessToken, 403, want(p.ID, c, "403"))
				for _, other := range p.Capabilities {
					if other.ID != c {
						expect(probeURL(other.Probe.ReadURL, ""), tok.AccessToken, 200, "")
					}
				}
				deny(t, e, p.ID, user, c, false)
				expect(probeURL(pr.ReadURL, ""), tok.AccessToken, 200, "")
			}
			if e.fake.Count(fakeprovider.Filter{Provider: p.ID, Kind: fakeprovider.KindAPI, Outcome: fakeprovider.OutcomeRefused}) == 0 ||
				e.fake.Count(fakeprovider.Filter{Provider: p.ID, Kind: fakeprovider.KindAPI, Outcome: fakeprovider.OutcomeOK, User: user}) == 0 {
				t.Error("API calls were not counted")
			}
		})
	}
}

func deny(t *testing.T, e *env, provider, email string, c catalog.Capability, on bool) {
	t.Helper()
	if err := e.fake.UpdateUser(provider, email, func(u *fakeprovider.User) {
		u.Denied = nil
		if on {
			u.Denied = []catalog.Capability{c}
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// TestIdentityEndpointsFromCatalog: the catalog's UserInfoURL answers each
// dialect's identity for the default user.
func TestIdentityEndpointsFromCatalog(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		tok := e.connect(p, e.config(p))
		u := e.provider(p).Endpoints(testSettings[p]).UserInfoURL
		status, body, _ := e.getJSON(u, tok.AccessToken)
		m := obj(t, body)
		var email any
		switch p {
		case catalog.Microsoft365:
			email = m["mail"]
		case catalog.GoogleWorkspace:
			email = m["email"]
		case catalog.Salesforce:
			email = m["preferred_username"]
		}
		if status != 200 || email != defaultUser[p] {
			t.Errorf("%s %s: %d %v", p, u, status, m)
		}
		if got := e.fake.Count(fakeprovider.Filter{Provider: p, Kind: fakeprovider.KindUserInfo, Outcome: fakeprovider.OutcomeOK}); got != 1 {
			t.Errorf("%s identity calls = %d", p, got)
		}
	}
}

// TestDefaultUsersHaveSampleItems: each default user may use every
// capability and owns one sample item per capability.
func TestDefaultUsersHaveSampleItems(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range e.cat.All() {
		tok := e.connect(p.ID, e.config(p.ID))
		for _, cs := range p.Capabilities {
			id := "sample-" + string(cs.ID)
			if cs.ID == catalog.CRM {
				id = "Account/001000000000001AAA"
			}
			u := strings.ReplaceAll(strings.ReplaceAll(cs.Probe.ItemURL, "{instance}", fakeprovider.DefaultSalesforceInstanceURL), "{id}", id)
			if status, body, _ := e.getJSON(u, tok.AccessToken); status != 200 {
				t.Errorf("%s %s: %d %v", p.ID, cs.ID, status, body)
			}
		}
	}
}

// TestRevokeAccessTokens: the user's live access tokens stop working at
// every endpoint, before their expiry; the refresh token still works and
// issues an access token that does.
func TestRevokeAccessTokens(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		cfg := e.config(p)
		tok := e.connect(p, cfg)
		u := e.provider(p).Endpoints(testSettings[p]).UserInfoURL
		n, err := e.fake.RevokeAccessTokens(p, defaultUser[p])
		if err != nil || n != 1 {
			t.Fatalf("%s: RevokeAccessTokens = %d, %v; want 1", p, n, err)
		}
		info, _ := e.fake.TokenInfo(tok.AccessToken)
		if info.Active || !info.ExpiresAt.After(e.clock.Now()) {
			t.Errorf("%s: revoked access token %+v: want inactive before its expiry", p, info)
		}
		// Salesforce's userinfo answers a bad token 403 Bad_OAuth_Token.
		if status := e.get(e.hc, u, tok.AccessToken).StatusCode; status != http.StatusUnauthorized && !(p == catalog.Salesforce && status == http.StatusForbidden) {
			t.Errorf("%s: identity with a revoked access token: %d", p, status)
		}
		fresh, err := e.refresh(cfg, tok.RefreshToken)
		if err != nil {
			t.Fatalf("%s: the refresh token must still work: %v", p, err)
		}
		if status, _, _ := e.getJSON(u, fresh.AccessToken); status != 200 {
			t.Errorf("%s: identity with the refreshed token: %d", p, status)
		}
	}
	if _, err := e.fake.RevokeAccessTokens(catalog.GoogleWorkspace, "nobody@example.com"); err == nil {
		t.Error("RevokeAccessTokens of an unknown user succeeded")
	}
}
