// Package tokenseal seals user OAuth tokens for storage: AES-256-GCM with a
// random 96-bit nonce, bound to what they belong to (a connection's org,
// user and provider: the Binding is additional authenticated data), under a
// key named in the sealed bytes so the key can rotate: new tokens are sealed
// with the keyring's current key, older ones still open with the key they
// name.
//
// Sealed layout (all of the header is authenticated too):
//
//	byte 0        format version (2; 1 is still opened)
//	byte 1        n = length of the key id (1..255)
//	bytes 2..2+n  key id
//	next 12       nonce
//	rest          AES-GCM ciphertext and 16-byte tag
//
// The additional data is the header followed by the binding, encoded by the
// format version:
//
//	format 2  each field as a 4-byte big-endian length and its bytes
//	format 1  the fields joined by "/" (ConnKey.String())
//
// Format 1 is ambiguous when an id contains '/': org "o/a" with user "b" and
// org "o" with user "a/b" have the same data, so a token sealed for one
// opens for the other. Seal writes only format 2; Open reads the format
// byte and uses that format's encoding, never trying one after the other,
// so a format-2 token never opens under the old encoding. Format-1 tokens
// keep opening, and are sealed again in format 2 on their next write
// (refresh, reconnect) or by the re-seal run (package refresh, Reseal).
//
// Errors never carry plaintext or key material.
package tokenseal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
)

const (
	formatV1      = 1 // opened, never written: see the package doc
	formatV2      = 2
	currentFormat = formatV2
	nonceSize     = 12
	keySize       = 32
)

// Binding is what a sealed value belongs to, as ordered fields: a
// connection's org, user and provider (ConnBinding). A value sealed for one
// binding opens for no other.
type Binding []string

// ConnBinding is the binding of a connection's tokens.
func ConnBinding(k store.ConnKey) Binding { return Binding{k.OrgID, k.UserID, k.Provider} }

