package fakeprovider_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

const gscope = "https://www.googleapis.com/auth/"

// googleConfig asks for the given scopes without the catalog's extra
// authorization parameters.
func (e *env) googleConfig(scopes ...string) *oauth2.Config {
	cfg := e.config(catalog.GoogleWorkspace)
	cfg.Scopes = scopes
	return cfg
}

// googleAuthorize authorizes with exactly the given extra parameters.
func (e *env) googleAuthorize(cfg *oauth2.Config, params map[string]string) *flow {
	e.t.Helper()
	f := &flow{verifier: oauth2.GenerateVerifier(), state: "g"}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier)}
	for k, v := range params {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	f.resp = e.get(e.browser, cfg.AuthCodeURL(f.state, opts...), "")
	f.location, _ = url.Parse(f.resp.Header.Get("Location"))
	f.code = f.location.Query().Get("code")
	if f.code == "" {
		e.t.Fatalf("authorize: %d %s", f.resp.StatusCode, f.resp.Header.Get("Location"))
	}
	return f
}

func (e *env) googleExchange(cfg *oauth2.Config, f *flow) *oauth2.Token {
	e.t.Helper()
	tok, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// TestGoogleRefreshTokenRules: a refresh token only with
// access_type=offline, and on a second consent only with prompt=consent;
// after the grant is revoked, the first consent yields one again.
func TestGoogleRefreshTokenRules(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.googleConfig("openid", "email", gscope+"drive.readonly")
	steps := []struct {
		name   string
		params map[string]string
		wantRT bool
	}{
		{"online", map[string]string{}, false},
		{"first offline consent", map[string]string{"access_type": "offline"}, true},
		{"second offline consent", map[string]string{"access_type": "offline"}, false},
		{"second offline consent with prompt=consent", map[string]string{"access_type": "offline", "prompt": "consent"}, true},
	}
	var last *oauth2.Token
	for _, s := range steps {
		tok := e.googleExchange(cfg, e.googleAuthorize(cfg, s.params))
		if (tok.RefreshToken != "") != s.wantRT {
			t.Errorf("%s: refresh token %q, want one: %v", s.name, tok.RefreshToken, s.wantRT)
		}
		if tok.RefreshToken != "" {
			last = tok
		}
	}

	// Revoking ends the grant; then the first consent gives a refresh token again.
	status, body, _ := e.postForm("https://oauth2.googleapis.com/revoke", url.Values{"token": {last.RefreshToken}}, "", "")
	if status != http.StatusOK {
		t.Fatalf("revoke: %d %v", status, body)
	}
	tok := e.googleExchange(cfg, e.googleAuthorize(cfg, map[string]string{"access_type": "offline"}))
	if tok.RefreshToken == "" {
		t.Error("no refresh token on the first consent after revocation")
	}
}

// TestGoogleGranularConsent: a user granting a subset; the token response
// names what was granted, with openid and the userinfo long names.
func TestGoogleGranularConsent(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	if err := e.fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) {
		u.GrantScopes = []string{gscope + "gmail.readonly"}
	}); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(catalog.GoogleWorkspace)
	f := e.mustCode(catalog.GoogleWorkspace, cfg)
	want := "openid " + gscope + "userinfo.email " + gscope + "userinfo.profile " + gscope + "gmail.readonly"
	if got := f.location.Query().Get("scope"); got != want {
		t.Errorf("redirect scope = %q", got)
	}
	if f.location.Query().Get("hd") != fakeprovider.DefaultGoogleDomain || f.location.Query().Get("authuser") != "0" {
		t.Errorf("redirect = %s", f.location)
	}
	tok, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("scope"); got != want {
		t.Errorf("token scope = %q, want %q", got, want)
	}
	missing := e.provider(catalog.GoogleWorkspace).MissingScopes(cfg.Scopes, strings.Fields(want))
	if strings.Join(missing, " ") != gscope+"calendar.readonly "+gscope+"drive.readonly "+gscope+"contacts.readonly" {
		t.Errorf("catalog sees missing %v", missing)
	}
	// The ungranted scope is enforced by the APIs.
	if status, _, _ := e.getJSON("https://www.googleapis.com/drive/v3/about?fields=user", tok.AccessToken); status != http.StatusForbidden {
		t.Errorf("Drive without drive scope: %d", status)
	}
	if status, _, _ := e.getJSON("https://gmail.googleapis.com/gmail/v1/users/me/profile", tok.AccessToken); status != http.StatusOK {
		t.Errorf("Gmail with gmail.readonly: %d", status)
	}

	// include_granted_scopes adds what was granted before; without it, a
	// token carries what this request named.
	if err := e.fake.UpdateUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser, func(u *fakeprovider.User) { u.GrantScopes = nil }); err != nil {
		t.Fatal(err)
	}
	inc := e.googleConfig("openid", gscope+"drive.readonly")
	if got := e.googleExchange(inc, e.googleAuthorize(inc, nil)).Extra("scope"); got != "openid "+gscope+"drive.readonly" {
		t.Errorf("scope without include_granted_scopes = %q", got)
	}
	got := e.googleExchange(inc, e.googleAuthorize(inc, map[string]string{"include_granted_scopes": "true"})).Extra("scope")
	if got != "openid "+gscope+"userinfo.email "+gscope+"userinfo.profile "+gscope+"gmail.readonly "+gscope+"drive.readonly" {
		t.Errorf("include_granted_scopes scope = %q", got)
	}
}

