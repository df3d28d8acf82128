package diagnostics_test

import (
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

// The providers' API answers that used to be misread (issue 12, fidelity
// corrections), on the fake provider.

// TestSalesforceCRMReadNeedsOnlyRecordAccess (correction 3): the CRM read
// check proves what the assistant does, reading records; the limits
// resource needs View Setup and Configuration, which a user who can read
// records need not have, so probing it failed them and sent their
// Salesforce administrator after the wrong permission.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
// and https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
func TestSalesforceCRMReadNeedsOnlyRecordAccess(t *testing.T) {
	var bodies []string
	w := healthy(t, catalog.Salesforce, &bodies)
	if err := w.env.Fake.UpdateUser(catalog.Salesforce, fakeprovider.DefaultSalesforceUser, func(u *fakeprovider.User) { u.WithoutViewSetup = true }); err != nil {
		t.Fatal(err)
	}
	rep := w.diagnose(w.member, w.query(map[string]string{"item": ""}))
	if st := statusOf(rep, "external_permission"); st != "pass" {
		t.Fatalf("external_permission %s for a user who can read records: %+v", st, rep)
	}
	// A user without read access to the records is still told so.
	if err := w.env.Fake.UpdateUser(catalog.Salesforce, fakeprovider.DefaultSalesforceUser, func(u *fakeprovider.User) { u.Denied = []catalog.Capability{catalog.CRM} }); err != nil {
		t.Fatal(err)
	}
	rep = w.diagnose(w.member, w.query(map[string]string{"item": ""}))
	for _, c := range rep.Checks {
		if c.ID == "external_permission" && (c.Status != "fail" || c.Owner != "external_admin" || strings.Contains(c.Message, "Setup")) {
			t.Fatalf("external_permission for a user without record access: %+v", c)
		}
	}
}
