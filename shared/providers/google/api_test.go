package google

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

func TestClassifyAPI(t *testing.T) {
	googleErr := func(code int, status, reason string) string {
		return `{"error":{"code":` + strconv.Itoa(code) + `,"message":"quoted","status":"` + status + `","errors":[{"message":"quoted","domain":"global","reason":"` + reason + `"}]}}`
	}
	tests := []struct {
		name   string
		status int
		body   string
		want   oauthfail.API
	}{
		{"401", 401, googleErr(401, "UNAUTHENTICATED", "authError"), oauthfail.APITokenRejected},
		{"scope", 403, googleErr(403, "PERMISSION_DENIED", "insufficientPermissions"), oauthfail.APIScopeMissing},
		{"scope in details", 403, `{"error":{"code":403,"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}`, oauthfail.APIScopeMissing},
		{"api disabled", 403, googleErr(403, "PERMISSION_DENIED", "accessNotConfigured"), oauthfail.APIDisabledForClient},
		{"rate limit as 403", 403, googleErr(403, "PERMISSION_DENIED", "userRateLimitExceeded"), oauthfail.APIRateLimited},
		{"forbidden", 403, googleErr(403, "PERMISSION_DENIED", "forbidden"), oauthfail.APIForbidden},
		{"calendar 404", 404, googleErr(404, "NOT_FOUND", "notFound"), oauthfail.APINotFound},
		{"drive 404 hides unshared files", 404, `{"error":{"code":404,"message":"File not found: abc.","errors":[{"message":"File not found: abc.","domain":"global","reason":"notFound","location":"fileId","locationType":"parameter"}]}}`, oauthfail.APINotFoundOrHidden},
		{"gmail invalid id", 400, googleErr(400, "INVALID_ARGUMENT", "invalidArgument"), oauthfail.APIInvalidID},
		{"gmail not enabled", 400, googleErr(400, "FAILED_PRECONDITION", "failedPrecondition"), oauthfail.APIUnlicensed},
		{"429", 429, ``, oauthfail.APIRateLimited},
	}
	for _, tt := range tests {
		if got := New().Dialect.ClassifyAPI(tt.status, http.Header{}, []byte(tt.body)); got != tt.want {
			t.Errorf("%s: ClassifyAPI = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestItemIDs(t *testing.T) {
	p := New()
	cs := func(c providers.Capability) providers.CapabilitySpec { s, _ := p.Capability(c); return s }
	tests := []struct {
		c    providers.Capability
		in   string
		want string // "" = refused
	}{
		{providers.Files, "1AbC_dEf-123", "1AbC_dEf-123"},
		{providers.Files, "1AbC dEf", ""},
		{providers.Contacts, "people/c123456789", "c123456789"},
		{providers.Contacts, "c123456789", "c123456789"},
		{providers.Contacts, strings.Repeat("c", 257), ""},
		{providers.Calendar, strings.Repeat("a", 1024), strings.Repeat("a", 1024)},
		{providers.Calendar, strings.Repeat("a", 1025), ""},
		{providers.Email, "%2e%2e", ""},
		{providers.Email, "..", ""},
	}
	for _, tt := range tests {
		got, err := p.ParseItem(cs(tt.c), tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s %q: accepted as %q", tt.c, tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %q = %q, %v; want %q", tt.c, tt.in, got, err, tt.want)
		}
	}
}

func TestFileMeta(t *testing.T) {
	d := New().Dialect
	tests := []struct {
		body             string
		folder, exported bool
		size             int64
		known            bool
	}{
		{`{"mimeType":"application/pdf","size":"1024"}`, false, false, 1024, true},
		{`{"mimeType":"application/vnd.google-apps.folder"}`, true, false, 0, false},
		{`{"mimeType":"application/vnd.google-apps.document"}`, false, true, 0, false},
	}
	for _, tt := range tests {
		m, ok := d.FileMeta([]byte(tt.body))
		if !ok || m.Folder != tt.folder || m.Exported != tt.exported || m.Size != tt.size || m.SizeKnown != tt.known {
			t.Errorf("%s: %+v %v", tt.body, m, ok)
		}
	}
	if _, ok := d.FileMeta([]byte(`[`)); ok {
		t.Error("malformed metadata read")
	}
}
