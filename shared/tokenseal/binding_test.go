package tokenseal_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

// colliding are pairs of connections whose keys join to the same
// "org/user/provider" (the format-1 additional data).
var colliding = []struct{ a, b store.ConnKey }{
	{store.ConnKey{OrgID: "o/a", UserID: "b", Provider: "salesforce"}, store.ConnKey{OrgID: "o", UserID: "a/b", Provider: "salesforce"}},
	{store.ConnKey{OrgID: "o", UserID: "u/oauth-state", Provider: "x"}, store.ConnKey{OrgID: "o", UserID: "u", Provider: "oauth-state/x"}},
	{store.ConnKey{OrgID: "o/", UserID: "u", Provider: "p"}, store.ConnKey{OrgID: "o", UserID: "/u", Provider: "p"}},
}

// TestSealedForOneConnectionOpensForNoOther: a token sealed for one
// connection does not open for another, including keys that collide under
// the old "/" join; format 1 did open for those (the finding).
func TestSealedForOneConnectionOpensForNoOther(t *testing.T) {
	kr := keyring("k1")
	plain := []byte(`{"access_token":"fake-access"}`)
	others := []store.ConnKey{
		{OrgID: "o", UserID: "u", Provider: "google_workspace"},
		{OrgID: "o", UserID: "u2", Provider: "salesforce"},
		{OrgID: "o2", UserID: "u", Provider: "salesforce"},
	}
	own := store.ConnKey{OrgID: "o", UserID: "u", Provider: "salesforce"}
	sealed, err := tokenseal.Seal(kr, tokenseal.ConnBinding(own), plain)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tokenseal.Open(lookup(kr), tokenseal.ConnBinding(own), sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("own connection: %v", err)
	}
	for _, k := range others {
		if _, err := tokenseal.Open(lookup(kr), tokenseal.ConnBinding(k), sealed); !errors.Is(err, tokenseal.ErrTampered) {
			t.Errorf("sealed for %s opened for %s (%v)", own, k, err)
		}
	}
	for _, c := range colliding {
		if c.a.String() != c.b.String() {
			t.Fatalf("%s and %s do not collide under the old join", c.a, c.b)
		}
		sealed, err := tokenseal.Seal(kr, tokenseal.ConnBinding(c.a), plain)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokenseal.Open(lookup(kr), tokenseal.ConnBinding(c.b), sealed); !errors.Is(err, tokenseal.ErrTampered) {
			t.Errorf("sealed for %+v opened for %+v (%v)", c.a, c.b, err)
		}
		// What format 1 allowed, and why it is no longer written.
		old, err := tokenseal.SealV1(kr, tokenseal.ConnBinding(c.a), plain)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tokenseal.Open(lookup(kr), tokenseal.ConnBinding(c.b), old); err != nil {
			t.Errorf("format 1 is expected to be ambiguous for %+v / %+v: %v", c.a, c.b, err)
		}
	}
}

// goldenV1 was sealed by the format-1 code (before format 2 existed) with
// key id k1 = 32 bytes of 0x11, for org-1/user-1/salesforce.
const goldenV1 = "01026b311dd509675ec0c212fa091c052eb089c56f1cef85d97f37d9318e236772b938082637eae0c47be308c5b5a970e78f1481830c1231ef7691dd78d9ae2a257ebeaaa39a8a6b10e759abfabd465f20bacadba27277b089f914f390186a05909f84"

// TestOldFormatStillOpens: tokens sealed before format 2 open for their own
// connection (and, being format 1, are stale).
func TestOldFormatStillOpens(t *testing.T) {
	sealed, _ := hex.DecodeString(goldenV1)
	kr := store.Keyring{Current: "k1", Keys: map[string][]byte{"k1": bytes.Repeat([]byte{0x11}, 32)}}
	got, err := tokenseal.Open(lookup(kr), tokenseal.Binding{"org-1", "user-1", "salesforce"}, sealed)
	if err != nil || string(got) != `{"access_token":"fake-access-v1","refresh_token":"fake-refresh-v1"}` {
		t.Fatalf("golden format-1 token: %q, %v", got, err)
	}
	if _, err := tokenseal.Open(lookup(kr), tokenseal.Binding{"org-1", "user-2", "salesforce"}, sealed); !errors.Is(err, tokenseal.ErrTampered) {
		t.Fatalf("format-1 token opened for another connection: %v", err)
	}
	if stale, err := tokenseal.Stale(sealed, "k1"); err != nil || !stale {
		t.Fatalf("a format-1 token under the current key: stale %v, %v; want stale", stale, err)
	}
}

