package fakeprovider_test

import (
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

const (
	fabrikamTenant = "9a8b7c6d-0000-4000-8000-00000000fab1"
	fabrikamUser   = "bob@fabrikam.example"
)

// msConfig is the oauth2 configuration for a Microsoft tenant.
func (e *env) msConfig(tenant string, scopes ...string) *oauth2.Config {
	cfg := e.config(catalog.Microsoft365)
	cfg.Endpoint = e.provider(catalog.Microsoft365).Endpoints(catalog.Settings{Tenant: tenant}).OAuth2
	if scopes != nil {
		cfg.Scopes = scopes
	}
	return cfg
}

func TestMicrosoftTenants(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	e.fake.AddUser(fakeprovider.User{Provider: catalog.Microsoft365, Email: fabrikamUser, Tenant: fabrikamTenant})

	tests := []struct {
		name, tenant, user string
		wantTID            string // "" when refused
		refusal            string // AADSTS code of the refusal
		page               bool   // refused on a page, not by redirect
	}{
		{"own tenant by id", fakeprovider.DefaultMicrosoftTenantID, fakeprovider.DefaultMicrosoftUser, fakeprovider.DefaultMicrosoftTenantID, "", false},
		{"own tenant by domain", fakeprovider.DefaultMicrosoftTenantDomain, fakeprovider.DefaultMicrosoftUser, fakeprovider.DefaultMicrosoftTenantID, "", false},
		{"organizations", "organizations", fabrikamUser, fabrikamTenant, "", false},
		{"common", "common", fakeprovider.DefaultMicrosoftUser, fakeprovider.DefaultMicrosoftTenantID, "", false},
		{"other tenant", fakeprovider.DefaultMicrosoftTenantID, fabrikamUser, "", "AADSTS50020", false},
		{"other tenant by domain", "fabrikam.example", fakeprovider.DefaultMicrosoftUser, "", "AADSTS50020", false},
		{"consumers", "consumers", fakeprovider.DefaultMicrosoftUser, "", "AADSTS50020", false},
		{"unknown tenant", "11111111-2222-4333-8444-555555555555", fakeprovider.DefaultMicrosoftUser, "", "AADSTS90002", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := e.msConfig(tt.tenant)
			f := e.authorize(catalog.Microsoft365, cfg, oauth2.SetAuthURLParam("login_hint", tt.user))
			if tt.wantTID == "" {
				if tt.page {
					if f.resp.StatusCode != http.StatusBadRequest || f.location != nil || !strings.Contains(readBody(f.resp), tt.refusal) {
						t.Fatalf("want an error page with %s: %d %v", tt.refusal, f.resp.StatusCode, f.location)
					}
					return
				}
				if f.location == nil || f.location.Query().Get("error") != "access_denied" ||
					!strings.HasPrefix(f.location.Query().Get("error_description"), tt.refusal+":") {
					t.Fatalf("want error redirect with %s: %d %v", tt.refusal, f.resp.StatusCode, f.location)
				}
				return
			}
			if f.code == "" {
				t.Fatalf("no code: %d %v %s", f.resp.StatusCode, f.location, readBody(f.resp))
			}
			if f.location.Query().Get("session_state") == "" {
				t.Error("no session_state in the redirect")
			}
			tok, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatal(err)
			}
			idt := jwtClaims(t, str(tok.Extra("id_token")))
			if idt["tid"] != tt.wantTID || idt["preferred_username"] != tt.user || idt["aud"] != cfg.ClientID ||
				idt["ver"] != "2.0" || idt["iss"] != "https://login.microsoftonline.com/"+tt.wantTID+"/v2.0" || str(idt["oid"]) == "" {
				t.Errorf("id_token claims = %v", idt)
			}
			if idt["email"] != tt.user {
				t.Errorf("email claim = %v (email scope was requested)", idt["email"])
			}
		})
	}

	t.Run("default user of a tenant", func(t *testing.T) {
		cfg := e.msConfig(fabrikamTenant)
		tok := e.connect(catalog.Microsoft365, cfg)
		if info, _ := e.fake.TokenInfo(tok.AccessToken); info.User != fabrikamUser {
			t.Errorf("signed in %q, want the tenant's user", info.User)
		}
	})

	t.Run("refresh on another tenant", func(t *testing.T) {
		tok := e.connect(catalog.Microsoft365, e.msConfig(fakeprovider.DefaultMicrosoftTenantID))
		_, err := e.refresh(e.msConfig(fabrikamTenant), tok.RefreshToken)
		re := retrieveError(t, err)
		if re.ErrorCode != "invalid_grant" || !strings.HasPrefix(re.ErrorDescription, "AADSTS50020:") {
			t.Errorf("%q %q", re.ErrorCode, re.ErrorDescription)
		}
	})
}

