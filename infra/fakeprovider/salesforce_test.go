package fakeprovider_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

// sfConfig is the oauth2 configuration for an authentication base URL.
func (e *env) sfConfig(base string) *oauth2.Config {
	cfg := e.config(catalog.Salesforce)
	cfg.Endpoint = e.provider(catalog.Salesforce).Endpoints(catalog.Settings{AuthBaseURL: base}).OAuth2
	return cfg
}

func (e *env) rotating(on bool) {
	e.fake.RegisterClient(fakeprovider.ClientSpec{Provider: catalog.Salesforce, ClientID: testClientID[catalog.Salesforce],
		Secret: testSecret, RedirectURIs: []string{testRedirect}, RotateRefreshTokens: on})
}

// TestSalesforceTokenResponse: instance_url, id, issued_at, signature, no
// expires_in; the identity URL's host follows the login host.
func TestSalesforceTokenResponse(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	sandbox := fakeprovider.User{Provider: catalog.Salesforce, Email: "dev@example.com.sandbox", OrgID: "00D000000000002AAA",
		InstanceURL: "https://acme--uat.sandbox.my.salesforce.com"}
	e.fake.AddUser(sandbox)
	u, _ := e.fake.User(catalog.Salesforce, fakeprovider.DefaultSalesforceUser)
	sb, _ := e.fake.User(catalog.Salesforce, sandbox.Email)
	tests := []struct {
		base, user, idURL, instance string
	}{
		{"https://login.salesforce.com", u.Email, "https://login.salesforce.com/id/" + u.OrgID + "/" + u.ID, fakeprovider.DefaultSalesforceInstanceURL},
		{"https://example-dev-ed.my.salesforce.com", u.Email, "https://login.salesforce.com/id/" + u.OrgID + "/" + u.ID, fakeprovider.DefaultSalesforceInstanceURL},
		{"https://test.salesforce.com", sb.Email, "https://test.salesforce.com/id/" + sb.OrgID + "/" + sb.ID, sb.InstanceURL},
		{"https://acme--uat.sandbox.my.salesforce.com", sb.Email, "https://test.salesforce.com/id/" + sb.OrgID + "/" + sb.ID, sb.InstanceURL},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			cfg := e.sfConfig(tt.base)
			f := e.mustCode(catalog.Salesforce, cfg, oauth2.SetAuthURLParam("login_hint", tt.user))
			status, body, _ := e.postForm(cfg.Endpoint.TokenURL, exchangeForm(catalog.Salesforce, f), "", "")
			if status != 200 {
				t.Fatalf("%d %v", status, body)
			}
			if _, ok := body["expires_in"]; ok {
				t.Error("expires_in present")
			}
			if body["id"] != tt.idURL || body["instance_url"] != tt.instance {
				t.Errorf("id %v, instance_url %v", body["id"], body["instance_url"])
			}
			ms, err := strconv.ParseInt(str(body["issued_at"]), 10, 64)
			if err != nil || !time.UnixMilli(ms).Equal(e.clock.Now()) {
				t.Errorf("issued_at = %v", body["issued_at"])
			}
			mac := hmac.New(sha256.New, []byte(testSecret))
			mac.Write([]byte(str(body["id"]) + str(body["issued_at"])))
			if body["signature"] != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				t.Error("signature is not HMAC-SHA256(id + issued_at) under the client secret")
			}
			if !strings.HasPrefix(str(body["access_token"]), strings.Split(strings.TrimPrefix(tt.idURL, "https://"), "/")[2]+"!") {
				t.Errorf("access token %q does not start with the org id", body["access_token"])
			}
		})
	}
}

