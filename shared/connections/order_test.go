package connections

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sofie/integrations/shared/store"
)

// TestInCatalogOrder: the same order as a stable sort by the provider's
// place in the catalog (unknown providers, at -1, first).
func TestInCatalogOrder(t *testing.T) {
	ids := []string{"google", "microsoft", "salesforce", "gone", "other"}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		order := []string{"microsoft", "google", "salesforce"}
		if n%3 == 0 {
			order = append(order, "google")
		}
		conns := make([]store.Connection, r.IntN(12))
		for i := range conns {
			conns[i].Provider = ids[r.IntN(len(ids))]
			conns[i].UserID = string(rune('a' + i))
		}
		want := slices.Clone(conns)
		slices.SortStableFunc(want, func(a, b store.Connection) int {
			return slices.Index(order, a.Provider) - slices.Index(order, b.Provider)
		})
		got := inCatalogOrder(conns, order)
		if len(got) != len(want) {
			t.Fatalf("%d connections, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Provider != want[i].Provider || got[i].UserID != want[i].UserID {
				t.Fatalf("order %v: got %v, want %v", order, got, want)
			}
		}
	}
}
