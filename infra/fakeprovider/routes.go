package fakeprovider

import (
	"net/http"
	"slices"
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
	var shared []sharedRoute
	for _, d := range s.dialects {
		d.routes(func(pattern string, h http.HandlerFunc) {
			if r, ok := sharesShape(pattern, h); ok {
				shared = append(shared, r)
				return
			}
			mux.HandleFunc(pattern, h)
		})
	}
	// The most literal first: Microsoft's tenant "id" is not Salesforce's.
	slices.SortStableFunc(shared, func(a, b sharedRoute) int { return b.literals() - a.literals() })
	if len(shared) > 0 {
		mux.HandleFunc("GET /{host}/{s1}/{s2}/{s3}", func(w http.ResponseWriter, r *http.Request) {
			segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
			for _, sr := range shared {
				if sr.match(segs) {
					for i, name := range sr.names {
						if name != "" {
							r.SetPathValue(name, segs[i])
						}
					}
					sr.h(w, r)
					return
				}
			}
			http.NotFound(w, r)
		})
	}
	return mux
}

// sharedRoute is a GET route of four path segments that ServeMux cannot
// hold beside another dialect's (Salesforce's /{host}/id/{org}/{user} and
// Microsoft's /login.microsoftonline.com/{tenant}/v2.0/adminconsent both
// match paths the other does not, so neither is more specific): they are
// served by one dispatcher, each matched segment by segment.
type sharedRoute struct {
	segs  []string // a literal, or "" for a wildcard
	names []string // the wildcard's name, or ""
	h     http.HandlerFunc
}

// sharedShapes are the patterns served through the dispatcher.
var sharedShapes = []string{
	"GET /{host}/id/{org}/{user}",
	"GET /login.microsoftonline.com/{tenant}/v2.0/adminconsent",
}

func sharesShape(pattern string, h http.HandlerFunc) (sharedRoute, bool) {
	for _, p := range sharedShapes {
		if p != pattern {
			continue
		}
		var sr sharedRoute
		for _, seg := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(p, "GET "), "/"), "/") {
			if strings.HasPrefix(seg, "{") {
				sr.segs, sr.names = append(sr.segs, ""), append(sr.names, strings.Trim(seg, "{}"))
			} else {
				sr.segs, sr.names = append(sr.segs, seg), append(sr.names, "")
			}
		}
		sr.h = h
		return sr, true
	}
	return sharedRoute{}, false
}

func (sr sharedRoute) literals() int {
	n := 0
	for _, l := range sr.segs {
		if l != "" {
			n++
		}
	}
	return n
}

func (sr sharedRoute) match(segs []string) bool {
	if len(segs) != len(sr.segs) {
		return false
	}
	for i, lit := range sr.segs {
		if lit != "" && !strings.EqualFold(segs[i], lit) {
			return false
		}
		if lit == "" && segs[i] == "" {
			return false
		}
	}
	return true
}

// requestHost is the provider host the request was meant for.
func requestHost(r *http.Request) string {
	host, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return strings.ToLower(host)
}