// TestGoogleIdentity: userinfo with hd for Workspace users, id_token
// claims, and no hd for a consumer account.
func TestGoogleIdentity(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	e.fake.AddUser(fakeprovider.User{Provider: catalog.GoogleWorkspace, Email: "carol@gmail.example", Name: "Carol"})
	cfg := e.config(catalog.GoogleWorkspace)
	for _, tc := range []struct{ user, hd string }{{fakeprovider.DefaultGoogleUser, fakeprovider.DefaultGoogleDomain}, {"carol@gmail.example", ""}} {
		tok := e.connect(catalog.GoogleWorkspace, cfg, oauth2.SetAuthURLParam("login_hint", tc.user))
		status, body, _ := e.getJSON("https://openidconnect.googleapis.com/v1/userinfo", tok.AccessToken)
		ui := obj(t, body)
		if status != 200 || ui["email"] != tc.user || ui["email_verified"] != true || str(ui["sub"]) == "" || str(ui["hd"]) != tc.hd {
			t.Errorf("userinfo for %s: %d %v", tc.user, status, ui)
		}
		idt := jwtClaims(t, str(tok.Extra("id_token")))
		if idt["sub"] != ui["sub"] || idt["email"] != tc.user || str(idt["hd"]) != tc.hd || idt["aud"] != cfg.ClientID || idt["iss"] != "https://accounts.google.com" {
			t.Errorf("id_token = %v", idt)
		}
	}
	status, body, hdr := e.getJSON("https://openidconnect.googleapis.com/v1/userinfo", "ya29.not-a-token")
	if m := obj(t, body); status != 401 || m["error"] != "invalid_request" || m["error_description"] != "Invalid Credentials" || hdr.Get("WWW-Authenticate") == "" {
		t.Errorf("bad token: %d %v", status, body)
	}
}

// TestGoogleRefreshAndRevoke: no rotation; the revoke endpoint ends the
// grant: refresh and access tokens alike.
func TestGoogleRefreshAndRevoke(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.config(catalog.GoogleWorkspace)
	earlier := e.connect(catalog.GoogleWorkspace, cfg) // another authorization of the same grant
	tok := e.connect(catalog.GoogleWorkspace, cfg)
	for i := range 2 {
		status, body, _ := e.postForm(cfg.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"client_id": {cfg.ClientID}, "client_secret": {testSecret}}, "", "")
		if status != 200 {
			t.Fatalf("refresh %d: %d %v", i, status, body)
		}
		if _, ok := body["refresh_token"]; ok {
			t.Errorf("refresh %d returned a refresh token: Google does not rotate", i)
		}
	}
	used := e.fake.RefreshTokensUsed(fakeprovider.Filter{Provider: catalog.GoogleWorkspace})
	if len(used) != 2 || used[0].Reused || !used[1].Reused {
		t.Errorf("RefreshTokensUsed = %+v", used)
	}

	status, body, _ := e.postForm("https://oauth2.googleapis.com/revoke", url.Values{"token": {tok.AccessToken}}, "", "")
	if status != 200 {
		t.Fatalf("revoke: %d %v", status, body)
	}
	if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRevoke, User: fakeprovider.DefaultGoogleUser, Outcome: fakeprovider.OutcomeOK}); got != 1 {
		t.Errorf("revocations counted = %d", got)
	}
	_, err := e.refresh(cfg, tok.RefreshToken)
	re := retrieveError(t, err)
	if re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Token has been expired or revoked." {
		t.Errorf("refresh after revoke: %q %q", re.ErrorCode, re.ErrorDescription)
	}
	if status, _, _ := e.getJSON("https://gmail.googleapis.com/gmail/v1/users/me/profile", tok.AccessToken); status != 401 {
		t.Errorf("Gmail after revoke: %d", status)
	}
	for _, tk := range []string{earlier.AccessToken, earlier.RefreshToken} {
		if info, _ := e.fake.TokenInfo(tk); info.Active {
			t.Errorf("a token of the same client and user survived the revocation: %+v", info)
		}
	}
	status, body, _ = e.postForm("https://oauth2.googleapis.com/revoke", url.Values{"token": {tok.RefreshToken}}, "", "")
	if status != 400 || body["error"] != "invalid_token" {
		t.Errorf("second revoke: %d %v", status, body)
	}
}

// TestGoogleRefreshIdle: six months unused ends a refresh token.
func TestGoogleRefreshIdle(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.config(catalog.GoogleWorkspace)
	tok := e.connect(catalog.GoogleWorkspace, cfg)
	e.clock.Advance(180 * 24 * time.Hour)
	if _, err := e.refresh(cfg, tok.RefreshToken); err != nil {
		t.Fatalf("refresh after 180 days: %v", err)
	}
	e.clock.Advance(184 * 24 * time.Hour)
	_, err := e.refresh(cfg, tok.RefreshToken)
	if re := retrieveError(t, err); re.ErrorDescription != "Token has been expired or revoked." {
		t.Errorf("after 184 idle days: %q", re.ErrorDescription)
	}
}
