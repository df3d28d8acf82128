package microsoft

import (
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// ClassifyToken: the AADSTS code in error_description decides, whatever the
// OAuth error code says.
func (*dialect) ClassifyToken(err error, _ providers.TokenCall) oauthfail.Failure {
	return oauthfail.Token(err, tokenRules)
}

func (*dialect) ClassifyAuthorize(code, desc string) oauthfail.Failure {
	return oauthfail.Authorize(code, desc, authorizeRules)
}

func tokenRules(re *oauth2.RetrieveError) (oauthfail.Failure, bool) {
	return aadsts(aadstsCode(re.ErrorDescription))
}

func authorizeRules(_, desc string) (oauthfail.Failure, bool) {
	return aadsts(aadstsCode(desc))
}

// aadstsCode returns the digits of the first AADSTS<digits> in desc, ""
// when there is none.
func aadstsCode(desc string) string {
	const prefix = "AADSTS"
	i := strings.Index(desc, prefix)
	if i < 0 {
		return ""
	}
	rest := desc[i+len(prefix):]
	n := 0
	for n < len(rest) && n < 10 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	return rest[:n]
}

// aadsts is what a Microsoft identity platform error code means.
// Docs: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
func aadsts(code string) (oauthfail.Failure, bool) {
	for _, e := range aadstsCodes {
		if e.code == code {
			return e.f, true
		}
	}
	return oauthfail.Failure{}, false
}

// aadstsCodes is a table, not a switch or a map: static data, so nothing is
// built when a function starts and no code is linked per entry.
var aadstsCodes = []struct {
	code string
	f    oauthfail.Failure
}{
	{"50173", reconnect("grant_revoked", "The Microsoft sign-in was revoked, for example after a password change. Reconnect the account.")},
	{"700082", reconnect("refresh_token_inactive", "The Microsoft sign-in expired after a long time unused. Reconnect the account.")},
	{"70043", reconnect("sign_in_frequency", "Your organization's Conditional Access sign-in frequency requires signing in again. Reconnect the account.")},
	{"70008", reconnect("refresh_token_expired", "The Microsoft sign-in expired. Reconnect the account.")},
	{"50076", reconnect("mfa_required", "Microsoft requires multi-factor authentication again. Reconnect the account.")},
	{"50079", reconnect("mfa_required", "Microsoft requires multi-factor authentication enrollment. Reconnect the account.")},
	// The user can consent again; where the tenant does not let users
	// consent to apps, its administrator consents for them.
	// Docs: https://learn.microsoft.com/entra/identity/enterprise-apps/configure-user-consent
	{"65001", oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "consent_required", Owner: oauthfail.OwnerUser, Fallback: oauthfail.OwnerExternalAdmin,
		Cause: "The app no longer has this account's consent in Microsoft Entra. Reconnect the account and consent again; where the organization does not let users consent to apps, a tenant admin must grant consent first: an organization admin starts Microsoft 365 admin consent in the integration's settings."}},
	{"50057", oauthfail.Failure{Kind: oauthfail.Reconnect, Code: "account_disabled", Owner: oauthfail.OwnerExternalAdmin, Cause: "The Microsoft account is disabled in its tenant."}},
	{"50020", reconnect("account_not_in_tenant", "The Microsoft account is not in the tenant the integration is configured for. Connect a work account of that tenant.")},

	// The tenant's policies: its administrator acts, and the grant
	// survives, so they are Blocked (retried slowly), never a reconnect.
	//
	// The app requires assignment and the user is not assigned.
	// Docs: https://learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/error-code-aadsts50105-user-not-assigned-role
	{"50105", blocked("user_not_assigned", "The Microsoft Entra app requires user assignment and this account is not assigned to it. The tenant's admin assigns the user (or a group of theirs) to the app under Enterprise applications; the connection then works again by itself.")},
	{"90072", blocked("external_user_required", "This account is not in the Microsoft tenant the integration signs in to. The tenant's admin adds it as an external (guest) user first; the connection then works again by itself.")},
	// Docs: https://learn.microsoft.com/entra/identity/conditional-access/troubleshoot-conditional-access
	{"53000", blocked("device_not_compliant", "A Conditional Access policy of the Microsoft tenant requires a compliant device, which a service acting for the user is not. The tenant's admin exempts or allows the app; the connection then works again by itself.")},
	{"530003", blocked("device_not_managed", "A Conditional Access policy of the Microsoft tenant requires a managed device, which a service acting for the user is not. The tenant's admin exempts or allows the app; the connection then works again by itself.")},
	{"53003", blocked("conditional_access_blocked", "A Conditional Access policy in the Microsoft tenant blocks this sign-in. The tenant's admin must allow it; the connection then works again by itself.")},

	// A single-tenant app under organizations or common: the org's tenant
	// setting does not fit its app registration.
	// Docs: https://learn.microsoft.com/entra/identity-platform/howto-convert-app-to-be-multi-tenant
	{"50194", oauthfail.Failure{Kind: oauthfail.AdminAction, Code: "single_tenant_app", Owner: oauthfail.OwnerAdmin,
		Cause: "The organization's Microsoft Entra app is registered for a single tenant, so it cannot sign in through organizations or common. An admin sets the tenant to the directory (tenant) ID or a verified domain in the integration settings, or makes the app multi-tenant."}},

	// The org's OAuth client itself is refused.
	{"7000222", clientRefused("client_secret_expired", "The organization's Microsoft Entra client secret has expired. An admin must create a new secret and save it in the integration settings.")},
	{"7000215", clientRefused("invalid_client_secret", "The Microsoft Entra client secret is wrong. An admin must save the secret's value (not its ID).")},
	{"700016", clientRefused("client_not_found", "The Microsoft Entra app was not found in the tenant. An admin must check the client ID and tenant.")},
}

// reconnect, blocked and clientRefused build the table's entries; the
// compiler inlines them, so the table is still initialized statically.
func reconnect(code, cause string) oauthfail.Failure {
	return oauthfail.Failure{Kind: oauthfail.Reconnect, Code: code, Owner: oauthfail.OwnerUser, Cause: cause}
}

func blocked(code, cause string) oauthfail.Failure {
	return oauthfail.Failure{Kind: oauthfail.Blocked, Code: code, Owner: oauthfail.OwnerExternalAdmin, Cause: cause}
}

func clientRefused(code, cause string) oauthfail.Failure {
	return oauthfail.Failure{Kind: oauthfail.ClientRefused, Code: code, Owner: oauthfail.OwnerAdmin, Cause: cause}
}
