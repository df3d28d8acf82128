package oauthfail

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers/providertest"
)

func TestCommonTokenErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		delay  time.Duration
		kind   Kind
		code   string
		owner  Owner
		retry  time.Duration
	}{
		{"plain invalid_grant", 400, nil, `{"error":"invalid_grant","error_description":"whatever"}`, 0, Reconnect, "invalid_grant", OwnerUser, 0},
		{"invalid client", 401, nil, `{"error":"invalid_client","error_description":"The OAuth client was not found."}`, 0, ClientRefused, "invalid_client", OwnerAdmin, 0},
		{"unauthorized client", 400, nil, `{"error":"unauthorized_client"}`, 0, ClientRefused, "unauthorized_client", OwnerAdmin, 0},
		{"invalid scope", 400, nil, `{"error":"invalid_scope"}`, 0, AdminAction, "invalid_scope", OwnerAdmin, 0},
		{"interaction required", 400, nil, `{"error":"interaction_required"}`, 0, Reconnect, "interaction_required", OwnerUser, 0},
		{"503 html", 503, http.Header{"Content-Type": {"text/html"}}, `<html>down</html>`, 0, Transient, "provider_unavailable", OwnerNone, 0},
		{"500 json", 500, nil, `{"error":"server_error"}`, 0, Transient, "provider_unavailable", OwnerNone, 0},
		{"429 retry-after", 429, http.Header{"Retry-After": {"120"}}, `{}`, 0, Transient, "rate_limited", OwnerNone, 120 * time.Second},
		{"malformed json 200", 200, nil, `{"access_token": "abc"`, 0, Transient, "malformed_response", OwnerNone, 0},
		{"200 without token", 200, nil, `{"token_type":"Bearer"}`, 0, Transient, "malformed_response", OwnerNone, 0},
		{"timeout", 200, nil, `{}`, 400 * time.Millisecond, Transient, "provider_timeout", OwnerNone, 0},
		{"unknown 400", 400, http.Header{"Content-Type": {"text/html"}}, `<html>bad</html>`, 0, Transient, "unexpected_response", OwnerNone, 0},
		{"unknown code", 400, nil, `{"error":"something_new"}`, 0, Transient, "unexpected_response", OwnerNone, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := providertest.TokenError(t, tc.status, tc.header, tc.body, tc.delay)
			f := Token(err, nil)
			if f.Kind != tc.kind || f.Code != tc.code || f.Owner != tc.owner {
				t.Fatalf("Token = {%s %s %s}, want {%s %s %s} (err %v)", f.Kind, f.Code, f.Owner, tc.kind, tc.code, tc.owner, err)
			}
			if f.RetryAfter != tc.retry {
				t.Errorf("RetryAfter = %v, want %v", f.RetryAfter, tc.retry)
			}
			if f.Cause == "" {
				t.Error("no cause for a person")
			}
			if f.NeedsReconnect() != (tc.kind == Reconnect || tc.kind == AdminAction) {
				t.Errorf("NeedsReconnect = %v for kind %s", f.NeedsReconnect(), tc.kind)
			}
		})
	}
}

// TestProviderRulesComeFirst: a provider's own reading wins over the
// common one, and gets the answer's status and Retry-After.
func TestProviderRulesComeFirst(t *testing.T) {
	err := providertest.TokenError(t, 400, http.Header{"Retry-After": {"30"}}, `{"error":"invalid_grant","error_description":"special"}`, 0)
	f := Token(err, specialRule)
	if f.Kind != Blocked || f.Code != "special" || f.HTTPStatus != 400 || f.RetryAfter != 30*time.Second || f.NeedsReconnect() {
		t.Fatalf("Token = %+v", f)
	}
	err = providertest.TokenError(t, 400, nil, `{"error":"invalid_grant","error_description":"ordinary"}`, 0)
	if f := Token(err, specialRule); f.Code != "invalid_grant" {
		t.Fatalf("rules that say nothing: %+v", f)
	}
	if f := Authorize("access_denied", "special", func(_, desc string) (Failure, bool) { return Failure{Code: "special"}, desc == "special" }); f.Code != "special" {
		t.Fatalf("Authorize with rules: %+v", f)
	}
}

func specialRule(re *oauth2.RetrieveError) (Failure, bool) {
	return Failure{Kind: Blocked, Code: "special", Owner: OwnerExternalAdmin, Cause: "x"}, re.ErrorDescription == "special"
}

func TestClassifyUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	cfg := oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{TokenURL: url}}
	_, err := cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: "r"}).Token()
	if f := Token(err, nil); f.Kind != Transient || f.Code != "provider_unreachable" {
		t.Fatalf("Token = %+v, want transient provider_unreachable", f)
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
		{"invalid_request", "The redirect URI does not match", AdminAction, "invalid_request"},
		{"unauthorized_client", "", ClientRefused, "unauthorized_client"},
		{"temporarily_unavailable", "", Transient, "provider_unavailable"},
		{"something_new", "", Reconnect, "authorization_failed"},
	}
	for _, tc := range tests {
		f := Authorize(tc.code, tc.desc, nil)
		if f.Kind != tc.kind || f.Code != tc.want {
			t.Errorf("Authorize(%q, %q) = %s/%s, want %s/%s", tc.code, tc.desc, f.Kind, f.Code, tc.kind, tc.want)
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
