// Package providertest helps the providers' tests: it produces the errors
// golang.org/x/oauth2 really returns for a provider's token-endpoint
// answers, so that classification is tested on what callers get.
package providertest

import (
	"context"
	"net/http"
	"net/http/httptest"
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
