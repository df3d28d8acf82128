package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"regexp"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// Ids that name secrets follow the Secrets Manager adapter's rules, so a
// value accepted locally is accepted in AWS too.
var (
	validOrgID    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,127}$`)
	validProvider = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
)

func validSecretIDs(orgID, provider string) error {
	if !validOrgID.MatchString(orgID) {
		return fmt.Errorf("boltstore: invalid org id %q for a secret", orgID)
	}
	return validProviderID(provider)
}

func validProviderID(provider string) error {
	if !validProvider.MatchString(provider) {
		return fmt.Errorf("boltstore: invalid provider id %q for a secret", provider)
	}
	return nil
}

// PutClientSecret implements store.Secrets.
func (s *Store) PutClientSecret(ctx context.Context, orgID, provider, value string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validSecretIDs(orgID, provider); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("boltstore: empty client secret for %s/%s", orgID, provider)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bClientSecret).Put(key(orgID, provider), []byte(value))
	}); err != nil {
		return fmt.Errorf("boltstore: put client secret %s/%s: %w", orgID, provider, err)
	}
	return nil
}

// GetClientSecret implements store.Secrets.
func (s *Store) GetClientSecret(ctx context.Context, orgID, provider string) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	if err := validSecretIDs(orgID, provider); err != nil {
		return "", err
	}
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bClientSecret).Get(key(orgID, provider))
		if b == nil {
			return store.ErrNotFound
		}
		v = string(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("boltstore: get client secret %s/%s: %w", orgID, provider, err)
	}
	return v, nil
}

// DeleteClientSecret implements store.Secrets.
func (s *Store) DeleteClientSecret(ctx context.Context, orgID, provider string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validSecretIDs(orgID, provider); err != nil {
		return err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bClientSecret).Delete(key(orgID, provider))
	}); err != nil {
		return fmt.Errorf("boltstore: delete client secret %s/%s: %w", orgID, provider, err)
	}
	return nil
}

// DefaultClient implements store.Secrets.
func (s *Store) DefaultClient(ctx context.Context, provider string) (store.DefaultClient, error) {
	if err := checkCtx(ctx); err != nil {
		return store.DefaultClient{}, err
	}
	if err := validProviderID(provider); err != nil {
		return store.DefaultClient{}, err
	}
	var dc store.DefaultClient
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bDefaults), key(provider), &dc)
		if err != nil {
			// Never wrap the decoder's error: it may quote the value.
			return fmt.Errorf("stored default client is malformed")
		}
		if !ok {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return store.DefaultClient{}, fmt.Errorf("boltstore: default client for %s: %w", provider, err)
	}
	return dc, nil
}

// PutDefaultClient stores the platform's default OAuth client for provider.
// Local only: in AWS the default clients are secrets an operator creates
// (see package awssecrets).
func (s *Store) PutDefaultClient(ctx context.Context, provider string, c store.DefaultClient) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validProviderID(provider); err != nil {
		return err
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return fmt.Errorf("boltstore: default client for %s needs a client id and secret", provider)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bDefaults), key(provider), &c)
	}); err != nil {
		return fmt.Errorf("boltstore: put default client for %s: %w", provider, err)
	}
	return nil
}

// TokenKeys implements store.Secrets: the current key seals, every key
// generated so far opens.
func (s *Store) TokenKeys(ctx context.Context) (store.Keyring, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Keyring{}, err
	}
	kr := store.Keyring{Keys: map[string][]byte{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		kr.Current = string(tx.Bucket(bMeta).Get(metaCurrentKey))
		return tx.Bucket(bTokenKeys).ForEach(func(k, v []byte) error {
			kr.Keys[string(k)] = bytes.Clone(v)
			return nil
		})
	})
	if err != nil {
		return store.Keyring{}, fmt.Errorf("boltstore: token keys: %w", err)
	}
	if _, ok := kr.Keys[kr.Current]; !ok {
		return store.Keyring{}, fmt.Errorf("boltstore: token keys: current key %q missing", kr.Current)
	}
	return kr, nil
}

// TokenKey implements store.Secrets.
func (s *Store) TokenKey(ctx context.Context, id string) ([]byte, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var k []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bTokenKeys).Get([]byte(id)); v != nil {
			k = bytes.Clone(v)
			return nil
		}
		return store.ErrNotFound
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: token key %q: %w", id, err)
	}
	return k, nil
}

// RotateTokenKey generates a new current token key and returns its id.
// Older keys stay, so tokens sealed under them still open.
func (s *Store) RotateTokenKey(ctx context.Context) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	var id string
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		id, err = addTokenKey(tx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("boltstore: rotate token key: %w", err)
	}
	return id, nil
}

// addTokenKey generates a random AES-256 key and makes it current.
func addTokenKey(tx *bolt.Tx) (string, error) {
	id, err := newKeyID()
	if err != nil {
		return "", err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	if err := tx.Bucket(bTokenKeys).Put([]byte(id), k); err != nil {
		return "", err
	}
	return id, tx.Bucket(bMeta).Put(metaCurrentKey, []byte(id))
}
