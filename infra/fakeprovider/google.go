package fakeprovider

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

const googleAuthPrefix = "https://www.googleapis.com/auth/"

// googleIdentityScopes allow the userinfo endpoint.
var googleIdentityScopes = []string{"openid", "email", "profile"}

// google is Google's OAuth 2.0 for web server applications, OpenID Connect
// userinfo, and the Gmail, Calendar, Drive and People APIs.
type google struct{ base }

func (g *google) id() string              { return catalog.GoogleWorkspace }
func (g *google) codeTTL() time.Duration  { return 10 * time.Minute }
func (g *google) rotates(*client) bool    { return false }
func (g *google) codePrefix() string      { return "4/0A" }
func (g *google) newRefreshToken() string { return randToken("1//0") }
func (g *google) granularConsent() bool   { return true }

// newAccessToken: Google's access tokens start ya29.
func (g *google) newAccessToken(*client, *family, *User, *accessToken) string {
	return randToken("ya29.")
}

func (g *google) routes(handle func(string, http.HandlerFunc)) {
	s := g.s
	handle("GET /accounts.google.com/o/oauth2/v2/auth", func(w http.ResponseWriter, r *http.Request) { s.authorize(g, w, r) })
	handle("POST /accounts.google.com/o/oauth2/v2/auth", func(w http.ResponseWriter, r *http.Request) { s.authorize(g, w, r) })
	handle("POST /oauth2.googleapis.com/token", func(w http.ResponseWriter, r *http.Request) { s.token(g, w, r) })
	handle("POST /oauth2.googleapis.com/revoke", g.revoke)
	handle("GET /oauth2.googleapis.com/revoke", g.revoke)
	for _, p := range []string{"/openidconnect.googleapis.com/v1/userinfo", "/www.googleapis.com/oauth2/v3/userinfo"} {
		handle("GET "+p, s.api(g, need{kind: KindUserInfo, scopes: googleIdentityScopes}, g.userinfo))
		handle("POST "+p, s.api(g, need{kind: KindUserInfo, scopes: googleIdentityScopes}, g.userinfo))
	}
	handle("GET /gmail.googleapis.com/gmail/v1/users/me/profile", s.api(g, need{kind: KindAPI, capability: catalog.Email}, g.gmailProfile))
	handle("GET /gmail.googleapis.com/gmail/v1/users/me/messages", s.api(g, need{kind: KindAPI, capability: catalog.Email}, g.gmailList))
	handle("GET /gmail.googleapis.com/gmail/v1/users/me/messages/{id}", s.api(g, need{kind: KindAPI, capability: catalog.Email}, g.gmailMessage))
	handle("GET /www.googleapis.com/calendar/v3/users/me/calendarList", s.api(g, need{kind: KindAPI, capability: catalog.Calendar}, g.calendarList))
	handle("GET /www.googleapis.com/calendar/v3/calendars/primary/events/{id}", s.api(g, need{kind: KindAPI, capability: catalog.Calendar}, g.calendarEvent))
	handle("GET /www.googleapis.com/drive/v3/about", s.api(g, need{kind: KindAPI, capability: catalog.Files}, g.driveAbout))
	handle("GET /www.googleapis.com/drive/v3/files/{id}", s.api(g, need{kind: KindAPI, capability: catalog.Files}, g.driveFile))
	handle("GET /people.googleapis.com/v1/people/me/connections", s.api(g, need{kind: KindAPI, capability: catalog.Contacts}, g.connections))
	handle("GET /people.googleapis.com/v1/people/{id}", s.api(g, need{kind: KindAPI, capability: catalog.Contacts}, g.person))
	// The write test's items (writes.go).
	handle("POST /gmail.googleapis.com/gmail/v1/users/me/drafts", s.api(g, write(KindCreate, catalog.Email), g.createDraft))
	handle("DELETE /gmail.googleapis.com/gmail/v1/users/me/drafts/{id}", s.api(g, write(KindDelete, catalog.Email), g.deleteItem))
	handle("POST /www.googleapis.com/calendar/v3/calendars/primary/events", s.api(g, write(KindCreate, catalog.Calendar), g.insertEvent))
	handle("DELETE /www.googleapis.com/calendar/v3/calendars/primary/events/{id}", s.api(g, write(KindDelete, catalog.Calendar), g.deleteEvent))
	handle("POST /www.googleapis.com/upload/drive/v3/files", s.api(g, write(KindCreate, catalog.Files), g.uploadFile))
	handle("DELETE /www.googleapis.com/drive/v3/files/{id}", s.api(g, write(KindDelete, catalog.Files), g.deleteItem))
	handle("POST /people.googleapis.com/v1/people:createContact", s.api(g, write(KindCreate, catalog.Contacts), g.createContact))
	handle("DELETE /people.googleapis.com/v1/people/{id}", s.api(g, write(KindDelete, catalog.Contacts), g.deleteContact))
}

