package tokenseal

import "github.com/sofie/integrations/shared/store"

// SealV1 seals in the old format 1, as tokens stored before format 2 were.
func SealV1(kr store.Keyring, b Binding, plaintext []byte) ([]byte, error) {
	return seal(kr, formatV1, b, plaintext)
}
