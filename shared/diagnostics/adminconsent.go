package diagnostics

import (
	"strings"

	"github.com/sofie/integrations/shared/store"
)

// Microsoft admin consent (connections/adminconsent.go) in diagnostics: in
// tenants that block user consent, a user cannot grant a missing Graph
// permission by reconnecting; a tenant administrator grants it for the
// whole organization, once. scopes_granted says whether the missing
// permissions are covered by the org's recorded admin consent, and a
// refusal of consent (AADSTS65001, consent_required) points to the flow.

// adminConsentRoute is where an org admin starts it (the console's
// Organization Settings, Integrations, Microsoft 365 calls it).
const adminConsentRoute = "POST /v1/orgs/{orgId}/integrations/microsoft365/admin-consent"

// consentRequiredCode is the classified code of AADSTS65001 (the user or
// administrator has not consented).
const consentRequiredCode = "consent_required"

// adminConsentAdvice is what the org's admin consent means for scopes a
// connection lacks: "" for a provider without admin consent.
func adminConsentAdvice(r *run, missing []string) string {
	p := r.provider
	if !p.AdminConsent() {
		return ""
	}
	var ac *store.AdminConsent
	if r.integration != nil {
		ac = r.integration.AdminConsent
	}
	start := "an organization admin grants admin consent for everyone in Organization Settings, Integrations, " + p.DisplayName + " (" + adminConsentRoute + "), signing in as a " + p.DisplayName + " administrator of the tenant"
	switch {
	case ac == nil:
		return "Where the tenant does not let users consent to apps, these permissions need an administrator's consent: " + start + "; no admin consent has been granted yet."
	case !ac.Granted:
		return "Where the tenant does not let users consent to apps, these permissions need an administrator's consent, and the last admin consent (" + stamp(ac.At) + ") was not given (" + ac.Error + "): " + start + "."
	}
	if uncovered := p.MissingScopes(missing, ac.Scopes); len(uncovered) > 0 {
		return "An administrator granted admin consent on " + stamp(ac.At) + ", but not for " + strings.Join(uncovered, ", ") +
			" (enabled since): where the tenant does not let users consent to apps, " + start + " again."
	}
	return "An administrator granted these permissions for the whole organization on " + stamp(ac.At) + " (admin consent): reconnecting grants them without asking for consent."
}

// consentRequiredFix is the remediation of a refused consent
// (AADSTS65001) at a provider with admin consent: "" otherwise.
func consentRequiredFix(r *run, code string) string {
	if code != consentRequiredCode || !r.provider.AdminConsent() {
		return ""
	}
	var need []string
	if r.integration != nil {
		need = r.ready.RequestedScopes(r.provider)
	}
	return " " + adminConsentAdvice(r, need)
}
