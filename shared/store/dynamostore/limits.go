package dynamostore

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	var x expr
	cond := or(x.notExists(AttrPK), x.cmp(attrCount, lt, nv(int64(limit))))
	upd := x.update().add(attrCount, nv(1)).
		set(attrType, sv(typeLimit)).
		set(AttrTTL, nv(expires.Unix())). // a Number, as DynamoDB's TTL needs
		String()
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: st.table,
		Key: map[string]types.AttributeValue{
			AttrPK: sv(limitPKTag + join(name, subject)),
			AttrSK: sv("WINDOW#" + timeString(window)),
		},
		ConditionExpression:       aws.String(cond),
		UpdateExpression:          aws.String(upd),
		ExpressionAttributeNames:  x.names,
		ExpressionAttributeValues: x.values,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, wrap(op, err)
	}
	return true, nil
}
