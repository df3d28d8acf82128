package fakeprovider_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

// TestFaultStatus: 5xx and 429 with Retry-After on token calls, for N
// calls, then normal service again.
func TestFaultStatus(t *testing.T) {
	for _, p := range providers {
		for _, kind := range []fakeprovider.Kind{fakeprovider.KindExchange, fakeprovider.KindRefresh} {
			for _, tc := range []struct {
				status     int
				retryAfter time.Duration
				wantHeader string
			}{{503, 0, "1"}, {429, 7 * time.Second, "7"}, {500, 0, ""}} {
				t.Run(p+"/"+string(kind)+"/"+http.StatusText(tc.status), func(t *testing.T) {
					e := newEnv(t, fakeprovider.Options{AutoApprove: true})
					cfg := e.config(p)
					tok := e.connect(p, cfg)
					f := e.mustCode(p, cfg)
					e.fake.Inject(fakeprovider.Fault{Provider: p, Kind: kind, Times: 2, Status: tc.status, RetryAfter: tc.retryAfter})
					call := func() error {
						if kind == fakeprovider.KindRefresh {
							_, err := e.refresh(cfg, tok.RefreshToken)
							return err
						}
						_, err := cfg.Exchange(e.ctx(), f.code, oauth2.VerifierOption(f.verifier))
						return err
					}
					for i := range 2 {
						re := retrieveError(t, call())
						if re.Response.StatusCode != tc.status || re.Response.Header.Get("Retry-After") != tc.wantHeader {
							t.Fatalf("call %d: %d Retry-After %q", i, re.Response.StatusCode, re.Response.Header.Get("Retry-After"))
						}
					}
					// The faulted calls consumed nothing: the same code or token works now.
					if err := call(); err != nil {
						t.Fatalf("after the fault: %v", err)
					}
					if got := e.fake.Count(fakeprovider.Filter{Provider: p, Kind: kind, Outcome: fakeprovider.OutcomeFaulted}); got != 2 {
						t.Errorf("faulted = %d, want 2", got)
					}
				})
			}
		}
	}
}

// TestFaultOAuthErrors: invalid_grant and client errors in each provider's
// words, Microsoft's AADSTS codes included.
func TestFaultOAuthErrors(t *testing.T) {
	tests := []struct {
		provider string
		fault    fakeprovider.Fault
		status   int
		code     string
		desc     string // prefix
		extra    map[string]any
	}{
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant}, 400, "invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked", map[string]any{"suberror": "bad_token"}},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 700082}, 400, "invalid_grant", "AADSTS700082: The refresh token has expired due to inactivity.", nil},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 70043}, 400, "invalid_grant", "AADSTS70043: The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.", nil},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 65001}, 400, "invalid_grant", "AADSTS65001: The user or administrator has not consented", map[string]any{"suberror": "consent_required"}},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant, AADSTS: 53003}, 400, "invalid_grant", "AADSTS53003: Access has been blocked by Conditional Access policies.", nil},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrInvalidClient}, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.", nil},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrExpiredSecret}, 401, "invalid_client", "AADSTS7000222: The provided client secret keys for app '" + testClientID[catalog.Microsoft365] + "' are expired.", nil},
		{catalog.Microsoft365, fakeprovider.Fault{Error: fakeprovider.ErrUnauthorizedClient}, 400, "unauthorized_client", "AADSTS700016: Application with identifier '" + testClientID[catalog.Microsoft365] + "'", nil},
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant}, 400, "invalid_grant", "Token has been expired or revoked.", nil},
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrInvalidRAPT}, 400, "invalid_grant", "reauth related error (invalid_rapt)", map[string]any{"error_subtype": "invalid_rapt", "error_uri": "https://support.google.com/a/answer/9368756"}},
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrInvalidClient}, 401, "invalid_client", "Unauthorized", nil},
		{catalog.GoogleWorkspace, fakeprovider.Fault{Error: fakeprovider.ErrUnauthorizedClient}, 401, "unauthorized_client", "Unauthorized", nil},
		{catalog.Salesforce, fakeprovider.Fault{Error: fakeprovider.ErrInvalidGrant}, 400, "invalid_grant", "expired access/refresh token", nil},
		{catalog.Salesforce, fakeprovider.Fault{Error: fakeprovider.ErrInvalidClient}, 400, "invalid_client", "invalid client credentials", nil},
		{catalog.Salesforce, fakeprovider.Fault{Error: "inactive_user", Description: "user is inactive"}, 400, "inactive_user", "user is inactive", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%d", tt.provider, tt.fault.Error, tt.fault.AADSTS), func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cfg := e.config(tt.provider)
			tok := e.connect(tt.provider, cfg)
			f := tt.fault
			f.Provider, f.Kind, f.Times = tt.provider, fakeprovider.KindRefresh, 1
			e.fake.Inject(f)
			_, err := e.refresh(cfg, tok.RefreshToken)
			re := retrieveError(t, err)
			if re.Response.StatusCode != tt.status || re.ErrorCode != tt.code || !strings.HasPrefix(re.ErrorDescription, tt.desc) {
				t.Errorf("%d %q %q, want %d %q %q", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, tt.status, tt.code, tt.desc)
			}
			body := errorBody(t, re)
			for k, v := range tt.extra {
				if body[k] != v {
					t.Errorf("%s = %v, want %v", k, body[k], v)
				}
			}
			if tt.provider == catalog.Microsoft365 {
				checkAADSTSBody(t, body, aadstsOf(t, re.ErrorDescription))
			}
			if _, err := e.refresh(cfg, tok.RefreshToken); err != nil {
				t.Errorf("the refresh token after the injected refusal: %v", err)
			}
		})
	}
}

