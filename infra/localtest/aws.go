package localtest

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// ScanTable returns every item of the environment's DynamoDB table (WithAWS),
// all attributes, read with raw Scans: what an operator with read access to
// the table would see. Tests use it to check what was really stored (and
// what was not), beneath the store port.
func (e *Env) ScanTable() []map[string]types.AttributeValue {
	e.t.Helper()
	if e.Config.Store != "aws" {
		e.t.Fatal("localtest: ScanTable needs WithAWS")
	}
	db := dynamodb.NewFromConfig(moto.Config(e.t))
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(e.Config.TableName), ConsistentRead: aws.Bool(true)}
	for {
		out, err := db.Scan(context.Background(), in)
		if err != nil {
			e.t.Fatalf("localtest: scan %s: %v", e.Config.TableName, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