// TestFormatByteDecides: the format byte chooses the additional data, and
// is itself authenticated: relabelling a token's format never opens it
// (there is no "try both").
func TestFormatByteDecides(t *testing.T) {
	kr := keyring("k1")
	b := tokenseal.Binding{"o", "u", "p"}
	v2, _ := tokenseal.Seal(kr, b, []byte("x"))
	v1, _ := tokenseal.SealV1(kr, b, []byte("x"))
	if v2[0] != 2 || v1[0] != 1 {
		t.Fatalf("format bytes %d and %d", v2[0], v1[0])
	}
	for name, tc := range map[string]struct {
		sealed []byte
		format byte
	}{"format 2 relabelled 1": {v2, 1}, "format 1 relabelled 2": {v1, 2}, "unknown format 3": {v2, 3}} {
		forged := bytes.Clone(tc.sealed)
		forged[0] = tc.format
		if _, err := tokenseal.Open(lookup(kr), b, forged); !errors.Is(err, tokenseal.ErrTampered) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestStale: stale when in format 1 or under another key than the
// current one.
func TestStale(t *testing.T) {
	b := tokenseal.Binding{"o", "u", "p"}
	v2k1, _ := tokenseal.Seal(keyring("k1"), b, []byte("x"))
	v1k1, _ := tokenseal.SealV1(keyring("k1"), b, []byte("x"))
	for _, tc := range []struct {
		name    string
		sealed  []byte
		current string
		want    bool
	}{
		{"current", v2k1, "k1", false},
		{"old key", v2k1, "k2", true},
		{"old format", v1k1, "k1", true},
	} {
		if got, err := tokenseal.Stale(tc.sealed, tc.current); err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := tokenseal.Stale([]byte{9, 1}, "k1"); !errors.Is(err, tokenseal.ErrTampered) {
		t.Errorf("garbage: %v", err)
	}
}

// TestRotationRetiresTheOldKey: sealed under k1, the key rotates to k2,
// every token is sealed again, and k1 is removed: everything still opens.
func TestRotationRetiresTheOldKey(t *testing.T) {
	k1 := keyring("k1")
	sec := &staticSecrets{kr: k1}
	v := &tokenseal.Vault{Secrets: sec}
	keys := []store.ConnKey{{OrgID: "o", UserID: "u1", Provider: "p"}, {OrgID: "o", UserID: "u2", Provider: "p"}}
	sealed := map[store.ConnKey][]byte{}
	for _, k := range keys {
		s, _, err := v.SealToken(t.Context(), k, &oauth2.Token{AccessToken: "fake-" + k.UserID})
		if err != nil {
			t.Fatal(err)
		}
		sealed[k] = s
	}
	// Rotate: k2 seals, k1 still opens.
	sec.kr = store.Keyring{Current: "k2", Keys: map[string][]byte{"k1": k1.Keys["k1"], "k2": bytes.Repeat([]byte{7}, 32)}}
	for _, k := range keys {
		stale, err := v.NeedsReseal(t.Context(), sealed[k])
		if err != nil || !stale {
			t.Fatalf("after rotation %s: stale %v, %v", k, stale, err)
		}
		tok, err := v.OpenToken(t.Context(), k, sealed[k])
		if err != nil {
			t.Fatal(err)
		}
		if sealed[k], _, err = v.SealToken(t.Context(), k, tok); err != nil {
			t.Fatal(err)
		}
	}
	// Retire k1.
	delete(sec.kr.Keys, "k1")
	sec.old = nil
	for _, k := range keys {
		tok, err := v.OpenToken(t.Context(), k, sealed[k])
		if err != nil || tok.AccessToken != "fake-"+k.UserID {
			t.Fatalf("after retiring k1, %s: %v", k, err)
		}
		if stale, _ := v.NeedsReseal(t.Context(), sealed[k]); stale {
			t.Errorf("%s still stale", k)
		}
	}
}