func (g *google) seedUser() User {
	return User{Provider: g.id(), Email: DefaultGoogleUser, Name: "Alice Example", HostedDomain: DefaultGoogleDomain}
}

func (g *google) defaultClient() (store.DefaultClient, bool) {
	return store.DefaultClient{ClientID: "100000000001-fakedefaultclient.apps.googleusercontent.com", ClientSecret: "fake-client-secret-google"}, false
}

func (g *google) normalize(u *User, _ string) {
	if u.ID == "" {
		u.ID = digitsFrom("sub:"+strings.ToLower(u.Email), 21)
	}
}

func (g *google) accountDetail(u *User) string { return u.HostedDomain }

// refreshLifetime: an external app in Testing publishing status gets
// refresh tokens that expire in seven days, unless it asked only for the
// user's name, email address and profile.
// Docs: https://developers.google.com/identity/protocols/oauth2#expiration
func (g *google) refreshLifetime(cl *client, fam *family) time.Duration {
	if !cl.Testing {
		return 0
	}
	for _, sc := range fam.scopes {
		if !slices.Contains(googleIdentityScopes, sc) {
			return 7 * 24 * time.Hour
		}
	}
	return 0
}

// admits: a Workspace administrator's API controls can keep an account from
// using the app, at sign-in and at every token request.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors-admin-policy-enforced
func (g *google) admits(_ *http.Request, u *User) (failure, bool) {
	if u.AdminPolicyBlocked {
		return failAdminPolicy, true
	}
	return failNone, false
}

// offline: Google answers the first consent of a client and user with a
// refresh token (access_type=offline), and a later one only when it asked
// for consent again.
func (g *google) offline(ar *authzRequest, _ []string, priorOffline bool) bool {
	return ar.accessType == "offline" && (!priorOffline || strings.Contains(ar.prompt, "consent"))
}

// keepsGrant: incremental authorization. With include_granted_scopes=true
// the new grant covers every scope granted to the client before.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#incrementalAuth
func (g *google) keepsGrant(ar *authzRequest) bool { return ar.includeGranted }

func (g *google) knownScope(sc string) bool {
	switch sc {
	case "openid", "email", "profile", "https://mail.google.com/":
		return true
	}
	return strings.HasPrefix(sc, googleAuthPrefix) && len(sc) > len(googleAuthPrefix)
}

// redirectExtras: Google's redirect also names the granted scopes, the
// issuer, the account index and, for Workspace accounts, the domain.
func (g *google) redirectExtras(ar *authzRequest, u *User, granted []string) url.Values {
	q := url.Values{"scope": {googleScopeString(granted)}, "authuser": {"0"}, "iss": {"https://accounts.google.com"}}
	if u.HostedDomain != "" {
		q.Set("hd", u.HostedDomain)
	}
	if ar.prompt != "" {
		q.Set("prompt", ar.prompt)
	}
	return q
}

// googleScopeString is the scope of a token response: email and profile are
// named by their long userinfo scopes.
func googleScopeString(scopes []string) string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		switch sc {
		case "email":
			sc = googleAuthPrefix + "userinfo.email"
		case "profile":
			sc = googleAuthPrefix + "userinfo.profile"
		}
		out[i] = sc
	}
	return scopeString(out)
}

