package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// The rollout view's records (store.RolloutRecords), in buckets created on
// first use (not in allBuckets), so stores opened before they existed need
// nothing:
//
//	refresh_summaries  org#provider       → RefreshSummary
//	connect_attempts   org#provider#user  → ConnectAttempt (swept at Open once expired, as a TTL would)
var (
	bRefreshSummaries = []byte("refresh_summaries")
	bAttempts         = []byte("connect_attempts")
)

// PutRefreshSummary implements store.RolloutRecords.
func (s *Store) PutRefreshSummary(ctx context.Context, sum store.RefreshSummary) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := required("org id", sum.OrgID, "provider", sum.Provider); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bRefreshSummaries)
		if err != nil {
			return err
		}
		k := key(sum.OrgID, sum.Provider)
		var old store.RefreshSummary
		found, err := getJSON(b, k, &old)
		if err != nil {
			return err
		}
		if found && old.StartedAt.After(sum.StartedAt) {
			return nil // a later run's summary stands
		}
		return putJSON(b, k, &sum)
	})
	if err != nil {
		return fmt.Errorf("boltstore: put refresh summary of %s/%s: %w", sum.OrgID, sum.Provider, err)
	}
	return nil
}

// GetRefreshSummary implements store.RolloutRecords.
func (s *Store) GetRefreshSummary(ctx context.Context, orgID, provider string) (store.RefreshSummary, error) {
	if err := checkCtx(ctx); err != nil {
		return store.RefreshSummary{}, err
	}
	var sum store.RefreshSummary
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bRefreshSummaries)
		if b == nil {
			return store.ErrNotFound
		}
		found, err := getJSON(b, key(orgID, provider), &sum)
		if err == nil && !found {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.RefreshSummary{}, fmt.Errorf("boltstore: get refresh summary of %s/%s: %w", orgID, provider, err)
	}
	return sum, nil
}

// RecordConnectAttempt implements store.RolloutRecords.
func (s *Store) RecordConnectAttempt(ctx context.Context, a store.ConnectAttempt) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	if err := required("org id", a.OrgID, "provider", a.Provider, "user id", a.UserID); err != nil {
		return err
	}
	if a.ExpiresAt.IsZero() {
		return fmt.Errorf("boltstore: connect attempt has no expiry")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bAttempts)
		if err != nil {
			return err
		}
		return putJSON(b, key(a.OrgID, a.Provider, a.UserID), &a)
	})
	if err != nil {
		return fmt.Errorf("boltstore: record connect attempt of %s/%s/%s: %w", a.OrgID, a.UserID, a.Provider, err)
	}
	return nil
}

// ClearConnectAttempt implements store.RolloutRecords.
func (s *Store) ClearConnectAttempt(ctx context.Context, orgID, provider, userID string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bAttempts)
		if b == nil {
			return nil
		}
		return b.Delete(key(orgID, provider, userID))
	})
	if err != nil {
		return fmt.Errorf("boltstore: clear connect attempt of %s/%s/%s: %w", orgID, userID, provider, err)
	}
	return nil
}

// ListConnectAttempts implements store.RolloutRecords, ordered by user id.
func (s *Store) ListConnectAttempts(ctx context.Context, orgID, provider string, page store.Page) ([]store.ConnectAttempt, string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, "", err
	}
	p := prefix(orgID, provider)
	var after []byte
	if page.Cursor != "" {
		k, err := decodeCursor(page.Cursor, p)
		if err != nil {
			return nil, "", fmt.Errorf("boltstore: list connect attempts of %s/%s: %w", orgID, provider, err)
		}
		after = k
	}
	limit := pageLimit(page)
	out := []store.ConnectAttempt{}
	next := ""
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		next, err = pageForward(tx.Bucket(bAttempts), p, after, hasPrefix(p), limit, func(_, v []byte) error {
			var a store.ConnectAttempt
			if err := jsonUnmarshal(v, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("boltstore: list connect attempts of %s/%s: %w", orgID, provider, err)
	}
	return out, next, nil
}
