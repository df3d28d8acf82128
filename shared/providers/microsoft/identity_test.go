package microsoft

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

// The end-to-end tests cover identification against the fake provider;
// these cover what the fake cannot produce: a token of another tenant than
// a tenant-specific endpoint's (the fake, like Microsoft, refuses such a
// sign-in before issuing a code), and malformed identity answers.

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

func TestIdentify(t *testing.T) {
	const home = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
	const other = "11111111-2222-4333-8444-555555555555"
	srv := graphServer(t, `{"id":"oid-1","displayName":"Alice","mail":"","userPrincipalName":"alice@contoso.example"}`)
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
			s := providers.Session{
				Settings:  providers.Settings{Tenant: tc.tenant},
				Endpoints: providers.Endpoints{UserInfoURL: srv.URL + "/v1.0/me"},
				Token:     (&oauth2.Token{AccessToken: "fake-access"}).WithExtra(extra),
			}
			acct, err := New().Dialect.Identify(context.Background(), providers.Caller{HTTP: srv.Client()}, s)
			var r *providers.Refusal
			if tc.wantCode != "" {
				if !errors.As(err, &r) || r.Code != tc.wantCode || r.Message == "" {
					t.Fatalf("Identify error = %v, want refusal %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if acct.ID != "oid-1" || acct.Email != "alice@contoso.example" || acct.Tenant != tc.wantTenant {
				t.Fatalf("account = %+v", acct)
			}
		})
	}
}

func TestIdentityAnswersThatAreNotAccounts(t *testing.T) {
	for name, body := range map[string]string{
		"without id":   `{"displayName":"x"}`,
		"malformed":    `{"id":`,
		"unauthorized": "",
	} {
		t.Run(name, func(t *testing.T) {
			srv := graphServer(t, body)
			s := providers.Session{Endpoints: providers.Endpoints{UserInfoURL: srv.URL}, Token: &oauth2.Token{AccessToken: "fake-access"}}
			if body == "" {
				s.Token.AccessToken = "another"
			}
			_, err := New().Dialect.Identify(context.Background(), providers.Caller{HTTP: srv.Client()}, s)
			var r *providers.Refusal
			if err == nil || errors.As(err, &r) {
				t.Fatalf("Identify = %v, want a lookup error", err)
			}
		})
	}
	s := providers.Session{Token: (&oauth2.Token{AccessToken: "fake-access"}).WithExtra(map[string]any{"id_token": "not.a-jwt"})}
	if _, err := New().Dialect.Identify(context.Background(), providers.Caller{HTTP: http.DefaultClient}, s); err == nil {
		t.Fatal("a malformed ID token")
	}
}

func TestNoRevocation(t *testing.T) {
	p := New()
	if p.Revocation != providers.RevokeNone || p.NoRevocationHint == "" {
		t.Fatalf("revocation %v, hint %q", p.Revocation, p.NoRevocationHint)
	}
	if err := p.Dialect.Revoke(context.Background(), providers.Caller{}, providers.Endpoints{}, &oauth2.Token{}); !errors.Is(err, providers.ErrRevocationUnsupported) {
		t.Fatalf("Revoke = %v", err)
	}
}
