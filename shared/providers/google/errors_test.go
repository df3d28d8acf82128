package google

import (
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/providertest"
)

func TestClassifyToken(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		kind   oauthfail.Kind
		code   string
		owner  oauthfail.Owner
	}{
		{"revoked", 400, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, oauthfail.Reconnect, "token_revoked", oauthfail.OwnerUser},
		{"rapt", 400, `{"error":"invalid_grant","error_description":"reauth related error (invalid_rapt)","error_subtype":"invalid_rapt"}`, oauthfail.Reconnect, "reauth_required", oauthfail.OwnerUser},
		{"bad code", 400, `{"error":"invalid_grant","error_description":"Bad Request"}`, oauthfail.Reconnect, "invalid_grant", oauthfail.OwnerUser},
		{"client", 401, `{"error":"invalid_client","error_description":"Unauthorized"}`, oauthfail.ClientRefused, "invalid_client", oauthfail.OwnerAdmin},
		// A Workspace administrator's API controls: blocked, not a dead grant.
		{"admin policy", 400, `{"error":"admin_policy_enforced","error_description":"restricted by policies"}`, oauthfail.Blocked, "admin_policy_enforced", oauthfail.OwnerExternalAdmin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := New().Dialect.ClassifyToken(providertest.TokenError(t, tc.status, nil, tc.body, 0), providers.TokenCall{Grant: providers.GrantRefresh})
			if f.Kind != tc.kind || f.Code != tc.code || f.Owner != tc.owner || f.Cause == "" {
				t.Fatalf("ClassifyToken = %+v, want {%s %s %s}", f, tc.kind, tc.code, tc.owner)
			}
		})
	}
}

func TestClassifyAuthorize(t *testing.T) {
	if f := New().Dialect.ClassifyAuthorize("admin_policy_enforced", ""); f.Kind != oauthfail.Blocked || f.Owner != oauthfail.OwnerExternalAdmin || f.NeedsReconnect() {
		t.Fatalf("admin_policy_enforced at sign-in: %+v", f)
	}
	if f := New().Dialect.ClassifyAuthorize("access_denied", ""); f.Code != "access_denied" {
		t.Fatalf("access_denied: %+v", f)
	}
}

// TestTestingAppExpiry: an invalid_grant about seven days after an
// org-owned client's grant is the app's testing status, the admin's to fix.
func TestTestingAppExpiry(t *testing.T) {
	issued := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name string
		call providers.TokenCall
		want string
	}{
		{"seven days", providers.TokenCall{Grant: providers.GrantRefresh, GrantIssued: issued, Now: issued.Add(7*day + time.Minute), OrgClient: true}, "testing_app_token_expired"},
		{"an hour early", providers.TokenCall{Grant: providers.GrantRefresh, GrantIssued: issued, Now: issued.Add(7*day - 30*time.Minute), OrgClient: true}, "testing_app_token_expired"},
		{"eight days, an idle connection", providers.TokenCall{Grant: providers.GrantRefresh, GrantIssued: issued, Now: issued.Add(8*day + time.Hour), OrgClient: true}, "testing_app_token_expired"},
		{"three days", providers.TokenCall{Grant: providers.GrantRefresh, GrantIssued: issued, Now: issued.Add(3 * day), OrgClient: true}, "token_revoked"},
		{"ten days", providers.TokenCall{Grant: providers.GrantRefresh, GrantIssued: issued, Now: issued.Add(10 * day), OrgClient: true}, "token_revoked"},
		{"the platform's client", providers.TokenCall{Grant: providers.GrantRefresh, GrantIssued: issued, Now: issued.Add(7 * day), OrgClient: false}, "token_revoked"},
		{"issue unknown", providers.TokenCall{Grant: providers.GrantRefresh, Now: issued.Add(7 * day), OrgClient: true}, "token_revoked"},
	}
	for _, tc := range tests {
		err := providertest.TokenError(t, 400, nil, `{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`, 0)
		f := New().Dialect.ClassifyToken(err, tc.call)
		if f.Code != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, f.Code, tc.want)
		}
		if f.Code == "testing_app_token_expired" && (f.Owner != oauthfail.OwnerAdmin || strings.Contains(f.Cause, "months")) {
			t.Errorf("%s: %+v", tc.name, f)
		}
	}
}
