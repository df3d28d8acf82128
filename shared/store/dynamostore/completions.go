package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
)

// --- pending completions -----------------------------------------------------

type completionItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	TTL  int64  `dynamodbav:"ttl"`
	store.PendingCompletion
}

func completionKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: sv("COMPLETION#" + join(id)), AttrSK: sv("COMPLETION")}
}

// CreateCompletion implements store.Completions. An existing id is
// ErrConflict.
func (st *Store) CreateCompletion(ctx context.Context, c store.PendingCompletion) error {
	const op = "create pending completion"
	if err := required("completion id", c.ID); err != nil {
		return err
	}
	if c.ExpiresAt.IsZero() {
		return fmt.Errorf("dynamostore: %s: no expiry", op)
	}
	key := completionKey(c.ID)
	item, err := marshal(completionItem{
		PK: key[AttrPK].(*types.AttributeValueMemberS).Value, SK: "COMPLETION", Type: typeCompletion,
		// TTL deletion may lag by days; ConsumeCompletion checks expiresAt
		// itself.
		TTL:               c.ExpiresAt.Add(time.Second - 1).Unix(),
		PendingCompletion: c,
	})
	if err != nil {
		return wrap(op, err)
	}
	var x expr
	cond := x.notExists(AttrPK)
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table, Item: item, ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("dynamostore: %s: %w", op, store.ErrConflict)
	}
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// ConsumeCompletion implements store.Completions with one conditional
// DeleteItem: of concurrent consumers exactly one gets the item back.
func (st *Store) ConsumeCompletion(ctx context.Context, id string, now time.Time) (store.PendingCompletion, error) {
	const op = "consume pending completion"
	var x expr
	cond := and(x.exists(AttrPK), x.cmp(attrExpiresAt, gt, sv(timeString(now))))
	out, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: st.table, Key: completionKey(id),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		ReturnValues: types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return store.PendingCompletion{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrNotFound)
	}
	if err != nil {
		return store.PendingCompletion{}, wrap(op, err)
	}
	if len(out.Attributes) == 0 {
		return store.PendingCompletion{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrNotFound)
	}
	var it completionItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return store.PendingCompletion{}, wrap(op, err)
	}
	return it.PendingCompletion, nil
}

// --- the grant index ---------------------------------------------------------

func grantPK(g store.GrantRef) string { return "GRANT#" + join(g.Provider, g.ClientRef, g.AccountID) }

// ListGrantConnections implements store.Grants (GSI ByGrant, keys only).
// The index is eventually consistent: a connection written a moment ago
// may be missing, which callers deciding whether to revoke a shared grant
// must allow for (see connections.grantShared).
func (st *Store) ListGrantConnections(ctx context.Context, g store.GrantRef, limit int) ([]store.ConnKey, error) {
	op := "list connections of a " + g.Provider + " grant"
	if limit <= 0 || limit > MaxPageLimit {
		limit = DefaultPageLimit
	}
	var x expr
	kc := x.cmp(AttrGSI3PK, eq, sv(grantPK(g)))
	items, _, err := st.queryPage(ctx, &dynamodb.QueryInput{
		TableName: st.table, IndexName: aws.String(IndexByGrant),
		KeyConditionExpression: aws.String(kc), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	}, limit)
	if err != nil {
		return nil, wrap(op, err)
	}
	out := make([]store.ConnKey, 0, len(items))
	for _, item := range items {
		pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
		sk, _ := item[AttrSK].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			return nil, fmt.Errorf("dynamostore: %s: index entry without keys", op)
		}
		k, ok := parseConnKey(pk.Value, sk.Value)
		if !ok {
			return nil, fmt.Errorf("dynamostore: %s: malformed key", op)
		}
		out = append(out, k)
	}
	return out, nil
}
