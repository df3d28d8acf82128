package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sofie/integrations/shared/store"
)

// Page limits, the same as the embedded adapter's.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
	// maxAuditPerChange keeps PutIntegration within TransactWriteItems'
	// 100-item limit.
	maxAuditPerChange = 99
)

// API is the part of *dynamodb.Client the store uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) // maintenance only: scan.go
}

// Store is the DynamoDB store. It is safe for concurrent use.
type Store struct {
	db    API
	table *string
}

var _ store.Store = (*Store)(nil)

// New returns the store on the table named table (created by template.yaml,
// or by CreateTable in local runs and tests).
func New(db API, table string) *Store {
	return &Store{db: db, table: aws.String(table)}
}

func pageLimit(p store.Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// --- errors ------------------------------------------------------------------

var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"ThrottlingError":                        true, // a transaction cancellation reason
	"ProvisionedThroughputExceeded":          true, // likewise
}

func isThrottle(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) && throttleCodes[api.ErrorCode()] {
		return true
	}
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if throttleCodes[aws.ToString(r.Code)] {
				return true
			}
		}
	}
	return false
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// wrap adds the operation and maps throttling (after the SDK's own
// retries) to store.ErrThrottled.
func wrap(op string, err error) error {
	if isThrottle(err) {
		return fmt.Errorf("dynamostore: %s: %w: %w", op, store.ErrThrottled, err)
	}
	return fmt.Errorf("dynamostore: %s: %w", op, err)
}

func required(what ...string) error {
	for i := 0; i+1 < len(what); i += 2 {
		if what[i+1] == "" {
			return fmt.Errorf("dynamostore: empty %s", what[i])
		}
	}
	return nil
}

// versionCondition: the stored version equals expected (0: no item).
func versionCondition(x *expr, expected int64) string {
	if expected == 0 {
		return x.notExists(AttrPK)
	}
	return x.cmp(attrVersion, eq, nv(expected))
}

