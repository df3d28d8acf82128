package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// --- pending completions ----------------------------------------------------

// CreateCompletion implements store.Completions. An existing id is
// ErrConflict.
func (s *Store) CreateCompletion(ctx context.Context, c store.PendingCompletion) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := required("completion id", c.ID); err != nil {
		return err
	}
	if c.ExpiresAt.IsZero() {
		return fmt.Errorf("boltstore: pending completion has no expiry")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCompletions)
		if b.Get(key(c.ID)) != nil {
			return store.ErrConflict
		}
		return putJSON(b, key(c.ID), &c)
	})
	if err != nil {
		return fmt.Errorf("boltstore: create pending completion: %w", err)
	}
	return nil
}

// ConsumeCompletion implements store.Completions.
func (s *Store) ConsumeCompletion(ctx context.Context, id string, now time.Time) (store.PendingCompletion, error) {
	if err := checkCtx(ctx); err != nil {
		return store.PendingCompletion{}, err
	}
	var c store.PendingCompletion
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bCompletions)
		ok, err := getJSON(b, key(id), &c)
		if err != nil {
			return err
		}
		if !ok || !now.Before(c.ExpiresAt) {
			// Expired: refused, and left for the sweep at Open, as DynamoDB
			// leaves it for TTL deletion.
			return store.ErrNotFound
		}
		return b.Delete(key(id))
	})
	if err != nil {
		return store.PendingCompletion{}, fmt.Errorf("boltstore: consume pending completion: %w", err)
	}
	return c, nil
}

// --- the grant index ----------------------------------------------------------

func grantPrefix(g store.GrantRef) []byte { return prefix(g.Provider, g.ClientRef, g.AccountID) }

func grantIndexKey(c store.Connection) ([]byte, bool) {
	g, ok := c.Grant()
	if !ok {
		return nil, false
	}
	return key(g.Provider, g.ClientRef, g.AccountID, c.OrgID, c.UserID), true
}

// reindexGrant moves c's grant-index entry from old's grant to c's (either
// may be nil).
func reindexGrant(tx *bolt.Tx, c, old *store.Connection) error {
	b := tx.Bucket(bConnsByGrant)
	if old != nil {
		if k, ok := grantIndexKey(*old); ok {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	if c != nil {
		if k, ok := grantIndexKey(*c); ok {
			return b.Put(k, nil)
		}
	}
	return nil
}

var metaGrantIndexed = []byte("grant_index_v1")

// indexGrants builds the grant index of a database written before it
// existed, once.
func indexGrants(tx *bolt.Tx) error {
	meta := tx.Bucket(bMeta)
	if meta.Get(metaGrantIndexed) != nil {
		return nil
	}
	if err := tx.Bucket(bConns).ForEach(func(_, v []byte) error {
		var c store.Connection
		if err := jsonUnmarshal(v, &c); err != nil {
			return err
		}
		return reindexGrant(tx, &c, nil)
	}); err != nil {
		return err
	}
	return meta.Put(metaGrantIndexed, []byte("1"))
}

// ListGrantConnections implements store.Grants.
func (s *Store) ListGrantConnections(ctx context.Context, g store.GrantRef, limit int) ([]store.ConnKey, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxPageLimit {
		limit = DefaultPageLimit
	}
	var out []store.ConnKey
	err := s.db.View(func(tx *bolt.Tx) error {
		p := grantPrefix(g)
		c := tx.Bucket(bConnsByGrant).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(out) < limit; k, _ = c.Next() {
			parts := splitKey(k)
			if len(parts) != 5 {
				return fmt.Errorf("bad grant-index key")
			}
			out = append(out, store.ConnKey{OrgID: parts[3], UserID: parts[4], Provider: g.Provider})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list connections of a %s grant: %w", g.Provider, err)
	}
	return out, nil
}
