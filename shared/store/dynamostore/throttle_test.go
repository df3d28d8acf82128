package dynamostore_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/store/storetest"
)

// TestThrottled: DynamoDB throttling that outlasts the SDK's retries is
// store.ErrThrottled, for plain calls and for a transaction cancelled by
// throttling.
func TestThrottled(t *testing.T) {
	for _, c := range []struct {
		name, body string
		call       func(*dynamostore.Store) error
	}{
		{
			"GetItem", `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}`,
			func(s *dynamostore.Store) error {
				_, err := s.GetConnection(context.Background(), store.ConnKey{OrgID: "o", UserID: "u", Provider: "p"})
				return err
			},
		},
		{
			"Query", `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}`,
			func(s *dynamostore.Store) error {
				_, _, err := s.ListDue(context.Background(), storetest.T0, store.Page{})
				return err
			},
		},
		{
			"TransactWriteItems", `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"cancelled","CancellationReasons":[{"Code":"ThrottlingError"},{"Code":"None"}]}`,
			func(s *dynamostore.Store) error {
				_, err := s.PutIntegration(context.Background(), storetest.Integration("o", "p"), 0,
					store.AuditEntry{OrgID: "o", ID: "a", At: storetest.T0})
				return err
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			db := dynamodb.NewFromConfig(aws.Config{
				Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
			}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 2 })
			err := c.call(dynamostore.New(db, "t"))
			if !errors.Is(err, store.ErrThrottled) {
				t.Fatalf("error %v, want ErrThrottled", err)
			}
			if c.name != "TransactWriteItems" && attempts.Load() != 2 {
				t.Fatalf("%d attempts, want the SDK's 2", attempts.Load())
			}
		})
	}
}