func (g *google) oauthError(f failure, x errCtx) oauthError {
	e := func(status int, code, desc string) oauthError {
		return oauthError{status: status, code: code, desc: desc, now: x.now}
	}
	const expired = "Token has been expired or revoked."
	switch f {
	case failInvalidRequest:
		return e(400, "invalid_request", fmt.Sprintf("Invalid parameter value for %s: %s", x.param, x.got))
	case failMissingParam:
		return e(400, "invalid_request", "Missing required parameter: "+x.param)
	case failUnsupportedGrant:
		return e(400, "unsupported_grant_type", "Invalid grant_type: "+x.got)
	case failUnsupportedResponseType:
		return e(400, "unsupported_response_type", "Invalid response_type: "+x.got)
	case failUnknownClient:
		out := e(401, "invalid_client", "The OAuth client was not found.")
		out.page = x.kind == KindAuthorize
		return out
	case failBadSecret:
		return e(401, "invalid_client", "Unauthorized")
	case failMissingSecret:
		return e(400, "invalid_request", "client_secret is missing.")
	case failRedirectNotRegistered:
		out := e(400, "redirect_uri_mismatch", "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. Request details: redirect_uri="+x.got)
		out.page = true
		return out
	case failInvalidScope:
		return e(400, "invalid_scope", "Some requested scopes were invalid. {invalid=["+x.got+"]}")
	case failPKCEMethod:
		return e(400, "invalid_request", "Invalid code_challenge_method: '"+x.got+"'. This fake accepts only S256.")
	case failPKCERequired:
		return e(400, "invalid_request", "Missing required parameter: code_challenge")
	case failUnknownCode:
		return e(400, "invalid_grant", "Malformed auth code.")
	case failExpiredCode, failUsedCode, failCodeClient:
		return e(400, "invalid_grant", "Bad Request")
	case failRedirectMismatch:
		return e(400, "redirect_uri_mismatch", "Bad Request")
	case failVerifierMissing:
		return e(400, "invalid_grant", "Missing code verifier.")
	case failVerifierMismatch:
		return e(400, "invalid_grant", "Invalid code verifier.")
	case failUnknownRefresh, failRevokedRefresh, failReplacedRefresh, failIdleRefresh:
		return e(400, "invalid_grant", expired)
	case failRefreshClient:
		return e(401, "unauthorized_client", "Unauthorized")
	case failAccessDenied:
		return e(400, "access_denied", "")
	case failAdminPolicy:
		return e(400, "admin_policy_enforced", "Access to this account's data is restricted by the policies of its Google Workspace administrator.")
	case failConsentRequired:
		return e(400, "consent_required", "")
	case failUnknownToken:
		return e(400, "invalid_token", "Token expired or revoked")
	case failServer:
		out := e(x.fault.Status, "internal_failure", "Backend Error")
		if x.fault.Status == 503 || x.fault.Status == 429 {
			out.code, out.desc = "temporarily_unavailable", "The service is currently unavailable."
		}
		return out
	case failInjected:
		var out oauthError
		switch x.fault.Error {
		case ErrInvalidGrant:
			out = e(400, "invalid_grant", expired)
			if x.kind == KindExchange {
				out.desc = "Bad Request"
			}
		case ErrInvalidRAPT:
			out = e(400, "invalid_grant", "reauth related error (invalid_rapt)")
			out.subtype, out.uri = "invalid_rapt", "https://support.google.com/a/answer/9368756"
		case ErrInvalidClient, ErrExpiredSecret:
			out = e(401, "invalid_client", "Unauthorized")
		case ErrUnauthorizedClient:
			out = e(401, "unauthorized_client", "Unauthorized")
		default:
			out = e(400, x.fault.Error, "")
		}
		if x.fault.Description != "" {
			out.desc = x.fault.Description
		}
		return out
	}
	return e(400, "invalid_request", "Bad Request")
}

func (g *google) writeOAuthError(w http.ResponseWriter, e oauthError) {
	body := map[string]any{"error": e.code}
	if e.desc != "" {
		body["error_description"] = e.desc
	}
	if e.subtype != "" {
		body["error_subtype"] = e.subtype
	}
	if e.uri != "" {
		body["error_uri"] = e.uri
	}
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, body)
}

func (g *google) tokenResponse(t *issue) map[string]any {
	body := map[string]any{
		"access_token": t.access,
		"expires_in":   int(g.s.opts.TokenTTL / time.Second),
		"scope":        googleScopeString(t.fam.scopes),
		"token_type":   "Bearer",
	}
	if t.refresh != "" {
		body["refresh_token"] = t.refresh
	}
	if t.withIDToken {
		body["id_token"] = g.idToken(t)
	}
	return body
}

