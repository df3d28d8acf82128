package fakeprovider

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

const (
	graphPrefix = "https://graph.microsoft.com/"
	// graphAppID is Microsoft Graph's application id, an alternative
	// resource identifier in client-credentials scopes.
	graphAppID = "00000003-0000-0000-c000-000000000000"
)

// graphUserScopes allow Graph /me.
var graphUserScopes = []string{graphPrefix + "User.Read", graphPrefix + "User.ReadWrite", graphPrefix + "User.ReadBasic.All", graphPrefix + "User.Read.All"}

var graphPermissionRE = regexp.MustCompile(`^[A-Za-z]+(\.[A-Za-z]+)+$`)

// microsoft is the Microsoft identity platform (v2.0) and Microsoft Graph.
type microsoft struct{ base }

func (m *microsoft) id() string              { return catalog.Microsoft365 }
func (m *microsoft) codeTTL() time.Duration  { return 10 * time.Minute }
func (m *microsoft) rotates(cl *client) bool { return true }
func (m *microsoft) codePrefix() string      { return "0.A" }
func (m *microsoft) newRefreshToken() string { return randToken("M.C5") }

func (m *microsoft) routes(handle func(string, http.HandlerFunc)) {
	s := m.s
	handle("GET /login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) { s.authorize(m, w, r) })
	handle("POST /login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) { s.authorize(m, w, r) })
	handle("POST /login.microsoftonline.com/{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) { s.token(m, w, r) })
	handle("GET /login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration", m.openIDConfiguration)
	handle("GET /login.microsoftonline.com/{tenant}/v2.0/adminconsent", m.adminConsent)
	handle("GET /graph.microsoft.com/v1.0/me", s.api(m, need{kind: KindUserInfo, scopes: graphUserScopes}, m.me))
	for _, res := range []struct {
		path string
		c    catalog.Capability
	}{{"messages", catalog.Email}, {"events", catalog.Calendar}, {"contacts", catalog.Contacts}} {
		handle("GET /graph.microsoft.com/v1.0/me/"+res.path, s.api(m, need{kind: KindAPI, capability: res.c}, m.list))
		handle("GET /graph.microsoft.com/v1.0/me/"+res.path+"/{id}", s.api(m, need{kind: KindAPI, capability: res.c}, m.item))
	}
	handle("GET /graph.microsoft.com/v1.0/me/drive/root", s.api(m, need{kind: KindAPI, capability: catalog.Files}, m.driveRoot))
	handle("GET /graph.microsoft.com/v1.0/me/drive/items/{id}", s.api(m, need{kind: KindAPI, capability: catalog.Files}, m.item))
	handle("GET /graph.microsoft.com/v1.0/me/drive/items/{id}/content", s.api(m, need{kind: KindAPI, capability: catalog.Files}, m.content))
	handle("GET /{host}/personal/{site}/_layouts/15/download.aspx", m.download)
	// The write test's items (writes.go).
	handle("POST /graph.microsoft.com/v1.0/me/messages", s.api(m, write(KindCreate, catalog.Email), m.createMessage))
	handle("POST /graph.microsoft.com/v1.0/me/events", s.api(m, write(KindCreate, catalog.Calendar), m.createEvent))
	handle("POST /graph.microsoft.com/v1.0/me/contacts", s.api(m, write(KindCreate, catalog.Contacts), m.createContact))
	handle("PUT /graph.microsoft.com/v1.0/me/drive/special/{folder}/{name}/content", s.api(m, write(KindCreate, catalog.Files), m.uploadAppFile))
	for _, res := range []struct {
		path string
		c    catalog.Capability
	}{{"messages", catalog.Email}, {"events", catalog.Calendar}, {"contacts", catalog.Contacts}, {"drive/items", catalog.Files}} {
		handle("DELETE /graph.microsoft.com/v1.0/me/"+res.path+"/{id}", s.api(m, write(KindDelete, res.c), m.deleteItem))
	}
}

func (m *microsoft) seedUser() User {
	return User{Provider: m.id(), Email: DefaultMicrosoftUser, Name: "Alice Example", Tenant: DefaultMicrosoftTenantID,
		TenantDomains: []string{DefaultMicrosoftTenantDomain, "contoso.onmicrosoft.com"}}
}

func (m *microsoft) defaultClient() (store.DefaultClient, bool) {
	return store.DefaultClient{ClientID: "00000000-0000-4000-8000-00000000fa4e", ClientSecret: "fake-client-secret-microsoft365"}, false
}

// normalize: a user belongs to a tenant (by default the default one),
// reachable by its id and verified domains.
func (m *microsoft) normalize(u *User, domain string) {
	if u.Tenant == "" {
		u.Tenant = DefaultMicrosoftTenantID
	}
	u.Tenant = strings.ToLower(u.Tenant)
	if len(u.TenantDomains) == 0 && domain != "" {
		u.TenantDomains = []string{domain}
	}
	for i, d := range u.TenantDomains {
		u.TenantDomains[i] = strings.ToLower(d)
	}
	if u.ID == "" {
		u.ID = guidFrom("oid:" + strings.ToLower(u.Email))
	}
}

func (m *microsoft) accountDetail(u *User) string { return "tenant " + u.Tenant }

func (m *microsoft) apiRefusal(u *User) (problemKind, bool) {
	return probClaimsChallenge, u.ClaimsChallenge
}

// grantSupported: the client-credentials grant too (the admin's
// credential check).
func (m *microsoft) grantSupported(grantType string) bool {
	return grantType == "client_credentials" || m.base.grantSupported(grantType)
}

// newAccessToken: Graph's access tokens are JWTs.
func (m *microsoft) newAccessToken(cl *client, fam *family, u *User, at *accessToken) string {
	return graphToken(map[string]any{
		"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + fam.tenant + "/",
		"iat": at.issued.Unix(), "nbf": at.issued.Unix(), "exp": at.expires.Unix(),
		"appid": cl.ClientID, "tid": fam.tenant, "oid": u.ID, "upn": u.Email, "scp": graphScopeString(fam.scopes), "ver": "1.0",
	})
}

// graphToken is a JWT-shaped Graph access token whose signature part is
// random: clients must treat it as opaque, as Microsoft asks.
func graphToken(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": "fake-provider"})
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + randToken("")
}

// clientCredentials serves Microsoft's client-credentials grant.
func (m *microsoft) clientCredentials(w http.ResponseWriter, r *http.Request, cl *client, x errCtx) {
	s := m.s
	refuse := func(fl failure) { m.writeOAuthError(w, m.oauthError(fl, x)) }
	tenant := strings.ToLower(r.PathValue("tenant"))
	switch tenant {
	case "common", "organizations", "consumers":
		refuse(failCCTenant)
		return
	}
	s.mu.Lock()
	tid := s.resolveTenant(tenant)
	s.mu.Unlock()
	if tid == "" {
		refuse(failTenantNotFound)
		return
	}
	scope := r.PostForm.Get("scope")
	x.got = scope
	if strings.Contains(scope, " ") || !strings.HasSuffix(scope, "/.default") {
		refuse(failCCScope)
		return
	}
	if res := strings.TrimSuffix(scope, "/.default"); res != "https://graph.microsoft.com" && res != graphAppID {
		refuse(failCCResource)
		return
	}
	now := s.now()
	at := &accessToken{provider: m.id(), clientID: cl.ClientID, scopes: []string{scope},
		tenant: tid, issued: now, expires: now.Add(s.opts.TokenTTL)}
	value := graphToken(map[string]any{
		"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/" + tid + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": at.expires.Unix(), "appid": cl.ClientID, "tid": tid,
		"roles": []string{}, "ver": "1.0",
	})
	s.mu.Lock()
	s.access[value] = at
	s.mu.Unlock()
	ttl := int(s.opts.TokenTTL / time.Second)
	writeToken(w, map[string]any{"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": value})
}

// keepsGrant: consent is recorded per user and app, and "encoded inside the
// access token is every permission that your application is granted for
// that resource", whatever this request named.
// Docs: https://learn.microsoft.com/entra/identity-platform/consent-types-developer
func (m *microsoft) keepsGrant(*authzRequest) bool { return true }

func (m *microsoft) knownScope(sc string) bool {
	switch sc {
	case "openid", "profile", "email", "offline_access":
		return true
	}
	if rest, ok := strings.CutPrefix(sc, graphPrefix); ok {
		return rest == ".default" || graphPermissionRE.MatchString(rest)
	}
	return graphPermissionRE.MatchString(sc)
}

// openIDConfiguration is a tenant's OpenID configuration document (the
// parts the service reads), its issuer naming the tenant's directory id;
// an unknown tenant is 400 invalid_tenant with AADSTS90002, as Microsoft
// answers.
// Docs: https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#fetch-the-openid-configuration-document
func (m *microsoft) openIDConfiguration(w http.ResponseWriter, r *http.Request) {
	t := strings.ToLower(r.PathValue("tenant"))
	var tid string
	switch t {
	case "common", "organizations", "consumers":
		tid = "{tenantid}" // as Microsoft answers for the multi-tenant aliases
	default:
		m.s.mu.Lock()
		tid = m.s.resolveTenant(t)
		m.s.mu.Unlock()
	}
	if tid == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":             "invalid_tenant",
			"error_description": "AADSTS90002: Tenant '" + t + "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
			"error_codes":       []int{90002},
		})
		return
	}
	base := "https://login.microsoftonline.com/" + tid
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 base + "/v2.0",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"jwks_uri":               base + "/discovery/v2.0/keys",
	})
}

