package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Rate-limit counters: one item per (name, subject, window),
//
//	PK LIMIT#<name>#<subject>   SK WINDOW#<window start>   count, ttl
//
// incremented by one UpdateItem conditional on the count being under the
// limit (or the item not existing yet), so concurrent containers never
// count past it. The ttl attribute lets DynamoDB delete the item after the
// window.
const (
	typeLimit  = "limit"
	attrCount  = "count"
	limitPKTag = "LIMIT#"
)

// Allow implements store.RateLimits.
func (st *Store) Allow(ctx context.Context, name, subject string, window time.Time, limit int, expires time.Time) (bool, error) {
	op := "count " + name + " of " + subject
	if err := required("limit name", name, "subject", subject); err != nil {
		return false, err
	}
	if limit <= 0 {
		return false, nil
	}
	cond := expression.Name(AttrPK).AttributeNotExists().Or(expression.Name(attrCount).LessThan(expression.Value(limit)))
	upd := expression.Add(expression.Name(attrCount), expression.Value(1)).
		Set(expression.Name(attrType), expression.Value(typeLimit)).
		Set(expression.Name(AttrTTL), expression.Value(expires.Unix())) // a Number, as DynamoDB's TTL needs
	e, err := build(expression.NewBuilder().WithCondition(cond).WithUpdate(upd))
	if err != nil {
		return false, err
	}
	_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: st.table,
		Key: map[string]types.AttributeValue{
			AttrPK: sv(limitPKTag + join(name, subject)),
			AttrSK: sv("WINDOW#" + timeString(window)),
		},
		ConditionExpression:       e.Condition(),
		UpdateExpression:          e.Update(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap(op, err)
	}
	return true, nil
}
