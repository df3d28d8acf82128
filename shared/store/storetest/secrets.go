package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

// SecretsHarness is one fresh, empty secrets store and the operator actions
// the port does not have.
type SecretsHarness struct {
	Secrets store.Secrets
	// PutDefaultClient seeds the platform's default client for a provider.
	PutDefaultClient func(ctx context.Context, provider string, c store.DefaultClient) error
	// RotateTokenKey makes a new current token-encryption key.
	RotateTokenKey func(ctx context.Context) error
}

// NewSecrets returns a fresh secrets store for one subtest. Adapters that
// log must log to log.
type NewSecrets func(t *testing.T, log *slog.Logger) SecretsHarness

// PlantedSecret is shaped like a real Google client secret (built at run
// time so that no credential-shaped literal sits in the source). The
// hygiene check looks for it in every log line and error of the suite.
func PlantedSecret() string {
	return "GOCSPX-" + strings.Repeat("x", 14) + "PLANTED" + strings.Repeat("y", 7)
}

// TestSecrets runs the contract of store.Secrets and of token sealing with
// its keys, and checks that no secret value (client secrets, default
// clients, keys, tokens) appears in any log line written or error returned
// during the suite.
func TestSecrets(t *testing.T, newSecrets NewSecrets) {
	h := newHygiene(t)
	wrapped := func(t *testing.T) SecretsHarness {
		sh := newSecrets(t, h.log)
		sh.Secrets = &recorder{Secrets: sh.Secrets, h: h}
		return sh
	}
	t.Run("ClientSecrets", func(t *testing.T) { testClientSecrets(t, wrapped, h) })
	t.Run("DefaultClients", func(t *testing.T) { testDefaultClients(t, wrapped, h) })
	t.Run("TokenKeys", func(t *testing.T) { testTokenKeys(t, wrapped, h) })
	t.Run("Vault", func(t *testing.T) { testVault(t, wrapped, h) })
	t.Run("NoSecretInLogsOrErrors", func(t *testing.T) { h.check(t) })
}

// --- hygiene -----------------------------------------------------------------

// hygiene collects every error text and log line of the suite and the
// secret values it must not contain.
type hygiene struct {
	mu      sync.Mutex
	logs    bytes.Buffer
	errs    []string
	planted map[string]bool
	log     *slog.Logger
}

