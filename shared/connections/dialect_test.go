package connections

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/store"
)

// The end-to-end tests cover the dialects against the fake provider; these
// cover what the fake cannot produce: a Microsoft token of another tenant
// than a tenant-specific endpoint's (the fake, like Microsoft, refuses such
// a sign-in before issuing a code), and malformed identity answers.

func idToken(claims map[string]any) string {
	b, _ := json.Marshal(claims)
	return "eyJhbGciOiJub25lIn0." + base64.RawURLEncoding.EncodeToString(b) + "."
}

func graphServer(t *testing.T, me string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fake-access" {
			w.WriteHeader(401)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(me))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestMicrosoftIdentity(t *testing.T) {
	const home = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	const other = "11111111-2222-4333-8444-555555555555"
	srv := graphServer(t, `{"id":"oid-1","displayName":"Alice","mail":"","userPrincipalName":"alice@contoso.example"}`)
	cl := clients.Client{Endpoints: catalog.Endpoints{UserInfoURL: srv.URL + "/v1.0/me"}}
	tests := []struct {
		name, tenant, tid string
		wantCode          string
		wantTenant        string
	}{
		{"same tenant", home, home, "", home},
		{"tenant GUID compared without case", "3F2504E0-4F89-41D3-9A0C-0305E82C3301", home, "", home},
		{"other tenant refused", home, other, CodeAccountNotInTenant, ""},
		{"organizations admits any tenant", "organizations", other, "", other},
		{"verified domain: Microsoft's endpoint decides", "contoso.example", other, "", other},
		{"no id_token: the configured tenant", home, "", "", home},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			extra := map[string]any{}
			if tc.tid != "" {
				extra["id_token"] = idToken(map[string]any{"tid": tc.tid, "oid": "oid-1"})
			}
			tok := (&oauth2.Token{AccessToken: "fake-access"}).WithExtra(extra)
			id, err := microsoftDialect{}.identify(context.Background(), caller{hc: srv.Client()}, grant{in: store.Integration{Tenant: tc.tenant}, client: cl, tok: tok})
			var r *refusal
			if tc.wantCode != "" {
				if !errors.As(err, &r) || r.code != tc.wantCode {
					t.Fatalf("identify error = %v, want refusal %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.account.ID != "oid-1" || id.account.Email != "alice@contoso.example" || id.account.Tenant != tc.wantTenant {
				t.Fatalf("account = %+v", id.account)
			}
		})
	}
}

func TestIdentityAnswersThatAreNotAccounts(t *testing.T) {
	ctx := context.Background()
	tok := (&oauth2.Token{AccessToken: "fake-access"}).WithExtra(map[string]any{
		"id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA", "instance_url": "https://x.my.salesforce.com",
	})
	for name, tc := range map[string]struct {
		d    dialect
		body string
	}{
		"microsoft without id":        {microsoftDialect{}, `{"displayName":"x"}`},
		"microsoft malformed":         {microsoftDialect{}, `{"id":`},
		"google without sub":          {googleDialect{}, `{"email":"a@example.com"}`},
		"salesforce of another user":  {salesforceDialect{}, `{"user_id":"005000000000002AAA","organization_id":"00D000000000001AAA"}`},
		"salesforce of another org":   {salesforceDialect{}, `{"user_id":"005000000000001AAA","organization_id":"00D000000000002AAA"}`},
		"identity endpoint unhappy":   {googleDialect{}, ""},
		"salesforce malformed answer": {salesforceDialect{}, `[]`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.body == "" {
					w.WriteHeader(503)
					return
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			cl := clients.Client{Endpoints: catalog.Endpoints{UserInfoURL: srv.URL, IntrospectURL: srv.URL}}
			_, err := tc.d.identify(ctx, caller{hc: srv.Client()}, grant{client: cl, tok: tok, now: time.Now()})
			var r *refusal
			if err == nil || errors.As(err, &r) {
				t.Fatalf("identify = %v, want a lookup error", err)
			}
		})
	}
}

func TestRedirectURI(t *testing.T) {
	api := &API{PublicBaseURL: "https://api.example.com"}
	r := httptest.NewRequest("POST", "/v1/orgs/o/connections/salesforce", nil)
	if got, err := api.RedirectURI(r); err != nil || got != "https://api.example.com/oauth/callback" {
		t.Fatalf("with PUBLIC_BASE_URL: %q %v", got, err)
	}
	api.PublicBaseURL = ""
	if _, err := api.RedirectURI(r); err == nil {
		t.Fatal("a redirect URI without a base URL or API Gateway domain")
	}
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v1/orgs/o/connections/salesforce", RequestContext: events.APIGatewayV2HTTPRequestContext{
		DomainName: "abc123.execute-api.eu-west-1.amazonaws.com", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"},
	}}
	gw, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := api.RedirectURI(gw); err != nil || got != "https://abc123.execute-api.eu-west-1.amazonaws.com/oauth/callback" {
		t.Fatalf("from the API Gateway domain: %q %v", got, err)
	}
}