func (g *google) idToken(t *issue) string {
	claims := map[string]any{
		"iss": "https://accounts.google.com", "azp": t.cl.ClientID, "aud": t.cl.ClientID, "sub": t.user.ID,
		"iat": t.now.Unix(), "exp": t.now.Add(time.Hour).Unix(), "at_hash": alnumFrom("at:"+t.access, 22),
	}
	if t.user.HostedDomain != "" {
		claims["hd"] = t.user.HostedDomain
	}
	if slices.Contains(t.fam.scopes, "email") {
		claims["email"], claims["email_verified"] = t.user.Email, true
	}
	if slices.Contains(t.fam.scopes, "profile") {
		claims["name"], claims["given_name"] = t.user.Name, t.user.Name
	}
	if t.nonce != "" {
		claims["nonce"] = t.nonce
	}
	return unsignedJWT(claims)
}

// revoke serves Google's revocation endpoint: revoking either token of a
// grant ends the whole grant, every token of that client and user.
func (g *google) revoke(w http.ResponseWriter, r *http.Request) {
	s := g.s
	c := s.begin(w, g.id(), KindRevoke)
	defer s.record(c)
	_ = r.ParseForm()
	token := r.Form.Get("token")
	s.mu.Lock()
	fam := s.familyOf(g.id(), token)
	if fam != nil {
		c.clientID, c.user = fam.clientID, fam.email
	}
	s.mu.Unlock()
	x := errCtx{kind: KindRevoke, now: s.now()}
	if f, ok := s.applyFault(r.Context(), c); ok {
		s.writeOAuthFault(g, w, f, x)
		return
	}
	if token == "" {
		x.param = "token"
		g.writeOAuthError(w, g.oauthError(failMissingParam, x))
		return
	}
	s.mu.Lock()
	live := fam != nil && s.liveToken(token)
	if live {
		// Google revokes the grant: every token of this client and user.
		s.revokeLocked(func(f *family) bool {
			return f.provider == fam.provider && f.clientID == fam.clientID && f.email == fam.email
		}, x.now)
	}
	s.mu.Unlock()
	if !live {
		g.writeOAuthError(w, g.oauthError(failUnknownToken, x))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// familyOf finds the family of an access or refresh token; callers hold s.mu.
func (s *Server) familyOf(provider, token string) *family {
	if at := s.access[token]; at != nil && at.provider == provider {
		return at.fam
	}
	if rt := s.refresh[token]; rt != nil && rt.fam.provider == provider {
		return rt.fam
	}
	return nil
}

// liveToken reports whether an access or refresh token is still usable;
// callers hold s.mu.
func (s *Server) liveToken(token string) bool {
	if at := s.access[token]; at != nil {
		return at.active(s.now())
	}
	if rt := s.refresh[token]; rt != nil {
		return !rt.replaced && !rt.fam.revoked()
	}
	return false
}

// writeAPIError answers in the shape of Google's APIs; the userinfo
// endpoint answers like an OAuth endpoint.
func (g *google) writeAPIError(w http.ResponseWriter, p apiProblem) {
	if p.identity {
		switch p.kind {
		case probInsufficientScope, probDenied:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": "Insufficient Permission"})
		case probFault:
			writeJSON(w, p.status, map[string]string{"error": "temporarily_unavailable", "error_description": "Backend Error"})
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "Invalid Credentials"})
		}
		return
	}
	drive := p.capability == catalog.Files
	status, reason, msg, name := http.StatusUnauthorized, "authError",
		"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
		"UNAUTHENTICATED"
	switch p.kind {
	case probInsufficientScope:
		status, reason, msg, name = http.StatusForbidden, "insufficientPermissions", "Request had insufficient authentication scopes.", "PERMISSION_DENIED"
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope"`)
	case probDenied:
		status, reason, msg, name = http.StatusForbidden, "forbidden", "The caller does not have permission", "PERMISSION_DENIED"
	case probItemForbidden:
		status, reason, msg, name = http.StatusForbidden, "forbidden", "The caller does not have permission", "PERMISSION_DENIED"
		if drive {
			reason, msg = "insufficientFilePermissions", "The user does not have sufficient permissions for file "+p.id+"."
		}
	case probNotFound:
		status, reason, msg, name = http.StatusNotFound, "notFound", "Requested entity was not found.", "NOT_FOUND"
		if drive {
			msg = "File not found: " + p.id + "."
		}
	case probGone:
		status, reason, msg, name = http.StatusGone, "deleted", "Resource has been deleted", "NOT_FOUND"
	case probBadRequest:
		status, reason, msg, name = http.StatusBadRequest, "invalid", p.id, "INVALID_ARGUMENT"
	case probFault:
		status = p.status
		switch status {
		case http.StatusTooManyRequests:
			reason, msg, name = "rateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'.", "RESOURCE_EXHAUSTED"
		case http.StatusServiceUnavailable:
			reason, msg, name = "backendError", "The service is currently unavailable.", "UNAVAILABLE"
		default:
			reason, msg, name = "backendError", "Internal error encountered.", "INTERNAL"
		}
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": msg, "status": name,
		"errors": []map[string]string{{"message": msg, "domain": "global", "reason": reason}},
	}})
}

