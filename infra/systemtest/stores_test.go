package systemtest_test

import (
	"testing"

	"github.com/sofie/integrations/infra/localtest"
)

// eachStore runs fn once on the embedded store and once on the AWS adapters
// (DynamoDB and Secrets Manager on moto_server), each in a fresh world, in
// parallel.
func eachStore(t *testing.T, fn func(t *testing.T, w *world), opts ...localtest.Option) {
	t.Helper()
	eachStoreWith(t, func(string) []localtest.Option { return opts }, func(t *testing.T, _ string, w *world) { fn(t, w) })
}

// eachStoreWith is eachStore with options made per store ("embedded",
// "aws"), for a test that keeps something per world (a recorder).
func eachStoreWith(t *testing.T, opts func(store string) []localtest.Option, fn func(t *testing.T, store string, w *world)) {
	t.Helper()
	for _, s := range []struct {
		name string
		opts []localtest.Option
	}{{"embedded", nil}, {"aws", []localtest.Option{localtest.WithAWS()}}} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			fn(t, s.name, newWorld(t, append(append([]localtest.Option{}, s.opts...), opts(s.name)...)...))
		})
	}
}