// resolveTenant maps a tenant id or verified domain to the tenant id, ""
// when no known tenant has it; callers hold s.mu.
func (s *Server) resolveTenant(t string) string {
	t = strings.ToLower(t)
	if t == DefaultMicrosoftTenantID {
		return t
	}
	for _, u := range s.usersOf(catalog.Microsoft365) {
		if u.Tenant == t || slices.Contains(u.TenantDomains, t) {
			return u.Tenant
		}
	}
	return ""
}

func (m *microsoft) admits(r *http.Request, u *User) (failure, bool) {
	if u.NotAssigned {
		return failNotAssigned, true
	}
	t := strings.ToLower(r.PathValue("tenant"))
	switch t {
	case "common", "organizations":
		return failNone, false
	case "consumers":
		return failUserNotInTenant, true // only personal accounts, and every fake user is a work account
	}
	tid := m.s.resolveTenant(t)
	if tid == "" {
		return failTenantNotFound, true
	}
	if u.Tenant != tid {
		return failUserNotInTenant, true
	}
	return failNone, false
}

// admitsClient: a single-tenant app cannot sign in through the
// multi-tenant endpoints.
// Docs: https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant
func (m *microsoft) admitsClient(r *http.Request, cl *client) (failure, bool) {
	switch strings.ToLower(r.PathValue("tenant")) {
	case "common", "organizations":
		if cl.SingleTenant {
			return failSingleTenant, true
		}
	}
	return failNone, false
}

