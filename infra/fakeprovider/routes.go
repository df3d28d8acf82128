package fakeprovider

import (
	"net/http"
	"strings"
	"time"
)

// ServeHTTP serves every dialect; the first path segment is the provider
// host the request was meant for.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d := time.Duration(s.latency.Load()); d > 0 {
		sleep(r.Context(), d)
	}
	s.mux.ServeHTTP(&statusWriter{ResponseWriter: w}, r)
}

// routes is the route table: each dialect registers its own endpoints.
// Patterns with a {host} wildcard serve a family of hosts (Salesforce My
// Domains, SharePoint) and check the host themselves.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, d := range s.dialects {
		d.routes(func(pattern string, h http.HandlerFunc) { mux.HandleFunc(pattern, h) })
	}
	return mux
}

// requestHost is the provider host the request was meant for.
func requestHost(r *http.Request) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return strings.ToLower(host)
}
