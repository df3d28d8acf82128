package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// --- integrations ----------------------------------------------------------

// GetIntegration implements store.Integrations.
func (s *Store) GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Integration{}, err
	}
	var in store.Integration
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bIntegrations), key(orgID, provider), &in)
		if err == nil && !ok {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Integration{}, fmt.Errorf("boltstore: get integration %s/%s: %w", orgID, provider, err)
	}
	return in, nil
}

// ListIntegrations implements store.Integrations.
func (s *Store) ListIntegrations(ctx context.Context, orgID string) ([]store.Integration, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []store.Integration
	err := s.db.View(func(tx *bolt.Tx) error {
		p := prefix(orgID)
		c := tx.Bucket(bIntegrations).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			var in store.Integration
			if _, err := getJSON(tx.Bucket(bIntegrations), k, &in); err != nil {
				return err
			}
			out = append(out, in)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list integrations of %s: %w", orgID, err)
	}
	return out, nil
}

// PutIntegration implements store.Integrations.
func (s *Store) PutIntegration(ctx context.Context, cfg store.Integration, expectedVersion int64, audit ...store.AuditEntry) (store.Integration, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Integration{}, err
	}
	if err := required("org id", cfg.OrgID, "provider", cfg.Provider); err != nil {
		return store.Integration{}, err
	}
	for _, e := range audit {
		if err := validAudit(e); err != nil {
			return store.Integration{}, err
		}
	}
	cfg.Version = expectedVersion + 1
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bIntegrations)
		var cur store.Integration
		ok, err := getJSON(b, key(cfg.OrgID, cfg.Provider), &cur)
		if err != nil {
			return err
		}
		if (!ok && expectedVersion != 0) || (ok && cur.Version != expectedVersion) {
			return store.ErrConflict
		}
		if err := putJSON(b, key(cfg.OrgID, cfg.Provider), &cfg); err != nil {
			return err
		}
		ch := Change{NewIntegration: &cfg}
		if ok {
			ch.OldIntegration = &cur
		}
		if err := recordChange(tx, ch); err != nil {
			return err
		}
		for _, e := range audit {
			if err := putAudit(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Integration{}, fmt.Errorf("boltstore: put integration %s/%s: %w", cfg.OrgID, cfg.Provider, err)
	}
	return cfg, nil
}

// --- audit -----------------------------------------------------------------

func validAudit(e store.AuditEntry) error {
	if err := required("audit org id", e.OrgID, "audit id", e.ID); err != nil {
		return err
	}
	if e.At.IsZero() {
		return fmt.Errorf("boltstore: audit entry %s has no time", e.ID)
	}
	return nil
}

func auditKey(e store.AuditEntry) []byte { return key(e.OrgID, timeKey(e.At), e.ID) }

func putAudit(tx *bolt.Tx, e store.AuditEntry) error {
	b := tx.Bucket(bAudit)
	k := auditKey(e)
	if b.Get(k) != nil {
		return fmt.Errorf("audit entry %s exists: %w", e.ID, store.ErrConflict)
	}
	return putJSON(b, k, &e)
}

// AppendAudit implements store.Audit. An entry whose id (at the same time)
// exists is ErrConflict.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := validAudit(e); err != nil {
		return err
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return putAudit(tx, e) }); err != nil {
		return fmt.Errorf("boltstore: append audit %s: %w", e.OrgID, err)
	}
	return nil
}

// ListAudit implements store.Audit: newest first (by time, then id).
func (s *Store) ListAudit(ctx context.Context, orgID string, page store.Page) ([]store.AuditEntry, string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, "", err
	}
	p := prefix(orgID)
	// Walk backwards from just past the last key with prefix p ('$' follows
	// '#'), or from the cursor.
	start := append(key(orgID), '$')
	if page.Cursor != "" {
		k, err := decodeCursor(page.Cursor, p)
		if err != nil {
			return nil, "", fmt.Errorf("boltstore: list audit of %s: %w", orgID, err)
		}
		start = k
	}
	limit := pageLimit(page)
	var out []store.AuditEntry
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bAudit).Cursor()
		k, v := c.Seek(start)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Prev() {
			if len(out) == limit {
				next = encodeCursor(last)
				break
			}
			var e store.AuditEntry
			if err := jsonUnmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("boltstore: list audit of %s: %w", orgID, err)
	}
	return out, next, nil
}

// --- states ----------------------------------------------------------------

