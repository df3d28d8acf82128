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
	return oauthfail.Authorize(code, desc, nil)
}
