package microsoft

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

func TestClassifyAPI(t *testing.T) {
	graphErr := func(code string) string { return `{"error":{"code":"` + code + `","message":"quoted provider text"}}` }
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   oauthfail.API
	}{
		{"ok", 200, nil, `{}`, oauthfail.APIOK},
		{"429", 429, nil, ``, oauthfail.APIRateLimited},
		{"503", 503, nil, ``, oauthfail.APIUnavailable},
		{"401", 401, nil, graphErr("InvalidAuthenticationToken"), oauthfail.APITokenRejected},
		{"403 access denied", 403, nil, graphErr("ErrorAccessDenied"), oauthfail.APIForbidden},
		{"403 conditional access", 403, http.Header{"Www-Authenticate": {`Bearer realm="", error="insufficient_claims", claims="e30="`}}, graphErr("accessDenied"), oauthfail.APIConditionalAccess},
		{"401 claims challenge", 401, http.Header{"Www-Authenticate": {`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`}}, graphErr("InvalidAuthenticationToken"), oauthfail.APIConditionalAccess},
		{"404 item", 404, nil, graphErr("itemNotFound"), oauthfail.APINotFound},
		{"404 mail item", 404, nil, graphErr("ErrorItemNotFound"), oauthfail.APINotFound},
		{"no mailbox", 404, nil, graphErr("MailboxNotEnabledForRESTAPI"), oauthfail.APIUnlicensed},
		{"malformed id", 400, nil, graphErr("ErrorInvalidIdMalformed"), oauthfail.APIInvalidID},
		{"throttled as 403", 403, nil, graphErr("activityLimitReached"), oauthfail.APIRateLimited},
		{"teapot", 418, nil, ``, oauthfail.APIUnexpected},
	}
	for _, tt := range tests {
		h := tt.header
		if h == nil {
			h = http.Header{}
		}
		if got := New().Dialect.ClassifyAPI(tt.status, h, []byte(tt.body)); got != tt.want {
			t.Errorf("%s: ClassifyAPI = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestItemIDs(t *testing.T) {
	p := New()
	mail, _ := p.Capability(providers.Email)
	files, _ := p.Capability(providers.Files)
	tests := []struct {
		cs   providers.CapabilitySpec
		in   string
		want string // "" = refused
	}{
		{mail, "AAMkAGI2TG93AAA=", "AAMkAGI2TG93AAA="},
		{files, "01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K", "01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K"},
		{files, "b!abc-123_x!4", "b!abc-123_x!4"},
		{mail, "../../me/drive", ""},
		{mail, "a/b", ""},
		{mail, "a?b=c", ""},
		{mail, "..", ""},
		{mail, strings.Repeat("a", 513), ""},
	}
	for _, tt := range tests {
		got, err := p.ParseItem(tt.cs, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s %q: accepted as %q", tt.cs.ID, tt.in, got)
			} else if strings.Contains(err.Error(), tt.in) && len(tt.in) > 3 {
				t.Errorf("the error quotes the input: %v", err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %q = %q, %v; want %q", tt.cs.ID, tt.in, got, err, tt.want)
		}
	}
	if u, err := p.ProbeURL(files.Probe.ItemURL, store.Account{}, "b!x=1"); err != nil || u != "https://graph.microsoft.com/v1.0/me/drive/items/b%21x=1" {
		t.Errorf("ProbeURL = %q, %v", u, err)
	}
}

func TestFileMeta(t *testing.T) {
	d := New().Dialect
	m, ok := d.FileMeta([]byte(`{"id":"x","size":12,"file":{"mimeType":"application/pdf"}}`))
	if !ok || !m.SizeKnown || m.Size != 12 || m.MimeType != "application/pdf" || m.Folder || m.Exported {
		t.Fatalf("file: %+v %v", m, ok)
	}
	if m, ok := d.FileMeta([]byte(`{"id":"x","folder":{"childCount":2}}`)); !ok || !m.Folder || m.SizeKnown {
		t.Fatalf("folder: %+v %v", m, ok)
	}
	if _, ok := d.FileMeta([]byte(`{"size":`)); ok {
		t.Fatal("malformed metadata read")
	}
}
