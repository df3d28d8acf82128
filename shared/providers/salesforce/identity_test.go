package salesforce

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

func TestIdentify(t *testing.T) {
	const idURL = "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA"
	tests := []struct {
		name     string
		extra    map[string]any
		body     string
		wantErr  bool
		instance string
	}{
		{"an account", map[string]any{"id": idURL, "instance_url": "https://Acme.my.salesforce.com/"},
			`{"user_id":"005000000000001AAA","organization_id":"00D000000000001AAA","preferred_username":"a@acme.example","name":"A"}`, false, "https://acme.my.salesforce.com"},
		{"another user", map[string]any{"id": idURL, "instance_url": "https://acme.my.salesforce.com"},
			`{"user_id":"005000000000002AAA","organization_id":"00D000000000001AAA"}`, true, ""},
		{"another org", map[string]any{"id": idURL, "instance_url": "https://acme.my.salesforce.com"},
			`{"user_id":"005000000000001AAA","organization_id":"00D000000000002AAA"}`, true, ""},
		{"malformed answer", map[string]any{"id": idURL, "instance_url": "https://acme.my.salesforce.com"}, `[]`, true, ""},
		{"foreign instance", map[string]any{"id": idURL, "instance_url": "https://evil.example"}, `{}`, true, ""},
		{"no instance", map[string]any{"id": idURL}, `{}`, true, ""},
		{"no id", map[string]any{"instance_url": "https://acme.my.salesforce.com"}, `{}`, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			s := providers.Session{Endpoints: providers.Endpoints{UserInfoURL: srv.URL}, Token: (&oauth2.Token{AccessToken: "fake-access"}).WithExtra(tc.extra)}
			acct, err := New().Dialect.Identify(context.Background(), providers.Caller{HTTP: srv.Client()}, s)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Identify = %+v, want an error", acct)
				}
				if tc.instance == "" && tc.extra["instance_url"] == "https://evil.example" && called {
					t.Fatal("the token was sent on although the instance was refused")
				}
				return
			}
			if err != nil || acct.ID != "005000000000001AAA" || acct.ExternalOrg != "00D000000000001AAA" || acct.InstanceURL != tc.instance || acct.Email != "a@acme.example" {
				t.Fatalf("Identify = %+v, %v", acct, err)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	tests := []struct {
		in         string
		org, user  string
		shouldFail bool
	}{
		{"https://login.salesforce.com/id/00D000000000001EAA/005000000000001AAA", "00D000000000001EAA", "005000000000001AAA", false},
		{"https://test.salesforce.com/id/00D000000000001/005000000000001", "00D000000000001", "005000000000001", false},
		{"https://login.salesforce.com/id/00D000000000001EAA", "", "", true},
		{"https://login.salesforce.com/x/00D000000000001EAA/005000000000001AAA", "", "", true},
		{"https://login.salesforce.com/id/00D0000/005000000000001AAA", "", "", true},
		{"https://login.salesforce.com/id/00D000000000001EAA/005000000000001AA!", "", "", true},
		{"", "", "", true},
	}
	for _, tc := range tests {
		org, user, err := ids(tc.in)
		if (err != nil) != tc.shouldFail || org != tc.org || user != tc.user {
			t.Errorf("ids(%q) = %q, %q, %v", tc.in, org, user, err)
		}
	}
}

func TestTokenExtras(t *testing.T) {
	d := New().Dialect
	acct := store.Account{InstanceURL: "https://old.my.salesforce.com"}
	if err := d.TokenExtras(&oauth2.Token{}, &acct); err != nil || acct.InstanceURL != "https://old.my.salesforce.com" {
		t.Fatalf("no instance_url: %v %+v", err, acct)
	}
	if err := d.TokenExtras((&oauth2.Token{}).WithExtra(map[string]any{"instance_url": "https://evil.example"}), &acct); !errors.Is(err, ErrInstanceURL) || acct.InstanceURL != "https://old.my.salesforce.com" {
		t.Fatalf("foreign instance_url: %v %+v", err, acct)
	}
	if err := d.TokenExtras((&oauth2.Token{}).WithExtra(map[string]any{"instance_url": "https://NEW.my.salesforce.com"}), &acct); err != nil || acct.InstanceURL != "https://new.my.salesforce.com" {
		t.Fatalf("new instance_url: %v %+v", err, acct)
	}
}

func TestAccountSettingsOnlyForAnInstance(t *testing.T) {
	d := New().Dialect
	if s, err := d.AccountSettings(store.Account{InstanceURL: "https://acme.my.salesforce.com"}); err != nil || s.AuthBaseURL != "https://acme.my.salesforce.com" {
		t.Fatalf("AccountSettings = %+v, %v", s, err)
	}
	for _, bad := range []string{"", "https://evil.example"} {
		if _, err := d.AccountSettings(store.Account{InstanceURL: bad}); !errors.Is(err, ErrInstanceURL) {
			t.Errorf("AccountSettings(%q) = %v", bad, err)
		}
	}
}
