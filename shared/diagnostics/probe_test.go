package diagnostics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/store"
)

func TestClassify(t *testing.T) {
	ms, g, sf := catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce
	graphErr := func(code string) string { return `{"error":{"code":"` + code + `","message":"quoted provider text"}}` }
	googleErr := func(code int, status, reason string) string {
		return `{"error":{"code":` + strconv.Itoa(code) + `,"message":"quoted","status":"` + status + `","errors":[{"message":"quoted","domain":"global","reason":"` + reason + `"}]}}`
	}
	sfErr := func(code string) string { return `[{"message":"quoted","errorCode":"` + code + `"}]` }
	tests := []struct {
		name      string
		provider  string
		status    int
		header    http.Header
		body      string
		want      probeKind
		ambiguous bool
	}{
		{"ok", ms, 200, nil, `{}`, probeOK, false},
		{"429 any dialect", g, 429, nil, ``, probeRateLimited, false},
		{"503 any dialect", sf, 503, nil, ``, probeTransient, false},

		{"graph 401", ms, 401, nil, graphErr("InvalidAuthenticationToken"), probeUnauthorized, false},
		{"graph 403 access denied", ms, 403, nil, graphErr("ErrorAccessDenied"), probeForbidden, false},
		{"graph 403 conditional access", ms, 403, http.Header{"Www-Authenticate": {`Bearer realm="", error="insufficient_claims", claims="e30="`}}, graphErr("accessDenied"), probeConditionalAccess, false},
		{"graph 404 item", ms, 404, nil, graphErr("itemNotFound"), probeNotFound, false},
		{"graph 404 mail item", ms, 404, nil, graphErr("ErrorItemNotFound"), probeNotFound, false},
		{"graph no mailbox", ms, 404, nil, graphErr("MailboxNotEnabledForRESTAPI"), probeUnlicensed, false},
		{"graph malformed id", ms, 400, nil, graphErr("ErrorInvalidIdMalformed"), probeInvalidID, false},
		{"graph throttled as 403", ms, 403, nil, graphErr("activityLimitReached"), probeRateLimited, false},

		{"google 401", g, 401, nil, googleErr(401, "UNAUTHENTICATED", "authError"), probeUnauthorized, false},
		{"google scope", g, 403, nil, googleErr(403, "PERMISSION_DENIED", "insufficientPermissions"), probeScopeMissing, false},
		{"google scope in details", g, 403, nil, `{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}`, probeScopeMissing, false},
		{"google api disabled", g, 403, nil, googleErr(403, "PERMISSION_DENIED", "accessNotConfigured"), probeAPIDisabled, false},
		{"google rate limit as 403", g, 403, nil, googleErr(403, "PERMISSION_DENIED", "userRateLimitExceeded"), probeRateLimited, false},
		{"google forbidden", g, 403, nil, googleErr(403, "PERMISSION_DENIED", "forbidden"), probeForbidden, false},
		{"google calendar 404", g, 404, nil, googleErr(404, "NOT_FOUND", "notFound"), probeNotFound, false},
		{"drive 404 hides unshared files", g, 404, nil, `{"error":{"code":404,"message":"File not found: abc.","errors":[{"message":"File not found: abc.","domain":"global","reason":"notFound","location":"fileId","locationType":"parameter"}]}}`, probeNotFound, true},
		{"gmail invalid id", g, 400, nil, googleErr(400, "INVALID_ARGUMENT", "invalidArgument"), probeInvalidID, false},
		{"gmail not enabled", g, 400, nil, googleErr(400, "FAILED_PRECONDITION", "failedPrecondition"), probeUnlicensed, false},

		{"salesforce session", sf, 401, nil, sfErr("INVALID_SESSION_ID"), probeUnauthorized, false},
		{"salesforce request limit is not a permission", sf, 403, nil, sfErr("REQUEST_LIMIT_EXCEEDED"), probeRateLimited, false},
		{"salesforce api disabled", sf, 403, nil, sfErr("API_DISABLED_FOR_ORG"), probeAPIDisabled, false},
		{"salesforce insufficient access", sf, 403, nil, sfErr("INSUFFICIENT_ACCESS"), probeForbidden, false},
		{"salesforce not found may be sharing", sf, 404, nil, sfErr("NOT_FOUND"), probeNotFound, true},
		{"salesforce deleted", sf, 404, nil, sfErr("ENTITY_IS_DELETED"), probeNotFound, false},
		{"salesforce malformed id", sf, 400, nil, sfErr("MALFORMED_ID"), probeInvalidID, false},
		{"salesforce empty body 403", sf, 403, nil, ``, probeForbidden, false},
		{"salesforce userinfo bad token", sf, 403, nil, "Bad_OAuth_Token", probeUnauthorized, false},

		{"teapot", ms, 418, nil, ``, probeUnexpected, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			got := classify(tt.provider, tt.status, h, []byte(tt.body))
			if got.kind != tt.want || got.ambiguousNotFound != tt.ambiguous {
				t.Fatalf("classify = kind %d ambiguous %v, want %d %v", got.kind, got.ambiguousNotFound, tt.want, tt.ambiguous)
			}
			if got.body != nil && tt.status >= 300 {
				t.Fatal("an error body must not be kept")
			}
		})
	}
}

