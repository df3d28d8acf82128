package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// bChanges is the change feed, key seq (8 bytes, big-endian) → Change.
var bChanges = []byte("changes")

// Change is one change of a connection, an integration or a client's
// health, with the record before and after it, as the DynamoDB table's stream records it
// (NEW_AND_OLD_IMAGES): the embedded store keeps such a feed so that local
// runs hand EventsFunction what a deployment's stream would (the local
// server reads it with ReadChanges and acknowledges with DeleteChanges).
// A nil Old is a creation, a nil New a deletion.
type Change struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`

	OldConnection  *store.Connection  `json:"oldConnection,omitempty"`
	NewConnection  *store.Connection  `json:"newConnection,omitempty"`
	OldIntegration *store.Integration `json:"oldIntegration,omitempty"`
	NewIntegration *store.Integration `json:"newIntegration,omitempty"`
	// A client's health (store.Health), kept beside its integration.
	OldHealth *store.ClientHealth `json:"oldHealth,omitempty"`
	NewHealth *store.ClientHealth `json:"newHealth,omitempty"`
}

// healthChange is the change of a client's health from old (found: it was
// stored) to cur.
func healthChange(old store.ClientHealth, found bool, cur store.ClientHealth) Change {
	ch := Change{NewHealth: &cur}
	if found {
		ch.OldHealth = &old
	}
	return ch
}

// recordChange appends ch to the feed inside the transaction of the write
// it records, so the feed has each write exactly once, in write order.
// (Writes that change nothing, a health that stays OK, record nothing, as
// they write nothing.)
func recordChange(tx *bolt.Tx, ch Change) error {
	b := tx.Bucket(bChanges)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	ch.Seq, ch.At = seq, time.Now().UTC()
	return putJSON(b, seqKey(seq), &ch)
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// ReadChanges returns up to limit changes, oldest first.
func (s *Store) ReadChanges(ctx context.Context, limit int) ([]Change, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	var out []Change
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bChanges).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var ch Change
			if err := jsonUnmarshal(v, &ch); err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: read changes: %w", err)
	}
	return out, nil
}

// DeleteChanges removes the changes up to and including seq (processed).
func (s *Store) DeleteChanges(ctx context.Context, through uint64) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bChanges).Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= through; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("boltstore: delete changes: %w", err)
	}
	return nil
}
