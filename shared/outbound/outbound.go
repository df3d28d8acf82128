// Package outbound builds the HTTP client every provider call goes through:
// a timeout on every call, and, in local and test configurations only, a
// rewrite of provider URLs to the fake provider.
//
// Production code always builds the providers' real URLs. With an override
// base such as http://127.0.0.1:3002, https://login.microsoftonline.com/x/y
// is sent to http://127.0.0.1:3002/login.microsoftonline.com/x/y instead; the
// fake provider dispatches on that first path segment. The same rewrite is
// applied to the authorization URLs sent to browsers.
package outbound

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds every provider call.
const DefaultTimeout = 10 * time.Second

// Rewriter maps real provider URLs to an override base. The zero value (or
// nil) leaves URLs unchanged.
type Rewriter struct {
	base *url.URL
}

// NewRewriter returns a rewriter to base, or nil for an empty base.
func NewRewriter(base string) (*Rewriter, error) {
	if base == "" {
		return nil, nil
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("provider endpoint override %q is not an absolute http(s) URL", base)
	}
	return &Rewriter{base: u}, nil
}

// Active reports whether URLs are rewritten.
func (rw *Rewriter) Active() bool { return rw != nil && rw.base != nil }

// Base returns the override base URL, "" when inactive.
func (rw *Rewriter) Base() string {
	if !rw.Active() {
		return ""
	}
	return rw.base.String()
}

// URL rewrites one absolute URL string; anything else is returned unchanged.
func (rw *Rewriter) URL(raw string) string {
	if !rw.Active() {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Host == rw.base.Host {
		return raw
	}
	rw.rewrite(u)
	return u.String()
}

func (rw *Rewriter) rewrite(u *url.URL) {
	origHost := u.Host
	u.Scheme = rw.base.Scheme
	u.Host = rw.base.Host
	u.Path = rw.base.Path + "/" + origHost + u.Path
	if u.RawPath != "" {
		u.RawPath = rw.base.Path + "/" + origHost + u.RawPath
	}
}

// Transport rewrites requests, then hands them to Next.
type Transport struct {
	Rewriter *Rewriter
	Next     http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	if !t.Rewriter.Active() || r.URL.Host == t.Rewriter.base.Host {
		return next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	rw := *r.URL
	t.Rewriter.rewrite(&rw)
	r2.URL = &rw
	r2.Host = ""
	return next.RoundTrip(r2)
}

// NewClient returns the client for provider calls: timeout on every call, no
// cookies, URLs rewritten when rw is active.
func NewClient(rw *Rewriter, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 32
	var rt http.RoundTripper = base
	if rw.Active() {
		rt = &Transport{Rewriter: rw, Next: base}
	}
	return &http.Client{Transport: rt, Timeout: timeout}
}
