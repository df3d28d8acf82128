package readiness_test

import (
	"slices"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// TestForOrg: the org's test account is judged as a user in the rollout
// would be, whatever the rollout, and by nothing else.
func TestForOrg(t *testing.T) {
	ms := provider(t, catalog.Microsoft365)
	in := ready() // rolled out to a pilot group nobody here is in
	cases := []struct {
		name string
		f    readiness.Facts
		want string
	}{
		{"pilot rollout", readiness.Facts{Offered: true, Integration: &in, DefaultClient: true}, ""},
		{"not offered", readiness.Facts{Offered: false, Integration: &in, DefaultClient: true}, readiness.ReasonProviderUnavailable},
		{"never configured", readiness.Facts{Offered: true, DefaultClient: true}, readiness.ReasonProviderDisabled},
		{"no default client", readiness.Facts{Offered: true, Integration: &in}, readiness.ReasonIncomplete},
	}
	for _, tc := range cases {
		v := readiness.Of(ms, tc.f)
		if got := v.ForOrg(); got != tc.want {
			t.Errorf("%s: ForOrg = %q, want %q", tc.name, got, tc.want)
		}
		if got := v.ForUser(principal(t, "pilot")); got != tc.want {
			t.Errorf("%s: a pilot member's verdict %q differs from the org's %q", tc.name, got, tc.want)
		}
	}
	off := in
	off.Enabled = false
	if got := readiness.Of(ms, readiness.Facts{Offered: true, Integration: &off, DefaultClient: true}).ForOrg(); got != readiness.ReasonProviderDisabled {
		t.Errorf("disabled: %q", got)
	}

	v := readiness.Of(ms, readiness.Facts{Offered: true, Integration: &in, DefaultClient: true})
	scopes := ms.RequestedScopes([]catalog.Capability{catalog.Email, catalog.Calendar}, false)
	c := store.Connection{ConnKey: store.TestAccountKey("o-1", ms.ID), Status: store.StatusConnected, ClientRef: in.ClientRef(), GrantedScopes: scopes}
	if got := v.OrgUsableCapabilities(ms, c); !slices.Equal(got, []catalog.Capability{catalog.Email, catalog.Calendar}) {
		t.Errorf("usable = %v, want email and calendar outside the pilot", got)
	}
	if got := v.UsableCapabilities(ms, c, principal(t)); len(got) != 0 {
		t.Errorf("someone outside the pilot may use %v", got)
	}
	c.Status = store.StatusNeedsReconnect
	if got := v.OrgUsableCapabilities(ms, c); len(got) != 0 {
		t.Errorf("a connection needing reconnection serves %v", got)
	}
}
