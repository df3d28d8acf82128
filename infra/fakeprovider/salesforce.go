package fakeprovider

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// salesforceScopes are the OAuth scopes a connected app can hold.
var salesforceScopes = []string{
	"api", "refresh_token", "offline_access", "openid", "id", "profile", "email", "address", "phone", "full",
	"web", "chatter_api", "visualforce", "custom_permissions", "wave_api", "lightning", "content",
	"cdp_query_api", "pardot_api", "eclair_api", "sfap_api", "einstein_gpt_api",
}

// salesforceIdentityScopes allow the identity service.
var salesforceIdentityScopes = []string{"openid", "id", "profile", "email", "full"}

var apiVersionRE = regexp.MustCompile(`^v[0-9]{2,3}\.0$`)

// salesforce is Salesforce's OAuth web server flow, identity service, token
// introspection and revocation, and the instance's REST API.
type salesforce struct{ base }

func (sf *salesforce) id() string               { return catalog.Salesforce }
func (sf *salesforce) codeTTL() time.Duration   { return 15 * time.Minute }
func (sf *salesforce) rotates(cl *client) bool  { return cl.RotateRefreshTokens }
func (sf *salesforce) codePrefix() string       { return "aPrx" }
func (sf *salesforce) newRefreshToken() string  { return salesforceToken("5Aep861") }
func (sf *salesforce) reuseRevokesFamily() bool { return true }

// scopeRequired: the connected app's selected scopes apply without one.
func (sf *salesforce) scopeRequired() bool { return false }

// challengeMethod: Salesforce knows no other method than S256 and takes no
// method parameter.
func (sf *salesforce) challengeMethod(method string) string {
	if method == "" {
		return "S256"
	}
	return method
}

func (sf *salesforce) knownScope(sc string) bool { return slices.Contains(salesforceScopes, sc) }

// offline: a refresh token only with the refresh_token (or offline_access)
// scope.
func (sf *salesforce) offline(_ *authzRequest, granted []string, _ bool) bool {
	return slices.Contains(granted, "refresh_token") || slices.Contains(granted, "offline_access")
}

func (sf *salesforce) loginHost(ar *authzRequest) string { return salesforceLoginHost(ar.host) }

// admits: a deactivated user, or a user of a locked org, cannot sign in or
// get tokens.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm
func (sf *salesforce) admits(_ *http.Request, u *User) (failure, bool) {
	switch {
	case u.OrgInactive:
		return failInactiveOrg, true
	case u.Inactive:
		return failInactiveUser, true
	}
	return failNone, false
}

// newAccessToken: <org id>!<letters>.
func (sf *salesforce) newAccessToken(_ *client, _ *family, u *User, _ *accessToken) string {
	return u.OrgID + "!" + salesforceToken("AQ")
}

// salesforceToken is prefix and 256 random bits in Salesforce's alphabet
// (letters, digits, '.', '_').
func salesforceToken(prefix string) string {
	return strings.ReplaceAll(randToken(prefix), "-", ".")
}

// servesAPI: a session is valid for the REST API on its org's instance
// only.
func (sf *salesforce) servesAPI(r *http.Request, n need, instanceHost string) bool {
	return (n.kind != KindAPI && !n.writes()) || requestHost(r) == instanceHost
}

