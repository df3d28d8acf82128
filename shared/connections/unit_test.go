package connections

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

var _ Vault = (*tokenseal.Vault)(nil)

func TestCheckReturnTo(t *testing.T) {
	s := &Service{}
	var err error
	s.returnTo, err = parseAllowedReturnURLs([]string{"http://127.0.0.1:3000/", "https://app.example.com/settings", "https://web.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want error // nil: admitted
	}{
		{"", nil},
		{"http://127.0.0.1:3000/", nil},
		{"http://127.0.0.1:3000/connected?tab=apps", nil},
		{"https://app.example.com/settings", nil},
		{"https://app.example.com/settings/apps", nil},
		{"https://APP.example.com/settings/apps", nil},
		{"https://web.example.com/anything", nil},
		{"https://app.example.com/settingsevil", errReturnToNotAllowed},
		{"https://app.example.com/", errReturnToNotAllowed},
		{"http://app.example.com/settings", errReturnToNotAllowed},
		{"http://127.0.0.1:3001/", errReturnToNotAllowed},
		{"http://127.0.0.1:3000.evil.example/", errReturnToFormat}, // an invalid port
		{"http://localhost:3000.evil.example/", errReturnToFormat},
		{"http://127.0.0.1:30000/", errReturnToNotAllowed},
		{"https://web.example.com.evil.example/", errReturnToNotAllowed},
		{"https://evil.example/?next=https://web.example.com", errReturnToNotAllowed},
		{"https://user:pw@web.example.com/", errReturnToFormat},
		{"https://web.example.com/#frag", errReturnToFormat},
		{"javascript:alert(1)", errReturnToFormat},
		{"/relative/path", errReturnToFormat},
		{"//web.example.com/x", errReturnToFormat},
		{"https://web.example.com/a b", errReturnToFormat},
		{"https:\\\\web.example.com", errReturnToFormat},
		{"https://web.example.com/" + strings.Repeat("a", MaxReturnToLength), errReturnToFormat},
		// Dot segments resolve after the prefix check: refused in every form.
		{"https://app.example.com/settings/integrations/../../logout", errReturnToDotSegments},
		{"https://app.example.com/settings/..", errReturnToDotSegments},
		{"https://app.example.com/settings/./apps", errReturnToDotSegments},
		{"https://app.example.com/settings/%2e%2e/logout", errReturnToDotSegments},
		{"https://app.example.com/settings/%2E%2E/logout", errReturnToDotSegments},
		{"https://app.example.com/settings/.%2E/logout", errReturnToDotSegments},
		{"https://app.example.com/settings/%2e./logout", errReturnToDotSegments},
		{"https://app.example.com/settings/%2e/apps", errReturnToDotSegments},
		{"https://app.example.com/settings/..%2flogout", errReturnToDotSegments},
		{"https://app.example.com/settings/..;/logout", errReturnToDotSegments},
		{"http://127.0.0.1:3000/a/../../b", errReturnToDotSegments},
		{"https://evil.example/../settings", errReturnToDotSegments},
		// Dots inside a name are not segments.
		{"https://app.example.com/settings/v1.2/apps", nil},
		{"https://app.example.com/settings/...", nil},
		{"https://app.example.com/settings/.well-known", nil},
		{"https://app.example.com/settings?next=../x", nil},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 60 {
			name = name[:60] + "..."
		}
		t.Run(name, func(t *testing.T) {
			got, err := s.checkReturnTo(tc.in)
			if err != tc.want {
				t.Fatalf("checkReturnTo(%q) error = %v, want %v", tc.in, err, tc.want)
			}
			if err == nil && tc.in != "" && got == "" {
				t.Fatalf("checkReturnTo(%q) admitted but returned empty", tc.in)
			}
		})
	}
}

func TestParseAllowedReturnURLsRefusesJunk(t *testing.T) {
	for _, bad := range []string{"not a url", "ftp://x.example/", "https://x.example/?q=1", "/path"} {
		if _, err := parseAllowedReturnURLs([]string{bad}); err == nil {
			t.Errorf("parseAllowedReturnURLs(%q) accepted", bad)
		}
	}
}

func TestWithOutcomeKeepsQuery(t *testing.T) {
	got, err := withOutcome("http://127.0.0.1:3000/apps?tab=connected", CallbackResult{Status: OutcomeError, Code: "state_invalid", Provider: "salesforce"}.Params())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if u.Path != "/apps" || q.Get("tab") != "connected" || q.Get("status") != "error" || q.Get("code") != "state_invalid" || q.Get("provider") != "salesforce" {
		t.Fatalf("withOutcome = %s", got)
	}
}

func TestNewStateIsRandomAndOnlyItsHashIsStored(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v, id, err := newState()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(raw) != 32 {
			t.Fatalf("state %q is not 32 bytes base64url", v)
		}
		if len(id) != 64 || id == v || strings.Contains(id, v) || id != StateID(v) {
			t.Fatalf("id %q is not the SHA-256 hex of the state", id)
		}
		if seen[v] {
			t.Fatal("state repeated")
		}
		seen[v] = true
	}
	if len(mustState(t)) > MaxStateLength {
		t.Fatal("our own states exceed MaxStateLength")
	}
}

