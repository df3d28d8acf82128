package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// scanCursorPrefix marks the cursors ScanConnections issues, so another
// listing's cursor is refused.
var scanCursorPrefix = []byte("scan#")

// ScanConnections implements store.ConnectionScan: the connections bucket
// in key order, as the DynamoDB adapter's filtered Scan returns the table
// (maintenance only).
func (s *Store) ScanConnections(ctx context.Context, page store.Page) ([]store.Connection, string, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, "", err
	}
	var after []byte
	if page.Cursor != "" {
		k, err := decodeCursor(page.Cursor, scanCursorPrefix)
		if err != nil {
			return nil, "", fmt.Errorf("boltstore: scan connections: %w", err)
		}
		after = k[len(scanCursorPrefix):]
	}
	limit := pageLimit(page)
	var out []store.Connection
	next := ""
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bConns).Cursor()
		k, v := c.First()
		if after != nil {
			k, v = c.Seek(after)
			if bytes.Equal(k, after) {
				k, v = c.Next()
			}
		}
		var last []byte
		for ; k != nil; k, v = c.Next() {
			if len(out) == limit {
				next = encodeCursor(append(bytes.Clone(scanCursorPrefix), last...))
				return nil
			}
			var conn store.Connection
			if err := json.Unmarshal(v, &conn); err != nil {
				return fmt.Errorf("decode record: %w", err)
			}
			out = append(out, conn)
			last = bytes.Clone(k)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("boltstore: scan connections: %w", err)
	}
	return out, next, nil
}
