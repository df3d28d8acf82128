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

// TestGraphClaimsChallengeIsConditionalAccess (correction 7): Microsoft
// Graph answers a Conditional Access requirement the token does not meet
// (continuous access evaluation) with 401 and error="insufficient_claims"
// in WWW-Authenticate. That is the tenant's policy, not a revoked token: a
// refresh does not satisfy it, and the tenant's administrator is the one
// who can change it.
// Docs: https://learn.microsoft.com/entra/identity-platform/claims-challenge
func TestGraphClaimsChallengeIsConditionalAccess(t *testing.T) {
	var bodies []string
	w := healthy(t, catalog.Microsoft365, &bodies)
	if err := w.env.Fake.UpdateUser(catalog.Microsoft365, fakeprovider.DefaultMicrosoftUser, func(u *fakeprovider.User) { u.ClaimsChallenge = true }); err != nil {
		t.Fatal(err)
	}
	refreshes := w.env.Fake.Count(fakeprovider.Filter{Provider: catalog.Microsoft365, Kind: fakeprovider.KindRefresh})
	rep := w.diagnose(w.member, w.query(nil))
	var found bool
	for _, c := range rep.Checks {
		if c.ID != "connection_healthy" {
			continue
		}
		found = true
		if c.Status != "fail" || c.Owner != "external_admin" || !strings.Contains(c.Message, "Conditional Access") || strings.Contains(c.Message, "revoked") {
			t.Fatalf("connection_healthy %+v, want a Conditional Access failure owned by external_admin", c)
		}
	}
	if !found {
		t.Fatal("no connection_healthy check")
	}
	if n := w.env.Fake.Count(fakeprovider.Filter{Provider: catalog.Microsoft365, Kind: fakeprovider.KindRefresh}); n != refreshes {
		t.Fatalf("%d refreshes forced by a claims challenge, which a refresh cannot satisfy", n-refreshes)
	}
}
