package salesforce

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// ClassifyToken: Salesforce's invalid_grant descriptions tell apart an
// expired refresh token from an inactive user or an IP restriction.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm
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
	case strings.Contains(d, "expired access/refresh token"):
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "token_expired", Owner: oauthfail.OwnerUser, Cause: "The Salesforce refresh token expired under the connected app's refresh token policy, or was revoked. Reconnect the account."}, true
	case strings.Contains(d, "inactive user"), strings.Contains(d, "user is inactive"):
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "account_disabled", Owner: oauthfail.OwnerExternalAdmin, Cause: "The account is inactive at the provider."}, true
	case strings.Contains(d, "ip restricted"), strings.Contains(d, "ip_restricted"):
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "ip_restricted", Owner: oauthfail.OwnerExternalAdmin, Cause: "The provider's IP restrictions refuse this service."}, true
	}
	return oauthfail.Failure{}, false
}

func (*dialect) ClassifyAuthorize(code, desc string) oauthfail.Failure {
	return oauthfail.Authorize(code, desc, nil)
}
