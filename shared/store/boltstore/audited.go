package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// PutConnectionAudited implements store.AuditedConnections: the version
// check, the connection and its audit entries in one write transaction.
func (s *Store) PutConnectionAudited(ctx context.Context, c store.Connection, expectedVersion int64, audit ...store.AuditEntry) (store.Connection, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Connection{}, err
	}
	if err := validConnKey(c.ConnKey); err != nil {
		return store.Connection{}, err
	}
	for _, e := range audit {
		if err := validAudit(e); err != nil {
			return store.Connection{}, err
		}
	}
	c.Version = expectedVersion + 1
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := getConn(tx, c.ConnKey)
		if err != nil {
			return err
		}
		if (!ok && expectedVersion != 0) || (ok && old.Version != expectedVersion) {
			return store.ErrConflict
		}
		for _, e := range audit {
			if err := putAudit(tx, e); err != nil {
				return err
			}
		}
		if !ok {
			return writeConn(tx, &c, nil)
		}
		return writeConn(tx, &c, &old)
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("boltstore: put connection %s with audit: %w", c.ConnKey, err)
	}
	return c, nil
}

// DeleteConnectionAudited implements store.AuditedConnections.
func (s *Store) DeleteConnectionAudited(ctx context.Context, k store.ConnKey, version int64, audit ...store.AuditEntry) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	for _, e := range audit {
		if err := validAudit(e); err != nil {
			return err
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := getConn(tx, k)
		if err != nil {
			return err
		}
		if !ok || old.Version != version {
			return store.ErrConflict
		}
		for _, e := range audit {
			if err := putAudit(tx, e); err != nil {
				return err
			}
		}
		return deleteConn(tx, old)
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete connection %s with audit: %w", k, err)
	}
	return nil
}
