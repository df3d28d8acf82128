package providers

import (
	"errors"
	"testing"

	"github.com/sofie/integrations/shared/store"
)

// idDialect admits any item id as is and has no instance.
type idDialect struct{ Dialect }

func (idDialect) ItemID(_ Capability, raw string) (string, bool) { return raw, true }
func (idDialect) InstanceURL(store.Account) (string, error)      { return "", ErrNoInstance }

func TestProbeURL(t *testing.T) {
	p := Provider{Dialect: idDialect{}}
	tests := []struct {
		name, tmpl, id, want string // want "": an error
	}{
		{"escaped id", "https://graph.microsoft.com/v1.0/me/drive/items/{id}", "b!x=1", "https://graph.microsoft.com/v1.0/me/drive/items/b%21x=1"},
		{"query after id", "https://gmail.googleapis.com/gmail/v1/users/me/messages/{id}?format=metadata", "18c0ffee", "https://gmail.googleapis.com/gmail/v1/users/me/messages/18c0ffee?format=metadata"},
		{"two segments", "https://x.example/items/{id}", "A/b c", "https://x.example/items/A/b%20c"},
		{"id missing", "https://graph.microsoft.com/v1.0/me/messages/{id}", "", ""},
		{"no instance", "{instance}/services/data", "", ""},
		{"not https", "http://x.example/{id}", "a", ""},
	}
	for _, tt := range tests {
		got, err := p.ProbeURL(tt.tmpl, store.Account{}, tt.id)
		if tt.want == "" {
			if err == nil {
				t.Errorf("%s: %q, want an error", tt.name, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := p.ProbeURL("{instance}/x", store.Account{}, ""); !errors.Is(err, ErrNoInstance) {
		t.Errorf("no instance: %v", err)
	}
}

func TestParseItemRefusesDotSegmentsAndUnfetchable(t *testing.T) {
	p := Provider{Dialect: idDialect{}}
	cs := CapabilitySpec{ID: Files, Label: "Files", Probe: Probe{ItemURL: "https://x.example/{id}", ItemHint: "a file id"}}
	for _, in := range []string{"", ".", ".."} {
		if _, err := p.ParseItem(cs, in); err == nil {
			t.Errorf("ParseItem(%q) accepted", in)
		}
	}
	if _, err := p.ParseItem(CapabilitySpec{Label: "Nothing"}, "x"); err == nil {
		t.Error("an item of a capability without an item URL")
	}
}
