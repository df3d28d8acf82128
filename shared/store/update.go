package store

import (
	"context"
	"errors"
	"fmt"
)

// ConnectionWriter is what UpdateConnection and UpdateProviderConnections
// need (Connections has it all).
type ConnectionWriter interface {
	GetConnection(ctx context.Context, key ConnKey) (Connection, error)
	ListProviderConnections(ctx context.Context, orgID, provider string, page Page) ([]Connection, string, error)
	PutConnection(ctx context.Context, c Connection, expectedVersion int64) (Connection, error)
}

// MaxUpdateAttempts bounds how often UpdateConnection re-reads and decides
// again about one connection that keeps changing under it (a refresh
// finishing, the user reconnecting).
const MaxUpdateAttempts = 5

// updatePageSize is how many connections UpdateProviderConnections reads
// at a time.
const updatePageSize = 100

// Mutation changes a connection in place and reports whether to write it;
// false leaves the stored record as it is. It gets a copy of the record as
// read, and is called again on a fresh read after every conflict, so it must
// decide from the record it is given alone.
type Mutation func(c *Connection) bool

// UpdateConnection applies mutate to c (as read) and, when mutate asks for
// it, writes the result under c's version. When someone else wrote first
// (ErrConflict) it re-reads and applies mutate to the fresh record, at most
// MaxUpdateAttempts times in all; after that it fails with ErrConflict. A
// connection deleted meanwhile is not an error. It returns the record as
// stored and whether this call wrote it.
func UpdateConnection(ctx context.Context, cs ConnectionWriter, c Connection, mutate Mutation) (Connection, bool, error) {
	for range MaxUpdateAttempts {
		m := c
		if !mutate(&m) {
			return c, false, nil
		}
		stored, err := cs.PutConnection(ctx, m, c.Version)
		if err == nil {
			return stored, true, nil
		}
		if !errors.Is(err, ErrConflict) {
			return c, false, fmt.Errorf("update connection %s: %w", c.ConnKey, err)
		}
		// Someone wrote first: decide again on what they wrote.
		fresh, err := cs.GetConnection(ctx, c.ConnKey)
		if errors.Is(err, ErrNotFound) {
			return Connection{}, false, nil // disconnected meanwhile
		}
		if err != nil {
			return c, false, fmt.Errorf("update connection %s: re-read: %w", c.ConnKey, err)
		}
		c = fresh
	}
	return c, false, fmt.Errorf("update connection %s: still changing after %d attempts: %w", c.ConnKey, MaxUpdateAttempts, ErrConflict)
}

// UpdateProviderConnections walks every connection of the org's provider,
// page by page, and updates each with UpdateConnection. It returns how many
// it wrote. It stops at the first error; what it wrote until then stands,
// and since mutate decides from each record alone, running it again
// finishes the job.
func UpdateProviderConnections(ctx context.Context, cs ConnectionWriter, orgID, provider string, mutate Mutation) (int, error) {
	written := 0
	page := Page{Limit: updatePageSize}
	for {
		conns, next, err := cs.ListProviderConnections(ctx, orgID, provider, page)
		if err != nil {
			return written, fmt.Errorf("list %s connections of %s: %w", provider, orgID, err)
		}
		for _, c := range conns {
			_, wrote, err := UpdateConnection(ctx, cs, c, mutate)
			if err != nil {
				return written, err
			}
			if wrote {
				written++
			}
		}
		if next == "" {
			return written, nil
		}
		page.Cursor = next
	}
}
