package salesforce

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// ClassifyToken: Salesforce's own error codes, and its invalid_grant
// descriptions that tell an expired refresh token from an inactive user or
// an IP restriction.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_flow_errors.htm
func (*dialect) ClassifyToken(err error, _ providers.TokenCall) oauthfail.Failure {
	return oauthfail.Token(err, tokenRules)
}

func tokenRules(re *oauth2.RetrieveError) (oauthfail.Failure, bool) {
	switch re.ErrorCode {
	case "invalid_client_id", "invalid_client_credentials":
		// The consumer key is unknown, or the consumer secret wrong: the
		// org's client is refused, like RFC 6749's invalid_client.
		return oauthfail.ClientFailure(re.ErrorCode), true
	case "inactive_user":
		return inactiveUser, true
	case "inactive_org":
		return inactiveOrg, true
	case "invalid_grant":
	default:
		return oauthfail.Failure{}, false
	}
	d := strings.ToLower(re.ErrorDescription)
	switch {
	case strings.Contains(d, "expired access/refresh token"):
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "token_expired", Owner: oauthfail.OwnerUser, Cause: "The Salesforce refresh token expired under the connected app's refresh token policy, or was revoked. Reconnect the account."}, true
	case strings.Contains(d, "inactive user"), strings.Contains(d, "user is inactive"):
		return inactiveUser, true
	case strings.Contains(d, "ip restricted"), strings.Contains(d, "ip_restricted"):
		return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "ip_restricted", Owner: oauthfail.OwnerExternalAdmin, Cause: "The provider's IP restrictions refuse this service."}, true
	}
	return oauthfail.Failure{}, false
}

// A deactivated user, or an org that is locked, closed or suspended: the
// Salesforce administrator's to fix, and the grant survives it (Blocked).
var (
	inactiveUser = oauthfail.Failure{Kind: oauthfail.Blocked, Code: "inactive_user", Owner: oauthfail.OwnerExternalAdmin,
		Cause: "The Salesforce administrator has deactivated this user. Once the user is active again, the connection works again by itself."}
	inactiveOrg = oauthfail.Failure{Kind: oauthfail.Blocked, Code: "inactive_org", Owner: oauthfail.OwnerExternalAdmin,
		Cause: "The Salesforce org is locked, closed or suspended. Once Salesforce reactivates it, the connection works again by itself."}
)

func (*dialect) ClassifyAuthorize(code, desc string) oauthfail.Failure {
	return oauthfail.Authorize(code, desc, authorizeRules)
}

func authorizeRules(code, _ string) (oauthfail.Failure, bool) {
	switch code {
	case "invalid_client_id":
		f := oauthfail.Authorize("invalid_client", "", nil)
		f.Code = code
		return f, true
	case "inactive_user":
		return inactiveUser, true
	case "inactive_org":
		return inactiveOrg, true
	}
	return oauthfail.Failure{}, false
}