func (m *microsoft) defaultUser(r *http.Request, users []*User) *User {
	if tid := m.s.resolveTenant(r.PathValue("tenant")); tid != "" {
		for _, u := range users {
			if u.Tenant == tid {
				return u
			}
		}
	}
	if len(users) > 0 {
		return users[0]
	}
	return nil
}

func (m *microsoft) redirectExtras(*authzRequest, *User, []string) url.Values {
	return url.Values{"session_state": {randGUID()}}
}

// aadsts is the wording of an AADSTS code the fake can answer with.
type aadsts struct {
	status   int
	err      string
	msg      string
	suberror string
}

var aadstsCodes = map[int]aadsts{
	50173:   {400, "invalid_grant", "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '%[1]s' and the TokensValidFrom date (before which tokens are not valid) for this user is '%[2]s'.", "bad_token"},
	700082:  {400, "invalid_grant", "The refresh token has expired due to inactivity. The token was issued on %[1]s and was inactive for 90.00:00:00.", "bad_token"},
	70043:   {400, "invalid_grant", "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The token was issued on %[1]s and the maximum allowed lifetime for this request is 43200.", "bad_token"},
	65001:   {400, "invalid_grant", "The user or administrator has not consented to use the application with ID '%[3]s'. Send an interactive authorization request for this user and resource.", "consent_required"},
	53003:   {400, "invalid_grant", "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", "message_only"},
	50076:   {400, "invalid_grant", "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%[3]s'.", "basic_action"},
	50058:   {400, "login_required", "A silent sign-in request was sent but no user is signed in.", ""},
	70008:   {400, "invalid_grant", "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", ""},
	54005:   {400, "invalid_grant", "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.", ""},
	7000215: {401, "invalid_client", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%[3]s'.", ""},
	7000222: {401, "invalid_client", "The provided client secret keys for app '%[3]s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", ""},
	700016:  {400, "unauthorized_client", "Application with identifier '%[3]s' was not found in the directory '%[4]s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", ""},
	65004:   {400, "access_denied", "User declined to consent to access the app.", ""},
	// Tenant policies: assignment required, external accounts, device state.
	50105:  {400, "invalid_grant", "Your administrator has configured the application '%[3]s' to block users unless they are specifically granted ('assigned') access to the application. The signed in user is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator.", "message_only"},
	90072:  {400, "invalid_grant", "User account from identity provider does not exist in tenant '%[4]s' and cannot access the application '%[3]s' in that tenant. The account needs to be added as an external user in the tenant first.", ""},
	53000:  {400, "invalid_grant", "Device is not in required device state: compliant. Conditional Access policy requires a compliant device, and the device is not compliant.", "message_only"},
	530003: {400, "invalid_grant", "Your device is required to be managed to access this resource.", "message_only"},
	50194:  {400, "invalid_request", "Application '%[3]s' is not configured as a multi-tenant application. Usage of the /%[4]s endpoint is not supported for such applications. Use a tenant-specific endpoint or configure the application to be multi-tenant.", ""},
	90033:  {503, "temporarily_unavailable", "A transient error has occurred. Please try again.", ""},
}

// injectedAADSTS is the code of an injected error without Fault.AADSTS.
var injectedAADSTS = map[string]int{
	ErrInvalidGrant: 50173, ErrInvalidRAPT: 50173, ErrInvalidClient: 7000215, ErrExpiredSecret: 7000222,
	ErrUnauthorizedClient: 700016, "access_denied": 65004, "consent_required": 65001,
	"interaction_required": 50076, "login_required": 50058, "server_error": 90033, "temporarily_unavailable": 90033,
}

func (m *microsoft) oauthError(f failure, x errCtx) oauthError {
	issued := x.issued
	if issued.IsZero() {
		issued = x.now.Add(-24 * time.Hour)
	}
	args := []any{issued.UTC().Format("2006-01-02T15:04:05.0000000Z"), x.now.UTC().Format("2006-01-02T15:04:05.0000000Z"), x.clientID, x.tenant}
	e := func(status int, err string, code int, format string, a ...any) oauthError {
		return oauthError{status: status, code: err, desc: fmt.Sprintf("AADSTS%d: ", code) + fmt.Sprintf(format, a...),
			codes: []int{code}, uri: "https://login.microsoftonline.com/error?code=" + strconv.Itoa(code), now: x.now}
	}
	known := func(code int) oauthError {
		k := aadstsCodes[code]
		out := e(k.status, k.err, code, k.msg, args...)
		out.suberror = k.suberror
		return out
	}
	switch f {
	case failInvalidRequest:
		return e(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid. The value of '%s' is not supported.", x.param)
	case failMissingParam:
		return e(400, "invalid_request", 900144, "The request body must contain the following parameter: '%s'.", x.param)
	case failUnsupportedGrant:
		return e(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", x.got)
	case failUnsupportedResponseType:
		return e(400, "unsupported_response_type", 70005, "response_type '%s' is not enabled for the application.", x.got)
	case failUnknownClient:
		out := known(700016)
		out.page = x.kind == KindAuthorize
		return out
	case failBadSecret:
		return known(7000215)
	case failMissingSecret:
		return e(401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case failRedirectNotRegistered:
		out := e(400, "invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.", x.got, x.clientID)
		out.page = true
		return out
	case failInvalidScope:
		return e(400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", x.got)
	case failPKCEMethod:
		return e(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid. The code_challenge_method '%s' is not supported: use S256.", x.got)
	case failPKCERequired:
		return e(400, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
	case failUnknownCode:
		return e(400, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.")
	case failExpiredCode:
		return known(70008)
	case failUsedCode:
		return known(54005)
	case failCodeClient:
		return e(400, "invalid_grant", 70000, "The provided value for the 'code' parameter is not valid. The code was issued to another application.")
	case failRedirectMismatch:
		out := e(400, "invalid_grant", 70002, "Error validating credentials. AADSTS50011: The redirect URI '%s' specified in the request does not match the redirect URI '%s' provided when requesting the authorization code.", x.got, x.want)
		out.codes = []int{70002, 50011}
		return out
	case failVerifierMissing, failVerifierMismatch:
		return e(400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	case failUnknownRefresh:
		return e(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	case failRevokedRefresh:
		return known(50173)
	case failReplacedRefresh:
		out := e(400, "invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid: it was replaced by the refresh token of a later refresh.")
		out.suberror = "bad_token"
		return out
	case failIdleRefresh:
		return known(700082)
	case failRefreshClient:
		return e(400, "invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid: it was issued to another application.")
	case failTenantNotFound:
		out := e(400, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", x.tenant)
		out.page = x.kind == KindAuthorize
		return out
	case failUserNotInTenant:
		err := "invalid_grant"
		if x.kind == KindAuthorize {
			err = "access_denied"
		}
		return e(400, err, 50020, "User account '%s' from identity provider 'https://sts.windows.net/' does not exist in tenant '%s' and cannot access the application '%s' in that tenant. The account needs to be added as an external user in the tenant first.", x.user, x.tenant, x.clientID)
	case failCCTenant:
		if strings.EqualFold(x.tenant, "organizations") {
			return e(400, "invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
		}
		return e(400, "invalid_request", 90010, "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.")
	case failCCScope:
		return e(400, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", x.got)
	case failCCResource:
		return e(400, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.", strings.TrimSuffix(x.got, "/.default"), x.tenant)
	case failAccessDenied:
		return known(65004)
	case failSingleTenant:
		return known(50194)
	case failNotAssigned:
		out := known(50105)
		if x.kind == KindAuthorize {
			out.code = "access_denied"
		}
		return out
	case failConsentRequired:
		out := known(65001)
		out.code = "consent_required"
		return out
	case failServer:
		out := known(90033)
		out.status = x.fault.Status
		if out.status != 503 && out.status != 429 {
			out.code = "server_error"
		}
		return out
	case failInjected:
		code := x.fault.AADSTS
		if code == 0 {
			code = injectedAADSTS[x.fault.Error]
		}
		var out oauthError
		if _, ok := aadstsCodes[code]; ok {
			out = known(code)
		} else {
			if code == 0 {
				code = 9002313
			}
			out = e(400, x.fault.Error, code, "The fake provider was told to answer with this error.")
		}
		switch x.fault.Error {
		case ErrInvalidRAPT, ErrInvalidGrant:
			out.code = "invalid_grant"
		case ErrExpiredSecret, ErrInvalidClient:
			out.code = "invalid_client"
		default:
			out.code = x.fault.Error
		}
		if x.fault.Description != "" {
			out.desc = fmt.Sprintf("AADSTS%d: %s", code, x.fault.Description)
		}
		return out
	}
	return e(400, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid.")
}

// writeOAuthError writes Microsoft's error body: the AADSTS description
// with trace, correlation and time, and the same as separate fields.
func (m *microsoft) writeOAuthError(w http.ResponseWriter, e oauthError) {
	trace, corr := randGUID(), randGUID()
	ts := e.now.UTC().Format("2006-01-02 15:04:05Z")
	body := map[string]any{
		"error":             e.code,
		"error_description": e.desc + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts,
		"error_codes":       e.codes,
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
	}
	if e.uri != "" {
		body["error_uri"] = e.uri
	}
	if e.suberror != "" {
		body["suberror"] = e.suberror
	}
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, body)
}

func (m *microsoft) tokenResponse(t *issue) map[string]any {
	ttl := int(m.s.opts.TokenTTL / time.Second)
	body := map[string]any{
		"token_type":     "Bearer",
		"scope":          graphScopeString(t.fam.scopes),
		"expires_in":     ttl,
		"ext_expires_in": ttl,
		"access_token":   t.access,
	}
	if t.refresh != "" {
		body["refresh_token"] = t.refresh
	}
	if t.withIDToken {
		body["id_token"] = m.idToken(t)
	}
	return body
}

// graphScopeString is the scope of a token response: Graph permissions
// without their resource prefix, the OpenID scopes, and no offline_access.
func graphScopeString(scopes []string) string {
	var out []string
	for _, sc := range scopes {
		if sc == "offline_access" {
			continue
		}
		out = append(out, strings.TrimPrefix(sc, graphPrefix))
	}
	return scopeString(out)
}

func (m *microsoft) idToken(t *issue) string {
	claims := map[string]any{
		"aud":                t.cl.ClientID,
		"iss":                "https://login.microsoftonline.com/" + t.tenant + "/v2.0",
		"iat":                t.now.Unix(),
		"nbf":                t.now.Unix(),
		"exp":                t.now.Add(time.Hour).Unix(),
		"name":               t.user.Name,
		"oid":                t.user.ID,
		"preferred_username": t.user.Email,
		"rh":                 randToken("0.A"),
		"sub":                alnumFrom("sub:"+t.cl.ClientID+":"+t.user.ID, 43),
		"tid":                t.tenant,
		"uti":                randToken("")[:22],
		"ver":                "2.0",
	}
	if slices.Contains(t.fam.scopes, "email") {
		claims["email"] = t.user.Email
	}
	if t.nonce != "" {
		claims["nonce"] = t.nonce
	}
	return unsignedJWT(claims)
}

// writeAPIError answers in Microsoft Graph's error shape.
func (m *microsoft) writeAPIError(w http.ResponseWriter, p apiProblem) {
	drive := p.capability == catalog.Files
	status, code, msg := http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure."
	switch p.kind {
	case probNoToken:
		msg = "Access token is empty."
	case probExpired:
		msg = "Lifetime validation failed, the token is expired."
	case probInsufficientScope, probDenied, probItemForbidden:
		status, code, msg = http.StatusForbidden, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
		if drive {
			code, msg = "accessDenied", "Access denied"
		}
		if p.identity {
			code, msg = "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
		}
	case probNotFound:
		status, code, msg = http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."
		if drive {
			code, msg = "itemNotFound", "The resource could not be found."
		}
	case probAppOnly:
		status, code, msg = http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow."
	case probBadRequest:
		status, code, msg = http.StatusBadRequest, "ErrorInvalidRequest", p.id
		if drive {
			code = "invalidRequest"
		}
	case probConflict:
		status, code, msg = http.StatusConflict, "nameAlreadyExists", "The specified item name already exists."
	case probClaimsChallenge:
		msg = "Continuous access evaluation resulted in challenge with result: InteractionRequired and code: LocationConditionEvaluationSatisfied"
	case probFault:
		status = p.status
		switch status {
		case http.StatusTooManyRequests:
			code, msg = "TooManyRequests", "Too many requests."
		case http.StatusServiceUnavailable:
			code, msg = "ServiceNotAvailable", "The service is temporarily unavailable."
		default:
			code, msg = "UnknownError", "An internal error occurred."
		}
	}
	switch {
	case p.kind == probClaimsChallenge:
		// A claims challenge: 401 with insufficient_claims and the claims
		// a new sign-in must satisfy.
		// Docs: https://learn.microsoft.com/entra/identity-platform/claims-challenge
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+graphAppID+`", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZX19fQ=="`)
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+graphAppID+`"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": p.now.UTC().Format("2006-01-02T15:04:05"), "request-id": randGUID(), "client-request-id": randGUID()},
	}})
}

// me is Graph /me, with $select.
func (m *microsoft) me(a *apiCall) {
	u := a.user
	obj := map[string]any{
		"@odata.context":    "https://graph.microsoft.com/v1.0/$metadata#users/$entity",
		"businessPhones":    []string{},
		"displayName":       u.Name,
		"givenName":         u.Name,
		"jobTitle":          nil,
		"mail":              u.Email,
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": "en-US",
		"surname":           nil,
		"userPrincipalName": u.Email,
		"id":                u.ID,
	}
	writeJSON(a.w, http.StatusOK, fields(obj, a.r.URL.Query().Get("$select")))
}

// list is a Graph collection of the capability's items, with $top.
func (m *microsoft) list(a *apiCall) {
	q := a.r.URL.Query()
	top := 10
	if n, err := strconv.Atoi(q.Get("$top")); err == nil && n > 0 {
		top = n
	}
	items := a.visible()
	value := []any{}
	for i, it := range items {
		if i == top {
			break
		}
		value = append(value, fields(m.itemJSON(a, it), q.Get("$select")))
	}
	body := map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + a.user.ID + "')/" + graphCollection[a.need.capability],
		"value":          value,
	}
	if len(items) > top {
		body["@odata.nextLink"] = "https://graph.microsoft.com" + strings.TrimPrefix(a.r.URL.Path, "/graph.microsoft.com") + "?$skip=" + strconv.Itoa(top)
	}
	writeJSON(a.w, http.StatusOK, body)
}

var graphCollection = map[catalog.Capability]string{
	catalog.Email: "messages", catalog.Calendar: "events", catalog.Contacts: "contacts", catalog.Files: "drive/items",
}

// item is one Graph item by id, with $select.
func (m *microsoft) item(a *apiCall) {
	it, ok := a.lookup(a.r.PathValue("id"))
	if !ok {
		return
	}
	writeJSON(a.w, http.StatusOK, fields(m.itemJSON(a, it), a.r.URL.Query().Get("$select")))
}

func (m *microsoft) itemJSON(a *apiCall, it Item) map[string]any {
	const when = "2026-01-05T09:00:00Z"
	switch it.Capability {
	case catalog.Email:
		return map[string]any{"@odata.etag": `W/"CQAAABYAAAA"`, "id": it.ID, "subject": it.Name, "receivedDateTime": when,
			"bodyPreview": it.Name, "from": map[string]any{"emailAddress": map[string]string{"name": "Sender", "address": "sender@example.org"}}}
	case catalog.Calendar:
		return map[string]any{"@odata.etag": `W/"DwAAABYAAAA"`, "id": it.ID, "subject": it.Name,
			"start": map[string]string{"dateTime": "2026-01-05T09:00:00.0000000", "timeZone": "UTC"},
			"end":   map[string]string{"dateTime": "2026-01-05T09:30:00.0000000", "timeZone": "UTC"}}
	case catalog.Contacts:
		return map[string]any{"@odata.etag": `W/"EQAAABYAAAA"`, "id": it.ID, "displayName": it.Name,
			"emailAddresses": []map[string]string{{"name": it.Name, "address": "contact@example.org"}}}
	}
	mime := it.MimeType
	if mime == "" {
		mime = "application/octet-stream"
	}
	return map[string]any{
		"id": it.ID, "name": it.Name, "size": len(it.Content), "createdDateTime": when, "lastModifiedDateTime": when,
		"file":                         map[string]string{"mimeType": mime},
		"webUrl":                       m.siteURL(a.user) + "/Documents/" + url.PathEscape(it.Name),
		"parentReference":              map[string]string{"driveType": "business", "driveId": "b!" + alnumFrom("drive:"+a.user.ID, 20)},
		"@microsoft.graph.downloadUrl": m.downloadURL(a.user, it),
	}
}

// driveRoot is the root folder of the user's OneDrive.
func (m *microsoft) driveRoot(a *apiCall) {
	writeJSON(a.w, http.StatusOK, map[string]any{
		"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + a.user.ID + "')/drive/root/$entity",
		"id":             "01" + alnumFrom("root:"+a.user.ID, 32),
		"name":           "root",
		"root":           map[string]any{},
		"folder":         map[string]int{"childCount": len(a.visible())},
		"webUrl":         m.siteURL(a.user) + "/Documents",
		"size":           0,
	})
}

// content answers a file download as Graph does: 302 to a pre-authenticated
// URL, which the client fetches without its Authorization header.
func (m *microsoft) content(a *apiCall) {
	it, ok := a.lookup(a.r.PathValue("id"))
	if !ok {
		return
	}
	a.w.Header().Set("Location", m.downloadURL(a.user, it))
	a.w.WriteHeader(http.StatusFound)
}

// downloadTicket is a pre-authenticated download (Graph's tempauth).
type downloadTicket struct {
	provider, email, id string
	expires             time.Time
}

func (m *microsoft) siteURL(u User) string {
	prefix := "contoso"
	if _, d, ok := strings.Cut(u.Email, "@"); ok {
		prefix, _, _ = strings.Cut(d, ".")
	}
	return "https://" + prefix + "-my.sharepoint.com/personal/" + strings.NewReplacer("@", "_", ".", "_").Replace(strings.ToLower(u.Email))
}

func (m *microsoft) downloadURL(u User, it Item) string {
	ticket := randToken("")
	m.s.mu.Lock()
	m.s.tickets[ticket] = &downloadTicket{provider: catalog.Microsoft365, email: strings.ToLower(u.Email), id: it.ID, expires: m.s.now().Add(time.Hour)}
	m.s.mu.Unlock()
	return m.siteURL(u) + "/_layouts/15/download.aspx?" + url.Values{"UniqueId": {it.ID}, "tempauth": {ticket}}.Encode()
}

// download serves a pre-authenticated SharePoint download. It is not
// counted: it is the second half of a Graph content call.
func (m *microsoft) download(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(requestHost(r), ".sharepoint.com") {
		http.NotFound(w, r)
		return
	}
	m.s.mu.Lock()
	t := m.s.tickets[r.URL.Query().Get("tempauth")]
	var it Item
	found := false
	if t != nil && m.s.now().Before(t.expires) {
		if u := m.s.lookupUser(t.provider, t.email); u != nil {
			for _, x := range u.Items {
				if x.Capability == catalog.Files && x.ID == t.id {
					it, found = x, true
					it.Content = slices.Clone(x.Content)
				}
			}
		}
	}
	m.s.mu.Unlock()
	if !found {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": map[string]string{"code": "unauthenticated", "message": "The tempauth token is invalid or has expired."}})
		return
	}
	mime := it.MimeType
	if mime == "" {
		mime = "application/octet-stream"
	}
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(it.Content)))
	_, _ = w.Write(it.Content)
}

// The write test's items. Docs of each request: shared/providers/microsoft/writetest.go.

// graphItemID is a new Outlook item id (base64-like, as Exchange's are).
func graphItemID() string { return "AAMkAD" + newID("", 40) + "=" }

// createMessage is POST /me/messages: a draft in Drafts (201), never sent.
func (m *microsoft) createMessage(a *apiCall) {
	var msg struct {
		Subject string `json:"subject"`
	}
	if !a.readJSON(&msg) {
		return
	}
	it := Item{ID: graphItemID(), Name: msg.Subject}
	a.addItem(it)
	writeJSON(a.w, http.StatusCreated, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('" + a.user.ID + "')/messages/$entity",
		"id": it.ID, "subject": it.Name, "isDraft": true, "createdDateTime": a.s.now().UTC().Format(time.RFC3339)})
}

// createEvent is POST /me/events (201). Graph needs start and end, each a
// dateTime with its timeZone.
func (m *microsoft) createEvent(a *apiCall) {
	var ev struct {
		Subject    string `json:"subject"`
		ShowAs     string `json:"showAs"`
		Start, End *struct {
			DateTime string `json:"dateTime"`
			TimeZone string `json:"timeZone"`
		}
	}
	if !a.readJSON(&ev) {
		return
	}
	if ev.Start == nil || ev.End == nil || ev.Start.DateTime == "" || ev.End.DateTime == "" || ev.Start.TimeZone == "" || ev.End.TimeZone == "" {
		a.badRequest("An event needs a start and an end, each with a dateTime and a timeZone.")
		return
	}
	if ev.ShowAs == "" {
		ev.ShowAs = "busy"
	}
	it := Item{ID: graphItemID(), Name: ev.Subject}
	a.addItem(it)
	writeJSON(a.w, http.StatusCreated, map[string]any{"id": it.ID, "subject": it.Name, "showAs": ev.ShowAs,
		"start": ev.Start, "end": ev.End, "attendees": []any{}, "isOrganizer": true})
}

// createContact is POST /me/contacts (201).
func (m *microsoft) createContact(a *apiCall) {
	var c struct {
		GivenName string `json:"givenName"`
	}
	if !a.readJSON(&c) {
		return
	}
	it := Item{ID: graphItemID(), Name: c.GivenName}
	a.addItem(it)
	writeJSON(a.w, http.StatusCreated, map[string]any{"id": it.ID, "givenName": it.Name, "displayName": it.Name})
}

// uploadAppFile is PUT /me/drive/special/approot:/<name>:/content, the
// simple upload into the app's folder: 201 with the new driveItem. An
// existing name is replaced (200), or with
// @microsoft.graph.conflictBehavior=fail refused (409 nameAlreadyExists),
// or with rename given a new name.
func (m *microsoft) uploadAppFile(a *apiCall) {
	name, ok := strings.CutSuffix(a.r.PathValue("name"), ":")
	if a.r.PathValue("folder") != "approot:" || !ok || name == "" {
		a.problem(probNotFound, "")
		return
	}
	content, ok := a.readBody()
	if !ok {
		return
	}
	status := http.StatusCreated
	if a.hasItemNamed(name) {
		switch a.r.URL.Query().Get("@microsoft.graph.conflictBehavior") {
		case "fail":
			a.d.writeAPIError(a.w, apiProblem{kind: probConflict, capability: catalog.Files, now: a.s.now()})
			return
		case "rename":
			name = strings.TrimSuffix(name, ".txt") + " 1.txt"
		default:
			status = http.StatusOK
			m.s.mu.Lock()
			if u := m.s.lookupUser(m.id(), a.user.Email); u != nil {
				u.Items = slices.DeleteFunc(u.Items, func(it Item) bool { return it.Capability == catalog.Files && strings.EqualFold(it.Name, name) })
			}
			m.s.mu.Unlock()
		}
	}
	mime, _, _ := strings.Cut(a.r.Header.Get("Content-Type"), ";")
	it := Item{ID: "01" + newID("", 32), Name: name, MimeType: mime, Content: content}
	a.addItem(it)
	writeJSON(a.w, status, map[string]any{"id": it.ID, "name": it.Name, "size": len(content), "file": map[string]string{"mimeType": mime},
		"parentReference": map[string]string{"path": "/drive/special/approot"}})
}

// deleteItem is DELETE of a message, event, contact or drive item: 204.
func (m *microsoft) deleteItem(a *apiCall) {
	if a.removeItem(a.r.PathValue("id")) {
		noContent(a.w)
	}
}

// adminConsent serves the v2.0 admin consent endpoint: an administrator of
// the tenant grants the client's permissions (scope) for every user of the
// directory, and the browser is redirected to redirect_uri with
// admin_consent=True, the directory id (tenant), state and scope; the
// client and redirect URI are checked first, as for an authorization, and
// an unknown tenant is a page (AADSTS90002). An Error fault of
// KindAdminConsent is the administrator's answer instead: access_denied
// (AADSTS65004, declined) by default wording, or any other code. The
// consent is kept (AdminConsents).
// Docs: https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
func (m *microsoft) adminConsent(w http.ResponseWriter, r *http.Request) {
	s := m.s
	c := s.begin(w, m.id(), KindAdminConsent)
	defer s.record(c)
	q := r.URL.Query()
	ar := &authzRequest{tenant: r.PathValue("tenant"), clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), state: q.Get("state"), scopes: strings.Fields(q.Get("scope"))}
	c.clientID = ar.clientID
	f, faulted := s.applyFault(r.Context(), c)
	if faulted && f.Error == "" {
		retryAfter(w, f)
		page(w, f.Status, "Service unavailable", "The sign-in service is unavailable. Try again later.")
		return
	}
	x := errCtx{clientID: ar.clientID, tenant: ar.tenant, kind: KindAdminConsent, now: s.now()}
	if _, fl := s.authorizeClient(m, ar); fl != failNone {
		x.got = ar.redirectURI
		e := m.oauthError(fl, x)
		c.refused = true
		page(w, http.StatusBadRequest, "Sign-in error", e.code+": "+e.desc)
		return
	}
	tid := DefaultMicrosoftTenantID // organizations: the administrator's own directory
	if t := strings.ToLower(ar.tenant); t != "organizations" {
		s.mu.Lock()
		tid = s.resolveTenant(t)
		s.mu.Unlock()
	}
	if tid == "" || strings.EqualFold(ar.tenant, "common") {
		c.refused = true
		page(w, http.StatusBadRequest, "Sign-in error", "invalid_tenant: AADSTS90002: Tenant '"+ar.tenant+"' not found.")
		return
	}
	fail := func(e oauthError) {
		c.refused = true
		out := url.Values{"error": {e.code}, "error_description": {e.desc}}
		if ar.state != "" {
			out.Set("state", ar.state)
		}
		redirect(w, ar.redirectURI, out)
	}
	if faulted {
		x.fault = f
		if f.Error == "access_denied" && f.AADSTS == 0 && f.Description == "" {
			x.fault.Description = "The administrator declined to consent to access the app."
		}
		fail(m.oauthError(failInjected, x))
		return
	}
	if len(ar.scopes) == 0 {
		x.param = "scope"
		fail(m.oauthError(failMissingParam, x))
		return
	}
	for _, sc := range ar.scopes {
		if !m.knownScope(sc) {
			x.got = sc
			fail(m.oauthError(failInvalidScope, x))
			return
		}
	}
	s.mu.Lock()
	if s.adminConsents == nil {
		s.adminConsents = map[adminConsentKey][]string{}
	}
	k := adminConsentKey{ar.clientID, tid}
	s.adminConsents[k] = unionScopes(s.provider(catalog.Microsoft365), s.adminConsents[k], ar.scopes)
	s.mu.Unlock()
	out := url.Values{"admin_consent": {"True"}, "tenant": {tid}, "scope": {strings.Join(ar.scopes, " ")}}
	if ar.state != "" {
		out.Set("state", ar.state)
	}
	redirect(w, ar.redirectURI, out)
}

// adminConsentKey is a client's admin consent in one directory.
type adminConsentKey struct{ clientID, tenant string }

// AdminConsents returns the scopes administrators consented to for
// clientID in the directory tenant (a GUID), nil when none.
func (s *Server) AdminConsents(clientID, tenant string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.adminConsents[adminConsentKey{clientID, strings.ToLower(tenant)}])
}

// adminConsented reports whether an administrator's consent of clientID in
// the directory tenant covers every permission of scopes (the OpenID
// scopes need none). The caller holds s.mu.
func (s *Server) adminConsented(d dialect, clientID, tenant string, scopes []string) bool {
	p := s.provider(d.id())
	held := s.adminConsents[adminConsentKey{clientID, strings.ToLower(tenant)}]
	for _, sc := range scopes {
		switch sc {
		case "openid", "profile", "email", "offline_access":
			continue
		}
		if !slices.ContainsFunc(held, func(h string) bool { return p.NormalizeScope(h) == p.NormalizeScope(sc) }) {
			return false
		}
	}
	return true
}
