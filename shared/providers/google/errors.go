package google

import (
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// ClassifyToken: Google says more in invalid_grant's description (and
// error_subtype) than the code does.
// Docs: https://developers.google.com/identity/protocols/oauth2#expiration
func (*dialect) ClassifyToken(err error, t providers.TokenCall) oauthfail.Failure {
	f := oauthfail.Token(err, tokenRules)
	if f.Code == "token_revoked" && testingExpiry(t) {
		return testingAppTokenExpired
	}
	return f
}

// testingExpiry reports whether a refresh of an org-owned client's grant
// failed about seven days after the grant was issued: Google expires the
// refresh tokens of an external app in Testing publishing status then
// (unless it asked only for name, email and profile, which this service
// never does alone). From an hour early (clocks differ) to two days late
// (an idle connection is refreshed once a day, and a run may be missed).
// Docs: https://developers.google.com/identity/protocols/oauth2#expiration
func testingExpiry(t providers.TokenCall) bool {
	const week = 7 * 24 * time.Hour
	age := t.Now.Sub(t.GrantIssued)
	return t.Grant == providers.GrantRefresh && t.OrgClient && !t.GrantIssued.IsZero() &&
		age >= week-time.Hour && age < week+2*24*time.Hour
}

// testingAppTokenExpired is the admin's to fix: publish the app, or make
// it Internal (Workspace accounts only), in the Google Cloud console; the
// user then connects again.
// Docs: https://support.google.com/cloud/answer/15549945
var testingAppTokenExpired = oauthfail.Failure{
	Kind: oauthfail.Reconnect, Code: "testing_app_token_expired", Owner: oauthfail.OwnerAdmin,
	Cause: "Google ended this sign-in seven days after it was given, as it does for apps whose OAuth consent screen is in testing. An admin publishes the app (or makes it Internal) in the Google Cloud console; then the user reconnects.",
}

// tokenRules are what the provider's own error answers mean.
func tokenRules(re *oauth2.RetrieveError) (oauthfail.Failure, bool) {
	if re.ErrorCode == adminPolicy {
		return adminPolicyEnforced, true
	}
	if re.ErrorCode != "invalid_grant" {
		return oauthfail.Failure{}, false
	}
	d := strings.ToLower(re.ErrorDescription)
	switch {
	case strings.Contains(d, "rapt"):
		// A Workspace session control (reauthentication policy).
		// Docs: https://support.google.com/a/answer/9368756
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "reauth_required", Owner: oauthfail.OwnerUser, Cause: "Google Workspace session control requires signing in again. Reconnect the account."}, true
	case strings.Contains(d, "expired or revoked"):
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "token_revoked", Owner: oauthfail.OwnerUser, Cause: "The access was revoked or expired at the provider (for example removed in the account's security settings, or unused for months). Reconnect the account."}, true
	}
	return oauthfail.Failure{}, false
}

func (*dialect) ClassifyAuthorize(code, desc string) oauthfail.Failure {
	return oauthfail.Authorize(code, desc, authorizeRules)
}

func authorizeRules(code, _ string) (oauthfail.Failure, bool) {
	return adminPolicyEnforced, code == adminPolicy
}

// adminPolicy: a Google Workspace administrator's API controls do not let
// the account use the app (or some of its scopes), at sign-in and at every
// refresh. The grant itself is not revoked: the same refresh token works
// again once the administrator allows the app, so it is Blocked (retried
// slowly), never a reconnect.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#authorization-errors-admin-policy-enforced
// and https://support.google.com/a/answer/7281227 (API controls).
const adminPolicy = "admin_policy_enforced"

var adminPolicyEnforced = oauthfail.Failure{
	Kind: oauthfail.Blocked, Code: adminPolicy, Owner: oauthfail.OwnerExternalAdmin,
	Cause: "The Google Workspace administrator of this account does not allow the app (Admin console, Security, API controls). Once the app is allowed, the connection works again by itself.",
}
