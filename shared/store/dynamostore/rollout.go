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

// The rollout view's records (store.RolloutRecords):
//
//	refresh summary  PK ORG#<org>                  SK REFRESHRUN#<provider>
//	connect attempt  PK ATTEMPTS#<org>#<provider>  SK USER#<user>          ttl
//
// A summary shares the org's partition with its integrations (listed by
// begins_with(SK, INTEG#), so never among them) and is one PutItem
// conditional on no later run's summary being stored. An org's attempts of
// a provider are one partition, read by a paged Query; DynamoDB's TTL
// deletes an attempt AttemptRetention after its start.

const (
	typeRefreshSummary = "refresh_summary"
	typeAttempt        = "connect_attempt"
	attrStartedAt      = "startedAt"
)

type refreshSummaryItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	store.RefreshSummary
}

func refreshSummaryKey(org, provider string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: sv(integrationPK(org)), AttrSK: sv("REFRESHRUN#" + join(provider))}
}

// PutRefreshSummary implements store.RolloutRecords.
func (st *Store) PutRefreshSummary(ctx context.Context, s store.RefreshSummary) error {
	op := "put refresh summary of " + s.OrgID + "/" + s.Provider
	if err := required("org id", s.OrgID, "provider", s.Provider); err != nil {
		return err
	}
	key := refreshSummaryKey(s.OrgID, s.Provider)
	item, err := marshal(refreshSummaryItem{
		PK: key[AttrPK].(*types.AttributeValueMemberS).Value, SK: key[AttrSK].(*types.AttributeValueMemberS).Value,
		Type: typeRefreshSummary, RefreshSummary: s,
	})
	if err != nil {
		return wrap(op, err)
	}
	var x expr
	cond := or(x.notExists(AttrPK), x.cmp(attrStartedAt, le, sv(timeString(s.StartedAt))))
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table, Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	})
	if isConditionFailed(err) {
		return nil // a later run's summary stands
	}
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// GetRefreshSummary implements store.RolloutRecords.
func (st *Store) GetRefreshSummary(ctx context.Context, orgID, provider string) (store.RefreshSummary, error) {
	op := "get refresh summary of " + orgID + "/" + provider
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table, Key: refreshSummaryKey(orgID, provider), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.RefreshSummary{}, wrap(op, err)
	}
	if len(out.Item) == 0 {
		return store.RefreshSummary{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrNotFound)
	}
	var it refreshSummaryItem
	if err := unmarshal(out.Item, &it); err != nil {
		return store.RefreshSummary{}, wrap(op, err)
	}
	return it.RefreshSummary, nil
}

type attemptItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	TTL  int64  `dynamodbav:"ttl"`
	store.ConnectAttempt
}

func attemptPK(org, provider string) string { return "ATTEMPTS#" + join(org, provider) }
func attemptSK(user string) string          { return "USER#" + join(user) }

// RecordConnectAttempt implements store.RolloutRecords.
func (st *Store) RecordConnectAttempt(ctx context.Context, a store.ConnectAttempt) error {
	op := "record connect attempt of " + a.OrgID + "/" + a.UserID + "/" + a.Provider
	if err := required("org id", a.OrgID, "provider", a.Provider, "user id", a.UserID); err != nil {
		return err
	}
	if a.ExpiresAt.IsZero() {
		return fmt.Errorf("dynamostore: %s: no expiry", op)
	}
	item, err := marshal(attemptItem{
		PK: attemptPK(a.OrgID, a.Provider), SK: attemptSK(a.UserID), Type: typeAttempt,
		TTL: a.ExpiresAt.Add(time.Second - 1).Unix(), ConnectAttempt: a,
	})
	if err != nil {
		return wrap(op, err)
	}
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: item}); err != nil {
		return wrap(op, err)
	}
	return nil
}

// ClearConnectAttempt implements store.RolloutRecords.
func (st *Store) ClearConnectAttempt(ctx context.Context, orgID, provider, userID string) error {
	op := "clear connect attempt of " + orgID + "/" + userID + "/" + provider
	if err := required("org id", orgID, "provider", provider, "user id", userID); err != nil {
		return err
	}
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: st.table,
		Key:       map[string]types.AttributeValue{AttrPK: sv(attemptPK(orgID, provider)), AttrSK: sv(attemptSK(userID))},
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// ListConnectAttempts implements store.RolloutRecords.
func (st *Store) ListConnectAttempts(ctx context.Context, orgID, provider string, page store.Page) ([]store.ConnectAttempt, string, error) {
	op := "list connect attempts of " + orgID + "/" + provider
	pk := attemptPK(orgID, provider)
	in := &dynamodb.QueryInput{TableName: st.table, ConsistentRead: aws.Bool(true)}
	if page.Cursor != "" {
		c, err := decodeCursor(page.Cursor, AttrPK, AttrSK)
		if err != nil || c[AttrPK] != pk {
			return nil, "", fmt.Errorf("dynamostore: %s: %w", op, store.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = startKey(c)
	}
	var x expr
	in.KeyConditionExpression = aws.String(x.cmp(AttrPK, eq, sv(pk)))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = x.names, x.values
	items, more, err := st.queryPage(ctx, in, pageLimit(page))
	if err != nil {
		return nil, "", wrap(op, err)
	}
	out := make([]store.ConnectAttempt, 0, len(items))
	for _, item := range items {
		var it attemptItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", wrap(op, err)
		}
		out = append(out, it.ConnectAttempt)
	}
	next := ""
	if more {
		if next, err = encodeCursor(items[len(items)-1], AttrPK, AttrSK); err != nil {
			return nil, "", wrap(op, err)
		}
	}
	return out, next, nil
}
