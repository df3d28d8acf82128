package fakeprovider_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

var requestIDRE = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// consent opens the consent page and submits it.
func (e *env) consent(provider string, cfg *oauth2.Config, form url.Values, opts ...oauth2.AuthCodeOption) (page string, f *flow, resp *http.Response) {
	e.t.Helper()
	p := e.provider(provider)
	f = &flow{verifier: oauth2.GenerateVerifier(), state: "c"}
	authURL := cfg.AuthCodeURL(f.state, append(append(p.AuthCodeOptionsFor(testSettings[provider]), oauth2.S256ChallengeOption(f.verifier)), opts...)...)
	get := e.get(e.browser, authURL, "")
	page = readBody(get)
	if get.StatusCode != http.StatusOK || !strings.HasPrefix(get.Header.Get("Content-Type"), "text/html") {
		e.t.Fatalf("consent page: %d %s", get.StatusCode, page)
	}
	m := requestIDRE.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no request_id on the page: %s", page)
	}
	form.Set("request_id", m[1])
	resp, err := e.browser.PostForm(authURL, form)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	if loc := resp.Header.Get("Location"); loc != "" {
		f.location, _ = url.Parse(loc)
		f.code = f.location.Query().Get("code")
	}
	return page, f, resp
}

func TestConsentPage(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{})
	e.fake.AddUser(fakeprovider.User{Provider: catalog.GoogleWorkspace, Email: "erin@example.com", HostedDomain: "example.com"})

	t.Run("google: choose the account, untick a scope", func(t *testing.T) {
		cfg := e.config(catalog.GoogleWorkspace)
		form := url.Values{"account": {"erin@example.com"}, "decision": {"allow"},
			"scope": {gscope + "gmail.readonly", gscope + "drive.readonly"}}
		page, f, resp := e.consent(catalog.GoogleWorkspace, cfg, form, oauth2.SetAuthURLParam("login_hint", "erin@example.com"))
		for _, want := range []string{fakeprovider.DefaultGoogleUser, "erin@example.com", `value="erin@example.com" checked`, gscope + "calendar.readonly", cfg.ClientID} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if f.code == "" {
			t.Fatalf("after consent: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		tok, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
		if err != nil {
			t.Fatal(err)
		}
		want := "openid " + gscope + "userinfo.email " + gscope + "userinfo.profile " + gscope + "gmail.readonly " + gscope + "drive.readonly"
		if tok.Extra("scope") != want {
			t.Errorf("scope = %q, want %q", tok.Extra("scope"), want)
		}
		if info, _ := e.fake.TokenInfo(tok.AccessToken); info.User != "erin@example.com" {
			t.Errorf("signed in as %q", info.User)
		}
	})

	t.Run("deny", func(t *testing.T) {
		for _, p := range providers {
			_, f, resp := e.consent(p, e.config(p), url.Values{"account": {defaultUser[p]}, "decision": {"deny"}})
			if f.location == nil || f.location.Query().Get("error") != "access_denied" || f.location.Query().Get("state") != f.state {
				t.Errorf("%s deny: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})

	t.Run("microsoft and salesforce: account only", func(t *testing.T) {
		for _, p := range []string{catalog.Microsoft365, catalog.Salesforce} {
			cfg := e.config(p)
			page, f, _ := e.consent(p, cfg, url.Values{"account": {defaultUser[p]}, "decision": {"allow"}})
			if strings.Contains(page, `type="checkbox"`) {
				t.Errorf("%s page offers scope tick boxes", p)
			}
			if _, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier)); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	})

	t.Run("request used twice", func(t *testing.T) {
		cfg := e.config(catalog.Salesforce)
		authURL := cfg.AuthCodeURL("x", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		m := requestIDRE.FindStringSubmatch(readBody(e.get(e.browser, authURL, "")))
		form := url.Values{"request_id": {m[1]}, "account": {fakeprovider.DefaultSalesforceUser}, "decision": {"allow"}}
		for i, want := range []int{http.StatusFound, http.StatusBadRequest} {
			resp, err := e.browser.PostForm(authURL, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("post %d: %d, want %d", i, resp.StatusCode, want)
			}
		}
	})

	t.Run("unknown login_hint", func(t *testing.T) {
		auto := newEnv(t, fakeprovider.Options{AutoApprove: true})
		f := auto.authorize(catalog.GoogleWorkspace, auto.config(catalog.GoogleWorkspace), oauth2.SetAuthURLParam("login_hint", "ghost@example.com"))
		if f.resp.StatusCode != http.StatusBadRequest || !strings.Contains(readBody(f.resp), "ghost@example.com") {
			t.Errorf("unknown login_hint: %d", f.resp.StatusCode)
		}
	})
}

// TestPromptNone: without an earlier grant, prompt=none is consent_required.
func TestPromptNone(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.googleConfig("openid", "email")
	f := e.authorize(catalog.GoogleWorkspace, cfg, oauth2.SetAuthURLParam("prompt", "none"))
	if f.location == nil || f.location.Query().Get("error") != "consent_required" {
		t.Fatalf("first prompt=none: %v", f.location)
	}
	e.connect(catalog.GoogleWorkspace, cfg)
	if f := e.authorize(catalog.GoogleWorkspace, cfg, oauth2.SetAuthURLParam("prompt", "none")); f.code == "" {
		t.Errorf("prompt=none after a grant: %v", f.location)
	}
}

// TestUpdateUser: UpdateUser changes a copy and keeps the key.
func TestUpdateUser(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	if err := e.fake.UpdateUser(catalog.Salesforce, fakeprovider.DefaultSalesforceUser, func(u *fakeprovider.User) {
		u.Email, u.Name = "changed@example.com", "Renamed"
	}); err != nil {
		t.Fatal(err)
	}
	u, ok := e.fake.User(catalog.Salesforce, fakeprovider.DefaultSalesforceUser)
	if !ok || u.Email != fakeprovider.DefaultSalesforceUser || u.Name != "Renamed" || u.OrgID != fakeprovider.DefaultSalesforceOrgID {
		t.Errorf("user = %+v", u)
	}
	if err := e.fake.UpdateUser(catalog.Salesforce, "nobody@example.com", func(*fakeprovider.User) {}); err == nil {
		t.Error("UpdateUser of an unknown user succeeded")
	}
	u.Items[0].Name = "mutated"
	if again, _ := e.fake.User(catalog.Salesforce, fakeprovider.DefaultSalesforceUser); again.Items[0].Name == "mutated" {
		t.Error("User returned shared state")
	}
}