// TestSalesforceIntrospectionAndUserinfo.
func TestSalesforceIntrospectionAndUserinfo(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true, TokenTTL: 2 * time.Hour})
	cfg := e.sfConfig("https://login.salesforce.com")
	tok := e.connect(catalog.Salesforce, cfg)
	u, _ := e.fake.User(catalog.Salesforce, fakeprovider.DefaultSalesforceUser)
	const introspect = "https://login.salesforce.com/services/oauth2/introspect"
	form := func(token string) url.Values {
		return url.Values{"token": {token}, "token_type_hint": {"access_token"}, "client_id": {cfg.ClientID}, "client_secret": {testSecret}}
	}
	status, body, _ := e.postForm(introspect, form(tok.AccessToken), "", "")
	if status != 200 || body["active"] != true || body["exp"] != float64(e.clock.Now().Add(2*time.Hour).Unix()) ||
		body["scope"] != "refresh_token openid id api" || body["username"] != u.Email || body["client_id"] != cfg.ClientID ||
		body["token_type"] != "access_token" || body["sub"] != "https://login.salesforce.com/id/"+u.OrgID+"/"+u.ID {
		t.Errorf("introspection: %d %v", status, body)
	}
	// Basic authentication, and the refresh token.
	bf := url.Values{"token": {tok.RefreshToken}}
	if status, body, _ := e.postForm(introspect, bf, cfg.ClientID, testSecret); status != 200 || body["active"] != true || body["token_type"] != "refresh_token" {
		t.Errorf("refresh token introspection: %d %v", status, body)
	}
	bad := form(tok.AccessToken)
	bad.Set("client_secret", "fake-client-secret-wrong")
	if status, body, _ := e.postForm(introspect, bad, "", ""); status != 401 || body["error"] != "invalid_client" {
		t.Errorf("unauthenticated introspection: %d %v", status, body)
	}
	if status, body, _ := e.postForm(introspect, form("00Dnot!a-token"), "", ""); status != 200 || !slices.Equal(keys(body), []string{"active"}) || body["active"] != false {
		t.Errorf("unknown token: %d %v", status, body)
	}
	if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindIntrospect, Provider: catalog.Salesforce}); got != 4 {
		t.Errorf("introspections counted = %d", got)
	}

	st, ub, _ := e.getJSON("https://login.salesforce.com/services/oauth2/userinfo", tok.AccessToken)
	ui := obj(t, ub)
	if st != 200 || ui["user_id"] != u.ID || ui["organization_id"] != u.OrgID || ui["preferred_username"] != u.Email ||
		ui["email"] != u.Email || ui["sub"] != "https://login.salesforce.com/id/"+u.OrgID+"/"+u.ID {
		t.Errorf("userinfo: %d %v", st, ui)
	}
	if st, ib, _ := e.getJSON(str(tok.Extra("id")), tok.AccessToken); st != 200 || obj(t, ib)["username"] != u.Email {
		t.Errorf("identity URL: %d %v", st, ib)
	}
	resp := e.get(e.hc, "https://login.salesforce.com/services/oauth2/userinfo", "00Dnot!a-token")
	if body := readBody(resp); resp.StatusCode != 403 || body != "Bad_OAuth_Token" {
		t.Errorf("userinfo with a bad token: %d %q", resp.StatusCode, body)
	}
}