func aadstsOf(t *testing.T, desc string) int {
	t.Helper()
	n := 0
	for _, r := range strings.TrimPrefix(desc, "AADSTS") {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// TestFaultMalformedAndDelay.
func TestFaultMalformedAndDelay(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		cfg := e.config(p)
		tok := e.connect(p, cfg)
		remove := e.fake.Inject(fakeprovider.Fault{Provider: p, Kind: fakeprovider.KindRefresh, Malformed: true})
		for range 2 {
			_, err := e.refresh(cfg, tok.RefreshToken)
			var re *oauth2.RetrieveError
			if err == nil || errors.As(err, &re) {
				t.Fatalf("%s malformed: want a parse error, got %v", p, err)
			}
		}
		remove()
		remove() // twice is harmless
		start := time.Now()
		e.fake.Inject(fakeprovider.Fault{Provider: p, Kind: fakeprovider.KindRefresh, Delay: 80 * time.Millisecond, Times: 1})
		if _, err := e.refresh(cfg, tok.RefreshToken); err != nil {
			t.Fatalf("%s delayed refresh: %v", p, err)
		}
		if d := time.Since(start); d < 80*time.Millisecond {
			t.Errorf("%s: delay not applied (%v)", p, d)
		}
		if got := e.fake.Count(fakeprovider.Filter{Provider: p, Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeFaulted}); got != 2 {
			t.Errorf("%s faulted = %d, want 2 (a delay alone is not a fault)", p, got)
		}
	}
}

// TestFaultNarrowing: a fault narrowed to a client or user leaves the others
// alone.
func TestFaultNarrowing(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	p := catalog.GoogleWorkspace
	e.fake.AddUser(fakeprovider.User{Provider: p, Email: "dave@example.com", HostedDomain: "example.com"})
	cfg := e.config(p)
	alice := e.connect(p, cfg)
	dave := e.connect(p, cfg, oauth2.SetAuthURLParam("login_hint", "dave@example.com"))

	e.fake.Inject(fakeprovider.Fault{User: "DAVE@example.com", Error: fakeprovider.ErrInvalidGrant})
	if _, err := e.refresh(cfg, alice.RefreshToken); err != nil {
		t.Errorf("alice hit dave's fault: %v", err)
	}
	if _, err := e.refresh(cfg, dave.RefreshToken); err == nil {
		t.Error("dave's fault did not apply")
	}
	e.fake.ClearFaults()
	e.fake.Inject(fakeprovider.Fault{ClientID: "another-client", Status: 500})
	if _, err := e.refresh(cfg, dave.RefreshToken); err != nil {
		t.Errorf("a fault of another client applied: %v", err)
	}
	if got := e.fake.Count(fakeprovider.Filter{User: "dave@example.com", Kind: fakeprovider.KindRefresh}); got != 2 {
		t.Errorf("dave's refreshes = %d", got)
	}
	if got := e.fake.Count(fakeprovider.Filter{ClientID: cfg.ClientID, Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeOK}); got != 2 {
		t.Errorf("client's successful refreshes = %d", got)
	}
}

// TestFaultAuthorize: an injected error is a redirect with error=; a status
// is a page.
func TestFaultAuthorize(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	for _, p := range providers {
		cfg := e.config(p)
		e.fake.Inject(fakeprovider.Fault{Provider: p, Kind: fakeprovider.KindAuthorize, Error: "access_denied", Times: 1})
		f := e.authorize(p, cfg)
		if f.location == nil || f.location.Query().Get("error") != "access_denied" || f.location.Query().Get("state") != f.state || f.code != "" {
			t.Errorf("%s: %d %v", p, f.resp.StatusCode, f.location)
		}
		if p == catalog.Microsoft365 && !strings.HasPrefix(f.location.Query().Get("error_description"), "AADSTS65004:") {
			t.Errorf("Microsoft access_denied description = %q", f.location.Query().Get("error_description"))
		}
		e.fake.Inject(fakeprovider.Fault{Provider: p, Kind: fakeprovider.KindAuthorize, Status: 503, Times: 1})
		f = e.authorize(p, cfg)
		if f.resp.StatusCode != 503 || f.resp.Header.Get("Retry-After") != "1" || f.location != nil {
			t.Errorf("%s status fault: %d", p, f.resp.StatusCode)
		}
		if got := e.fake.Count(fakeprovider.Filter{Provider: p, Kind: fakeprovider.KindAuthorize, Outcome: fakeprovider.OutcomeFaulted}); got != 2 {
			t.Errorf("%s faulted authorizations = %d", p, got)
		}
		if f := e.authorize(p, cfg); f.code == "" {
			t.Errorf("%s: no code after the faults", p)
		}
	}
}

// TestFaultAPI: API faults in each dialect's shape, and on the other
// endpoint kinds.
func TestFaultAPI(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	throttled := map[string]string{catalog.Microsoft365: "TooManyRequests", catalog.GoogleWorkspace: "RESOURCE_EXHAUSTED", catalog.Salesforce: "REQUEST_LIMIT_EXCEEDED"}
	for _, p := range e.cat.All() {
		tok := e.connect(p.ID, e.config(p.ID))
		probe := strings.ReplaceAll(p.Capabilities[0].Probe.ReadURL, "{instance}", fakeprovider.DefaultSalesforceInstanceURL)
		e.fake.Inject(fakeprovider.Fault{Provider: p.ID, Kind: fakeprovider.KindAPI, Status: 429, RetryAfter: 3 * time.Second, Times: 1})
		status, body, hdr := e.getJSON(probe, tok.AccessToken)
		if status != 429 || hdr.Get("Retry-After") != "3" || apiErrorCode(t, p.ID, body) != throttled[p.ID] {
			t.Errorf("%s: %d %v", p.ID, status, body)
		}
		e.fake.Inject(fakeprovider.Fault{Provider: p.ID, Kind: fakeprovider.KindUserInfo, Status: 503, Times: 1})
		if resp := e.get(e.hc, p.Endpoints(testSettings[p.ID]).UserInfoURL, tok.AccessToken); resp.StatusCode != 503 {
			t.Errorf("%s userinfo fault: %d", p.ID, resp.StatusCode)
		}
	}
	sf := e.sfConfig("https://login.salesforce.com")
	tok := e.connect(catalog.Salesforce, sf)
	for _, kind := range []fakeprovider.Kind{fakeprovider.KindIntrospect, fakeprovider.KindRevoke} {
		e.fake.Inject(fakeprovider.Fault{Kind: kind, Status: 500, Times: 1})
		u := "https://login.salesforce.com/services/oauth2/" + map[fakeprovider.Kind]string{fakeprovider.KindIntrospect: "introspect", fakeprovider.KindRevoke: "revoke"}[kind]
		status, _, _ := e.postForm(u, url.Values{"token": {tok.AccessToken}, "client_id": {sf.ClientID}, "client_secret": {testSecret}}, "", "")
		if status != 500 {
			t.Errorf("%s fault: %d", kind, status)
		}
		if got := e.fake.Count(fakeprovider.Filter{Kind: kind, User: fakeprovider.DefaultSalesforceUser, Outcome: fakeprovider.OutcomeFaulted}); got != 1 {
			t.Errorf("%s faulted = %d", kind, got)
		}
	}
}

// TestLatency: the global latency delays every answer.
func TestLatency(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true, Latency: 40 * time.Millisecond})
	cfg := e.config(catalog.GoogleWorkspace)
	tok := e.connect(catalog.GoogleWorkspace, cfg)
	start := time.Now()
	if _, err := e.refresh(cfg, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("latency not applied: %v", d)
	}
	e.fake.SetLatency(0)
	start = time.Now()
	if _, err := e.refresh(cfg, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 40*time.Millisecond {
		t.Errorf("latency still applied after SetLatency(0): %v", d)
	}
}