// userinfo is OpenID Connect userinfo: sub always, email and profile
// claims as granted, hd for Workspace accounts.
func (g *google) userinfo(a *apiCall) {
	u := a.user
	body := map[string]any{"sub": u.ID}
	if slices.Contains(a.at.scopes, "email") {
		body["email"], body["email_verified"] = u.Email, true
	}
	if slices.Contains(a.at.scopes, "profile") {
		body["name"], body["given_name"] = u.Name, u.Name
		body["picture"] = "https://lh3.googleusercontent.com/a/fake-" + u.ID
	}
	if u.HostedDomain != "" {
		body["hd"] = u.HostedDomain
	}
	writeJSON(a.w, http.StatusOK, body)
}

func maxResults(q url.Values, key string, def int) int {
	if n, err := strconv.Atoi(q.Get(key)); err == nil && n > 0 {
		return n
	}
	return def
}

func (g *google) gmailProfile(a *apiCall) {
	n := len(a.visible())
	writeJSON(a.w, http.StatusOK, map[string]any{"emailAddress": a.user.Email, "messagesTotal": n, "threadsTotal": n, "historyId": "1000"})
}

func (g *google) gmailList(a *apiCall) {
	items := a.visible()
	limit := maxResults(a.r.URL.Query(), "maxResults", 100)
	msgs := []map[string]string{}
	for i, it := range items {
		if i == limit {
			break
		}
		msgs = append(msgs, map[string]string{"id": it.ID, "threadId": it.ID})
	}
	body := map[string]any{"resultSizeEstimate": len(items)}
	if len(msgs) > 0 {
		body["messages"] = msgs
	}
	writeJSON(a.w, http.StatusOK, body)
}

func (g *google) gmailMessage(a *apiCall) {
	it, ok := a.lookup(a.r.PathValue("id"))
	if !ok {
		return
	}
	writeJSON(a.w, http.StatusOK, map[string]any{
		"id": it.ID, "threadId": it.ID, "labelIds": []string{"INBOX"}, "snippet": it.Name,
		"payload": map[string]any{"mimeType": "text/plain", "headers": []map[string]string{
			{"name": "Subject", "value": it.Name}, {"name": "From", "value": "Sender <sender@example.org>"},
		}},
		"sizeEstimate": 1024, "historyId": "1000", "internalDate": "1767603600000",
	})
}

func (g *google) calendarList(a *apiCall) {
	items := []map[string]any{{
		"kind": "calendar#calendarListEntry", "etag": `"1767603600000000"`, "id": a.user.Email, "summary": a.user.Email,
		"timeZone": "UTC", "accessRole": "owner", "primary": true,
	}}
	writeJSON(a.w, http.StatusOK, map[string]any{"kind": "calendar#calendarList", "etag": `"p33k9n4dsdlr8o0g"`,
		"nextSyncToken": "CPDAlvWDx70CEPDAlvWDx70CGAU=", "items": items})
}

func (g *google) calendarEvent(a *apiCall) {
	it, ok := a.lookup(a.r.PathValue("id"))
	if !ok {
		return
	}
	writeJSON(a.w, http.StatusOK, map[string]any{
		"kind": "calendar#event", "etag": `"3181161784712000"`, "id": it.ID, "status": "confirmed", "summary": it.Name,
		"start":     map[string]string{"dateTime": "2026-01-05T09:00:00Z", "timeZone": "UTC"},
		"end":       map[string]string{"dateTime": "2026-01-05T09:30:00Z", "timeZone": "UTC"},
		"organizer": map[string]any{"email": a.user.Email, "self": true},
	})
}