func TestParseItem(t *testing.T) {
	cat := catalog.New()
	spec := func(p string, c catalog.Capability) (catalog.Provider, catalog.CapabilitySpec) {
		pr, _ := cat.Get(p)
		cs, _ := pr.Capability(c)
		return pr, cs
	}
	tests := []struct {
		provider string
		cap      catalog.Capability
		in       string
		want     string // "" = refused
	}{
		{catalog.Microsoft365, catalog.Email, "AAMkAGI2TG93AAA=", "AAMkAGI2TG93AAA="},
		{catalog.Microsoft365, catalog.Files, "01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K", "01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K"},
		{catalog.Microsoft365, catalog.Files, "b!abc-123_x!4", "b!abc-123_x!4"},
		{catalog.Microsoft365, catalog.Email, "../../me/drive", ""},
		{catalog.Microsoft365, catalog.Email, "a/b", ""},
		{catalog.Microsoft365, catalog.Email, "a?b=c", ""},
		{catalog.Microsoft365, catalog.Email, "..", ""},
		{catalog.Microsoft365, catalog.Email, strings.Repeat("a", 513), ""},
		{catalog.GoogleWorkspace, catalog.Files, "1AbC_dEf-123", "1AbC_dEf-123"},
		{catalog.GoogleWorkspace, catalog.Files, "1AbC dEf", ""},
		{catalog.GoogleWorkspace, catalog.Contacts, "people/c123456789", "c123456789"},
		{catalog.GoogleWorkspace, catalog.Contacts, "c123456789", "c123456789"},
		{catalog.GoogleWorkspace, catalog.Calendar, strings.Repeat("a", 1024), strings.Repeat("a", 1024)},
		{catalog.GoogleWorkspace, catalog.Email, "%2e%2e", ""},
		{catalog.Salesforce, catalog.CRM, "Account/001000000000001AAA", "Account/001000000000001AAA"},
		{catalog.Salesforce, catalog.CRM, "My_Object__c/a01000000000001", "My_Object__c/a01000000000001"},
		{catalog.Salesforce, catalog.CRM, "001000000000001AAA", ""},
		{catalog.Salesforce, catalog.CRM, "Account/001000000000001AAA/extra", ""},
		{catalog.Salesforce, catalog.CRM, "Account/../limits", ""},
		{catalog.Salesforce, catalog.CRM, "Account/0010000000", ""},
	}
	for _, tt := range tests {
		p, cs := spec(tt.provider, tt.cap)
		got, err := ParseItem(p, cs, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s %s %q: accepted as %q, want refused", tt.provider, tt.cap, tt.in, got)
			} else if strings.Contains(err.Error(), tt.in) && len(tt.in) > 3 {
				t.Errorf("the error quotes the input: %v", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %s %q = %q, %v; want %q", tt.provider, tt.cap, tt.in, got, err, tt.want)
		}
	}
}

func TestExpandURL(t *testing.T) {
	sfAcct := store.Account{InstanceURL: "https://acme.my.salesforce.com"}
	tests := []struct {
		name string
		tmpl string
		acct store.Account
		id   string
		want string // "" = error
	}{
		{"graph item", "https://graph.microsoft.com/v1.0/me/drive/items/{id}", store.Account{}, "b!x=1", "https://graph.microsoft.com/v1.0/me/drive/items/b%21x=1"},
		{"query after id", "https://gmail.googleapis.com/gmail/v1/users/me/messages/{id}?format=metadata", store.Account{}, "18c0ffee", "https://gmail.googleapis.com/gmail/v1/users/me/messages/18c0ffee?format=metadata"},
		{"salesforce record", "{instance}/services/data/v62.0/sobjects/{id}", sfAcct, "Account/001000000000001AAA", "https://acme.my.salesforce.com/services/data/v62.0/sobjects/Account/001000000000001AAA"},
		{"salesforce read", "{instance}/services/data/v62.0/limits", store.Account{InstanceURL: "https://na1.salesforce.com/"}, "", "https://na1.salesforce.com/services/data/v62.0/limits"},
		{"instance not salesforce", "{instance}/services/data/v62.0/limits", store.Account{InstanceURL: "https://evil.example.com"}, "", ""},
		{"instance lookalike", "{instance}/services/data/v62.0/limits", store.Account{InstanceURL: "https://salesforce.com.evil.example"}, "", ""},
		{"instance http", "{instance}/services/data/v62.0/limits", store.Account{InstanceURL: "http://acme.my.salesforce.com"}, "", ""},
		{"instance with userinfo", "{instance}/services/data/v62.0/limits", store.Account{InstanceURL: "https://x@acme.my.salesforce.com"}, "", ""},
		{"instance with path", "{instance}/services/data/v62.0/limits", store.Account{InstanceURL: "https://acme.my.salesforce.com/evil"}, "", ""},
		{"instance missing", "{instance}/services/data/v62.0/limits", store.Account{}, "", ""},
		{"id missing", "https://graph.microsoft.com/v1.0/me/messages/{id}", store.Account{}, "", ""},
	}
	for _, tt := range tests {
		got, err := expandURL(tt.tmpl, tt.acct, tt.id)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: = %q, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	// Every catalog probe template expands to its provider's host.
	for _, p := range catalog.New().All() {
		for _, cs := range p.Capabilities {
			for _, tmpl := range []string{cs.Probe.ReadURL, cs.Probe.ItemURL, cs.Probe.ContentURL} {
				if tmpl == "" {
					continue
				}
				id := "abc123"
				if p.ID == catalog.Salesforce {
					id = "Account/001000000000001AAA"
				}
				if _, err := expandURL(tmpl, sfAcct, id); err != nil {
					t.Errorf("%s %s: %q: %v", p.ID, cs.ID, tmpl, err)
				}
			}
		}
	}
}

func TestProberSendsTokenAndBoundsCalls(t *testing.T) {
	var gotAuth, gotPath string
	mux := http.NewServeMux()
	mux.HandleFunc("/graph.microsoft.com/v1.0/me/drive/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x","size":3}`))
	})
	mux.HandleFunc("/graph.microsoft.com/v1.0/me/drive/items/{id}/content", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	})
	mux.HandleFunc("/graph.microsoft.com/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rw, err := outbound.NewRewriter(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &prober{client: outbound.NewClient(rw, 5*time.Second), timeout: 200 * time.Millisecond}
	ctx := context.Background()

	u, _ := expandURL("https://graph.microsoft.com/v1.0/me/drive/items/{id}", store.Account{}, "b!x")
	res := p.get(ctx, catalog.Microsoft365, u, "fake-access-token-1")
	if res.kind != probeOK || gotAuth != "Bearer fake-access-token-1" || gotPath != "/graph.microsoft.com/v1.0/me/drive/items/b%21x" {
		t.Fatalf("get = %+v, auth %q, path %q", res, gotAuth, gotPath)
	}
	if string(res.body) != `{"id":"x","size":3}` {
		t.Fatalf("body = %q", res.body)
	}

	start := time.Now()
	if res := p.get(ctx, catalog.Microsoft365, "https://graph.microsoft.com/slow", "t"); res.kind != probeTransient {
		t.Fatalf("slow answer = %+v, want transient", res)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the probe timeout did not bound the call: %v", d)
	}

	cu, _ := expandURL("https://graph.microsoft.com/v1.0/me/drive/items/{id}/content", store.Account{}, "b!x")
	res, n, truncated := p.download(ctx, catalog.Microsoft365, cu, "t", 1000)
	if res.kind != probeOK || n != 100 || truncated || res.contentType != "application/pdf" {
		t.Fatalf("download = %+v %d %v", res, n, truncated)
	}
	_, n, truncated = p.download(ctx, catalog.Microsoft365, cu, "t", 10)
	if n != 10 || !truncated {
		t.Fatalf("bounded download = %d %v, want 10 true", n, truncated)
	}
	if res := p.get(ctx, catalog.Microsoft365, "https://graph.microsoft.com/nothing-here", "t"); res.kind != probeNotFound {
		t.Fatalf("404 = %+v", res)
	}
}
