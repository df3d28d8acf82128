package localtest

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/connections"
)

// Wire records every credential that crosses the wire in a test run, as it
// crosses it, so a leak test can search for values nobody planted by hand:
//
//   - on the service's outbound client (every provider call): the
//     access_token, refresh_token and id_token of each answer, and each
//     request's code, code_verifier, refresh_token, token, client_secret
//     (form or Basic authentication) and bearer token;
//   - on the test's browser (Env.Client: Do and Authorize): the bearer
//     token of each API call, the state of each authorization URL, and the
//     code and state of each provider redirect to the callback.
//
// Install it with WithWire. Safe for concurrent use.
type Wire struct {
	mu     sync.Mutex
	values map[string]string // value → what it is
}

// WithWire records the run's credentials in w.
func WithWire(w *Wire) Option {
	return func(s *settings) {
		s.wire = w
		s.mutate = append(s.mutate, func(d *app.Deps) {
			next := d.HTTPClient.Transport
			if next == nil {
				next = http.DefaultTransport
			}
			d.HTTPClient.Transport = &wireTransport{w: w, next: next}
		})
	}
}

// Values returns every recorded value and what it is (e.g.
// "refresh_token", "code_verifier", "client_secret", "state").
func (w *Wire) Values() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.values)
}

// Kinds counts the recorded values by kind.
func (w *Wire) Kinds() map[string]int {
	out := map[string]int{}
	for _, k := range w.Values() {
		out[k]++
	}
	return out
}

func (w *Wire) add(kind, v string) {
	if v == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.values == nil {
		w.values = map[string]string{}
	}
	if _, seen := w.values[v]; !seen {
		w.values[v] = kind
	}
}

// formKeys are the request parameters that carry a credential.
var formKeys = []string{"code", "code_verifier", "refresh_token", "token", "client_secret", "client_assertion"}

// request records what r carries and returns the request to send: r, or a
// copy with a fresh body when its body was read.
func (w *Wire) request(r *http.Request) *http.Request {
	if _, pass, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: the form-encoded id and secret.
		if s, err := url.QueryUnescape(pass); err == nil {
			pass = s
		}
		w.add("client_secret", pass)
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		w.add("bearer_token", tok)
	}
	q := r.URL.Query()
	for _, k := range formKeys {
		w.add(k, q.Get(k))
	}
	w.add("state", q.Get("state"))
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return r
	}
	if form, err := url.ParseQuery(string(body)); err == nil {
		for _, k := range formKeys {
			w.add(k, form.Get(k))
		}
	}
	return r
}

func (w *Wire) response(resp *http.Response) {
	// A provider sending the browser back to the callback (not the
	// callback's own redirect to returnTo, whose code is an outcome code).
	if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && strings.HasSuffix(loc.Path, connections.CallbackPath) {
		q := loc.Query()
		w.add("code", q.Get("code"))
		w.add("state", q.Get("state"))
	}
	if resp.Body == nil {
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
		ID      string `json:"id_token"`
	}
	if json.Unmarshal(body, &tok) == nil {
		w.add("access_token", tok.Access)
		w.add("refresh_token", tok.Refresh)
		w.add("id_token", tok.ID)
	}
}

type wireTransport struct {
	w    *Wire
	next http.RoundTripper
}

func (t *wireTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(t.w.request(r))
	if err == nil {
		t.w.response(resp)
	}
	return resp, err
}