func newHygiene(t *testing.T) *hygiene {
	h := &hygiene{planted: map[string]bool{}}
	h.log = slog.New(slog.NewJSONHandler(lockedWriter{h}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Anything logging through the default logger is captured as well.
	prev := slog.Default()
	slog.SetDefault(h.log)
	t.Cleanup(func() { slog.SetDefault(prev) })
	return h
}

type lockedWriter struct{ h *hygiene }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.h.mu.Lock()
	defer w.h.mu.Unlock()
	return w.h.logs.Write(p)
}

// plant registers a secret value (and, for keys, its usual encodings).
func (h *hygiene) plant(v string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.planted[v] = true
	return v
}

func (h *hygiene) plantKey(k []byte) {
	h.plant(string(k))
	h.plant(hex.EncodeToString(k))
	h.plant(base64.StdEncoding.EncodeToString(k))
	h.plant(base64.RawURLEncoding.EncodeToString(k))
}

func (h *hygiene) err(err error) error {
	if err != nil {
		h.mu.Lock()
		h.errs = append(h.errs, err.Error())
		h.mu.Unlock()
	}
	return err
}

func (h *hygiene) check(t *testing.T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.planted[PlantedSecret()] {
		t.Fatal("the planted secret was never used")
	}
	if len(h.errs) < 10 {
		t.Fatalf("only %d errors recorded: the suite did not exercise error paths", len(h.errs))
	}
	logs := h.logs.String()
	for v := range h.planted {
		if len(v) < 8 {
			continue
		}
		if strings.Contains(logs, v) {
			t.Errorf("a secret value appears in the logs")
		}
		for _, e := range h.errs {
			if strings.Contains(e, v) {
				t.Errorf("a secret value appears in an error message (%d chars)", len(e))
			}
		}
	}
	t.Logf("checked %d secret values against %d errors and %d bytes of logs", len(h.planted), len(h.errs), len(logs))
}

// recorder passes calls through and records every error.
type recorder struct {
	store.Secrets
	h *hygiene
}

func (r *recorder) PutClientSecret(ctx context.Context, orgID, provider, value string) error {
	return r.h.err(r.Secrets.PutClientSecret(ctx, orgID, provider, value))
}

func (r *recorder) GetClientSecret(ctx context.Context, orgID, provider string) (string, error) {
	v, err := r.Secrets.GetClientSecret(ctx, orgID, provider)
	return v, r.h.err(err)
}

func (r *recorder) DeleteClientSecret(ctx context.Context, orgID, provider string) error {
	return r.h.err(r.Secrets.DeleteClientSecret(ctx, orgID, provider))
}

func (r *recorder) DefaultClient(ctx context.Context, provider string) (store.DefaultClient, error) {
	v, err := r.Secrets.DefaultClient(ctx, provider)
	return v, r.h.err(err)
}

func (r *recorder) TokenKeys(ctx context.Context) (store.Keyring, error) {
	kr, err := r.Secrets.TokenKeys(ctx)
	for _, k := range kr.Keys {
		r.h.plantKey(k)
	}
	return kr, r.h.err(err)
}

func (r *recorder) TokenKey(ctx context.Context, id string) ([]byte, error) {
	k, err := r.Secrets.TokenKey(ctx, id)
	if k != nil {
		r.h.plantKey(k)
	}
	return k, r.h.err(err)
}

// --- client secrets ------------------------------------------------------------

func testClientSecrets(t *testing.T, newSecrets func(*testing.T) SecretsHarness, h *hygiene) {
	t.Run("PutGetDelete", func(t *testing.T) {
		s := newSecrets(t).Secrets
		v1 := h.plant(PlantedSecret())
		v2 := h.plant("fake-client-secret-2")
		other := h.plant("fake-client-secret-other-org")

		_, err := s.GetClientSecret(ctx(t), "org-1", provA)
		mustErr(t, "get missing", h.err(err), store.ErrNotFound)
		must(t, "delete missing", s.DeleteClientSecret(ctx(t), "org-1", provA))

		must(t, "put", s.PutClientSecret(ctx(t), "org-1", provA, v1))
		must(t, "put other org", s.PutClientSecret(ctx(t), "org-2", provA, other))
		got, err := s.GetClientSecret(ctx(t), "org-1", provA)
		must(t, "get", err)
		if got != v1 {
			t.Fatal("get returned another value than was put")
		}
		_, err = s.GetClientSecret(ctx(t), "org-1", provC)
		mustErr(t, "get another provider", err, store.ErrNotFound)

		must(t, "overwrite", s.PutClientSecret(ctx(t), "org-1", provA, v2))
		if got, err = s.GetClientSecret(ctx(t), "org-1", provA); err != nil || got != v2 {
			t.Fatalf("get after overwrite: err %v, same as new value: %v", err, got == v2)
		}

		must(t, "delete", s.DeleteClientSecret(ctx(t), "org-1", provA))
		_, err = s.GetClientSecret(ctx(t), "org-1", provA)
		mustErr(t, "get deleted", err, store.ErrNotFound)
		must(t, "delete again", s.DeleteClientSecret(ctx(t), "org-1", provA))
		if got, err = s.GetClientSecret(ctx(t), "org-2", provA); err != nil || got != other {
			t.Fatalf("other org's secret after delete: err %v", err)
		}

		// Put after delete brings it back.
		must(t, "put after delete", s.PutClientSecret(ctx(t), "org-1", provA, v1))
		if got, err = s.GetClientSecret(ctx(t), "org-1", provA); err != nil || got != v1 {
			t.Fatalf("get after re-put: err %v", err)
		}
	})

	t.Run("InvalidIdsAndValuesRefused", func(t *testing.T) {
		s := newSecrets(t).Secrets
		v := h.plant(PlantedSecret())
		for _, c := range []struct{ org, provider string }{
			{"", provC}, {"org/../org-2", provC}, {"org 1", provC}, {"org-1", ""},
			{"org-1", "Sales/Force"}, {"org-1", provC + "/../x"}, {strings.Repeat("o", 200), provC},
		} {
			if err := s.PutClientSecret(ctx(t), c.org, c.provider, v); err == nil {
				t.Errorf("put with org %q provider %q accepted", c.org, c.provider)
			}
			if _, err := s.GetClientSecret(ctx(t), c.org, c.provider); err == nil || errors.Is(err, store.ErrNotFound) {
				t.Errorf("get with org %q provider %q: %v, want a validation error", c.org, c.provider, err)
			}
		}
		if err := s.PutClientSecret(ctx(t), "org-1", provC, ""); err == nil {
			t.Error("empty secret accepted")
		}
		cancelled, cancel := context.WithCancel(ctx(t))
		cancel()
		if err := s.PutClientSecret(cancelled, "org-1", provC, v); err == nil {
			t.Error("put with a cancelled context succeeded")
		}
	})
}

func testDefaultClients(t *testing.T, newSecrets func(*testing.T) SecretsHarness, h *hygiene) {
	sh := newSecrets(t)
	_, err := sh.Secrets.DefaultClient(ctx(t), provB)
	mustErr(t, "missing default client", err, store.ErrNotFound)
	dc := store.DefaultClient{ClientID: "platform-client-1", ClientSecret: h.plant("fake-client-secret-platform")}
	must(t, "seed", sh.PutDefaultClient(ctx(t), provB, dc))
	got, err := sh.Secrets.DefaultClient(ctx(t), provB)
	must(t, "get", err)
	mustEqual(t, "default client", got, dc)
	_, err = sh.Secrets.DefaultClient(ctx(t), provC)
	mustErr(t, "another provider's default client", err, store.ErrNotFound)
	_, err = sh.Secrets.DefaultClient(ctx(t), "../orgs")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("invalid provider: %v, want a validation error", err)
	}
}

