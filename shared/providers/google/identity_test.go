package google

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

func TestIdentify(t *testing.T) {
	tests := []struct {
		name, body, hostedDomain string
		wantCode                 string // refusal
		wantErr                  bool   // a lookup error
	}{
		{"workspace account", `{"sub":"1","email":"a@example.com","name":"A","hd":"Example.com"}`, "example.com", "", false},
		{"consumer account, no domain set", `{"sub":"1","email":"a@gmail.com"}`, "", "", false},
		{"consumer account refused", `{"sub":"1","email":"a@gmail.com"}`, "example.com", CodeHostedDomain, false},
		{"other domain refused", `{"sub":"1","hd":"example.org"}`, "example.com", CodeHostedDomain, false},
		{"without sub", `{"email":"a@example.com"}`, "", "", true},
		{"unavailable", "", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.body == "" || r.Header.Get("Authorization") != "Bearer fake-access" {
					w.WriteHeader(503)
					return
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			s := providers.Session{
				Settings:  providers.Settings{HostedDomain: tc.hostedDomain},
				Endpoints: providers.Endpoints{UserInfoURL: srv.URL},
				Token:     &oauth2.Token{AccessToken: "fake-access"},
			}
			acct, err := New().Dialect.Identify(context.Background(), providers.Caller{HTTP: srv.Client()}, s)
			var r *providers.Refusal
			switch {
			case tc.wantCode != "":
				if !errors.As(err, &r) || r.Code != tc.wantCode {
					t.Fatalf("Identify = %v, want refusal %s", err, tc.wantCode)
				}
			case tc.wantErr:
				if err == nil || errors.As(err, &r) {
					t.Fatalf("Identify = %v, want a lookup error", err)
				}
			case err != nil || acct.ID != "1":
				t.Fatalf("Identify = %+v, %v", acct, err)
			}
		})
	}
}

func TestHostedDomainHint(t *testing.T) {
	p := New()
	cfg := oauth2.Config{ClientID: "c", Endpoint: p.Endpoints(providers.Settings{}).OAuth2}
	query := func(s providers.Settings) url.Values {
		u, err := url.Parse(cfg.AuthCodeURL("s", p.AuthCodeOptionsFor(s)...))
		if err != nil {
			t.Fatal(err)
		}
		return u.Query()
	}
	if q := query(providers.Settings{HostedDomain: "example.com"}); q.Get("hd") != "example.com" || q.Get("access_type") != "offline" {
		t.Fatalf("with a hosted domain: %v", q)
	}
	if q := query(providers.Settings{}); q.Has("hd") {
		t.Fatalf("hd without a hosted domain: %v", q)
	}
}

func TestRevokesTheGrant(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm.Get("token")
	}))
	defer srv.Close()
	p := New()
	if p.Revocation != providers.RevokeGrant {
		t.Fatal("Google's revocation ends the grant")
	}
	err := p.Dialect.Revoke(context.Background(), providers.Caller{HTTP: srv.Client()}, providers.Endpoints{RevokeURL: srv.URL}, &oauth2.Token{AccessToken: "a", RefreshToken: "r"})
	if err != nil || got != "r" {
		t.Fatalf("Revoke = %v, posted %q", err, got)
	}
}