// TestMicrosoftRefreshTokens: offline_access is needed for a refresh token,
// and every refresh replaces it; the old one is refused from then on.
func TestMicrosoftRefreshTokens(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	noOffline := e.msConfig(fakeprovider.DefaultMicrosoftTenantID, "openid", "profile", "https://graph.microsoft.com/User.Read")
	if tok := e.connect(catalog.Microsoft365, noOffline); tok.RefreshToken != "" {
		t.Fatal("a refresh token without offline_access")
	}

	cfg := e.msConfig(fakeprovider.DefaultMicrosoftTenantID)
	tok := e.connect(catalog.Microsoft365, cfg)
	rt1 := tok.RefreshToken
	next, err := e.refresh(cfg, rt1)
	if err != nil {
		t.Fatal(err)
	}
	rt2 := next.RefreshToken
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh token not replaced: %q", rt2)
	}
	// The first grant's scopes come first: consent is the user's and app's.
	if str(next.Extra("id_token")) == "" || next.Extra("scope") != "openid profile User.Read email Mail.Read Calendars.Read Files.Read.All Contacts.Read" {
		t.Errorf("refresh response: id_token %v, scope %v", next.Extra("id_token") != nil, next.Extra("scope"))
	}
	_, err = e.refresh(cfg, rt1)
	re := retrieveError(t, err)
	body := errorBody(t, re)
	if re.ErrorCode != "invalid_grant" || !strings.HasPrefix(re.ErrorDescription, "AADSTS70000:") {
		t.Errorf("old refresh token: %q %q", re.ErrorCode, re.ErrorDescription)
	}
	checkAADSTSBody(t, body, 70000)
	// The replacement keeps working: reuse of the old one is caught, not punished.
	if _, err := e.refresh(cfg, rt2); err != nil {
		t.Errorf("the new refresh token after a reuse attempt: %v", err)
	}
	used := e.fake.RefreshTokensUsed(fakeprovider.Filter{Provider: catalog.Microsoft365})
	reused := slices.IndexFunc(used, func(u fakeprovider.RefreshUse) bool { return u.Reused })
	if len(used) != 3 || reused != 1 || used[1].Token != rt1 || used[1].Outcome != fakeprovider.OutcomeRefused {
		t.Errorf("RefreshTokensUsed = %+v", used)
	}
}

// checkAADSTSBody checks Microsoft's error body shape.
func checkAADSTSBody(t *testing.T, body map[string]any, code int) {
	t.Helper()
	want := sorted("error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri")
	got := slices.DeleteFunc(keys(body), func(k string) bool { return k == "suberror" })
	if !slices.Equal(got, want) {
		t.Errorf("error body keys = %v, want %v", keys(body), want)
	}
	desc := str(body["error_description"])
	prefix := "AADSTS" + strconv.Itoa(code) + ":"
	if !strings.HasPrefix(desc, prefix) || !strings.Contains(desc, "\r\nTrace ID: "+str(body["trace_id"])) ||
		!strings.Contains(desc, "\r\nCorrelation ID: "+str(body["correlation_id"])) || !strings.Contains(desc, "\r\nTimestamp: "+str(body["timestamp"])) {
		t.Errorf("error_description = %q", desc)
	}
	codes, _ := body["error_codes"].([]any)
	if len(codes) == 0 || codes[0] != float64(code) {
		t.Errorf("error_codes = %v, want [%d ...]", body["error_codes"], code)
	}
	if _, err := time.Parse("2006-01-02 15:04:05Z", str(body["timestamp"])); err != nil {
		t.Errorf("timestamp %q: %v", body["timestamp"], err)
	}
}

