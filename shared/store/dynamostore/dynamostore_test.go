//go:build moto

// This file runs against moto_server (make test passes -tags moto; see the
// README's Tests): the package's other tests need nothing but Go.

package dynamostore_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/store/storetest"
)

func TestMain(m *testing.M) { moto.Main(m) }

// newTable creates a fresh table for t on moto_server and returns a client
// whose calls c counts (c may be nil).
func newTable(t testing.TB, c *awscount.Counter) (*dynamodb.Client, string) {
	t.Helper()
	cfg := moto.Config(t)
	if c != nil {
		c.Attach(&cfg)
	}
	db := dynamodb.NewFromConfig(cfg)
	name := moto.Prefix(t) + "table"
	if err := dynamostore.CreateTable(t.Context(), db, name); err != nil {
		t.Fatal(err)
	}
	return db, name
}

func TestContract(t *testing.T) {
	t.Parallel() // with the 10,000-connection test, which mostly waits on moto
	storetest.TestStore(t, func(t *testing.T) store.Store {
		db, name := newTable(t, nil)
		return dynamostore.New(db, name)
	})
}
