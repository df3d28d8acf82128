package store

import "context"

// ConnectionScan pages over every stored connection, for maintenance that
// must reach all of them, not only those due for refresh (re-sealing every
// token under the current key before an old key is retired). It reads the
// whole table (DynamoDB: a Scan), so request paths never use it.
type ConnectionScan interface {
	// ScanConnections returns a page of connections in no particular order
	// and the cursor of the next page; "" when the walk is complete. A page
	// may hold fewer than page.Limit connections (even none) while a
	// cursor follows. Every connection stored for the whole walk is
	// returned exactly once; one written or deleted during it may or may
	// not be. A cursor this listing did not issue is ErrInvalidCursor.
	ScanConnections(ctx context.Context, page Page) ([]Connection, string, error)
}
