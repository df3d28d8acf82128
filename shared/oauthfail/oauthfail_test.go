package oauthfail

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// refreshAgainst runs a real golang.org/x/oauth2 refresh against a server
// answering status, contentType and body, and returns the error it gives.
func refreshAgainst(t *testing.T, status int, header http.Header, body string, delay time.Duration) error {
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
	ctx := context.Background()
	client := &http.Client{Timeout: 5 * time.Second}
	if delay > 0 {
		client.Timeout = delay / 4
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: "fake-refresh-token"}).Token()
	if err == nil {
		t.Fatal("refresh succeeded, want an error")
	}
	return err
}

func TestClassifyTokenErrors(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		status   int
		header   http.Header
		body     string
		delay    time.Duration
		kind     Kind
		code     string
		owner    Owner
		retry    time.Duration
	}{
		{"microsoft password change", "microsoft365", 400, nil, `{"error":"invalid_grant","error_description":"AADSTS50173: The provided grant has expired due to it being revoked.","error_codes":[50173]}`, 0, Reconnect, "grant_revoked", OwnerUser, 0},
		{"microsoft inactive refresh token", "microsoft365", 400, nil, `{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity.","error_codes":[700082]}`, 0, Reconnect, "refresh_token_inactive", OwnerUser, 0},
		{"microsoft sign-in frequency", "microsoft365", 400, nil, `{"error":"invalid_grant","error_description":"AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.","error_codes":[70043]}`, 0, Reconnect, "sign_in_frequency", OwnerUser, 0},
		{"microsoft consent revoked", "microsoft365", 400, nil, `{"error":"invalid_grant","error_description":"AADSTS65001: The user or administrator has not consented to use the application.","error_codes":[65001]}`, 0, Reconnect, "consent_required", OwnerExternalAdmin, 0},
		{"microsoft conditional access", "microsoft365", 400, nil, `{"error":"invalid_grant","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies.","error_codes":[53003]}`, 0, Reconnect, "conditional_access_blocked", OwnerExternalAdmin, 0},
		{"microsoft expired client secret", "microsoft365", 401, nil, `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys for app are expired.","error_codes":[7000222]}`, 0, AdminAction, "client_secret_expired", OwnerAdmin, 0},
		{"google revoked", "google_workspace", 400, nil, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, 0, Reconnect, "token_revoked", OwnerUser, 0},
		{"google rapt", "google_workspace", 400, nil, `{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_subtype":"invalid_rapt"}`, 0, Reconnect, "reauth_required", OwnerUser, 0},
		{"salesforce expired", "salesforce", 400, nil, `{"error":"invalid_grant","error_description":"expired access/refresh token"}`, 0, Reconnect, "token_expired", OwnerUser, 0},
		{"plain invalid_grant", "salesforce", 400, nil, `{"error":"invalid_grant","error_description":"whatever"}`, 0, Reconnect, "invalid_grant", OwnerUser, 0},
		{"invalid client", "google_workspace", 401, nil, `{"error":"invalid_client","error_description":"The OAuth client was not found."}`, 0, AdminAction, "invalid_client", OwnerAdmin, 0},
		{"unauthorized client", "salesforce", 400, nil, `{"error":"unauthorized_client"}`, 0, AdminAction, "unauthorized_client", OwnerAdmin, 0},
		{"503 html", "google_workspace", 503, http.Header{"Content-Type": {"text/html"}}, `<html>down</html>`, 0, Transient, "provider_unavailable", OwnerNone, 0},
		{"500 json", "microsoft365", 500, nil, `{"error":"server_error"}`, 0, Transient, "provider_unavailable", OwnerNone, 0},
		{"429 retry-after", "microsoft365", 429, http.Header{"Retry-After": {"120"}}, `{}`, 0, Transient, "rate_limited", OwnerNone, 120 * time.Second},
		{"malformed json 200", "google_workspace", 200, nil, `{"access_token": "abc"`, 0, Transient, "malformed_response", OwnerNone, 0},
		{"200 without token", "salesforce", 200, nil, `{"token_type":"Bearer"}`, 0, Transient, "malformed_response", OwnerNone, 0},
		{"timeout", "salesforce", 200, nil, `{}`, 400 * time.Millisecond, Transient, "provider_timeout", OwnerNone, 0},
		{"unknown 400", "salesforce", 400, http.Header{"Content-Type": {"text/html"}}, `<html>bad</html>`, 0, Transient, "unexpected_response", OwnerNone, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := refreshAgainst(t, tc.status, tc.header, tc.body, tc.delay)
			f := Classify(tc.provider, err)
			if f.Kind != tc.kind || f.Code != tc.code || f.Owner != tc.owner {
				t.Fatalf("Classify = {%s %s %s}, want {%s %s %s} (err %v)", f.Kind, f.Code, f.Owner, tc.kind, tc.code, tc.owner, err)
			}
			if f.RetryAfter != tc.retry {
				t.Errorf("RetryAfter = %v, want %v", f.RetryAfter, tc.retry)
			}
			if f.Cause == "" {
				t.Error("no cause for a person")
			}
			if f.NeedsReconnect() != (tc.kind != Transient) {
				t.Errorf("NeedsReconnect = %v for kind %s", f.NeedsReconnect(), tc.kind)
			}
		})
	}
}

func TestClassifyUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	cfg := oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{TokenURL: url}}
	_, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: "r"}).Token()
	if f := Classify("google_workspace", err); f.Kind != Transient || f.Code != "provider_unreachable" {
		t.Fatalf("Classify = %+v, want transient provider_unreachable", f)
	}
}

func TestAuthorizeError(t *testing.T) {
	tests := []struct {
		code, desc string
		kind       Kind
		want       string
	}{
		{"access_denied", "The user denied", Reconnect, "access_denied"},
		{"consent_required", "", Reconnect, "consent_required"},
		{"invalid_request", "AADSTS50011: The redirect URI does not match", AdminAction, "invalid_request"},
		{"access_denied", "AADSTS53003: blocked by conditional access", Reconnect, "conditional_access_blocked"},
		{"unauthorized_client", "", AdminAction, "unauthorized_client"},
		{"temporarily_unavailable", "", Transient, "provider_unavailable"},
		{"something_new", "", Reconnect, "authorization_failed"},
	}
	for _, tc := range tests {
		f := AuthorizeError("microsoft365", tc.code, tc.desc)
		if f.Kind != tc.kind || f.Code != tc.want {
			t.Errorf("AuthorizeError(%q, %q) = %s/%s, want %s/%s", tc.code, tc.desc, f.Kind, f.Code, tc.kind, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		"-5":                            0,
		"soon":                          0,
		"Sun, 29 Nov 2026 12:02:00 GMT": 2 * time.Minute,
		"Sun, 29 Nov 2026 11:00:00 GMT": 0,
		"999999":                        24 * time.Hour,
	}
	for in, want := range tests {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestNextDelay(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	prevMax := time.Duration(0)
	for n := 1; n <= 12; n++ {
		ceiling := min(BackoffBase<<(n-1), BackoffMax)
		for range 50 {
			d := NextDelay(n, 0, rnd)
			if d < ceiling/2 || d > ceiling {
				t.Fatalf("NextDelay(%d) = %v, want within [%v, %v]", n, d, ceiling/2, ceiling)
			}
		}
		if ceiling < prevMax {
			t.Fatalf("ceiling shrank at n=%d", n)
		}
		prevMax = ceiling
	}
	if d := NextDelay(1, 10*time.Minute, rnd); d != 10*time.Minute {
		t.Errorf("Retry-After not honoured: %v", d)
	}
	if d := NextDelay(1000, 0, rnd); d > BackoffMax {
		t.Errorf("NextDelay(1000) = %v exceeds max", d)
	}
}
