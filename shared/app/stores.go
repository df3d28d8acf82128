package app

import (
	"context"
	"errors"
)

// openStores sets d.Store and d.Secrets from d.Config.Store: "aws" for
// DynamoDB and Secrets Manager, "embedded" for the local durable stores.
// (Filled in by the storage layer, issue 3.)
func openStores(ctx context.Context, d *Deps) error {
	return errors.New("stores not built yet")
}