// TestSalesforceRotation: with rotation on, each refresh returns a new
// refresh token and presenting a replaced one revokes the whole family;
// with it off, the refresh token stays.
func TestSalesforceRotation(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.sfConfig("https://login.salesforce.com")

	e.rotating(false)
	tok := e.connect(catalog.Salesforce, cfg)
	for range 2 {
		next, err := e.refresh(cfg, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if next.RefreshToken != tok.RefreshToken {
			t.Fatalf("rotation off but the refresh token changed")
		}
		if next.Extra("instance_url") != fakeprovider.DefaultSalesforceInstanceURL || str(next.Extra("signature")) == "" {
			t.Errorf("refresh response lacks Salesforce fields")
		}
	}

	e.rotating(true)
	e.fake.ResetCounts()
	tok = e.connect(catalog.Salesforce, cfg)
	rt1 := tok.RefreshToken
	t1, err := e.refresh(cfg, rt1)
	if err != nil || t1.RefreshToken == "" || t1.RefreshToken == rt1 {
		t.Fatalf("rotation on: %v %q", err, t1.RefreshToken)
	}
	t2, err := e.refresh(cfg, t1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(cfg, rt1) // the old one: family revoked
	re := retrieveError(t, err)
	if re.ErrorCode != "invalid_grant" || re.ErrorDescription != "expired access/refresh token" {
		t.Errorf("reuse: %q %q", re.ErrorCode, re.ErrorDescription)
	}
	if body := errorBody(t, re); !slices.Equal(keys(body), []string{"error", "error_description"}) {
		t.Errorf("error body keys = %v", keys(body))
	}
	for _, tk := range []string{t2.RefreshToken, t2.AccessToken, t1.AccessToken} {
		if info, _ := e.fake.TokenInfo(tk); info.Active {
			t.Errorf("family member still active after reuse: %+v", info)
		}
	}
	if _, err := e.refresh(cfg, t2.RefreshToken); err == nil {
		t.Error("the newest refresh token survived the family's revocation")
	}
	if st, _, _ := e.getJSON(fakeprovider.DefaultSalesforceInstanceURL+"/services/data/v62.0/limits", t2.AccessToken); st != 401 {
		t.Errorf("REST with a revoked family's token: %d", st)
	}
	used := e.fake.RefreshTokensUsed(fakeprovider.Filter{Provider: catalog.Salesforce})
	var reused []string
	for _, u := range used {
		if u.Reused {
			reused = append(reused, u.Token)
		}
	}
	if len(used) != 4 || !slices.Equal(reused, []string{rt1}) {
		t.Errorf("RefreshTokensUsed: %d uses, reused %v", len(used), reused)
	}
}

// TestSalesforceRevoke: a refresh token takes its family with it, an
// access token only itself.
func TestSalesforceRevoke(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.sfConfig("https://login.salesforce.com")
	const revoke = "https://login.salesforce.com/services/oauth2/revoke"

	tok := e.connect(catalog.Salesforce, cfg)
	if status, body, _ := e.postForm(revoke, url.Values{"token": {tok.AccessToken}}, "", ""); status != 200 || body != nil {
		t.Fatalf("revoke access token: %d %v", status, body)
	}
	if info, _ := e.fake.TokenInfo(tok.RefreshToken); !info.Active {
		t.Error("revoking an access token revoked its refresh token")
	}
	next, err := e.refresh(cfg, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.postForm(revoke, url.Values{"token": {next.RefreshToken}}, "", ""); status != 200 {
		t.Fatalf("revoke refresh token: %d", status)
	}
	if info, _ := e.fake.TokenInfo(next.AccessToken); info.Active {
		t.Error("revoking a refresh token left its access token active")
	}
	if status, body, _ := e.postForm(revoke, url.Values{"token": {next.RefreshToken}}, "", ""); status != 400 || body["error"] != "invalid_token" {
		t.Errorf("revoking a dead token: %d %v", status, body)
	}
}

// TestSalesforceREST: the REST API answers on the token's instance host
// only, in Salesforce's error shape.
func TestSalesforceREST(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	tok := e.connect(catalog.Salesforce, e.sfConfig("https://login.salesforce.com"))
	base := fakeprovider.DefaultSalesforceInstanceURL + "/services/data/v62.0"
	sfError := func(rawURL, token string, wantStatus int, wantCode string) {
		t.Helper()
		status, body, _ := e.getJSON(rawURL, token)
		arr, ok := body.([]any)
		if !ok || len(arr) != 1 || status != wantStatus || obj(t, arr[0])["errorCode"] != wantCode || str(obj(t, arr[0])["message"]) == "" {
			t.Errorf("%s: %d %v, want %d %s", rawURL, status, body, wantStatus, wantCode)
		}
	}
	if st, body, _ := e.getJSON(base+"/limits", tok.AccessToken); st != 200 || obj(t, body)["DailyApiRequests"] == nil {
		t.Errorf("limits: %d %v", st, body)
	}
	st, body, _ := e.getJSON(base+"/sobjects/Account/001000000000001AAA", tok.AccessToken)
	rec := obj(t, body)
	if st != 200 || rec["Id"] != "001000000000001AAA" || obj(t, rec["attributes"])["type"] != "Account" {
		t.Errorf("record: %d %v", st, rec)
	}
	sfError(base+"/sobjects/Account/001000000000009AAA", tok.AccessToken, 404, "NOT_FOUND")
	sfError("https://login.salesforce.com/services/data/v62.0/limits", tok.AccessToken, 401, "INVALID_SESSION_ID")
	sfError(base+"/limits", "", 401, "INVALID_SESSION_ID")
	sfError(base+"/limits", tok.AccessToken+"x", 401, "INVALID_SESSION_ID")
	sfError(fakeprovider.DefaultSalesforceInstanceURL+"/services/data/latest/limits", tok.AccessToken, 404, "NOT_FOUND")
	sfError(fakeprovider.DefaultSalesforceInstanceURL+"/services/data/v30.0/limits", tok.AccessToken, 410, "GONE")

	// A SOQL query over the records the user can read; limits needs View
	// Setup and Configuration, records do not.
	st, body, _ = e.getJSON(base+"/query?q=SELECT+Id+FROM+Account+LIMIT+1", tok.AccessToken)
	if q := obj(t, body); st != 200 || q["totalSize"] != float64(1) || obj(t, q["records"].([]any)[0])["Id"] != "001000000000001AAA" {
		t.Errorf("query: %d %v", st, body)
	}
	if st, body, _ := e.getJSON(base+"/query?q=SELECT+Id+FROM+Lead+LIMIT+1", tok.AccessToken); st != 200 || obj(t, body)["totalSize"] != float64(0) {
		t.Errorf("query of an object without records: %d %v", st, body)
	}
	sfError(base+"/query?q=DELETE+everything", tok.AccessToken, 400, "MALFORMED_QUERY")
	if err := e.fake.UpdateUser(catalog.Salesforce, fakeprovider.DefaultSalesforceUser, func(u *fakeprovider.User) { u.WithoutViewSetup = true }); err != nil {
		t.Fatal(err)
	}
	sfError(base+"/limits", tok.AccessToken, 403, "INSUFFICIENT_ACCESS")
	if st, _, _ := e.getJSON(base+"/query?q=SELECT+Id+FROM+Account", tok.AccessToken); st != 200 {
		t.Errorf("query without View Setup: %d", st)
	}
	resp := e.get(e.hc, "https://login.example.com/services/oauth2/userinfo", "")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a non-Salesforce host on a Salesforce route: %d", resp.StatusCode)
	}
}