func (g *google) driveAbout(a *apiCall) {
	body := map[string]any{
		"kind": "drive#about",
		"user": map[string]any{"kind": "drive#user", "displayName": a.user.Name, "me": true,
			"permissionId": digitsFrom("perm:"+a.user.ID, 20), "emailAddress": a.user.Email},
		"storageQuota": map[string]string{"limit": "16106127360", "usage": "0"},
	}
	writeJSON(a.w, http.StatusOK, fields(body, a.r.URL.Query().Get("fields")))
}

// driveFile is a file's metadata, or with alt=media its content.
func (g *google) driveFile(a *apiCall) {
	it, ok := a.lookup(a.r.PathValue("id"))
	if !ok {
		return
	}
	mime := it.MimeType
	if mime == "" {
		mime = "application/octet-stream"
	}
	if a.r.URL.Query().Get("alt") == "media" {
		a.w.Header().Set("Content-Type", mime)
		a.w.Header().Set("Content-Length", strconv.Itoa(len(it.Content)))
		_, _ = a.w.Write(it.Content)
		return
	}
	body := map[string]any{"kind": "drive#file", "id": it.ID, "name": it.Name, "mimeType": mime, "size": strconv.Itoa(len(it.Content))}
	writeJSON(a.w, http.StatusOK, fields(body, a.r.URL.Query().Get("fields")))
}

func (g *google) personJSON(resource, name string) map[string]any {
	return map[string]any{"resourceName": "people/" + resource, "etag": "%EgUBAi43PRoEAQIFByIMR0xhZ2RrZ3Y3N0U9",
		"names": []map[string]any{{"displayName": name, "givenName": name, "metadata": map[string]any{"primary": true}}}}
}

func (g *google) connections(a *apiCall) {
	items := a.visible()
	limit := maxResults(a.r.URL.Query(), "pageSize", 100)
	body := map[string]any{"totalPeople": len(items), "totalItems": len(items)}
	var conns []map[string]any
	for i, it := range items {
		if i == limit {
			break
		}
		conns = append(conns, g.personJSON(it.ID, it.Name))
	}
	if len(conns) > 0 {
		body["connections"] = conns
	}
	writeJSON(a.w, http.StatusOK, body)
}

// person is people/me (the account itself) or a contact by resource id.
func (g *google) person(a *apiCall) {
	id := a.r.PathValue("id")
	if id == "me" {
		writeJSON(a.w, http.StatusOK, g.personJSON(a.user.ID, a.user.Name))
		return
	}
	it, ok := a.lookup(id)
	if !ok {
		return
	}
	writeJSON(a.w, http.StatusOK, g.personJSON(it.ID, it.Name))
}

// The write test's items. Docs of each request: shared/providers/google/writetest.go.

// createDraft is users.drafts.create: the draft's message is an RFC 2822
// message, base64url in message.raw (200 with the Draft).
func (g *google) createDraft(a *apiCall) {
	var d struct {
		Message struct {
			Raw string `json:"raw"`
		} `json:"message"`
	}
	if !a.readJSON(&d) {
		return
	}
	raw, err := base64.URLEncoding.DecodeString(d.Message.Raw)
	if err != nil {
		raw, err = base64.RawURLEncoding.DecodeString(d.Message.Raw)
	}
	msg, perr := mail.ReadMessage(bytes.NewReader(raw))
	if d.Message.Raw == "" || err != nil || perr != nil {
		a.badRequest("Invalid value for ByteString: message.raw")
		return
	}
	it := Item{ID: newDigits("r-", 19), Name: msg.Header.Get("Subject")}
	a.addItem(it)
	mid := newID("18", 14)
	writeJSON(a.w, http.StatusOK, map[string]any{"id": it.ID, "message": map[string]any{"id": mid, "threadId": mid, "labelIds": []string{"DRAFT"}}})
}