func (sf *salesforce) routes(handle func(string, http.HandlerFunc)) {
	s := sf.s
	handle("GET /{host}/services/oauth2/authorize", sf.host(func(w http.ResponseWriter, r *http.Request) { s.authorize(sf, w, r) }))
	handle("POST /{host}/services/oauth2/authorize", sf.host(func(w http.ResponseWriter, r *http.Request) { s.authorize(sf, w, r) }))
	handle("POST /{host}/services/oauth2/token", sf.host(func(w http.ResponseWriter, r *http.Request) { s.token(sf, w, r) }))
	handle("POST /{host}/services/oauth2/revoke", sf.host(sf.revoke))
	handle("GET /{host}/services/oauth2/revoke", sf.host(sf.revoke))
	identity := s.api(sf, need{kind: KindUserInfo, scopes: salesforceIdentityScopes}, sf.userinfo)
	handle("GET /{host}/services/oauth2/userinfo", sf.host(identity))
	handle("POST /{host}/services/oauth2/userinfo", sf.host(identity))
	handle("POST /{host}/services/oauth2/introspect", sf.host(sf.introspect))
	handle("GET /{host}/id/{org}/{user}", sf.host(identity))
	handle("GET /{host}/services/data/{version}/limits", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.limits)))
	handle("GET /{host}/services/data/{version}/query", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.query)))
	handle("GET /{host}/services/data/{version}/sobjects", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.describeGlobal)))
	handle("GET /{host}/services/data/{version}/sobjects/{object}/{id}", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.record)))
	// The catalog's item id is "<Object>/<record id>"; escaped, it is one segment.
	handle("GET /{host}/services/data/{version}/sobjects/{object}", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.record)))
	// The write test's Task (writes.go), with or without the trailing slash.
	handle("POST /{host}/services/data/{version}/sobjects/{object}/{$}", sf.host(s.api(sf, write(KindCreate, catalog.CRM), sf.createRecord)))
	handle("POST /{host}/services/data/{version}/sobjects/{object}", sf.host(s.api(sf, write(KindCreate, catalog.CRM), sf.createRecord)))
	handle("DELETE /{host}/services/data/{version}/sobjects/{object}/{id}", sf.host(s.api(sf, write(KindDelete, catalog.CRM), sf.deleteRecord)))
}

func (sf *salesforce) seedUser() User {
	return User{Provider: sf.id(), Email: DefaultSalesforceUser, Name: "Alice Example", OrgID: DefaultSalesforceOrgID,
		InstanceURL: DefaultSalesforceInstanceURL}
}

// defaultClient rotates refresh tokens, a connected-app setting.
func (sf *salesforce) defaultClient() (store.DefaultClient, bool) {
	return store.DefaultClient{ClientID: "FAKE0DEFAULT0CONSUMER0KEY0SALESFORCE", ClientSecret: "fake-client-secret-salesforce"}, true
}

// normalize: a user belongs to an org on an instance (by default the
// default ones), with a 005 user id.
func (sf *salesforce) normalize(u *User, _ string) {
	if u.OrgID == "" {
		u.OrgID = DefaultSalesforceOrgID
	}
	if u.InstanceURL == "" {
		u.InstanceURL = DefaultSalesforceInstanceURL
	}
	u.InstanceURL = strings.TrimRight(u.InstanceURL, "/")
	if u.ID == "" {
		u.ID = "005" + alnumFrom("user:"+strings.ToLower(u.Email), 12) + "AAA"
	}
}