func testTokenKeys(t *testing.T, newSecrets func(*testing.T) SecretsHarness, h *hygiene) {
	sh := newSecrets(t)
	s := sh.Secrets
	kr, err := s.TokenKeys(ctx(t))
	must(t, "token keys", err)
	cur, ok := kr.Keys[kr.Current]
	if kr.Current == "" || !ok || len(cur) != 32 || bytes.Equal(cur, make([]byte, 32)) {
		t.Fatalf("keyring current %q has no usable 32-byte key", kr.Current)
	}
	k, err := s.TokenKey(ctx(t), kr.Current)
	must(t, "token key by id", err)
	if !bytes.Equal(k, cur) {
		t.Fatal("TokenKey(current) differs from the keyring's")
	}
	_, err = s.TokenKey(ctx(t), "no-such-key")
	mustErr(t, "unknown key id", err, store.ErrNotFound)

	// Stable across calls until rotated.
	again, err := s.TokenKeys(ctx(t))
	must(t, "token keys again", err)
	if again.Current != kr.Current || !bytes.Equal(again.Keys[again.Current], cur) {
		t.Fatal("current key changed without a rotation")
	}

	must(t, "rotate", sh.RotateTokenKey(ctx(t)))
	rot, err := s.TokenKeys(ctx(t))
	must(t, "token keys after rotation", err)
	if rot.Current == kr.Current || bytes.Equal(rot.Keys[rot.Current], cur) {
		t.Fatal("rotation did not change the current key")
	}
	old, err := s.TokenKey(ctx(t), kr.Current)
	must(t, "old key after rotation", err)
	if !bytes.Equal(old, cur) {
		t.Fatal("the old key changed with the rotation")
	}
}

// --- sealed tokens -------------------------------------------------------------

