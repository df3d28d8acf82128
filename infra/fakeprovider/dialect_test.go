package fakeprovider

import (
	"slices"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
)

// TestEveryProviderHasADialect: the fake serves exactly the catalog's
// providers, each with its own dialect, default client and default user,
// and its routes answer on the hosts the catalog's endpoints name.
func TestEveryProviderHasADialect(t *testing.T) {
	s := New(Options{AutoApprove: true})
	var ids []string
	for _, d := range s.dialects {
		ids = append(ids, d.id())
		if s.dialect(d.id()) != d {
			t.Errorf("%s: the registry answers another dialect", d.id())
		}
		if dc, _ := d.defaultClient(); dc.ClientID == "" || dc.ClientSecret == "" {
			t.Errorf("%s: no default client", d.id())
		}
		if u := d.seedUser(); u.Provider != d.id() || u.Email == "" {
			t.Errorf("%s: seed user %+v", d.id(), u)
		}
		if _, ok := s.User(d.id(), d.seedUser().Email); !ok {
			t.Errorf("%s: the seed user is not registered", d.id())
		}
	}
	if want := catalog.New().IDs(); !slices.Equal(ids, want) {
		t.Fatalf("dialects %v, catalog %v", ids, want)
	}
	if got := DefaultClients(); len(got) != len(ids) {
		t.Fatalf("DefaultClients has %d clients for %d providers", len(got), len(ids))
	}
}