// TestMicrosoftRefreshLifetime: revocation and 90 days of inactivity end a
// refresh token, with Microsoft's codes.
func TestMicrosoftRefreshLifetime(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.msConfig(fakeprovider.DefaultMicrosoftTenantID)

	tok := e.connect(catalog.Microsoft365, cfg)
	e.clock.Advance(91 * 24 * time.Hour)
	_, err := e.refresh(cfg, tok.RefreshToken)
	if re := retrieveError(t, err); !strings.HasPrefix(re.ErrorDescription, "AADSTS700082:") {
		t.Errorf("idle: %q", re.ErrorDescription)
	}

	tok = e.connect(catalog.Microsoft365, cfg)
	if err := e.fake.RevokeUser(catalog.Microsoft365, fakeprovider.DefaultMicrosoftUser); err != nil {
		t.Fatal(err)
	}
	_, err = e.refresh(cfg, tok.RefreshToken)
	re := retrieveError(t, err)
	if re.ErrorCode != "invalid_grant" || !strings.HasPrefix(re.ErrorDescription, "AADSTS50173:") {
		t.Errorf("revoked: %q %q", re.ErrorCode, re.ErrorDescription)
	}
	if body := errorBody(t, re); body["suberror"] != "bad_token" {
		t.Errorf("suberror = %v", body["suberror"])
	}
	if status, _, _ := e.getJSON("https://graph.microsoft.com/v1.0/me", tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("Graph with a revoked user's token: %d", status)
	}
	if err := e.fake.RevokeUser(catalog.Microsoft365, "nobody@contoso.example"); err == nil {
		t.Error("RevokeUser of an unknown user succeeded")
	}
}

// TestMicrosoftClientCredentials: the admin credential check's grant.
func TestMicrosoftClientCredentials(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	form := func(scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
			"client_id": {testClientID[catalog.Microsoft365]}, "client_secret": {testSecret}}
	}
	tokenURL := func(tenant string) string {
		return "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token"
	}
	const scope = "https://graph.microsoft.com/.default"

	status, body, _ := e.postForm(tokenURL(fakeprovider.DefaultMicrosoftTenantID), form(scope), "", "")
	if status != http.StatusOK || !slices.Equal(keys(body), sorted("token_type", "expires_in", "ext_expires_in", "access_token")) {
		t.Fatalf("client credentials: %d %v", status, keys(body))
	}
	if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindClientCredentials, Outcome: fakeprovider.OutcomeOK, ClientID: testClientID[catalog.Microsoft365]}); got != 1 {
		t.Errorf("counted %d client-credentials grants", got)
	}
	// An app-only token cannot use /me.
	st, gb, _ := e.getJSON("https://graph.microsoft.com/v1.0/me", str(body["access_token"]))
	if st != http.StatusBadRequest || str(obj(t, obj(t, gb)["error"])["code"]) != "BadRequest" {
		t.Errorf("/me with an app-only token: %d %v", st, gb)
	}
	// Through oauth2's clientcredentials-style request with basic auth.
	bf := form(scope)
	bf.Del("client_id")
	bf.Del("client_secret")
	if status, body, _ := e.postForm(tokenURL(fakeprovider.DefaultMicrosoftTenantDomain), bf, testClientID[catalog.Microsoft365], testSecret); status != http.StatusOK {
		t.Errorf("basic auth on a verified domain: %d %v", status, body)
	}

	refusals := []struct {
		name, tenant, scope, secret string
		status                      int
		code                        string
		aadsts                      int
	}{
		{"common", "common", scope, testSecret, 400, "invalid_request", 90010},
		{"organizations", "organizations", scope, testSecret, 400, "invalid_request", 50059},
		{"unknown tenant", "11111111-2222-4333-8444-555555555555", scope, testSecret, 400, "invalid_request", 90002},
		{"not .default", fakeprovider.DefaultMicrosoftTenantID, "https://graph.microsoft.com/Mail.Read", testSecret, 400, "invalid_scope", 1002012},
		{"other resource", fakeprovider.DefaultMicrosoftTenantID, "https://management.azure.com/.default", testSecret, 400, "invalid_resource", 500011},
		{"wrong secret", fakeprovider.DefaultMicrosoftTenantID, scope, "fake-client-secret-wrong", 401, "invalid_client", 7000215},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			f := form(r.scope)
			f.Set("client_secret", r.secret)
			status, body, _ := e.postForm(tokenURL(r.tenant), f, "", "")
			if status != r.status || str(body["error"]) != r.code {
				t.Fatalf("%d %v", status, body)
			}
			checkAADSTSBody(t, body, r.aadsts)
		})
	}
}