func testVault(t *testing.T, newSecrets func(*testing.T) SecretsHarness, h *hygiene) {
	sh := newSecrets(t)
	v := &tokenseal.Vault{Secrets: sh.Secrets}
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: provA}
	tok := func(n string) *oauth2.Token {
		return &oauth2.Token{
			AccessToken:  h.plant("fake-access-token-" + n + "-aaaaaaaaaaaa"),
			RefreshToken: h.plant("fake-refresh-token-" + n + "-rrrrrrrrrrr"),
			TokenType:    "Bearer",
			Expiry:       T0.Add(time.Hour),
		}
	}
	check := func(t *testing.T, what string, got, want *oauth2.Token) {
		t.Helper()
		if got.AccessToken != want.AccessToken || got.RefreshToken != want.RefreshToken || got.TokenType != want.TokenType || !got.Expiry.Equal(want.Expiry) {
			t.Fatalf("%s: opened token differs from the sealed one", what)
		}
	}

	t1 := tok("1")
	sealed1, id1, err := v.SealToken(ctx(t), k, t1)
	must(t, "seal", err)
	if kid, _ := tokenseal.KeyID(sealed1); kid != id1 {
		t.Fatalf("sealed key id %q, SealToken said %q", kid, id1)
	}
	if bytes.Contains(sealed1, []byte(t1.AccessToken)) || bytes.Contains(sealed1, []byte(t1.RefreshToken)) {
		t.Fatal("sealed bytes contain the plaintext token")
	}
	got, err := v.OpenToken(ctx(t), k, sealed1)
	must(t, "open", err)
	check(t, "round trip", got, t1)
	again, _, err := v.SealToken(ctx(t), k, t1)
	must(t, "seal again", err)
	if bytes.Equal(again, sealed1) {
		t.Fatal("sealing twice gave the same bytes: the nonce is not random")
	}

	t.Run("Tampered", func(t *testing.T) {
		header := 2 + len(id1)
		flip := func(i int, bit byte) []byte {
			b := bytes.Clone(sealed1)
			b[i] ^= bit
			return b
		}
		unknown := append([]byte{1, byte(len("unknown-key"))}, "unknown-key"...)
		unknown = append(unknown, sealed1[header:]...)
		cases := []struct {
			name   string
			key    store.ConnKey
			sealed []byte
			want   error
		}{
			{"flipped ciphertext bit", k, flip(header+12+3, 0x10), tokenseal.ErrTampered},
			{"flipped nonce bit", k, flip(header, 0x01), tokenseal.ErrTampered},
			{"flipped tag bit", k, flip(len(sealed1)-1, 0x80), tokenseal.ErrTampered},
			{"flipped format byte", k, flip(0, 0x02), tokenseal.ErrTampered},
			{"truncated", k, sealed1[:header+12+8], tokenseal.ErrTampered},
			{"empty", k, nil, tokenseal.ErrTampered},
			{"other user's additional data", store.ConnKey{OrgID: "org-1", UserID: "user-2", Provider: k.Provider}, sealed1, tokenseal.ErrTampered},
			{"other provider's additional data", store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: provB}, sealed1, tokenseal.ErrTampered},
			{"other org's additional data", store.ConnKey{OrgID: "org-2", UserID: "user-1", Provider: k.Provider}, sealed1, tokenseal.ErrTampered},
			{"unknown key id", k, unknown, tokenseal.ErrUnknownKey},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := v.OpenToken(ctx(t), c.key, c.sealed)
				h.err(err)
				if got != nil || !errors.Is(err, c.want) {
					t.Fatalf("opened: token %v, error %v; want %v", got != nil, err, c.want)
				}
			})
		}
		// Every single-bit flip anywhere is refused.
		for i := range sealed1 {
			for bit := range 8 {
				if got, err := v.OpenToken(ctx(t), k, flip(i, 1<<bit)); err == nil || got != nil {
					t.Fatalf("bit %d of byte %d flipped: opened", bit, i)
				}
			}
		}
	})

	t.Run("Rotation", func(t *testing.T) {
		must(t, "rotate", sh.RotateTokenKey(ctx(t)))
		t2 := tok("2")
		sealed2, id2, err := v.SealToken(ctx(t), k, t2)
		must(t, "seal after rotation", err)
		if id2 == id1 {
			t.Fatal("sealed with the old key after rotation")
		}
		must(t, "rotate again", sh.RotateTokenKey(ctx(t)))
		t3 := tok("3")
		sealed3, id3, err := v.SealToken(ctx(t), k, t3)
		must(t, "seal after second rotation", err)
		if id3 == id2 || id3 == id1 {
			t.Fatal("sealed with an old key after the second rotation")
		}
		for _, c := range []struct {
			name   string
			sealed []byte
			want   *oauth2.Token
		}{{"two rotations old", sealed1, t1}, {"one rotation old", sealed2, t2}, {"current", sealed3, t3}} {
			got, err := v.OpenToken(ctx(t), k, c.sealed)
			must(t, "open "+c.name, err)
			check(t, c.name, got, c.want)
		}
	})
}