// CreateState implements store.States. An existing id is ErrConflict.
func (s *Store) CreateState(ctx context.Context, st store.OAuthState) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := required("state id", st.ID); err != nil {
		return err
	}
	if st.ExpiresAt.IsZero() {
		return fmt.Errorf("boltstore: state has no expiry")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bStates)
		if b.Get(key(st.ID)) != nil {
			return store.ErrConflict
		}
		return putJSON(b, key(st.ID), &st)
	})
	if err != nil {
		return fmt.Errorf("boltstore: create state: %w", err)
	}
	return nil
}

// ConsumeState implements store.States.
func (s *Store) ConsumeState(ctx context.Context, id string, now time.Time) (store.OAuthState, error) {
	if err := checkCtx(ctx); err != nil {
		return store.OAuthState{}, err
	}
	var st store.OAuthState
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bStates)
		ok, err := getJSON(b, key(id), &st)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if !now.Before(st.ExpiresAt) {
			// Expired: refused, and left for the sweep at Open, as DynamoDB
			// leaves it for TTL deletion.
			return store.ErrNotFound
		}
		return b.Delete(key(id))
	})
	if err != nil {
		return store.OAuthState{}, fmt.Errorf("boltstore: consume state: %w", err)
	}
	return st, nil
}

// --- connections -------------------------------------------------------------

func connKey(k store.ConnKey) []byte      { return key(k.OrgID, k.UserID, k.Provider) }
func provIndexKey(k store.ConnKey) []byte { return key(k.OrgID, k.Provider, k.UserID) }
func dueKey(c store.Connection) []byte {
	return key(timeKey(c.NextRefreshAt), c.OrgID, c.UserID, c.Provider)
}

func validConnKey(k store.ConnKey) error {
	return required("org id", k.OrgID, "user id", k.UserID, "provider", k.Provider)
}

func getConn(tx *bolt.Tx, k store.ConnKey) (store.Connection, bool, error) {
	var c store.Connection
	ok, err := getJSON(tx.Bucket(bConns), connKey(k), &c)
	return c, ok, err
}

// writeConn stores c and keeps the indexes and the change feed in step
// with it; old is the stored record it replaces, if any.
func writeConn(tx *bolt.Tx, c *store.Connection, old *store.Connection) error {
	if err := recordChange(tx, Change{OldConnection: old, NewConnection: c}); err != nil {
		return err
	}
	due := tx.Bucket(bDue)
	if old != nil && !old.NextRefreshAt.IsZero() {
		if err := due.Delete(dueKey(*old)); err != nil {
			return err
		}
	}
	if err := reindexGrant(tx, c, old); err != nil {
		return err
	}
	if err := reindexOff(tx, c, old); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bConns), connKey(c.ConnKey), c); err != nil {
		return err
	}
	if err := tx.Bucket(bConnsByProv).Put(provIndexKey(c.ConnKey), nil); err != nil {
		return err
	}
	if !c.NextRefreshAt.IsZero() {
		return due.Put(dueKey(*c), nil)
	}
	return nil
}

// GetConnection implements store.Connections.
func (s *Store) GetConnection(ctx context.Context, k store.ConnKey) (store.Connection, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Connection{}, err
	}
	var c store.Connection
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		c, ok, err = getConn(tx, k)
		if err == nil && !ok {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("boltstore: get connection %s: %w", k, err)
	}
	return c, nil
}

// ListUserConnections implements store.Connections.
func (s *Store) ListUserConnections(ctx context.Context, orgID, userID string) ([]store.Connection, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []store.Connection
	err := s.db.View(func(tx *bolt.Tx) error {
		p := prefix(orgID, userID)
		c := tx.Bucket(bConns).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var conn store.Connection
			if err := jsonUnmarshal(v, &conn); err != nil {
				return err
			}
			out = append(out, conn)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list connections of %s/%s: %w", orgID, userID, err)
	}
	return out, nil
}

// ListProviderConnections implements store.Connections, ordered by user id.
func (s *Store) ListProviderConnections(ctx context.Context, orgID, provider string, page store.Page) ([]store.Connection, string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, "", err
	}
	p := prefix(orgID, provider)
	var after []byte
	if page.Cursor != "" {
		k, err := decodeCursor(page.Cursor, p)
		if err != nil {
			return nil, "", fmt.Errorf("boltstore: list %s connections of %s: %w", provider, orgID, err)
		}
		after = k
	}
	limit := pageLimit(page)
	var out []store.Connection
	next := ""
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		next, err = pageForward(tx.Bucket(bConnsByProv), p, after, hasPrefix(p), limit, func(k, _ []byte) error {
			parts := splitKey(k)
			conn, ok, err := getConn(tx, store.ConnKey{OrgID: parts[0], Provider: parts[1], UserID: parts[2]})
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("index entry without connection")
			}
			out = append(out, conn)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("boltstore: list %s connections of %s: %w", provider, orgID, err)
	}
	return out, next, nil
}

