package moto_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/sofie/integrations/infra/testenv/moto"
)

// faultClient is a DynamoDB client on moto with the SDK's DynamoDB retry
// policy (4 attempts) but no backoff sleep, so these tests of the proxy run
// in milliseconds.
func faultClient(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	cfg := moto.Config(t)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = moto.SDKAttemptsDynamoDB
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	db := dynamodb.NewFromConfig(cfg)
	table := moto.Prefix(t) + "faults"
	_, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	return db, table
}

func put(ctx context.Context, db *dynamodb.Client, table, pk string, cond bool) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}}}
	if cond {
		in.ConditionExpression = aws.String("attribute_not_exists(PK)")
	}
	_, err := db.PutItem(ctx, in)
	return err
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// TestFaultWithinRetries: a throttle on fewer attempts than the SDK makes
// is absorbed by its retries; the item is written once.
func TestFaultWithinRetries(t *testing.T) {
	db, table := faultClient(t)
	f := moto.Inject(t, moto.Fault{Table: table, Operation: "PutItem", Code: moto.ProvisionedThroughputExceeded, Times: moto.SDKAttemptsDynamoDB - 1})
	if err := put(t.Context(), db, table, "a", true); err != nil {
		t.Fatalf("put through 3 throttles: %v", err)
	}
	if f.Hits() != moto.SDKAttemptsDynamoDB-1 {
		t.Fatalf("hits %d", f.Hits())
	}
	if err := put(t.Context(), db, table, "a", true); errorCode(err) != moto.ConditionalCheckFailed {
		t.Fatalf("second put of the same item: %v, want moto's own condition failure", err)
	}
}

// TestFaultOutlastsRetries: Calls faults every attempt of an operation: the
// caller sees the throttling error after the SDK's 4 attempts, and the next
// operation goes through.
func TestFaultOutlastsRetries(t *testing.T) {
	db, table := faultClient(t)
	f := moto.Inject(t, moto.Fault{Table: table, Operation: "PutItem", Code: moto.Throttling, Calls: 1})
	err := put(t.Context(), db, table, "a", false)
	if errorCode(err) != moto.Throttling {
		t.Fatalf("put: %v, want %s", err, moto.Throttling)
	}
	if f.Hits() != moto.SDKAttemptsDynamoDB {
		t.Fatalf("hits %d, want every attempt (%d)", f.Hits(), moto.SDKAttemptsDynamoDB)
	}
	if err := put(t.Context(), db, table, "a", false); err != nil {
		t.Fatalf("next put: %v", err)
	}
}

// TestFaultMatching: table, operation and body substrings all narrow a
// fault; other tables and keys pass.
func TestFaultMatching(t *testing.T) {
	db, table := faultClient(t)
	other, otherTable := faultClient(t)
	moto.Inject(t, moto.Fault{Table: table, Operation: "PutItem", Contains: []string{"KEY#x"}, Code: moto.ConditionalCheckFailed})
	if err := put(t.Context(), db, table, "KEY#y", false); err != nil {
		t.Fatalf("another key: %v", err)
	}
	if err := put(t.Context(), other, otherTable, "KEY#x", false); err != nil {
		t.Fatalf("another table: %v", err)
	}
	if _, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "KEY#x"}}}); err != nil {
		t.Fatalf("another operation: %v", err)
	}
	var ccf *types.ConditionalCheckFailedException
	if err := put(t.Context(), db, table, "KEY#x", false); !errors.As(err, &ccf) {
		t.Fatalf("matched put: %v, want a typed ConditionalCheckFailedException", err)
	}
}

// TestFaultTransactionReasons: a TransactionCanceled answer carries its
// cancellation reasons as the SDK's typed error.
func TestFaultTransactionReasons(t *testing.T) {
	db, table := faultClient(t)
	moto.Inject(t, moto.Fault{Table: table, Operation: "TransactWriteItems", Code: moto.TransactionCanceled, Reasons: []string{"None", "ThrottlingError"}, Times: 1})
	item := func(pk string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}}}}
	}
	_, err := db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{item("a"), item("b")}})
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != 2 || aws.ToString(tc.CancellationReasons[1].Code) != "ThrottlingError" {
		t.Fatalf("transaction: %v", err)
	}
}

// TestFaultBeforeLandsAConcurrentWriter: Before runs a write (through the
// proxy) ahead of the matched request, and moto then refuses the request's
// condition on its own.
func TestFaultBeforeLandsAConcurrentWriter(t *testing.T) {
	db, table := faultClient(t)
	f := moto.Inject(t, moto.Fault{Table: table, Operation: "PutItem", Contains: []string{`"ConditionExpression"`}, Times: 1, Before: func() {
		if err := put(context.Background(), db, table, "race", false); err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	}})
	if err := put(t.Context(), db, table, "race", true); errorCode(err) != moto.ConditionalCheckFailed {
		t.Fatalf("put after the concurrent writer: %v", err)
	}
	if f.Hits() != 1 {
		t.Fatalf("hits %d", f.Hits())
	}
}

// TestSimulateSecretDeletionDelay: after a forced DeleteSecret, a
// CreateSecret of the same name is refused as Secrets Manager refuses it
// while the deletion finishes in the background, until the delay has
// passed; names outside the prefix, and other names, are not affected.
func TestSimulateSecretDeletionDelay(t *testing.T) {
	ctx := t.Context()
	sm := secretsmanager.NewFromConfig(moto.Config(t))
	prefix := moto.Prefix(t)
	const delay = 400 * time.Millisecond
	refused := moto.SimulateSecretDeletionDelay(t, prefix, delay)

	create := func(name string) error {
		_, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("fake-value")})
		return err
	}
	del := func(name string) {
		t.Helper()
		if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	name, other := prefix+"a", prefix+"b"
	for _, n := range []string{name, other} {
		if err := create(n); err != nil {
			t.Fatal(err)
		}
	}
	del(name)
	deleted := time.Now()
	var pending *smtypes.InvalidRequestException
	if err := create(name); !errors.As(err, &pending) || !strings.Contains(err.Error(), "scheduled for deletion") {
		t.Fatalf("create right after the deletion: %v, want InvalidRequestException", err)
	}
	if err := create(prefix + "c"); err != nil {
		t.Fatalf("a name never deleted: %v", err)
	}
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(other), SecretString: aws.String("fake-value-2")}); err != nil {
		t.Fatalf("another secret: %v", err)
	}
	time.Sleep(time.Until(deleted.Add(delay)))
	if err := create(name); err != nil {
		t.Fatalf("create after the delay: %v", err)
	}
	if refused.Hits() != 1 {
		t.Fatalf("%d refused creates, want 1", refused.Hits())
	}
	// A deletion outside the prefix is moto's own: immediate.
	outside := strings.TrimSuffix(prefix, "-") + "x-outside"
	if err := create(outside); err != nil {
		t.Fatal(err)
	}
	del(outside)
	if err := create(outside); err != nil {
		t.Fatalf("outside the prefix: %v", err)
	}
}
