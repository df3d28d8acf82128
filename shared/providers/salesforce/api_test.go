package salesforce

import (
	"net/http"
	"testing"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

func TestClassifyAPI(t *testing.T) {
	sfErr := func(code string) string { return `[{"message":"quoted","errorCode":"` + code + `"}]` }
	tests := []struct {
		name   string
		status int
		body   string
		want   oauthfail.API
	}{
		{"session", 401, sfErr("INVALID_SESSION_ID"), oauthfail.APITokenRejected},
		{"request limit is not a permission", 403, sfErr("REQUEST_LIMIT_EXCEEDED"), oauthfail.APIRateLimited},
		{"api disabled", 403, sfErr("API_DISABLED_FOR_ORG"), oauthfail.APIDisabledForUser},
		{"insufficient access", 403, sfErr("INSUFFICIENT_ACCESS"), oauthfail.APIForbidden},
		{"not found may be sharing", 404, sfErr("NOT_FOUND"), oauthfail.APINotFoundOrHidden},
		{"deleted", 404, sfErr("ENTITY_IS_DELETED"), oauthfail.APINotFound},
		{"malformed id", 400, sfErr("MALFORMED_ID"), oauthfail.APIInvalidID},
		{"empty body 403", 403, ``, oauthfail.APIForbidden},
		{"userinfo bad token", 403, "Bad_OAuth_Token", oauthfail.APITokenRejected},
		{"503", 503, sfErr("SERVER_UNAVAILABLE"), oauthfail.APIUnavailable},
	}
	for _, tt := range tests {
		if got := New().Dialect.ClassifyAPI(tt.status, http.Header{}, []byte(tt.body)); got != tt.want {
			t.Errorf("%s: ClassifyAPI = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestItemIDs(t *testing.T) {
	p := New()
	crm, _ := p.Capability(providers.CRM)
	tests := []struct{ in, want string }{
		{"Account/001000000000001AAA", "Account/001000000000001AAA"},
		{"My_Object__c/a01000000000001", "My_Object__c/a01000000000001"},
		{"001000000000001AAA", ""},
		{"Account/001000000000001AAA/extra", ""},
		{"Account/../limits", ""},
		{"Account/0010000000", ""},
		{"1Account/001000000000001AAA", ""},
		{"/001000000000001AAA", ""},
	}
	for _, tt := range tests {
		got, err := p.ParseItem(crm, tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestProbeURLsOnlyOnTheInstance(t *testing.T) {
	p := New()
	crm, _ := p.Capability(providers.CRM)
	tests := []struct {
		name     string
		instance string
		ok       bool
	}{
		{"My Domain", "https://acme.my.salesforce.com", true},
		{"instance with a slash", "https://na1.salesforce.com/", true},
		{"not salesforce", "https://evil.example.com", false},
		{"lookalike", "https://salesforce.com.evil.example", false},
		{"http", "http://acme.my.salesforce.com", false},
		{"userinfo", "https://x@acme.my.salesforce.com", false},
		{"path", "https://acme.my.salesforce.com/evil", false},
		{"missing", "", false},
	}
	for _, tt := range tests {
		u, err := p.ProbeURL(crm.Probe.ItemURL, store.Account{InstanceURL: tt.instance}, "Account/001000000000001AAA")
		if tt.ok != (err == nil) {
			t.Errorf("%s: %q, %v", tt.name, u, err)
		}
	}
	if u, _ := p.ProbeURL(crm.Probe.ItemURL, store.Account{InstanceURL: "https://acme.my.salesforce.com"}, "Account/001000000000001AAA"); u != "https://acme.my.salesforce.com/services/data/"+APIVersion+"/sobjects/Account/001000000000001AAA" {
		t.Errorf("record URL %q", u)
	}
	if _, ok := p.Dialect.FileMeta([]byte(`{}`)); ok {
		t.Error("Salesforce has no files")
	}
}