// PutConnection implements store.Connections.
func (s *Store) PutConnection(ctx context.Context, c store.Connection, expectedVersion int64) (store.Connection, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Connection{}, err
	}
	if err := validConnKey(c.ConnKey); err != nil {
		return store.Connection{}, err
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
		if !ok {
			return writeConn(tx, &c, nil)
		}
		return writeConn(tx, &c, &old)
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("boltstore: put connection %s: %w", c.ConnKey, err)
	}
	return c, nil
}

// DeleteConnection implements store.Connections.
func (s *Store) DeleteConnection(ctx context.Context, k store.ConnKey) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := getConn(tx, k)
		if err != nil || !ok {
			return err
		}
		return deleteConn(tx, old)
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete connection %s: %w", k, err)
	}
	return nil
}

// deleteConn removes the stored connection old and its index entries.
func deleteConn(tx *bolt.Tx, old store.Connection) error {
	if err := recordChange(tx, Change{OldConnection: &old}); err != nil {
		return err
	}
	if !old.NextRefreshAt.IsZero() {
		if err := tx.Bucket(bDue).Delete(dueKey(old)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bConnsByProv).Delete(provIndexKey(old.ConnKey)); err != nil {
		return err
	}
	if err := reindexGrant(tx, nil, &old); err != nil {
		return err
	}
	if err := reindexOff(tx, nil, &old); err != nil {
		return err
	}
	return tx.Bucket(bConns).Delete(connKey(old.ConnKey))
}

// ClaimLease implements store.Connections. A claim is a write: it bumps the
// version, so a writer that read the connection before the claim conflicts.
func (s *Store) ClaimLease(ctx context.Context, k store.ConnKey, owner string, now, until time.Time) (store.Connection, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Connection{}, err
	}
	if err := required("lease owner", owner); err != nil {
		return store.Connection{}, err
	}
	if !until.After(now) {
		return store.Connection{}, fmt.Errorf("boltstore: lease must end after now")
	}
	var c store.Connection
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := getConn(tx, k)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound
		}
		if old.LeaseOwner != "" && old.LeaseOwner != owner && now.Before(old.LeaseUntil) {
			return store.ErrLeaseHeld
		}
		c = old
		c.LeaseOwner, c.LeaseUntil = owner, until
		c.Version++
		return writeConn(tx, &c, &old)
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("boltstore: claim lease on %s: %w", k, err)
	}
	return c, nil
}

// CompleteLease implements store.Connections.
func (s *Store) CompleteLease(ctx context.Context, c store.Connection, owner string) (store.Connection, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Connection{}, err
	}
	if err := validConnKey(c.ConnKey); err != nil {
		return store.Connection{}, err
	}
	if err := required("lease owner", owner); err != nil {
		return store.Connection{}, err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, ok, err := getConn(tx, c.ConnKey)
		if err != nil {
			return err
		}
		if !ok || old.LeaseOwner != owner || old.Version != c.Version {
			return store.ErrLeaseLost
		}
		c.LeaseOwner, c.LeaseUntil = "", time.Time{}
		c.Version++
		return writeConn(tx, &c, &old)
	})
	if err != nil {
		return store.Connection{}, fmt.Errorf("boltstore: complete lease on %s: %w", c.ConnKey, err)
	}
	return c, nil
}

// ListDue implements store.Connections: due entries oldest first, reading
// only the due-index entries at or before `before`.
func (s *Store) ListDue(ctx context.Context, before time.Time, page store.Page) ([]store.DueRef, string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, "", err
	}
	var after []byte
	if page.Cursor != "" {
		k, err := decodeCursor(page.Cursor, nil)
		if err != nil || len(splitKey(k)) != 4 {
			return nil, "", fmt.Errorf("boltstore: list due: %w", store.ErrInvalidCursor)
		}
		after = k
	}
	limit := pageLimit(page)
	// Every key of an entry due at or before `before` sorts below this bound.
	bound := []byte(timeKey(before) + "$")
	var out []store.DueRef
	next := ""
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		below := func(k []byte) bool { return bytes.Compare(k, bound) < 0 }
		next, err = pageForward(tx.Bucket(bDue), nil, after, below, limit, func(k, _ []byte) error {
			parts := splitKey(k)
			due, err := time.Parse(timeLayout, parts[0])
			if err != nil {
				return fmt.Errorf("bad due-index key: %w", err)
			}
			out = append(out, store.DueRef{ConnKey: store.ConnKey{OrgID: parts[1], UserID: parts[2], Provider: parts[3]}, DueAt: due})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("boltstore: list due: %w", err)
	}
	return out, next, nil
}

func jsonUnmarshal(v []byte, into any) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}
