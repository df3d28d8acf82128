package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// --- client health ---------------------------------------------------------------

func okHealth(org, provider string) store.ClientHealth {
	return store.ClientHealth{OrgID: org, Provider: provider, Status: store.HealthOK}
}

// GetClientHealth implements store.Health.
func (s *Store) GetClientHealth(ctx context.Context, orgID, provider string) (store.ClientHealth, error) {
	if err := checkCtx(ctx); err != nil {
		return store.ClientHealth{}, err
	}
	h := okHealth(orgID, provider)
	err := s.db.View(func(tx *bolt.Tx) error {
		_, err := getJSON(tx.Bucket(bHealth), key(orgID, provider), &h)
		return err
	})
	if err != nil {
		return store.ClientHealth{}, fmt.Errorf("boltstore: get client health %s/%s: %w", orgID, provider, err)
	}
	return h, nil
}

// ListClientHealth implements store.Health.
func (s *Store) ListClientHealth(ctx context.Context, orgID string) (map[string]store.ClientHealth, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	out := map[string]store.ClientHealth{}
	err := s.db.View(func(tx *bolt.Tx) error {
		p := prefix(orgID)
		c := tx.Bucket(bHealth).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var h store.ClientHealth
			if err := jsonUnmarshal(v, &h); err != nil {
				return err
			}
			out[h.Provider] = h
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list client health of %s: %w", orgID, err)
	}
	return out, nil
}

// ReportClientFailure implements store.Health.
func (s *Store) ReportClientFailure(ctx context.Context, orgID, provider, cause string, configVersion int64, at time.Time, audit ...store.AuditEntry) (store.ClientHealth, bool, error) {
	if err := checkCtx(ctx); err != nil {
		return store.ClientHealth{}, false, err
	}
	if err := required("org id", orgID, "provider", provider, "cause", cause); err != nil {
		return store.ClientHealth{}, false, err
	}
	for _, e := range audit {
		if err := validAudit(e); err != nil {
			return store.ClientHealth{}, false, err
		}
	}
	var h store.ClientHealth
	var started bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bHealth)
		h = okHealth(orgID, provider)
		found, err := getJSON(b, key(orgID, provider), &h)
		if err != nil {
			return err
		}
		old := h
		started = false
		if !h.Failing() {
			h.Status, h.Since, h.LastSeen, started = store.HealthFailing, at, time.Time{}, true
		}
		if !at.Before(h.LastSeen) {
			h.Cause, h.LastSeen, h.ConfigVersion = cause, at, configVersion
		}
		if started {
			for _, e := range audit {
				if err := putAudit(tx, e); err != nil {
					return err
				}
			}
		}
		if err := recordChange(tx, healthChange(old, found, h)); err != nil {
			return err
		}
		return putJSON(b, key(orgID, provider), &h)
	})
	if err != nil {
		return store.ClientHealth{}, false, fmt.Errorf("boltstore: report client failure %s/%s: %w", orgID, provider, err)
	}
	return h, started, nil
}

// ReportClientOK implements store.Health.
func (s *Store) ReportClientOK(ctx context.Context, orgID, provider string, at time.Time, audit ...store.AuditEntry) (store.ClientHealth, bool, error) {
	if err := checkCtx(ctx); err != nil {
		return store.ClientHealth{}, false, err
	}
	for _, e := range audit {
		if err := validAudit(e); err != nil {
			return store.ClientHealth{}, false, err
		}
	}
	var h store.ClientHealth
	var recovered bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bHealth)
		h = okHealth(orgID, provider)
		recovered = false
		if _, err := getJSON(b, key(orgID, provider), &h); err != nil {
			return err
		}
		if !h.Failing() {
			return nil
		}
		recovered = true
		old := h
		h = store.ClientHealth{OrgID: orgID, Provider: provider, Status: store.HealthOK, RecoveredAt: at}
		for _, e := range audit {
			if err := putAudit(tx, e); err != nil {
				return err
			}
		}
		if err := recordChange(tx, healthChange(old, true, h)); err != nil {
			return err
		}
		return putJSON(b, key(orgID, provider), &h)
	})
	if err != nil {
		return store.ClientHealth{}, false, fmt.Errorf("boltstore: report client ok %s/%s: %w", orgID, provider, err)
	}
	return h, recovered, nil
}

// --- jobs ------------------------------------------------------------------------

