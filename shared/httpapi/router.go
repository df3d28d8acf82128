package httpapi

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// router dispatches requests to routes the way net/http's ServeMux does
// for the only pattern shapes routes use: "METHOD /literal/{wildcard}/...",
// where a wildcard is one whole segment. ServeMux's general pattern
// language (hosts, {name...}, {$}, trailing-slash subtrees), its routing
// tree and its conflict reports cost each HTTP function about 65 KB of its
// bootstrap (issue 13 §1), more than the whole margin to the size target.
//
// What it keeps of ServeMux, and router_test.go checks against ServeMux
// itself:
//   - segments are matched on the escaped path and wildcard values are
//     unescaped, so %2F stays inside one value;
//   - a GET route also serves HEAD;
//   - when two patterns match, the more specific one (a literal where the
//     other has a wildcard) wins, and patterns that could both match with
//     neither more specific are a panic when the router is built;
//   - a path that is not clean (//, /./, /../) is redirected (307) to its
//     clean form, query kept;
//   - the matched route's pattern is set in r.Pattern and its wildcards
//     in r.PathValue, on the request itself, as the access log reads them
//     after the handler.
//
// Anything else goes to fallback with r.Pattern "/", as ServeMux's "/"
// pattern would.
type router struct {
	routes   []compiledRoute
	fallback http.Handler
}

type compiledRoute struct {
	method, pattern string
	segs            []string // literal segments, or "" where a wildcard is
	names           []string // the wildcard's name per segment, "" for a literal
	handler         http.Handler
}

// newRouter compiles routes; it panics on a pattern outside the supported
// shape or on two conflicting patterns, as ServeMux does on registration.
func newRouter(routes []Route, handler func(Route) http.Handler, fallback http.Handler) *router {
	rt := &router{fallback: fallback}
	for _, r := range routes {
		c := compiledRoute{method: r.Method, pattern: r.Pattern(), handler: handler(r)}
		if r.Method == "" || !strings.HasPrefix(r.Path, "/") || r.Path == "/" || strings.HasSuffix(r.Path, "/") {
			panic("httpapi: unsupported route pattern " + c.pattern)
		}
		for _, s := range strings.Split(r.Path[1:], "/") {
			name := ""
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				name = s[1 : len(s)-1]
				s = ""
				if name == "" || strings.ContainsAny(name, "{}.$") || contains(c.names, name) {
					panic("httpapi: unsupported wildcard in route pattern " + c.pattern)
				}
			} else if s == "" || strings.ContainsAny(s, "{}") || s != pathUnescape(s) {
				panic("httpapi: unsupported segment in route pattern " + c.pattern)
			}
			c.segs, c.names = append(c.segs, s), append(c.names, name)
		}
		for _, o := range rt.routes {
			if o.method == c.method && overlap(o, c) && moreSpecific(o, c) == moreSpecific(c, o) {
				panic("httpapi: route pattern " + c.pattern + " conflicts with " + o.pattern)
			}
		}
		rt.routes = append(rt.routes, c)
	}
	return rt
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// overlap: some path matches both a and b.
func overlap(a, b compiledRoute) bool {
	if len(a.segs) != len(b.segs) {
		return false
	}
	for i := range a.segs {
		if a.segs[i] != b.segs[i] && a.names[i] == "" && b.names[i] == "" {
			return false
		}
	}
	return true
}

// moreSpecific: every path a matches, b matches too (a is a literal
// wherever b is, and equal to it).
func moreSpecific(a, b compiledRoute) bool {
	for i := range a.segs {
		if b.names[i] == "" && (a.names[i] != "" || a.segs[i] != b.segs[i]) {
			return false
		}
	}
	return true
}

// match returns the wildcard values of r on segs, or ok false.
func (c compiledRoute) match(segs []string) (values []string, ok bool) {
	if len(segs) != len(c.segs) {
		return nil, false
	}
	for i, s := range segs {
		switch {
		case c.names[i] != "":
			if s == "" {
				return nil, false
			}
			values = append(values, pathUnescape(s))
		case pathUnescape(s) != c.segs[i]:
			return nil, false
		}
	}
	return values, true
}

// methodMatches: ServeMux serves HEAD with a GET pattern.
func (c compiledRoute) methodMatches(m string) bool {
	return c.method == m || (c.method == http.MethodGet && m == http.MethodHead)
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	clean := cleanPath(escaped)
	if clean != escaped {
		u := &url.URL{Path: clean, RawQuery: r.URL.RawQuery}
		w.Header().Set("Location", u.String())
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	segs := strings.Split(clean[1:], "/")
	var best *compiledRoute
	var values []string
	for i := range rt.routes {
		c := &rt.routes[i]
		if !c.methodMatches(r.Method) {
			continue
		}
		if v, ok := c.match(segs); ok && (best == nil || moreSpecific(*c, *best)) {
			best, values = c, v
		}
	}
	if best == nil {
		r.Pattern = "/"
		rt.fallback.ServeHTTP(w, r)
		return
	}
	r.Pattern = best.pattern
	j := 0
	for _, name := range best.names {
		if name != "" {
			r.SetPathValue(name, values[j])
			j++
		}
	}
	best.handler.ServeHTTP(w, r)
}

// allowed lists, in route order, the other methods some route serves at
// r's path: the Allow header of a 405.
func (rt *router) allowed(r *http.Request) []string {
	segs := strings.Split(cleanPath(r.URL.EscapedPath())[1:], "/")
	var out []string
	for _, c := range rt.routes {
		if c.method == r.Method || contains(out, c.method) {
			continue
		}
		if _, ok := c.match(segs); ok {
			out = append(out, c.method)
		}
	}
	return out
}

// cleanPath is ServeMux's: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			np = p
		} else {
			np += "/"
		}
	}
	return np
}

// pathUnescape is ServeMux's: a segment that does not unescape stays as
// it is.
func pathUnescape(s string) string {
	u, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return u
}