// TestGraph: /me and the probe shapes, errors included.
func TestGraph(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true, TokenTTL: time.Hour})
	tok := e.connect(catalog.Microsoft365, e.msConfig(fakeprovider.DefaultMicrosoftTenantID))

	status, body, _ := e.getJSON("https://graph.microsoft.com/v1.0/me?$select=id,displayName,mail,userPrincipalName", tok.AccessToken)
	me := obj(t, body)
	if status != 200 || !slices.Equal(keys(me), sorted("@odata.context", "id", "displayName", "mail", "userPrincipalName")) ||
		me["mail"] != fakeprovider.DefaultMicrosoftUser || str(me["id"]) == "" {
		t.Fatalf("/me: %d %v", status, me)
	}
	if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindUserInfo, Provider: catalog.Microsoft365, Outcome: fakeprovider.OutcomeOK}); got != 1 {
		t.Errorf("identity calls = %d", got)
	}

	graphError := func(rawURL, token string, wantStatus int, wantCode string) {
		t.Helper()
		status, body, hdr := e.getJSON(rawURL, token)
		errObj := obj(t, obj(t, body)["error"])
		if status != wantStatus || errObj["code"] != wantCode || str(errObj["message"]) == "" {
			t.Errorf("%s: %d %v, want %d %s", rawURL, status, body, wantStatus, wantCode)
		}
		inner := obj(t, errObj["innerError"])
		if str(inner["request-id"]) == "" || str(inner["date"]) == "" {
			t.Errorf("innerError = %v", inner)
		}
		if wantStatus == 401 && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	graphError("https://graph.microsoft.com/v1.0/me", "", 401, "InvalidAuthenticationToken")
	graphError("https://graph.microsoft.com/v1.0/me", "EwBnot-a-token", 401, "InvalidAuthenticationToken")
	graphError("https://graph.microsoft.com/v1.0/me/messages/missing-id", tok.AccessToken, 404, "ErrorItemNotFound")
	graphError("https://graph.microsoft.com/v1.0/me/drive/items/missing-id", tok.AccessToken, 404, "itemNotFound")

	// A Google token is no Graph token.
	gtok := e.connect(catalog.GoogleWorkspace, e.config(catalog.GoogleWorkspace))
	graphError("https://graph.microsoft.com/v1.0/me", gtok.AccessToken, 401, "InvalidAuthenticationToken")

	// A token without User.Read cannot read /me; without Mail.Read, no mail.
	// (Another user: the default user's tokens carry everything they
	// consented to above.)
	e.fake.AddUser(fakeprovider.User{Provider: catalog.Microsoft365, Email: "narrow@" + fakeprovider.DefaultMicrosoftTenantDomain})
	narrow := e.connect(catalog.Microsoft365, e.msConfig(fakeprovider.DefaultMicrosoftTenantID, "openid", "https://graph.microsoft.com/Calendars.Read"),
		oauth2.SetAuthURLParam("login_hint", "narrow@"+fakeprovider.DefaultMicrosoftTenantDomain))
	graphError("https://graph.microsoft.com/v1.0/me", narrow.AccessToken, 403, "Authorization_RequestDenied")
	graphError("https://graph.microsoft.com/v1.0/me/messages?$top=1", narrow.AccessToken, 403, "ErrorAccessDenied")
	if status, _, _ := e.getJSON("https://graph.microsoft.com/v1.0/me/events?$top=1", narrow.AccessToken); status != 200 {
		t.Errorf("events with Calendars.Read: %d", status)
	}

	e.clock.Advance(61 * time.Minute)
	status, body, _ = e.getJSON("https://graph.microsoft.com/v1.0/me", tok.AccessToken)
	if status != 401 || !strings.Contains(str(obj(t, obj(t, body)["error"])["message"]), "expired") {
		t.Errorf("expired token: %d %v", status, body)
	}
}

