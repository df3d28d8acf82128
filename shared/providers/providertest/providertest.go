// Package providertest helps the providers' tests: it produces the errors
// golang.org/x/oauth2 really returns for a provider's token-endpoint
// answers, so that classification is tested on what callers get.
package providertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TokenError runs a real golang.org/x/oauth2 refresh against a server
// answering status, header and body (after delay, with a client timeout of
// a quarter of it) and returns the error it gives. The refresh must fail.
func TokenError(t *testing.T, status int, header http.Header, body string, delay time.Duration) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			time.Sleep(delay)
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	cfg := oauth2.Config{ClientID: "fake-client", ClientSecret: "fake-client-secret-1", Endpoint: oauth2.Endpoint{TokenURL: srv.URL, AuthStyle: oauth2.AuthStyleInParams}}
	client := &http.Client{Timeout: 5 * time.Second}
	if delay > 0 {
		client.Timeout = delay / 4
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "fake-refresh-token"}).Token()
	if err == nil {
		t.Fatal("refresh succeeded, want an error")
	}
	return err
}

// Request is what a Recorder received.
type Request struct {
	Method, URL, ContentType, Authorization string
	Body                                    []byte
}

// Recorder is an http.RoundTripper that answers every request with Status
// and Body, and records it: for tests of the requests a dialect builds to
// the provider's real URLs (no network; the fake provider's end-to-end
// tests cover the conversation itself).
type Recorder struct {
	Status   int
	Body     string
	Requests []Request
}

// Client is an HTTP client whose every request goes to r.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		_ = req.Body.Close()
	}
	r.Requests = append(r.Requests, Request{Method: req.Method, URL: req.URL.String(), ContentType: req.Header.Get("Content-Type"),
		Authorization: req.Header.Get("Authorization"), Body: body})
	return &http.Response{StatusCode: r.Status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(r.Body)), Request: req}, nil
}

// Last is the last request received (the test fails without one).
func (r *Recorder) Last(t *testing.T) Request {
	t.Helper()
	if len(r.Requests) == 0 {
		t.Fatal("no request was sent")
	}
	return r.Requests[len(r.Requests)-1]
}