// encode is the binding as format's additional data.
func (b Binding) encode(format byte) []byte {
	if format == formatV1 {
		return []byte(strings.Join(b, "/"))
	}
	n := 0
	for _, f := range b {
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range b {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

var (
	// ErrTampered: the sealed bytes are malformed, were changed, or were
	// sealed for another connection. Nothing of the plaintext is returned.
	ErrTampered = errors.New("tokenseal: sealed token failed authentication (tampered, corrupt, or sealed for another connection)")
	// ErrUnknownKey: the key the token was sealed with is not in the keyring
	// and could not be fetched.
	ErrUnknownKey = errors.New("tokenseal: sealed with an unknown key")
)

// Seal encrypts plaintext with the keyring's current key, in the current
// format, binding it to b.
func Seal(kr store.Keyring, b Binding, plaintext []byte) ([]byte, error) {
	return seal(kr, currentFormat, b, plaintext)
}

func seal(kr store.Keyring, format byte, b Binding, plaintext []byte) ([]byte, error) {
	id := kr.Current
	if id == "" || len(id) > 255 {
		return nil, fmt.Errorf("tokenseal: keyring has no usable current key id")
	}
	key, ok := kr.Keys[id]
	if !ok {
		return nil, fmt.Errorf("tokenseal: current key %q is not in the keyring", id)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 2+len(id)+nonceSize+len(plaintext)+gcm.Overhead())
	out = append(out, format, byte(len(id)))
	out = append(out, id...)
	header := len(out)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("tokenseal: nonce: %w", err)
	}
	out = append(out, nonce...)
	return gcm.Seal(out, nonce, plaintext, additional(out[:header], b.encode(format))), nil
}

// header reads the format and key id of sealed bytes.
func header(sealed []byte) (format byte, keyID string, err error) {
	if len(sealed) < 2 || (sealed[0] != formatV1 && sealed[0] != formatV2) {
		return 0, "", ErrTampered
	}
	n := int(sealed[1])
	if n == 0 || len(sealed) < 2+n+nonceSize+16 {
		return 0, "", ErrTampered
	}
	return sealed[0], string(sealed[2 : 2+n]), nil
}

// KeyID returns the id of the key sealed names.
func KeyID(sealed []byte) (string, error) {
	_, id, err := header(sealed)
	return id, err
}

// Stale reports whether sealed should be sealed again: it is in an older
// format, or under another key than current (the keyring's current id).
func Stale(sealed []byte, current string) (bool, error) {
	format, id, err := header(sealed)
	if err != nil {
		return false, err
	}
	return format != currentFormat || id != current, nil
}

// Open decrypts sealed, fetching its key with lookup (which returns an error
// wrapping store.ErrNotFound for an unknown id). The format byte decides
// how the binding is encoded as additional data.
func Open(lookup func(keyID string) ([]byte, error), b Binding, sealed []byte) ([]byte, error) {
	format, id, err := header(sealed)
	if err != nil {
		return nil, err
	}
	key, err := lookup(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	if err != nil {
		return nil, fmt.Errorf("tokenseal: fetch key %q: %w", id, err)
	}
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	h := 2 + len(id)
	nonce := sealed[h : h+nonceSize]
	plain, err := gcm.Open(nil, nonce, sealed[h+nonceSize:], additional(sealed[:h], b.encode(format)))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

// additional authenticates the header (format and key id) along with the
// binding, so neither can be swapped.
func additional(header, binding []byte) []byte {
	out := make([]byte, 0, len(header)+len(binding))
	return append(append(out, header...), binding...)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("tokenseal: key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokenseal: %w", err)
	}
	return cipher.NewGCM(block)
}

// Vault seals and opens OAuth tokens with the keys of a store.Secrets.
type Vault struct {
	Secrets store.Secrets
}

// SealToken seals tok for the connection key and returns the sealed bytes
// and the id of the key used (Connection.TokenKeyID).
func (v *Vault) SealToken(ctx context.Context, key store.ConnKey, tok *oauth2.Token) (sealed []byte, keyID string, err error) {
	if tok == nil {
		return nil, "", errors.New("tokenseal: nil token")
	}
	kr, err := v.Secrets.TokenKeys(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("tokenseal: token keys: %w", err)
	}
	plain, err := json.Marshal(tok)
	if err != nil {
		return nil, "", errors.New("tokenseal: encode token")
	}
	defer clear(plain)
	sealed, err = Seal(kr, ConnBinding(key), plain)
	if err != nil {
		return nil, "", err
	}
	return sealed, kr.Current, nil
}

// OpenToken opens a token sealed for the connection key. A key id missing
// from the current keyring is fetched by id (a rotated-out key); ErrTampered
// and ErrUnknownKey say why a token cannot be opened.
func (v *Vault) OpenToken(ctx context.Context, key store.ConnKey, sealed []byte) (*oauth2.Token, error) {
	lookup := func(id string) ([]byte, error) {
		kr, err := v.Secrets.TokenKeys(ctx)
		if err != nil {
			return nil, err
		}
		if k, ok := kr.Keys[id]; ok {
			return k, nil
		}
		return v.Secrets.TokenKey(ctx, id)
	}
	plain, err := Open(lookup, ConnBinding(key), sealed)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var tok oauth2.Token
	if err := json.Unmarshal(plain, &tok); err != nil {
		return nil, errors.New("tokenseal: sealed token does not hold a token")
	}
	return &tok, nil
}

// NeedsReseal reports whether sealed should be sealed again under the
// keyring's current key and format (Stale with the current key id).
func (v *Vault) NeedsReseal(ctx context.Context, sealed []byte) (bool, error) {
	kr, err := v.Secrets.TokenKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("tokenseal: token keys: %w", err)
	}
	return Stale(sealed, kr.Current)
}

// CurrentKeyID returns the id of the key SealToken seals with now.
func (v *Vault) CurrentKeyID(ctx context.Context) (string, error) {
	kr, err := v.Secrets.TokenKeys(ctx)
	if err != nil {
		return "", fmt.Errorf("tokenseal: token keys: %w", err)
	}
	return kr.Current, nil
}