// host serves only Salesforce hosts on the wildcard routes.
func (sf *salesforce) host(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isSalesforceHost(requestHost(r)) {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

func isSalesforceHost(h string) bool {
	return h == "login.salesforce.com" || h == "test.salesforce.com" || strings.HasSuffix(h, ".salesforce.com")
}

// salesforceLoginHost is the host of identity URLs for a sign-in at host:
// sandboxes and scratch orgs sign in (and are identified) at
// test.salesforce.com.
func salesforceLoginHost(host string) string {
	if host == "test.salesforce.com" || strings.HasSuffix(host, ".sandbox.my.salesforce.com") || strings.HasSuffix(host, ".scratch.my.salesforce.com") {
		return "test.salesforce.com"
	}
	return "login.salesforce.com"
}

func identityURL(loginHost string, u User) string {
	return "https://" + loginHost + "/id/" + u.OrgID + "/" + u.ID
}

func (sf *salesforce) oauthError(f failure, x errCtx) oauthError {
	e := func(code, desc string) oauthError {
		return oauthError{status: http.StatusBadRequest, code: code, desc: desc, now: x.now}
	}
	const expired = "expired access/refresh token"
	switch f {
	case failInvalidRequest:
		return e("invalid_request", "invalid "+x.param)
	case failMissingParam:
		if x.param == "grant_type" {
			return e("invalid_request", "grant type is missing")
		}
		return e("invalid_request", "missing required parameter "+x.param)
	case failUnsupportedGrant:
		return e("unsupported_grant_type", "grant type not supported")
	case failUnsupportedResponseType:
		return e("unsupported_response_type", "response type not supported")
	case failUnknownClient:
		out := e("invalid_client_id", "client identifier invalid")
		out.page = x.kind == KindAuthorize
		return out
	case failBadSecret, failMissingSecret:
		return e("invalid_client", "invalid client credentials")
	case failRedirectNotRegistered:
		out := e("redirect_uri_mismatch", "redirect_uri must match configuration")
		out.page = true
		return out
	case failInvalidScope:
		return e("invalid_scope", "the requested scope is not allowed")
	case failPKCEMethod:
		return e("invalid_request", "invalid code_challenge_method")
	case failPKCERequired:
		return e("invalid_request", "missing required code challenge")
	case failUnknownCode, failUsedCode, failCodeClient:
		return e("invalid_grant", "invalid authorization code")
	case failExpiredCode:
		return e("invalid_grant", "expired authorization code")
	case failRedirectMismatch:
		return e("redirect_uri_mismatch", "redirect_uri must match configuration")
	case failVerifierMissing, failVerifierMismatch:
		return e("invalid_grant", "invalid code verifier")
	case failUnknownRefresh, failRevokedRefresh, failReplacedRefresh, failIdleRefresh, failRefreshClient:
		return e("invalid_grant", expired)
	case failAccessDenied:
		return e("access_denied", "end-user denied authorization")
	case failInactiveUser:
		return e("inactive_user", "user is inactive")
	case failInactiveOrg:
		return e("inactive_org", "organization is locked, closed or suspended")
	case failConsentRequired:
		return e("immediate_unsuccessful", "user has not approved this consumer")
	case failUnknownToken:
		return e("invalid_token", "invalid token")
	case failServer:
		out := e("server_error", "internal server error")
		out.status = x.fault.Status
		if x.fault.Status == 503 || x.fault.Status == 429 {
			out.code, out.desc = "temporarily_unavailable", "service temporarily unavailable"
		}
		return out
	case failInjected:
		var out oauthError
		switch x.fault.Error {
		case ErrInvalidGrant, ErrInvalidRAPT:
			out = e("invalid_grant", expired)
			if x.kind == KindExchange {
				out.desc = "expired authorization code"
			}
		case ErrInvalidClient, ErrExpiredSecret:
			out = e("invalid_client", "invalid client credentials")
		case ErrUnauthorizedClient:
			out = e("unauthorized_client", "client is not authorized for this grant type")
		default:
			out = e(x.fault.Error, x.fault.Error)
		}
		if x.fault.Description != "" {
			out.desc = x.fault.Description
		}
		return out
	}
	return e("invalid_request", "bad request")
}

func (sf *salesforce) writeOAuthError(w http.ResponseWriter, e oauthError) {
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": e.code, "error_description": e.desc})
}

// tokenResponse: instance_url, id, issued_at (milliseconds) and a signature
// (HMAC-SHA256 of id and issued_at under the client secret), no expires_in.
func (sf *salesforce) tokenResponse(t *issue) map[string]any {
	id := identityURL(t.fam.loginHost, t.user)
	issuedAt := strconv.FormatInt(t.now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(t.cl.Secret))
	mac.Write([]byte(id + issuedAt))
	body := map[string]any{
		"access_token": t.access,
		"signature":    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"scope":        scopeString(t.fam.scopes),
		"instance_url": t.instanceURL,
		"id":           id,
		"token_type":   "Bearer",
		"issued_at":    issuedAt,
	}
	if t.refresh != "" {
		body["refresh_token"] = t.refresh
	}
	if t.withIDToken {
		body["id_token"] = unsignedJWT(map[string]any{
			"iss": "https://" + t.fam.loginHost, "sub": id, "aud": t.cl.ClientID,
			"iat": t.now.Unix(), "exp": t.now.Add(5 * time.Minute).Unix(),
			"preferred_username": t.user.Email, "email": t.user.Email, "name": t.user.Name,
		})
	}
	return body
}

// writeAPIError: the identity service answers an unusable token with 403
// and a one-word plain-text body; the REST API answers with a JSON array.
func (sf *salesforce) writeAPIError(w http.ResponseWriter, p apiProblem) {
	if p.identity {
		text := "Bad_OAuth_Token"
		status := http.StatusForbidden
		switch p.kind {
		case probNoToken:
			text, status = "Missing_OAuth_Token", http.StatusUnauthorized
		case probInsufficientScope:
			text = "Insufficient_Scope"
		case probFault:
			text, status = "Service_Unavailable", p.status
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(text))
		return
	}
	status, code, msg := http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid"
	switch p.kind {
	case probInsufficientScope:
		msg = "This session is not valid for use with the REST API"
	case probDenied:
		status, code, msg = http.StatusForbidden, "INSUFFICIENT_ACCESS", "The REST API is not enabled for this user: it needs the API Enabled permission."
	case probItemForbidden:
		status, code, msg = http.StatusForbidden, "INSUFFICIENT_ACCESS", "insufficient access rights on object id"
	case probNotFound:
		status, code, msg = http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist"
	case probGone:
		status, code, msg = http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted"
	case probBadRequest:
		status, code, msg = http.StatusBadRequest, "JSON_PARSER_ERROR", p.id
	case probFault:
		status = p.status
		switch status {
		case http.StatusTooManyRequests:
			code, msg = "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
		case http.StatusServiceUnavailable:
			code, msg = "SERVER_UNAVAILABLE", "The server is temporarily unavailable."
		default:
			code, msg = "UNKNOWN_EXCEPTION", "An unexpected error occurred."
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Token`)
	}
	writeJSON(w, status, []map[string]string{{"message": msg, "errorCode": code}})
}

// userinfo serves the OpenID Connect userinfo endpoint and the identity
// URL (/id/<org>/<user>, which may name only the token's own user).
func (sf *salesforce) userinfo(a *apiCall) {
	u := a.user
	instance := u.InstanceURL
	id := identityURL(a.at.fam.loginHost, u)
	local, _, _ := strings.Cut(u.Email, "@")
	urls := map[string]string{
		"enterprise": instance + "/services/Soap/c/{version}/" + u.OrgID,
		"partner":    instance + "/services/Soap/u/{version}/" + u.OrgID,
		"rest":       instance + "/services/data/v{version}/",
		"sobjects":   instance + "/services/data/v{version}/sobjects/",
		"search":     instance + "/services/data/v{version}/search/",
		"query":      instance + "/services/data/v{version}/query/",
		"profile":    instance + "/" + u.ID,
		"users":      instance + "/services/data/v{version}/chatter/users",
	}
	if org := a.r.PathValue("org"); org != "" {
		if org != u.OrgID || a.r.PathValue("user") != u.ID {
			sf.writeAPIError(a.w, apiProblem{kind: probBadToken, identity: true})
			return
		}
		writeJSON(a.w, http.StatusOK, map[string]any{
			"id": id, "asserted_user": true, "user_id": u.ID, "organization_id": u.OrgID, "username": u.Email,
			"nick_name": local, "display_name": u.Name, "email": u.Email, "email_verified": true,
			"status": map[string]any{"created_date": nil, "body": nil}, "urls": urls, "active": true,
			"user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
			"last_modified_date": "2026-01-01T00:00:00.000+0000", "is_app_installed": true,
		})
		return
	}
	writeJSON(a.w, http.StatusOK, map[string]any{
		"sub": id, "user_id": u.ID, "organization_id": u.OrgID, "preferred_username": u.Email, "nickname": local,
		"name": u.Name, "email": u.Email, "email_verified": true, "given_name": u.Name, "family_name": "",
		"zoneinfo": "Etc/UTC", "profile": instance + "/" + u.ID, "picture": instance + "/profilephoto/005/F",
		"address": map[string]any{}, "is_salesforce_integration_user": false, "urls": urls, "active": true,
		"user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
		"updated_at": "2026-01-01T00:00:00Z", "is_app_installed": true,
	})
}

// introspect serves RFC 7662 token introspection for the authenticated
// client's own tokens.
func (sf *salesforce) introspect(w http.ResponseWriter, r *http.Request) {
	s := sf.s
	c := s.begin(w, sf.id(), KindIntrospect)
	defer s.record(c)
	_ = r.ParseForm()
	id, secret := clientAuth(r, r.PostForm)
	c.clientID = id
	token := r.PostForm.Get("token")
	s.mu.Lock()
	if fam := s.familyOf(sf.id(), token); fam != nil {
		c.user = fam.email
	}
	s.mu.Unlock()
	x := errCtx{clientID: id, kind: KindIntrospect, now: s.now()}
	if f, ok := s.applyFault(r.Context(), c); ok {
		s.writeOAuthFault(sf, w, f, x)
		return
	}
	cl, fl := s.authenticate(sf, id, secret)
	if fl != failNone {
		e := sf.oauthError(fl, x)
		e.status = http.StatusUnauthorized
		sf.writeOAuthError(w, e)
		return
	}
	if token == "" {
		x.param = "token"
		sf.writeOAuthError(w, sf.oauthError(failMissingParam, x))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var body map[string]any
	if at := s.access[token]; at != nil && at.provider == sf.id() && at.clientID == cl.ClientID && at.active(x.now) {
		body = sf.introspection(at.fam, "access_token", at.scopes, at.issued)
		body["exp"] = at.expires.Unix()
	} else if rt := s.refresh[token]; rt != nil && rt.fam.provider == sf.id() && rt.fam.clientID == cl.ClientID && !rt.replaced && !rt.fam.revoked() {
		body = sf.introspection(rt.fam, "refresh_token", rt.fam.scopes, rt.issued)
	}
	if body == nil {
		writeJSON(w, http.StatusOK, map[string]bool{"active": false})
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// introspection is an active token's description; callers hold s.mu.
func (sf *salesforce) introspection(fam *family, typ string, scopes []string, issued time.Time) map[string]any {
	body := map[string]any{"active": true, "scope": scopeString(scopes), "client_id": fam.clientID,
		"token_type": typ, "iat": issued.Unix(), "nbf": issued.Unix()}
	if u := sf.s.lookupUser(sf.id(), fam.email); u != nil {
		body["username"], body["sub"] = u.Email, identityURL(fam.loginHost, *u)
	}
	return body
}

// revoke serves Salesforce's revocation endpoint: a refresh token takes its
// whole family with it, an access token only itself.
func (sf *salesforce) revoke(w http.ResponseWriter, r *http.Request) {
	s := sf.s
	c := s.begin(w, sf.id(), KindRevoke)
	defer s.record(c)
	_ = r.ParseForm()
	token := r.Form.Get("token")
	s.mu.Lock()
	if fam := s.familyOf(sf.id(), token); fam != nil {
		c.clientID, c.user = fam.clientID, fam.email
	}
	s.mu.Unlock()
	x := errCtx{kind: KindRevoke, now: s.now()}
	if f, ok := s.applyFault(r.Context(), c); ok {
		s.writeOAuthFault(sf, w, f, x)
		return
	}
	s.mu.Lock()
	live := token != "" && s.familyOf(sf.id(), token) != nil && s.liveToken(token)
	if live {
		if at := s.access[token]; at != nil {
			at.revoked = true
		} else {
			s.refresh[token].fam.revoke(x.now)
		}
	}
	s.mu.Unlock()
	if !live {
		sf.writeOAuthError(w, sf.oauthError(failUnknownToken, x))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// checkVersion refuses an API version the REST API does not have: a
// malformed one is not found, a retired one (below 31.0 since Summer '25)
// is 410 Gone.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm
func (sf *salesforce) checkVersion(a *apiCall) bool {
	v := a.r.PathValue("version")
	if !apiVersionRE.MatchString(v) {
		a.problem(probNotFound, "")
		return false
	}
	if n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(v, "v"), ".0")); n < 31 {
		writeJSON(a.w, http.StatusGone, []map[string]string{{"errorCode": "GONE", "message": "API version " + v + " is retired."}})
		return false
	}
	return true
}

// limits needs the View Setup and Configuration permission, which record
// access does not give.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
func (sf *salesforce) limits(a *apiCall) {
	if !sf.checkVersion(a) {
		return
	}
	if a.user.WithoutViewSetup {
		writeJSON(a.w, http.StatusForbidden, []map[string]string{{"errorCode": "INSUFFICIENT_ACCESS", "message": "The View Setup and Configuration permission is required."}})
		return
	}
	limit := func(max, remaining int) map[string]int { return map[string]int{"Max": max, "Remaining": remaining} }
	writeJSON(a.w, http.StatusOK, map[string]any{
		"DailyApiRequests":         limit(15000, 14998),
		"DailyAsyncApexExecutions": limit(250000, 250000),
		"DailyBulkApiBatches":      limit(15000, 15000),
		"DataStorageMB":            limit(5, 5),
		"FileStorageMB":            limit(20, 20),
	})
}

func (sf *salesforce) describeGlobal(a *apiCall) {
	if !sf.checkVersion(a) {
		return
	}
	version := a.r.PathValue("version")
	var objs []map[string]any
	for _, name := range []string{"Account", "Contact", "Lead", "Opportunity"} {
		objs = append(objs, map[string]any{"name": name, "label": name, "queryable": true, "retrieveable": true,
			"urls": map[string]string{"sobject": "/services/data/" + version + "/sobjects/" + name,
				"rowTemplate": "/services/data/" + version + "/sobjects/" + name + "/{ID}"}})
	}
	writeJSON(a.w, http.StatusOK, map[string]any{"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})
}

// query runs a SOQL query of the form SELECT <fields> FROM <Object> [LIMIT
// n] over the user's readable records of that object, as any API user with
// read access may.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
func (sf *salesforce) query(a *apiCall) {
	if !sf.checkVersion(a) {
		return
	}
	f := strings.Fields(a.r.URL.Query().Get("q"))
	if len(f) < 4 || !strings.EqualFold(f[0], "SELECT") || !strings.EqualFold(f[2], "FROM") {
		writeJSON(a.w, http.StatusBadRequest, []map[string]string{{"errorCode": "MALFORMED_QUERY", "message": "unexpected token"}})
		return
	}
	object, limit := f[3], -1
	if len(f) == 6 && strings.EqualFold(f[4], "LIMIT") {
		limit, _ = strconv.Atoi(f[5])
	}
	version := a.r.PathValue("version")
	records := []map[string]any{}
	for _, it := range a.visible() {
		obj, rid, _ := strings.Cut(it.ID, "/")
		if obj != object || limit >= 0 && len(records) == limit {
			continue
		}
		records = append(records, map[string]any{
			"attributes": map[string]string{"type": obj, "url": "/services/data/" + version + "/sobjects/" + obj + "/" + rid},
			"Id":         rid,
		})
	}
	writeJSON(a.w, http.StatusOK, map[string]any{"totalSize": len(records), "done": true, "records": records})
}

// record is one sObject record; its item id is "<Object>/<record id>".
func (sf *salesforce) record(a *apiCall) {
	if !sf.checkVersion(a) {
		return
	}
	object, rid := a.r.PathValue("object"), a.r.PathValue("id")
	if rid == "" {
		object, rid, _ = strings.Cut(object, "/")
	}
	it, ok := a.lookup(object + "/" + rid)
	if !ok {
		return
	}
	writeJSON(a.w, http.StatusOK, map[string]any{
		"attributes": map[string]string{"type": object, "url": "/services/data/" + a.r.PathValue("version") + "/sobjects/" + object + "/" + rid},
		"Id":         rid,
		"Name":       it.Name,
	})
}

// writableObjects are the sObjects the fake creates records of: the write
// test's Task.
var writableObjects = map[string]string{"Task": "00T"}

// createRecord is sObject Basic Information's POST: 201 with {"id",
// "success", "errors"}; the record's item id is "<Object>/<record id>".
// Docs of the request: shared/providers/salesforce/writetest.go.
func (sf *salesforce) createRecord(a *apiCall) {
	if !sf.checkVersion(a) {
		return
	}
	object := a.r.PathValue("object")
	prefix, ok := writableObjects[object]
	if !ok {
		a.problem(probNotFound, "")
		return
	}
	var fields map[string]any
	if !a.readJSON(&fields) {
		return
	}
	name, _ := fields["Subject"].(string)
	rid := newID(prefix, 12) + "AAA"
	a.addItem(Item{ID: object + "/" + rid, Name: name})
	writeJSON(a.w, http.StatusCreated, map[string]any{"id": rid, "success": true, "errors": []any{}})
}

// deleteRecord is sObject Rows' DELETE: 204; a record deleted before
// answers 404 ENTITY_IS_DELETED (it is in the Recycle Bin).
func (sf *salesforce) deleteRecord(a *apiCall) {
	if !sf.checkVersion(a) {
		return
	}
	id := a.r.PathValue("object") + "/" + a.r.PathValue("id")
	sf.s.mu.Lock()
	gone := sf.s.deleted[deletedKey{sf.id(), id}]
	sf.s.mu.Unlock()
	if gone {
		a.problem(probGone, id)
		return
	}
	if a.removeItem(id) {
		sf.s.mu.Lock()
		sf.s.deleted[deletedKey{sf.id(), id}] = true
		sf.s.mu.Unlock()
		noContent(a.w)
	}
}
