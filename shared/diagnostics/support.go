package diagnostics

import (
	"strings"

	"github.com/sofie/integrations/shared/store"
)

// nameSupport adds the integration's support contact to the remediation
// of every check whose fix is the user's or an external admin's (the
// provider's tenant or org admin), where the org's own support desk is
// who a user turns to: "… For help, contact IT Help (it-help@example.com)."
// Checks that passed or do not apply have nothing to fix; admin-owned
// checks are fixed in the integration settings, by the people who set the
// contact. in is nil when the org never configured the provider.
func nameSupport(checks []Check, in *store.Integration) {
	if in == nil || in.SupportContact == nil {
		return
	}
	help := "For help, contact " + in.SupportContact.Text() + "."
	for i := range checks {
		c := &checks[i]
		if c.Status == Pass || c.notApplicable || (c.Owner != OwnerUser && c.Owner != OwnerExternalAdmin) {
			continue
		}
		if c.Remediation == "" {
			c.Remediation = help
			continue
		}
		sep := " "
		if !strings.HasSuffix(c.Remediation, ".") {
			sep = ". "
		}
		c.Remediation += sep + help
	}
}
