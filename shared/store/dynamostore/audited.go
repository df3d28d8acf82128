package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
)

// PutConnectionAudited implements store.AuditedConnections: one
// TransactWriteItems of the connection's Put (conditional on its version)
// and each audit entry's Put (conditional on attribute_not_exists).
func (st *Store) PutConnectionAudited(ctx context.Context, c store.Connection, expectedVersion int64, audit ...store.AuditEntry) (store.Connection, error) {
	op := "put connection " + c.ConnKey.String() + " with audit"
	if err := validConnKey(c.ConnKey); err != nil {
		return store.Connection{}, err
	}
	c.Version = expectedVersion + 1
	item, err := marshal(newConnItem(c))
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	var x expr
	cond := versionCondition(&x, expectedVersion)
	first := types.TransactWriteItem{Put: &types.Put{
		TableName: st.table, Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	}}
	if err := st.transactAudited(ctx, op, first, audit); err != nil {
		return store.Connection{}, err
	}
	return decodeConn(item)
}

// DeleteConnectionAudited implements store.AuditedConnections: one
// TransactWriteItems of the connection's Delete (conditional on its
// version) and the audit entries' Puts.
func (st *Store) DeleteConnectionAudited(ctx context.Context, k store.ConnKey, version int64, audit ...store.AuditEntry) error {
	op := "delete connection " + k.String() + " with audit"
	if err := validConnKey(k); err != nil {
		return err
	}
	var x expr
	cond := x.cmp(attrVersion, eq, nv(version))
	first := types.TransactWriteItem{Delete: &types.Delete{
		TableName: st.table, Key: connKeyAV(k),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	}}
	return st.transactAudited(ctx, op, first, audit)
}

// Causes of the store.ErrConflict of transactAudited, for callers that
// answer them differently (errors.Is).
var (
	// errFirstCondition: the condition of the first item failed.
	errFirstCondition = errors.New("condition failed")
	// errConcurrentTransaction: another transaction was writing one of the
	// items; nothing was decided, trying again can succeed.
	errConcurrentTransaction = errors.New("concurrent transaction")
)

// transactAudited writes first and the audit entries in one transaction,
// mapping a failed condition (or a concurrent transaction on the same
// item) to store.ErrConflict.
func (st *Store) transactAudited(ctx context.Context, op string, first types.TransactWriteItem, audit []store.AuditEntry) error {
	items := []types.TransactWriteItem{first}
	for _, a := range audit {
		put, err := st.auditPut(a)
		if err != nil {
			return wrap(op, err)
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	_, err := st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) && !isThrottle(err) {
		for i, r := range tc.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed":
				if i == 0 {
					return fmt.Errorf("dynamostore: %s: %w: %w", op, store.ErrConflict, errFirstCondition)
				}
				return fmt.Errorf("dynamostore: %s: audit entry %s exists: %w", op, audit[i-1].ID, store.ErrConflict)
			case "TransactionConflict":
				return fmt.Errorf("dynamostore: %s: concurrent write: %w: %w", op, store.ErrConflict, errConcurrentTransaction)
			}
		}
	}
	return wrap(op, err)
}
