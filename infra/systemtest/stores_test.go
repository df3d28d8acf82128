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
	for _, s := range []struct {
		name string
		opts []localtest.Option
	}{{"embedded", nil}, {"aws", []localtest.Option{localtest.WithAWS()}}} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newWorld(t, append(append([]localtest.Option{}, s.opts...), opts...)...))
		})
	}
}