// queryAll follows LastEvaluatedKey through a small partition.
func (st *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, each func(map[string]types.AttributeValue) error) error {
	in.Limit = aws.Int32(DefaultPageLimit)
	for {
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			if err := each(it); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// queryPage reads up to limit items and tells whether more follow, reading
// one look-ahead item (never more) to know.
func (st *Store) queryPage(ctx context.Context, in *dynamodb.QueryInput, limit int) (items []map[string]types.AttributeValue, more bool, err error) {
	for {
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return nil, false, err
		}
		items = append(items, out.Items...)
		if len(items) > limit {
			return items[:limit], true, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, false, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// --- integrations ------------------------------------------------------------

// GetIntegration implements store.Integrations.
func (st *Store) GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error) {
	op := "get integration " + orgID + "/" + provider
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      st.table,
		Key:            map[string]types.AttributeValue{AttrPK: sv(integrationPK(orgID)), AttrSK: sv(integrationSK(provider))},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Integration{}, wrap(op, err)
	}
	if len(out.Item) == 0 {
		return store.Integration{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrNotFound)
	}
	var it integrationItem
	if err := unmarshal(out.Item, &it); err != nil {
		return store.Integration{}, wrap(op, err)
	}
	return it.Integration, nil
}

// ListIntegrations implements store.Integrations.
func (st *Store) ListIntegrations(ctx context.Context, orgID string) ([]store.Integration, error) {
	op := "list integrations of " + orgID
	var x expr
	kc := and(x.cmp(AttrPK, eq, sv(integrationPK(orgID))), x.beginsWith(AttrSK, "INTEG#"))
	var out []store.Integration
	err := st.queryAll(ctx, &dynamodb.QueryInput{
		TableName: st.table, KeyConditionExpression: aws.String(kc),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		ConsistentRead: aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		var it integrationItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		out = append(out, it.Integration)
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// PutIntegration implements store.Integrations: one conditional PutItem,
// or with audit entries one TransactWriteItems.
func (st *Store) PutIntegration(ctx context.Context, cfg store.Integration, expectedVersion int64, audit ...store.AuditEntry) (store.Integration, error) {
	op := "put integration " + cfg.OrgID + "/" + cfg.Provider
	if err := required("org id", cfg.OrgID, "provider", cfg.Provider); err != nil {
		return store.Integration{}, err
	}
	if len(audit) > maxAuditPerChange {
		return store.Integration{}, fmt.Errorf("dynamostore: %s: %d audit entries, at most %d", op, len(audit), maxAuditPerChange)
	}
	cfg.Version = expectedVersion + 1
	item, err := marshal(integrationItem{PK: integrationPK(cfg.OrgID), SK: integrationSK(cfg.Provider), Type: typeIntegration, Integration: cfg})
	if err != nil {
		return store.Integration{}, wrap(op, err)
	}
	var x expr
	cond := versionCondition(&x, expectedVersion)
	if len(audit) == 0 {
		_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: st.table, Item: item,
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		})
		if isConditionFailed(err) {
			return store.Integration{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrConflict)
		}
		if err != nil {
			return store.Integration{}, wrap(op, err)
		}
		return decodeIntegration(item)
	}

	items := []types.TransactWriteItem{{Put: &types.Put{
		TableName: st.table, Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	}}}
	for _, a := range audit {
		put, err := st.auditPut(a)
		if err != nil {
			return store.Integration{}, wrap(op, err)
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	_, err = st.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		var tc *types.TransactionCanceledException
		if errors.As(err, &tc) && !isThrottle(err) {
			for i, r := range tc.CancellationReasons {
				switch aws.ToString(r.Code) {
				case "ConditionalCheckFailed":
					if i == 0 {
						return store.Integration{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrConflict)
					}
					return store.Integration{}, fmt.Errorf("dynamostore: %s: audit entry %s exists: %w", op, audit[i-1].ID, store.ErrConflict)
				case "TransactionConflict":
					// Another transaction was writing the same item: a
					// concurrent writer, as good as a stale version.
					return store.Integration{}, fmt.Errorf("dynamostore: %s: concurrent write: %w", op, store.ErrConflict)
				}
			}
		}
		return store.Integration{}, wrap(op, err)
	}
	return decodeIntegration(item)
}

func decodeIntegration(item map[string]types.AttributeValue) (store.Integration, error) {
	var it integrationItem
	if err := unmarshal(item, &it); err != nil {
		return store.Integration{}, wrap("decode integration", err)
	}
	return it.Integration, nil
}

// --- audit -------------------------------------------------------------------

func (st *Store) auditPut(a store.AuditEntry) (*types.Put, error) {
	if err := required("audit org id", a.OrgID, "audit id", a.ID); err != nil {
		return nil, err
	}
	if a.At.IsZero() {
		return nil, fmt.Errorf("dynamostore: audit entry %s has no time", a.ID)
	}
	item, err := marshal(auditItem{PK: integrationPK(a.OrgID), SK: auditSK(a), Type: typeAudit, AuditEntry: a})
	if err != nil {
		return nil, err
	}
	var x expr
	cond := x.notExists(AttrPK)
	return &types.Put{TableName: st.table, Item: item, ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names}, nil
}

// AppendAudit implements store.Audit. An entry whose id (at the same time)
// exists is ErrConflict.
func (st *Store) AppendAudit(ctx context.Context, a store.AuditEntry) error {
	op := "append audit " + a.OrgID
	put, err := st.auditPut(a)
	if err != nil {
		return err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression, ExpressionAttributeNames: put.ExpressionAttributeNames,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("dynamostore: %s: entry %s exists: %w", op, a.ID, store.ErrConflict)
	}
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// ListAudit implements store.Audit: newest first (by time, then id).
func (st *Store) ListAudit(ctx context.Context, orgID string, page store.Page) ([]store.AuditEntry, string, error) {
	op := "list audit of " + orgID
	pk := integrationPK(orgID)
	in := &dynamodb.QueryInput{TableName: st.table, ScanIndexForward: aws.Bool(false), ConsistentRead: aws.Bool(true)}
	if page.Cursor != "" {
		c, err := decodeCursor(page.Cursor, AttrPK, AttrSK)
		if err != nil || c[AttrPK] != pk || !strings.HasPrefix(c[AttrSK], "AUDIT#") {
			return nil, "", fmt.Errorf("dynamostore: %s: %w", op, store.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = startKey(c)
	}
	var x expr
	in.KeyConditionExpression = aws.String(and(x.cmp(AttrPK, eq, sv(pk)), x.beginsWith(AttrSK, "AUDIT#")))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = x.names, x.values
	items, more, err := st.queryPage(ctx, in, pageLimit(page))
	if err != nil {
		return nil, "", wrap(op, err)
	}
	out := make([]store.AuditEntry, 0, len(items))
	for _, item := range items {
		var it auditItem
		if err := unmarshal(item, &it); err != nil {
			return nil, "", wrap(op, err)
		}
		out = append(out, it.AuditEntry)
	}
	next := ""
	if more {
		if next, err = encodeCursor(items[len(items)-1], AttrPK, AttrSK); err != nil {
			return nil, "", wrap(op, err)
		}
	}
	return out, next, nil
}

// --- states ------------------------------------------------------------------

// CreateState implements store.States. An existing id is ErrConflict.
func (st *Store) CreateState(ctx context.Context, s store.OAuthState) error {
	if err := required("state id", s.ID); err != nil {
		return err
	}
	if s.ExpiresAt.IsZero() {
		return fmt.Errorf("dynamostore: state has no expiry")
	}
	key := stateKey(s.ID)
	item, err := marshal(stateItem{
		PK: key[AttrPK].(*types.AttributeValueMemberS).Value, SK: "STATE", Type: typeState,
		// TTL deletion may lag by days; ConsumeState checks expiresAt itself.
		TTL:        s.ExpiresAt.Add(time.Second - 1).Unix(),
		OAuthState: s,
	})
	if err != nil {
		return wrap("create state", err)
	}
	var x expr
	cond := x.notExists(AttrPK)
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table, Item: item, ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("dynamostore: create state: %w", store.ErrConflict)
	}
	if err != nil {
		return wrap("create state", err)
	}
	return nil
}

// ConsumeState implements store.States with one conditional DeleteItem: of
// concurrent consumers exactly one gets the old item back.
func (st *Store) ConsumeState(ctx context.Context, id string, now time.Time) (store.OAuthState, error) {
	var x expr
	cond := and(x.exists(AttrPK), x.cmp(attrExpiresAt, gt, sv(timeString(now))))
	out, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: st.table, Key: stateKey(id),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		ReturnValues: types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return store.OAuthState{}, fmt.Errorf("dynamostore: consume state: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.OAuthState{}, wrap("consume state", err)
	}
	if len(out.Attributes) == 0 {
		// DynamoDB always returns the deleted item here; an emulator that
		// let a concurrent consumer delete it first might not.
		return store.OAuthState{}, fmt.Errorf("dynamostore: consume state: %w", store.ErrNotFound)
	}
	var it stateItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return store.OAuthState{}, wrap("consume state", err)
	}
	return it.OAuthState, nil
}

// --- connections -------------------------------------------------------------

func validConnKey(k store.ConnKey) error {
	return required("org id", k.OrgID, "user id", k.UserID, "provider", k.Provider)
}

func decodeConn(item map[string]types.AttributeValue) (store.Connection, error) {
	var it connItem
	if err := unmarshal(item, &it); err != nil {
		return store.Connection{}, err
	}
	return it.Connection, nil
}

// GetConnection implements store.Connections.
func (st *Store) GetConnection(ctx context.Context, k store.ConnKey) (store.Connection, error) {
	op := "get connection " + k.String()
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table, Key: connKeyAV(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	if len(out.Item) == 0 {
		return store.Connection{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrNotFound)
	}
	c, err := decodeConn(out.Item)
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	return c, nil
}

// ListUserConnections implements store.Connections.
func (st *Store) ListUserConnections(ctx context.Context, orgID, userID string) ([]store.Connection, error) {
	op := "list connections of " + orgID + "/" + userID
	var x expr
	kc := and(x.cmp(AttrPK, eq, sv(connPK(orgID, userID))), x.beginsWith(AttrSK, "CONN#"))
	var out []store.Connection
	err := st.queryAll(ctx, &dynamodb.QueryInput{
		TableName: st.table, KeyConditionExpression: aws.String(kc),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values, ConsistentRead: aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		c, err := decodeConn(item)
		out = append(out, c)
		return err
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// ListProviderConnections implements store.Connections (GSI ByProvider),
// ordered by user id.
func (st *Store) ListProviderConnections(ctx context.Context, orgID, provider string, page store.Page) ([]store.Connection, string, error) {
	op := "list " + provider + " connections of " + orgID
	pk := provPK(orgID, provider)
	in := &dynamodb.QueryInput{TableName: st.table, IndexName: aws.String(IndexByProvider)}
	if page.Cursor != "" {
		c, err := decodeCursor(page.Cursor, AttrGSI1PK, AttrGSI1SK, AttrPK, AttrSK)
		if err != nil || c[AttrGSI1PK] != pk {
			return nil, "", fmt.Errorf("dynamostore: %s: %w", op, store.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = startKey(c)
	}
	var x expr
	in.KeyConditionExpression = aws.String(x.cmp(AttrGSI1PK, eq, sv(pk)))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = x.names, x.values
	items, more, err := st.queryPage(ctx, in, pageLimit(page))
	if err != nil {
		return nil, "", wrap(op, err)
	}
	out := make([]store.Connection, 0, len(items))
	for _, item := range items {
		c, err := decodeConn(item)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		out = append(out, c)
	}
	next := ""
	if more {
		if next, err = encodeCursor(items[len(items)-1], AttrGSI1PK, AttrGSI1SK, AttrPK, AttrSK); err != nil {
			return nil, "", wrap(op, err)
		}
	}
	return out, next, nil
}

// putConn writes c under cond, built on x.
func (st *Store) putConn(ctx context.Context, c store.Connection, x *expr, cond string) (store.Connection, error) {
	item, err := marshal(newConnItem(c))
	if err != nil {
		return store.Connection{}, err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: st.table, Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	})
	if err != nil {
		return store.Connection{}, err
	}
	return decodeConn(item)
}

// PutConnection implements store.Connections.
func (st *Store) PutConnection(ctx context.Context, c store.Connection, expectedVersion int64) (store.Connection, error) {
	op := "put connection " + c.ConnKey.String()
	if err := validConnKey(c.ConnKey); err != nil {
		return store.Connection{}, err
	}
	c.Version = expectedVersion + 1
	var x expr
	out, err := st.putConn(ctx, c, &x, versionCondition(&x, expectedVersion))
	if isConditionFailed(err) {
		return store.Connection{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrConflict)
	}
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	return out, nil
}

// DeleteConnection implements store.Connections.
func (st *Store) DeleteConnection(ctx context.Context, k store.ConnKey) error {
	if _, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: st.table, Key: connKeyAV(k)}); err != nil {
		return wrap("delete connection "+k.String(), err)
	}
	return nil
}

// ClaimLease implements store.Connections with one conditional UpdateItem.
// A claim is a write: it bumps the version.
func (st *Store) ClaimLease(ctx context.Context, k store.ConnKey, owner string, now, until time.Time) (store.Connection, error) {
	op := "claim lease on " + k.String()
	if err := required("lease owner", owner); err != nil {
		return store.Connection{}, err
	}
	if !until.After(now) {
		return store.Connection{}, fmt.Errorf("dynamostore: %s: lease must end after now", op)
	}
	var x expr
	free := or(
		x.notExists(attrLeaseOwner),
		x.cmp(attrLeaseOwner, eq, sv(owner)),
		x.notExists(attrLeaseUntil),
		x.cmp(attrLeaseUntil, le, sv(timeString(now))),
	)
	cond := and(x.exists(AttrPK), free)
	upd := x.update().
		set(attrLeaseOwner, sv(owner)).
		set(attrLeaseUntil, sv(timeString(until))).
		add(attrVersion, nv(1)).
		String()
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: st.table, Key: connKeyAV(k),
		ConditionExpression: aws.String(cond), UpdateExpression: aws.String(upd),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return store.Connection{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrNotFound)
		}
		return store.Connection{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrLeaseHeld)
	}
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	c, err := decodeConn(out.Attributes)
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	return c, nil
}

// CompleteLease implements store.Connections: one PutItem conditional on
// the lease owner and the claimed version.
func (st *Store) CompleteLease(ctx context.Context, c store.Connection, owner string) (store.Connection, error) {
	op := "complete lease on " + c.ConnKey.String()
	if err := validConnKey(c.ConnKey); err != nil {
		return store.Connection{}, err
	}
	if err := required("lease owner", owner); err != nil {
		return store.Connection{}, err
	}
	var x expr
	cond := and(x.cmp(attrLeaseOwner, eq, sv(owner)), x.cmp(attrVersion, eq, nv(c.Version)))
	c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	c.Version++
	out, err := st.putConn(ctx, c, &x, cond)
	if isConditionFailed(err) {
		return store.Connection{}, fmt.Errorf("dynamostore: %s: %w", op, store.ErrLeaseLost)
	}
	if err != nil {
		return store.Connection{}, wrap(op, err)
	}
	return out, nil
}

// ListDue implements store.Connections: it queries the due-index shard by
// shard (GSI2SK <= before, Limit bounded by the page), reading only due
// entries. Within a shard entries come oldest first. A non-empty cursor may
// lead to an empty last page when the previous page ended exactly at the
// end of a shard.
func (st *Store) ListDue(ctx context.Context, before time.Time, page store.Page) ([]store.DueRef, string, error) {
	const op = "list due"
	shard := 0
	var start map[string]types.AttributeValue
	if page.Cursor != "" {
		c, err := decodeDueCursor(page.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("dynamostore: %s: %w", op, err)
		}
		shard, start = c.shard, c.start
	}
	limit := pageLimit(page)
	bound := timeString(before)
	var out []store.DueRef
	for ; shard < DueShards; shard++ {
		var x expr
		kc := and(x.cmp(AttrGSI2PK, eq, sv(duePK(shard))), x.cmp(AttrGSI2SK, le, sv(bound)))
		in := &dynamodb.QueryInput{
			TableName: st.table, IndexName: aws.String(IndexDue),
			KeyConditionExpression: aws.String(kc), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
			ExclusiveStartKey: start,
		}
		start = nil
		items, more, err := st.queryPage(ctx, in, limit-len(out))
		if err != nil {
			return nil, "", wrap(op, err)
		}
		for _, item := range items {
			r, err := dueRef(item)
			if err != nil {
				return nil, "", wrap(op, err)
			}
			out = append(out, r)
		}
		if more {
			next, err := encodeCursor(items[len(items)-1], AttrGSI2PK, AttrGSI2SK, AttrPK, AttrSK)
			if err != nil {
				return nil, "", wrap(op, err)
			}
			return out, next, nil
		}
		if len(out) == limit && shard+1 < DueShards {
			next, err := encodeCursor(map[string]types.AttributeValue{AttrGSI2PK: sv(duePK(shard + 1))}, AttrGSI2PK)
			if err != nil {
				return nil, "", wrap(op, err)
			}
			return out, next, nil
		}
	}
	return out, "", nil
}

type dueCursor struct {
	shard int
	start map[string]types.AttributeValue // nil: the shard's beginning
}

func shardOf(pk string) (int, bool) {
	n, ok := strings.CutPrefix(pk, "DUE#")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil && i >= 0 && i < DueShards && duePK(i) == pk
}

func decodeDueCursor(c string) (dueCursor, error) {
	if m, err := decodeCursor(c, AttrGSI2PK); err == nil {
		if shard, ok := shardOf(m[AttrGSI2PK]); ok {
			return dueCursor{shard: shard}, nil
		}
		return dueCursor{}, store.ErrInvalidCursor
	}
	m, err := decodeCursor(c, AttrGSI2PK, AttrGSI2SK, AttrPK, AttrSK)
	if err != nil {
		return dueCursor{}, err
	}
	shard, ok := shardOf(m[AttrGSI2PK])
	if _, okKey := parseConnKey(m[AttrPK], m[AttrSK]); !ok || !okKey {
		return dueCursor{}, store.ErrInvalidCursor
	}
	return dueCursor{shard: shard, start: startKey(m)}, nil
}

func dueRef(item map[string]types.AttributeValue) (store.DueRef, error) {
	str := func(a string) string {
		if v, ok := item[a].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	k, ok := parseConnKey(str(AttrPK), str(AttrSK))
	if !ok {
		return store.DueRef{}, fmt.Errorf("due-index entry with a malformed key")
	}
	at, err := time.Parse(timeLayout, str(AttrGSI2SK))
	if err != nil {
		return store.DueRef{}, fmt.Errorf("due-index entry with a malformed time")
	}
	return store.DueRef{ConnKey: k, DueAt: at}, nil
}
