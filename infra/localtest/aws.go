package localtest

import (
	"os"
	"sync"
	"testing"

	"github.com/sofie/integrations/infra/testenv/moto"
)

var awsEnvOnce sync.Once

// awsVars configures the AWS adapters for moto_server: a table and secret
// names unique to the test. The SDK finds moto through the standard
// AWS_ENDPOINT_URL, as make run STORE=aws does; it is set process-wide,
// once, because every test of the binary shares the one moto_server.
func awsVars(t testing.TB) map[string]string {
	t.Helper()
	endpoint := moto.Endpoint(t)
	awsEnvOnce.Do(func() {
		for k, v := range map[string]string{
			"AWS_ENDPOINT_URL":      endpoint,
			"AWS_ACCESS_KEY_ID":     "testing",
			"AWS_SECRET_ACCESS_KEY": "testing",
			"AWS_REGION":            moto.Region,
		} {
			if err := os.Setenv(k, v); err != nil {
				t.Fatalf("localtest: %v", err)
			}
		}
	})
	prefix := moto.Prefix(t)
	return map[string]string{
		"STORE":               "aws",
		"TABLE_NAME":          prefix + "table",
		"SECRETS_PREFIX":      "integrations/" + prefix + "test",
		"TOKEN_KEY_SECRET_ID": "integrations/" + prefix + "test/token-key",
	}
}
