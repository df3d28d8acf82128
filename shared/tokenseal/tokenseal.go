// Package tokenseal seals user OAuth tokens for storage: AES-256-GCM with a
// random 96-bit nonce, bound to the connection they belong to (its
// ConnKey.String() is additional authenticated data), under a key named in
// the sealed bytes so the key can rotate: new tokens are sealed with the
// keyring's current key, older ones still open with the key they name.
//
// Sealed layout (all of the header is authenticated too):
//
//	byte 0        format version (1)
//	byte 1        n = length of the key id (1..255)
//	bytes 2..2+n  key id
//	next 12       nonce
//	rest          AES-GCM ciphertext and 16-byte tag
//
// Errors never carry plaintext or key material.
package tokenseal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
)

const (
	formatV1  = 1
	nonceSize = 12
	keySize   = 32
)

var (
	// ErrTampered: the sealed bytes are malformed, were changed, or were
	// sealed for another connection. Nothing of the plaintext is returned.
	ErrTampered = errors.New("tokenseal: sealed token failed authentication (tampered, corrupt, or sealed for another connection)")
	// ErrUnknownKey: the key the token was sealed with is not in the keyring
	// and could not be fetched.
	ErrUnknownKey = errors.New("tokenseal: sealed with an unknown key")
)

// Seal encrypts plaintext with the keyring's current key, binding it to aad.
func Seal(kr store.Keyring, aad, plaintext []byte) ([]byte, error) {
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
	out = append(out, formatV1, byte(len(id)))
	out = append(out, id...)
	header := len(out)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("tokenseal: nonce: %w", err)
	}
	out = append(out, nonce...)
	return gcm.Seal(out, nonce, plaintext, additional(out[:header], aad)), nil
}

// KeyID returns the id of the key sealed names.
func KeyID(sealed []byte) (string, error) {
	if len(sealed) < 2 || sealed[0] != formatV1 {
		return "", ErrTampered
	}
	n := int(sealed[1])
	if n == 0 || len(sealed) < 2+n+nonceSize+16 {
		return "", ErrTampered
	}
	return string(sealed[2 : 2+n]), nil
}

// Open decrypts sealed, fetching its key with lookup (which returns an error
// wrapping store.ErrNotFound for an unknown id).
func Open(lookup func(keyID string) ([]byte, error), aad, sealed []byte) ([]byte, error) {
	id, err := KeyID(sealed)
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
	header := 2 + len(id)
	nonce := sealed[header : header+nonceSize]
	plain, err := gcm.Open(nil, nonce, sealed[header+nonceSize:], additional(sealed[:header], aad))
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}

// additional authenticates the header (format and key id) along with the
// caller's data, so neither can be swapped.
func additional(header, aad []byte) []byte {
	out := make([]byte, 0, len(header)+len(aad))
	return append(append(out, header...), aad...)
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
	sealed, err = Seal(kr, []byte(key.String()), plain)
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
	plain, err := Open(lookup, []byte(key.String()), sealed)
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
