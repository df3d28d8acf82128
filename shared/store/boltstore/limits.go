package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bLimits holds rate-limit counters, key name#subject#<window start> →
// limitRecord. Created on first use (not in allBuckets), so stores opened
// before counters existed need nothing.
var bLimits = []byte("rate_limits")

type limitRecord struct {
	Count     int       `json:"count"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Allow implements store.RateLimits. The read, check and increment run in
// one write transaction (bbolt serialises writers), so it never counts past
// the limit. Expired counters of the same name and subject are deleted on
// the way, as DynamoDB's TTL would.
func (s *Store) Allow(ctx context.Context, name, subject string, window time.Time, limit int, expires time.Time) (bool, error) {
	if err := checkCtx(ctx); err != nil {
		return false, err
	}
	if err := required("limit name", name, "subject", subject); err != nil {
		return false, err
	}
	if limit <= 0 {
		return false, nil
	}
	allowed := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bLimits)
		if err != nil {
			return err
		}
		k := key(name, subject, timeKey(window))
		var rec limitRecord
		if _, err := getJSON(b, k, &rec); err != nil {
			return err
		}
		if err := sweepLimits(b, prefix(name, subject), window); err != nil {
			return err
		}
		if rec.Count >= limit {
			return nil
		}
		rec.Count++
		rec.ExpiresAt = expires.UTC()
		allowed = true
		return putJSON(b, k, &rec)
	})
	if err != nil {
		return false, fmt.Errorf("boltstore: count %s of %s: %w", name, subject, err)
	}
	return allowed, nil
}

// sweepLimits deletes the counters under p whose expiry is before now's
// window.
func sweepLimits(b *bolt.Bucket, p []byte, now time.Time) error {
	var stale [][]byte
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		var rec limitRecord
		if json.Unmarshal(v, &rec) == nil && rec.ExpiresAt.Before(now) {
			stale = append(stale, bytes.Clone(k))
		}
	}
	for _, k := range stale {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