func mustState(t *testing.T) string {
	v, _, err := newState()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidLoginHint(t *testing.T) {
	for in, want := range map[string]bool{
		"":                          true,
		"adele.vance@contoso.test":  true,
		"a b@x.test":                false,
		"x\n@x.test":                false,
		strings.Repeat("a", 321):    false,
		strings.Repeat("a", 320):    true,
		"user@example.com\u0000bad": false,
	} {
		if got := validLoginHint(in); got != want {
			t.Errorf("validLoginHint(%q) = %v, want %v", in, got, want)
		}
	}
}

func tokenWith(extra map[string]any) *oauth2.Token {
	return (&oauth2.Token{AccessToken: "fake-access"}).WithExtra(extra)
}

func TestGrantedScopes(t *testing.T) {
	req := []string{"openid", "api"}
	tests := []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"absent means as requested", map[string]any{}, req},
		{"empty means as requested", map[string]any{"scope": ""}, req},
		{"space separated", map[string]any{"scope": "api  refresh_token"}, []string{"api", "refresh_token"}},
		{"array", map[string]any{"scope": []any{"a", "b"}}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := grantedScopes(tokenWith(tc.extra), req); !slices.Equal(got, tc.want) {
				t.Fatalf("grantedScopes = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestViewNeverCarriesTokensOrLease(t *testing.T) {
	cat := catalog.New()
	p, _ := cat.Get(catalog.Salesforce)
	c := store.Connection{
		ConnKey:       store.ConnKey{OrgID: "o1", UserID: "u1", Provider: p.ID},
		Status:        store.StatusConnected,
		GrantedScopes: []string{"refresh_token", "openid", "id"},
		SealedTokens:  []byte("sealed-bytes-marker"), TokenKeyID: "key-marker",
		LeaseOwner: "lease-owner-marker", LeaseUntil: time.Now(), NextRefreshAt: time.Now(), OffIndexReason: "off-index-marker",
		LastError: &store.ConnError{Code: "no_refresh_token", Message: "m", Owner: "user"},
	}
	b, err := json.Marshal(NewView(p, readiness.Of(p, readiness.Facts{}), c, auth.Principal{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"sealed", "c2VhbGVk", "key-marker", "lease", "nextRefresh", "off-index-marker", "tokenKeyId"} {
		if strings.Contains(string(b), bad) {
			t.Errorf("view JSON contains %q: %s", bad, b)
		}
	}
	for _, want := range []string{`"missingScopes":[]`, `"needsConsent":false`, `"usableCapabilities":[]`, `"lastError":{"code":"no_refresh_token"`, `"accessExpiresAt":null`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("view JSON lacks %s: %s", want, b)
		}
	}
}

func TestPageEscapesAndForbidsScripts(t *testing.T) {
	rec := httptest.NewRecorder()
	writePage(rec, CallbackResult{Status: OutcomeError, Code: "<b>code</b>", Message: `<script>alert("x")</script>`})
	body := rec.Body.String()
	if rec.Code != 400 {
		t.Errorf("status = %d, want 400", rec.Code)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<b>code") {
		t.Errorf("page did not escape: %s", body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	rec = httptest.NewRecorder()
	writePage(rec, CallbackResult{Status: OutcomePending, Message: "Return to the app to finish connecting your Salesforce account."})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "finish connecting your Salesforce account") {
		t.Errorf("pending page = %d %s", rec.Code, rec.Body.String())
	}
}

// The pending outcome carries the completion handle to returnTo, beside
// the returnTo's own query.
func TestWithOutcomeCarriesTheCompletion(t *testing.T) {
	got, err := withOutcome("https://app.example/apps?tab=connected", CallbackResult{Status: OutcomePending, Provider: "google_workspace", Completion: "h-123"}.Params())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if q.Get("tab") != "connected" || q.Get("status") != "pending" || q.Get("completion") != "h-123" || q.Get("provider") != "google_workspace" || q.Has("code") {
		t.Fatalf("withOutcome = %s", got)
	}
}

// TestViewNeedsConsentUnderCurrentSettings: a connection made when the org
// had email only, after the admin added calendar: the view asks for what
// the settings ask now, names the scope the connection lacks, keeps email
// usable, and says the user needs to consent; a user the rollout no longer
// includes cannot connect again, so is not told to; the org's test account
// is, whatever the rollout.
func TestViewNeedsConsentUnderCurrentSettings(t *testing.T) {
	p, _ := catalog.New().Get(catalog.GoogleWorkspace)
	const gauth = "https://www.googleapis.com/auth/"
	c := store.Connection{
		ConnKey: store.ConnKey{OrgID: "o1", UserID: "u1", Provider: p.ID}, Status: store.StatusConnected, ClientRef: store.ConfigModeDefault,
		RequestedScopes: []string{"openid", "email", "profile", gauth + "gmail.readonly"},
		GrantedScopes:   []string{"openid", gauth + "userinfo.email", gauth + "userinfo.profile", gauth + "gmail.readonly"},
	}
	in := store.Integration{OrgID: "o1", Provider: p.ID, Enabled: true, ConfigMode: store.ConfigModeDefault,
		Capabilities: []string{"email", "calendar"}, Rollout: store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot"}}}
	v := readiness.Of(p, readiness.Facts{Offered: true, Integration: &in, DefaultClient: true})

	view := NewView(p, v, c, auth.Principal{OrgID: "o1", UserID: "u1", Groups: []string{"pilot"}})
	if !view.NeedsConsent || !slices.Equal(view.MissingScopes, []string{gauth + "calendar.readonly"}) {
		t.Errorf("needsConsent %v, missingScopes %v; want true, [calendar.readonly]", view.NeedsConsent, view.MissingScopes)
	}
	if !slices.Equal(view.RequestedScopes, v.RequestedScopes(p)) || !slices.Contains(view.RequestedScopes, gauth+"calendar.readonly") {
		t.Errorf("requestedScopes %v, want the current settings' %v", view.RequestedScopes, v.RequestedScopes(p))
	}
	if !slices.Equal(view.UsableCapabilities, []catalog.Capability{catalog.Email}) {
		t.Errorf("usableCapabilities %v, want [email]", view.UsableCapabilities)
	}

	if out := NewView(p, v, c, auth.Principal{OrgID: "o1", UserID: "u1"}); out.NeedsConsent {
		t.Error("a user outside the rollout is told to consent again")
	}
	ta := c
	ta.ConnKey = store.TestAccountKey("o1", p.ID)
	if view := testAccountView(p, v, ta); !view.NeedsConsent {
		t.Error("the test account lacking a scope does not need consent")
	}
}
