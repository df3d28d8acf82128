package google

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// ClassifyToken: Google says more in invalid_grant's description (and
// error_subtype) than the code does.
// Docs: https://developers.google.com/identity/protocols/oauth2#expiration
func (*dialect) ClassifyToken(err error, _ providers.TokenCall) oauthfail.Failure {
	return oauthfail.Token(err, tokenRules)
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