// EnqueueJob implements store.Jobs.
func (s *Store) EnqueueJob(ctx context.Context, j store.Job) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := required("job id", j.ID, "job kind", j.Kind); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bJobs), key(j.ID), &j) })
	if err != nil {
		return fmt.Errorf("boltstore: enqueue job %s: %w", j.ID, err)
	}
	return nil
}

// ListJobs implements store.Jobs.
func (s *Store) ListJobs(ctx context.Context, limit int) ([]store.Job, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxPageLimit {
		limit = DefaultPageLimit
	}
	var out []store.Job
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bJobs).ForEach(func(_, v []byte) error {
			var j store.Job
			if err := jsonUnmarshal(v, &j); err != nil {
				return err
			}
			out = append(out, j)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: list jobs: %w", err)
	}
	slices.SortFunc(out, func(a, b store.Job) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SaveJobProgress implements store.Jobs.
func (s *Store) SaveJobProgress(ctx context.Context, j store.Job) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bJobs)
		var cur store.Job
		ok, err := getJSON(b, key(j.ID), &cur)
		switch {
		case err != nil:
			return err
		case !ok:
			return store.ErrNotFound
		case !cur.CreatedAt.Equal(j.CreatedAt):
			return store.ErrConflict
		}
		cur.Cursor, cur.UpdatedAt = j.Cursor, j.UpdatedAt
		return putJSON(b, key(j.ID), &cur)
	})
	if err != nil {
		return fmt.Errorf("boltstore: save job progress %s: %w", j.ID, err)
	}
	return nil
}

// FinishJob implements store.Jobs.
func (s *Store) FinishJob(ctx context.Context, j store.Job) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bJobs)
		var cur store.Job
		ok, err := getJSON(b, key(j.ID), &cur)
		if err != nil || !ok || !cur.CreatedAt.Equal(j.CreatedAt) {
			return err // gone, or enqueued again meanwhile: it stays for the next run
		}
		return b.Delete(key(j.ID))
	})
	if err != nil {
		return fmt.Errorf("boltstore: finish job %s: %w", j.ID, err)
	}
	return nil
}

// --- the off-index listing ------------------------------------------------------

func offIndexKey(c store.Connection) ([]byte, bool) {
	if !c.NextRefreshAt.IsZero() || c.OffIndexReason == "" {
		return nil, false
	}
	return key(c.Provider, c.OffIndexReason, c.OrgID, c.UserID), true
}

// reindexOff moves c's off-index entry from old's to c's (either may be
// nil).
func reindexOff(tx *bolt.Tx, c, old *store.Connection) error {
	b := tx.Bucket(bConnsOff)
	if old != nil {
		if k, ok := offIndexKey(*old); ok {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	if c != nil {
		if k, ok := offIndexKey(*c); ok {
			return b.Put(k, nil)
		}
	}
	return nil
}

var metaOffIndexed = []byte("off_index_v1")

// indexOff builds the off-index of a database written before it existed,
// once.
func indexOff(tx *bolt.Tx) error {
	meta := tx.Bucket(bMeta)
	if meta.Get(metaOffIndexed) != nil {
		return nil
	}
	if err := tx.Bucket(bConns).ForEach(func(_, v []byte) error {
		var c store.Connection
		if err := jsonUnmarshal(v, &c); err != nil {
			return err
		}
		return reindexOff(tx, &c, nil)
	}); err != nil {
		return err
	}
	return meta.Put(metaOffIndexed, []byte("1"))
}

// ListOffIndex implements store.OffIndex.
func (s *Store) ListOffIndex(ctx context.Context, provider, reason, orgID string, page store.Page) ([]store.OffIndexRef, string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, "", err
	}
	p := prefix(provider, reason)
	if orgID != "" {
		p = prefix(provider, reason, orgID)
	}
	var after []byte
	if page.Cursor != "" {
		k, err := decodeCursor(page.Cursor, p)
		if err != nil {
			return nil, "", fmt.Errorf("boltstore: list off-index: %w", err)
		}
		after = k
	}
	limit := pageLimit(page)
	var out []store.OffIndexRef
	next := ""
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		next, err = pageForward(tx.Bucket(bConnsOff), p, after, hasPrefix(p), limit, func(k, _ []byte) error {
			parts := splitKey(k)
			if len(parts) != 4 {
				return fmt.Errorf("bad off-index key")
			}
			out = append(out, store.OffIndexRef{ConnKey: store.ConnKey{OrgID: parts[2], UserID: parts[3], Provider: parts[0]}, Reason: parts[1]})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("boltstore: list off-index: %w", err)
	}
	return out, next, nil
}
