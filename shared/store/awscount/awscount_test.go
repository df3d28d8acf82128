package awscount_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store/awscount"
)

// TestCounts: calls are counted once per operation sent (not per retry), and
// Query's Count and ScannedCount are summed.
func TestCounts(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		op := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasSuffix(op, ".Query"):
			w.Write([]byte(`{"Count":2,"ScannedCount":5,"Items":[]}`))
		case hits.Add(1) == 1: // the first GetItem attempt fails and is retried
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"__type":"InternalServerError","message":"retry me"}`))
		default:
			w.Write([]byte(`{}`))
		}
	}))
	defer srv.Close()

	var c awscount.Counter
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	c.Attach(&cfg)
	db := dynamodb.NewFromConfig(cfg)
	ctx := t.Context()
	for range 3 {
		if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "x"}}}); err != nil {
		t.Fatal(err)
	}
	if c.Calls("DynamoDB", "Query") != 3 || c.Calls("DynamoDB", "GetItem") != 1 || c.Calls("DynamoDB", "") != 4 || c.Total() != 4 {
		t.Fatalf("counts: %s", c.String())
	}
	if hits.Load() != 2 {
		t.Fatalf("GetItem was sent %d times, want 2 (one retry)", hits.Load())
	}
	// A call refused by the SDK's own validation never reaches the service.
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t")}); err == nil {
		t.Fatal("invalid call accepted")
	}
	if c.Calls("DynamoDB", "GetItem") != 1 {
		t.Fatalf("an invalid call was counted: %s", c.String())
	}
	if c.Scanned("DynamoDB", "Query") != 15 || c.Returned("DynamoDB", "Query") != 6 {
		t.Fatalf("scanned %d returned %d, want 15 and 6", c.Scanned("DynamoDB", "Query"), c.Returned("DynamoDB", "Query"))
	}
	if got := c.String(); got != "DynamoDB.GetItem=1 DynamoDB.Query=3" {
		t.Fatalf("String() = %q", got)
	}
	c.Reset()
	if c.Total() != 0 || c.Scanned("DynamoDB", "Query") != 0 {
		t.Fatal("Reset kept counts")
	}
}
