package fakeprovider

import (
	"net/http"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
)

// ServeHTTP serves every dialect; the first path segment is the provider
// host the request was meant for.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(s.latency.Load()); d > 0 {
		sleep(r.Context(), d)
	}
	s.mux.ServeHTTP(&statusWriter{ResponseWriter: w}, r)
}

// routes is the route table of all three dialects. Patterns with a {host}
// wildcard serve a family of hosts (Salesforce My Domains, SharePoint) and
// check the host themselves.
func (s *Server) routes() *http.ServeMux {
	ms, g, sf := &microsoft{s: s}, &google{s: s}, &salesforce{s: s}
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, h) }

	// Microsoft identity platform v2.0 and Microsoft Graph.
	handle("GET /login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) { s.authorize(ms, w, r) })
	handle("POST /login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize", func(w http.ResponseWriter, r *http.Request) { s.authorize(ms, w, r) })
	handle("POST /login.microsoftonline.com/{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) { s.token(ms, w, r) })
	handle("GET /graph.microsoft.com/v1.0/me", s.api(ms, need{kind: KindUserInfo, scopes: graphUserScopes}, ms.me))
	for _, res := range []struct {
		path string
		c    catalog.Capability
	}{{"messages", catalog.Email}, {"events", catalog.Calendar}, {"contacts", catalog.Contacts}} {
		handle("GET /graph.microsoft.com/v1.0/me/"+res.path, s.api(ms, need{kind: KindAPI, capability: res.c}, ms.list))
		handle("GET /graph.microsoft.com/v1.0/me/"+res.path+"/{id}", s.api(ms, need{kind: KindAPI, capability: res.c}, ms.item))
	}
	handle("GET /graph.microsoft.com/v1.0/me/drive/root", s.api(ms, need{kind: KindAPI, capability: catalog.Files}, ms.driveRoot))
	handle("GET /graph.microsoft.com/v1.0/me/drive/items/{id}", s.api(ms, need{kind: KindAPI, capability: catalog.Files}, ms.item))
	handle("GET /graph.microsoft.com/v1.0/me/drive/items/{id}/content", s.api(ms, need{kind: KindAPI, capability: catalog.Files}, ms.content))
	handle("GET /{host}/personal/{site}/_layouts/15/download.aspx", ms.download)

	// Google OAuth 2.0, OpenID Connect, Gmail, Calendar, Drive, People.
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

	// Salesforce: login, test and My Domain hosts, and instance hosts.
	handle("GET /{host}/services/oauth2/authorize", sf.host(func(w http.ResponseWriter, r *http.Request) { s.authorize(sf, w, r) }))
	handle("POST /{host}/services/oauth2/authorize", sf.host(func(w http.ResponseWriter, r *http.Request) { s.authorize(sf, w, r) }))
	handle("POST /{host}/services/oauth2/token", sf.host(func(w http.ResponseWriter, r *http.Request) { s.token(sf, w, r) }))
	handle("POST /{host}/services/oauth2/revoke", sf.host(sf.revoke))
	handle("GET /{host}/services/oauth2/revoke", sf.host(sf.revoke))
	sfIdentity := s.api(sf, need{kind: KindUserInfo, scopes: salesforceIdentityScopes}, sf.userinfo)
	handle("GET /{host}/services/oauth2/userinfo", sf.host(sfIdentity))
	handle("POST /{host}/services/oauth2/userinfo", sf.host(sfIdentity))
	handle("POST /{host}/services/oauth2/introspect", sf.host(sf.introspect))
	handle("GET /{host}/id/{org}/{user}", sf.host(sfIdentity))
	handle("GET /{host}/services/data/{version}/limits", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.limits)))
	handle("GET /{host}/services/data/{version}/sobjects", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.describeGlobal)))
	handle("GET /{host}/services/data/{version}/sobjects/{object}/{id}", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.record)))
	// The catalog's item id is "<Object>/<record id>"; escaped, it is one segment.
	handle("GET /{host}/services/data/{version}/sobjects/{object}", sf.host(s.api(sf, need{kind: KindAPI, capability: catalog.CRM}, sf.record)))
	return mux
}

// requestHost is the provider host the request was meant for.
func requestHost(r *http.Request) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return strings.ToLower(host)
}