// TestGraphDownload: a file's content is a 302 to a pre-authenticated
// SharePoint URL, fetched without the Authorization header.
func TestGraphDownload(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	content := []byte("quarterly numbers\n")
	if err := e.fake.UpdateUser(catalog.Microsoft365, fakeprovider.DefaultMicrosoftUser, func(u *fakeprovider.User) {
		u.Items = append(u.Items, fakeprovider.Item{Capability: catalog.Files, ID: "01ABCDEF", Name: "q1.csv", MimeType: "text/csv", Content: content})
	}); err != nil {
		t.Fatal(err)
	}
	tok := e.connect(catalog.Microsoft365, e.msConfig(fakeprovider.DefaultMicrosoftTenantID))

	resp := e.get(e.browser, "https://graph.microsoft.com/v1.0/me/drive/items/01ABCDEF/content", tok.AccessToken)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasSuffix(loc.Host, "-my.sharepoint.com") || loc.Query().Get("tempauth") == "" {
		t.Fatalf("content: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = e.get(e.hc, "https://graph.microsoft.com/v1.0/me/drive/items/01ABCDEF/content", tok.AccessToken)
	if got := readBody(resp); resp.StatusCode != 200 || got != string(content) || resp.Header.Get("Content-Type") != "text/csv" {
		t.Errorf("followed download: %d %q %s", resp.StatusCode, got, resp.Header.Get("Content-Type"))
	}
	// The pre-authenticated URL works without a token, and only with its ticket.
	if resp := e.get(e.hc, loc.String(), ""); resp.StatusCode != 200 {
		t.Errorf("tempauth download: %d", resp.StatusCode)
	}
	q := loc.Query()
	q.Set("tempauth", "forged")
	loc.RawQuery = q.Encode()
	if resp := e.get(e.hc, loc.String(), ""); resp.StatusCode != 401 {
		t.Errorf("forged tempauth: %d", resp.StatusCode)
	}
	status, body, _ := e.getJSON("https://graph.microsoft.com/v1.0/me/drive/items/01ABCDEF", tok.AccessToken)
	item := obj(t, body)
	if status != 200 || item["name"] != "q1.csv" || item["size"] != float64(len(content)) || obj(t, item["file"])["mimeType"] != "text/csv" ||
		!strings.Contains(str(item["@microsoft.graph.downloadUrl"]), "tempauth=") {
		t.Errorf("drive item: %d %v", status, item)
	}
}

// TestMicrosoftTokensCarryEveryConsentedPermission: Microsoft records
// consent per user and app, and an access token encodes every permission
// the app is granted for the resource: a request naming Calendars.Read only
// still gets Mail.Read consented before, named once whatever form the
// requests used. Another user's grant, and a revoked one, carry nothing.
func TestMicrosoftTokensCarryEveryConsentedPermission(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	const graph = "https://graph.microsoft.com/"
	tenant := fakeprovider.DefaultMicrosoftTenantID
	mail := e.connect(catalog.Microsoft365, e.msConfig(tenant, "openid", "offline_access", graph+"User.Read", graph+"Mail.Read"))
	if got := mail.Extra("scope"); got != "openid User.Read Mail.Read" {
		t.Fatalf("first consent: scope %q", got)
	}
	cal := e.connect(catalog.Microsoft365, e.msConfig(tenant, "openid", "offline_access", "Mail.Read", graph+"Calendars.Read"))
	if got := cal.Extra("scope"); got != "openid User.Read Mail.Read Calendars.Read" {
		t.Errorf("second consent: scope %q, want the first grant's and Calendars.Read, each once", got)
	}
	if status, _, _ := e.getJSON("https://graph.microsoft.com/v1.0/me/messages?$top=1", cal.AccessToken); status != 200 {
		t.Errorf("mail with the earlier consent's Mail.Read: %d", status)
	}
	next, err := e.refresh(e.msConfig(tenant), cal.RefreshToken)
	if err != nil || next.Extra("scope") != "openid User.Read Mail.Read Calendars.Read" {
		t.Errorf("refresh: %v, scope %v", err, next.Extra("scope"))
	}

	other := "other@" + fakeprovider.DefaultMicrosoftTenantDomain
	e.fake.AddUser(fakeprovider.User{Provider: catalog.Microsoft365, Email: other})
	if got := e.connect(catalog.Microsoft365, e.msConfig(tenant, "openid", graph+"Calendars.Read"), oauth2.SetAuthURLParam("login_hint", other)).Extra("scope"); got != "openid Calendars.Read" {
		t.Errorf("another user: scope %q", got)
	}
	if err := e.fake.RevokeUser(catalog.Microsoft365, fakeprovider.DefaultMicrosoftUser); err != nil {
		t.Fatal(err)
	}
	if got := e.connect(catalog.Microsoft365, e.msConfig(tenant, "openid", graph+"Calendars.Read")).Extra("scope"); got != "openid Calendars.Read" {
		t.Errorf("after the consent was revoked: scope %q", got)
	}
}
