package tokenseal_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

func keyring(ids ...string) store.Keyring {
	kr := store.Keyring{Current: ids[len(ids)-1], Keys: map[string][]byte{}}
	for i, id := range ids {
		kr.Keys[id] = bytes.Repeat([]byte{byte(i + 1)}, 32)
	}
	return kr
}

func lookup(kr store.Keyring) func(string) ([]byte, error) {
	return func(id string) ([]byte, error) {
		if k, ok := kr.Keys[id]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("key %q: %w", id, store.ErrNotFound)
	}
}

func TestSealOpen(t *testing.T) {
	kr := keyring("k1", "k2")
	aad := tokenseal.Binding{"org-1", "user-1", "salesforce"}
	plain := []byte(`{"access_token":"fake-access-token"}`)
	sealed, err := tokenseal.Seal(kr, aad, plain)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := tokenseal.KeyID(sealed); err != nil || id != "k2" {
		t.Fatalf("sealed with %q (%v), want the current key k2", id, err)
	}
	if want := 2 + 2 + 12 + len(plain) + 16; len(sealed) != want {
		t.Fatalf("sealed length %d, want %d", len(sealed), want)
	}
	got, err := tokenseal.Open(lookup(kr), aad, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q, %v", got, err)
	}

	// Sealed under k2, opened after k3 became current.
	got, err = tokenseal.Open(lookup(keyring("k1", "k2", "k3")), aad, sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open after rotation: %v", err)
	}
	// The same id with a different key (a swapped key) fails authentication.
	other := keyring("k2")
	other.Keys["k2"] = bytes.Repeat([]byte{9}, 32)
	if _, err := tokenseal.Open(lookup(other), aad, sealed); !errors.Is(err, tokenseal.ErrTampered) {
		t.Fatalf("wrong key: %v", err)
	}
	// The key lookup failing for another reason is not hidden.
	boom := errors.New("secrets manager unavailable")
	if _, err := tokenseal.Open(func(string) ([]byte, error) { return nil, boom }, aad, sealed); !errors.Is(err, boom) {
		t.Fatalf("lookup failure: %v", err)
	}
}

func TestSealRefusesBadKeyrings(t *testing.T) {
	for name, kr := range map[string]store.Keyring{
		"no current":      {Keys: map[string][]byte{"a": make([]byte, 32)}},
		"current missing": {Current: "b", Keys: map[string][]byte{"a": make([]byte, 32)}},
		"short key":       {Current: "a", Keys: map[string][]byte{"a": make([]byte, 16)}},
		"long id":         {Current: string(bytes.Repeat([]byte("i"), 256)), Keys: map[string][]byte{string(bytes.Repeat([]byte("i"), 256)): make([]byte, 32)}},
	} {
		if _, err := tokenseal.Seal(kr, tokenseal.Binding{"a"}, []byte("x")); err == nil {
			t.Errorf("%s: sealed", name)
		}
	}
}

// staticSecrets serves a fixed keyring and counts by-id lookups.
type staticSecrets struct {
	store.Secrets
	kr      store.Keyring
	old     map[string][]byte
	fetches int
}

func (s *staticSecrets) TokenKeys(context.Context) (store.Keyring, error) { return s.kr, nil }
func (s *staticSecrets) TokenKey(_ context.Context, id string) ([]byte, error) {
	s.fetches++
	if k, ok := s.old[id]; ok {
		return k, nil
	}
	return nil, store.ErrNotFound
}

// TestVaultFetchesRotatedOutKeys: a key id missing from the keyring is
// fetched by id; an unknown one is ErrUnknownKey.
func TestVaultFetchesRotatedOutKeys(t *testing.T) {
	old := keyring("old")
	sec := &staticSecrets{kr: old}
	v := &tokenseal.Vault{Secrets: sec}
	k := store.ConnKey{OrgID: "o", UserID: "u", Provider: "p"}
	sealed, id, err := v.SealToken(t.Context(), k, &oauth2.Token{AccessToken: "fake-access", RefreshToken: "fake-refresh"})
	if err != nil || id != "old" {
		t.Fatalf("seal: %q %v", id, err)
	}
	sec.kr = keyring("new")
	if _, err := v.OpenToken(t.Context(), k, sealed); !errors.Is(err, tokenseal.ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
	sec.old = old.Keys
	tok, err := v.OpenToken(t.Context(), k, sealed)
	if err != nil || tok.RefreshToken != "fake-refresh" {
		t.Fatalf("open with a fetched key: %v", err)
	}
	if sec.fetches != 2 {
		t.Fatalf("%d fetches by id, want 2", sec.fetches)
	}
	if _, _, err := v.SealToken(t.Context(), k, nil); err == nil {
		t.Fatal("nil token sealed")
	}
}

// FuzzOpen: no input makes Open panic; the only inputs that open are
// genuine seals of "secret" (each fuzz worker seals its own, with its own
// nonce, so the check is on what opens, not on the bytes).
func FuzzOpen(f *testing.F) {
	kr := keyring("k1")
	good, _ := tokenseal.Seal(kr, tokenseal.Binding{"a"}, []byte("secret"))
	f.Add(good)
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := tokenseal.Open(lookup(kr), tokenseal.Binding{"a"}, b)
		if err == nil && (string(got) != "secret" || len(b) != len(good)) {
			t.Fatalf("forged input opened to %q", got)
		}
		if err != nil && got != nil {
			t.Fatal("plaintext returned with an error")
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	kr := keyring("k1")
	plain := bytes.Repeat([]byte("t"), 1500) // a Microsoft access token is ~1.5 KB
	aad := tokenseal.Binding{"org-1", "user-1", "microsoft365"}
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := tokenseal.Seal(kr, aad, plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	kr := keyring("k1")
	plain := bytes.Repeat([]byte("t"), 1500)
	aad := tokenseal.Binding{"org-1", "user-1", "microsoft365"}
	sealed, _ := tokenseal.Seal(kr, aad, plain)
	lk := lookup(kr)
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := tokenseal.Open(lk, aad, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVaultSealOpenToken(b *testing.B) {
	v := &tokenseal.Vault{Secrets: &staticSecrets{kr: keyring("k1")}}
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: "microsoft365"}
	tok := &oauth2.Token{AccessToken: string(bytes.Repeat([]byte("a"), 1500)), RefreshToken: string(bytes.Repeat([]byte("r"), 700)), TokenType: "Bearer"}
	for b.Loop() {
		sealed, _, err := v.SealToken(context.Background(), k, tok)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.OpenToken(context.Background(), k, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
