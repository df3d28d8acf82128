package readiness

import (
	"slices"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// An org's test account (store.TestAccountKey) belongs to the org, not to a
// user: no token's groups say whether it is "in" a pilot rollout, and the
// point of a pilot is to test before anyone is in it. So the rollout does
// not apply to it; everything else does.

// ForOrg is why the org's test account may not be connected now, "" when
// it may: ForUser without the rollout.
func (v Value) ForOrg() string {
	switch {
	case !v.Offered:
		return ReasonProviderUnavailable
	case !v.Enabled:
		return ReasonProviderDisabled
	case !v.Ready():
		return ReasonIncomplete
	}
	return ""
}

// OrgUsableCapabilities are the capabilities the org's test account c
// serves for reading now: UsableCapabilities without the rollout.
func (v Value) OrgUsableCapabilities(p catalog.Provider, c store.Connection) []catalog.Capability {
	out := []catalog.Capability{}
	if v.Connection(c) != "" {
		return out
	}
	for _, cs := range p.Capabilities {
		if slices.Contains(v.integration.Capabilities, string(cs.ID)) && p.Covers(c.GrantedScopes, cs.ReadScopes) {
			out = append(out, cs.ID)
		}
	}
	return out
}
