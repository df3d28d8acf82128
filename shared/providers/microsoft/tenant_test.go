package microsoft

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/providers"
)

// answerOnly is a transport that answers every request with one status and
// body, and remembers the URL asked.
type answerOnly struct {
	status int
	body   string
	asked  []string
}

func (a *answerOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	a.asked = append(a.asked, r.URL.String())
	return &http.Response{StatusCode: a.status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(a.body)), Request: r}, nil
}

func TestResolveSettings(t *testing.T) {
	const tid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	for _, tc := range []struct {
		name, tenant string
		status       int
		body         string
		want         string // TenantID
		asks         bool
		refused      bool // a *SettingsError
		fails        bool // any other error
	}{
		{name: "GUID: itself, nothing asked", tenant: strings.ToUpper(tid), want: tid},
		{name: "organizations: none", tenant: "organizations"},
		{name: "common: none", tenant: "common"},
		{name: "domain: the issuer's tenant", tenant: "Contoso.example", status: 200, asks: true, want: tid,
			body: `{"issuer":"https://login.microsoftonline.com/` + tid + `/v2.0","token_endpoint":"x"}`},
		{name: "unknown domain: refused", tenant: "nowhere.example", status: 400, asks: true, refused: true,
			body: `{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'nowhere.example' not found."}`},
		{name: "unavailable: not refused", tenant: "contoso.example", status: 503, asks: true, fails: true},
		{name: "an issuer naming no tenant", tenant: "contoso.example", status: 200, asks: true, fails: true,
			body: `{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0"}`},
		{name: "not JSON", tenant: "contoso.example", status: 200, asks: true, fails: true, body: `<html>`},
		{name: "an http issuer", tenant: "contoso.example", status: 200, asks: true, fails: true,
			body: `{"issuer":"http://login.microsoftonline.com/` + tid + `/v2.0"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &answerOnly{status: tc.status, body: tc.body}
			got, err := (&dialect{}).ResolveSettings(context.Background(), providers.Caller{HTTP: &http.Client{Transport: rt}}, providers.Settings{Tenant: tc.tenant, TenantID: "stale"})
			var refused *providers.SettingsError
			switch {
			case tc.refused:
				if !errors.As(err, &refused) || refused.Field != "tenant" || refused.Code != CodeTenantNotFound {
					t.Fatalf("err = %v, want the tenant refused", err)
				}
			case tc.fails:
				if err == nil || errors.As(err, &refused) {
					t.Fatalf("err = %v, want a failure that is no refusal", err)
				}
			case err != nil:
				t.Fatal(err)
			}
			if got.TenantID != tc.want {
				t.Fatalf("TenantID = %q, want %q", got.TenantID, tc.want)
			}
			if asked := len(rt.asked) > 0; asked != tc.asks {
				t.Fatalf("asked the provider: %v, want %v", asked, tc.asks)
			}
			if tc.asks && rt.asked[0] != "https://login.microsoftonline.com/"+strings.ToLower(tc.tenant)+"/v2.0/.well-known/openid-configuration" {
				t.Fatalf("asked %s", rt.asked[0])
			}
		})
	}
}
