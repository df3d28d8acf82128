package diagnostics

import (
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// TestRemediationNamesTheSupportContact: every check a user or an external
// admin must act on names the org's support contact; passing and admin
// checks do not, and without a contact nothing is added.
func TestRemediationNamesTheSupportContact(t *testing.T) {
	for _, tc := range []struct {
		name    string
		contact *store.SupportContact
		want    string
	}{
		{"email", &store.SupportContact{Name: "IT Help", Email: "it-help@example.com"}, "For help, contact IT Help (it-help@example.com)."},
		{"URL", &store.SupportContact{Name: "Service desk", URL: "https://help.example.com/it"}, "For help, contact Service desk (https://help.example.com/it)."},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			// Writes off (an admin-owned failure for a write action), a scope
			// missing (the user's), and a live read the provider forbids
			// (the external admin's).
			h.setup(func(in *store.Integration) {
				in.AllowWriteActions = false
				in.SupportContact = tc.contact
			}, func(c *store.Connection) { c.GrantedScopes = []string{"openid"} })
			rep := h.diagnose(member(alice), "", catalog.Email, catalog.Read, "")
			writes := h.diagnose(member(alice), "", catalog.Email, catalog.Create, "")
			if c := find(writes.Checks, ActionSupported); c.Status != Fail || c.Owner != OwnerAdmin {
				t.Fatalf("action_supported for a write = %+v, want an admin's failure", c)
			}
			named := 0
			for _, c := range append(rep.Checks, writes.Checks...) {
				has := tc.want != "" && strings.HasSuffix(c.Remediation, " "+tc.want)
				shouldHave := tc.want != "" && c.Status != Pass && !c.notApplicable && (c.Owner == OwnerUser || c.Owner == OwnerExternalAdmin)
				if has != shouldHave {
					t.Errorf("%s (%s, owner %s): remediation %q; naming the contact: %v, want %v", c.ID, c.Status, c.Owner, c.Remediation, has, shouldHave)
				}
				if has {
					named++
				}
			}
			if tc.want != "" && named == 0 {
				t.Fatalf("no check named the contact: %+v", rep.Checks)
			}
			if tc.want != "" {
				if c := find(rep.Checks, ScopesGranted); c.Status != Fail || !strings.HasSuffix(c.Remediation, tc.want) {
					t.Errorf("scopes_granted = %+v, want a failure naming the contact", c)
				}
			}
		})
	}
}