// insertEvent is events.insert on the primary calendar (200 with the
// event). Calendar refuses an event without a start or an end.
func (g *google) insertEvent(a *apiCall) {
	var ev struct {
		Summary    string `json:"summary"`
		Status     string `json:"status"`
		Start, End *struct {
			DateTime string `json:"dateTime"`
			Date     string `json:"date"`
		}
	}
	if !a.readJSON(&ev) {
		return
	}
	if ev.End == nil || ev.End.DateTime == "" && ev.End.Date == "" {
		a.badRequest("Missing end time.")
		return
	}
	if ev.Start == nil || ev.Start.DateTime == "" && ev.Start.Date == "" {
		a.badRequest("Missing start time.")
		return
	}
	if ev.Status == "" {
		ev.Status = "confirmed"
	}
	it := Item{ID: strings.ToLower(newID("", 26)), Name: ev.Summary}
	a.addItem(it)
	writeJSON(a.w, http.StatusOK, map[string]any{"kind": "calendar#event", "id": it.ID, "status": ev.Status, "summary": it.Name,
		"start": ev.Start, "end": ev.End, "organizer": map[string]any{"email": a.user.Email, "self": true}})
}

// deleteEvent is events.delete: 204, and 410 Gone for an event already
// deleted (Calendar keeps deleted events as cancelled), 404 for one that
// never was.
func (g *google) deleteEvent(a *apiCall) {
	id := a.r.PathValue("id")
	g.s.mu.Lock()
	gone := g.s.deleted[deletedKey{g.id(), id}]
	g.s.mu.Unlock()
	if gone {
		a.problem(probGone, id)
		return
	}
	if a.removeItem(id) {
		g.s.mu.Lock()
		g.s.deleted[deletedKey{g.id(), id}] = true
		g.s.mu.Unlock()
		noContent(a.w)
	}
}

// uploadFile is files.create on the upload URI with uploadType=multipart:
// a multipart/related body of the file's JSON metadata, then its content.
func (g *google) uploadFile(a *apiCall) {
	if a.r.URL.Query().Get("uploadType") != "multipart" {
		a.badRequest("This fake serves uploadType=multipart only.")
		return
	}
	mt, params, err := mime.ParseMediaType(a.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		a.badRequest("Bad content type. Please use multipart.")
		return
	}
	mr := multipart.NewReader(io.LimitReader(a.r.Body, maxWriteBody), params["boundary"])
	var meta struct {
		Name     string `json:"name"`
		MimeType string `json:"mimeType"`
	}
	var content []byte
	for i := 0; i < 2; i++ {
		part, err := mr.NextPart()
		if err != nil {
			a.badRequest("Multipart body must have a metadata part and a media part.")
			return
		}
		b, _ := io.ReadAll(part)
		if i == 0 && json.Unmarshal(b, &meta) != nil {
			a.badRequest("The metadata part is not JSON.")
			return
		}
		if i == 1 {
			content = b
			if meta.MimeType == "" {
				meta.MimeType = part.Header.Get("Content-Type")
			}
		}
	}
	if meta.Name == "" {
		meta.Name = "Untitled"
	}
	it := Item{ID: "1" + newID("", 32), Name: meta.Name, MimeType: meta.MimeType, Content: content}
	a.addItem(it)
	body := map[string]any{"kind": "drive#file", "id": it.ID, "name": it.Name, "mimeType": it.MimeType}
	writeJSON(a.w, http.StatusOK, fields(body, a.r.URL.Query().Get("fields")))
}

// createContact is people.createContact (200 with the Person).
func (g *google) createContact(a *apiCall) {
	var p struct {
		Names []struct {
			GivenName string `json:"givenName"`
		} `json:"names"`
	}
	if !a.readJSON(&p) {
		return
	}
	name := ""
	if len(p.Names) > 0 {
		name = p.Names[0].GivenName
	}
	it := Item{ID: newDigits("c", 19), Name: name}
	a.addItem(it)
	writeJSON(a.w, http.StatusOK, g.personJSON(it.ID, it.Name))
}

// deleteContact is people.deleteContact, DELETE people/<id>:deleteContact
// (200 with an empty object).
func (g *google) deleteContact(a *apiCall) {
	id, ok := strings.CutSuffix(a.r.PathValue("id"), ":deleteContact")
	if !ok {
		a.problem(probNotFound, "")
		return
	}
	if a.removeItem(id) {
		writeJSON(a.w, http.StatusOK, map[string]any{})
	}
}

// deleteItem is drafts.delete and files.delete: 204 with no body.
func (g *google) deleteItem(a *apiCall) {
	if a.removeItem(a.r.PathValue("id")) {
		noContent(a.w)
	}
}
