package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
)

// --- client health -------------------------------------------------------------

// A client's health is its own item beside the integration's (same
// partition, SK HEALTH#<provider>): the refresh job writes it, and an
// admin's optimistic version of the integration never moves because of it.

type healthItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	store.ClientHealth
}

const attrStatus = "status"

func healthKey(org, provider string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: sv(integrationPK(org)), AttrSK: sv("HEALTH#" + join(provider))}
}

func okHealth(org, provider string) store.ClientHealth {
	return store.ClientHealth{OrgID: org, Provider: provider, Status: store.HealthOK}
}

// GetClientHealth implements store.Health.
func (st *Store) GetClientHealth(ctx context.Context, orgID, provider string) (store.ClientHealth, error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: st.table, Key: healthKey(orgID, provider), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.ClientHealth{}, wrap("get client health "+orgID+"/"+provider, err)
	}
	if len(out.Item) == 0 {
		return okHealth(orgID, provider), nil
	}
	var it healthItem
	if err := unmarshal(out.Item, &it); err != nil {
		return store.ClientHealth{}, wrap("get client health", err)
	}
	return it.ClientHealth, nil
}

// ListClientHealth implements store.Health.
func (st *Store) ListClientHealth(ctx context.Context, orgID string) (map[string]store.ClientHealth, error) {
	var x expr
	kc := and(x.cmp(AttrPK, eq, sv(integrationPK(orgID))), x.beginsWith(AttrSK, "HEALTH#"))
	out := map[string]store.ClientHealth{}
	err := st.queryAll(ctx, &dynamodb.QueryInput{
		TableName: st.table, KeyConditionExpression: aws.String(kc),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values, ConsistentRead: aws.Bool(true),
	}, func(item map[string]types.AttributeValue) error {
		var it healthItem
		if err := unmarshal(item, &it); err != nil {
			return err
		}
		out[it.Provider] = it.ClientHealth
		return nil
	})
	if err != nil {
		return nil, wrap("list client health of "+orgID, err)
	}
	return out, nil
}

// maxHealthAttempts bounds the retries of a health report that keeps
// meeting concurrent reporters (each retry follows a decided write of
// theirs, so a handful always suffices).
const maxHealthAttempts = 5

// ReportClientFailure implements store.Health: a conditional write that
// succeeds only while the health is not failing decides who saw it start
// (with its audit entries, in one transaction); everyone else moves
// LastSeen.
func (st *Store) ReportClientFailure(ctx context.Context, orgID, provider, cause string, configVersion int64, at time.Time, audit ...store.AuditEntry) (store.ClientHealth, bool, error) {
	op := "report client failure " + orgID + "/" + provider
	if err := required("org id", orgID, "provider", provider, "cause", cause); err != nil {
		return store.ClientHealth{}, false, err
	}
	if len(audit) > maxAuditPerChange {
		return store.ClientHealth{}, false, fmt.Errorf("dynamostore: %s: %d audit entries, at most %d", op, len(audit), maxAuditPerChange)
	}
	// Each request gets its own expr: the maps are the request's.
	start := func() (*expr, string, string) {
		x := &expr{}
		upd := x.update().set("orgId", sv(orgID)).
			set("provider", sv(provider)).
			set(attrType, sv(typeHealth)).
			set(attrStatus, sv(store.HealthFailing)).
			set("cause", sv(cause)).
			set("since", sv(timeString(at))).
			set("lastSeen", sv(timeString(at))).
			set("configVersion", nv(configVersion)).
			String()
		return x, upd, or(x.notExists(attrStatus), x.cmp(attrStatus, ne, sv(store.HealthFailing)))
	}
	// LastSeen only moves forward (reports of overlapping runs arrive in
	// any order).
	seen := func() (*expr, string, string) {
		x := &expr{}
		upd := x.update().set("cause", sv(cause)).
			set("lastSeen", sv(timeString(at))).
			set("configVersion", nv(configVersion)).
			String()
		return x, upd, and(x.cmp(attrStatus, eq, sv(store.HealthFailing)), x.cmp("lastSeen", le, sv(timeString(at))))
	}
	var err error
	for range maxHealthAttempts {
		var h store.ClientHealth
		var started bool
		h, started, err = st.transitionHealth(ctx, op, orgID, provider, start, audit)
		switch {
		case errors.Is(err, errConcurrentTransaction):
			continue
		case err != nil:
			return store.ClientHealth{}, false, err
		case started:
			return h, true, nil
		}
		x, upd, cond := seen()
		h, err = st.updateHealth(ctx, orgID, provider, x, upd, cond)
		if err == nil {
			return h, false, nil
		}
		if !isConditionFailed(err) {
			return store.ClientHealth{}, false, wrap(op, err)
		}
		cur, gerr := st.GetClientHealth(ctx, orgID, provider)
		if gerr != nil {
			return store.ClientHealth{}, false, gerr
		}
		if cur.Failing() {
			return cur, false, nil // a later failure is already recorded
		}
		// It recovered between the two writes: report again, from OK.
	}
	return store.ClientHealth{}, false, fmt.Errorf("dynamostore: %s: still changing after %d attempts: %w", op, maxHealthAttempts, errors.Join(store.ErrConflict, err))
}

// ReportClientOK implements store.Health: only a failing health is
// written (with the audit entries, in one transaction).
func (st *Store) ReportClientOK(ctx context.Context, orgID, provider string, at time.Time, audit ...store.AuditEntry) (store.ClientHealth, bool, error) {
	op := "report client ok " + orgID + "/" + provider
	if len(audit) > maxAuditPerChange {
		return store.ClientHealth{}, false, fmt.Errorf("dynamostore: %s: %d audit entries, at most %d", op, len(audit), maxAuditPerChange)
	}
	recovery := func() (*expr, string, string) {
		x := &expr{}
		upd := x.update().set(attrStatus, sv(store.HealthOK)).
			set("recoveredAt", sv(timeString(at))).
			remove("cause").remove("since").remove("lastSeen").remove("configVersion").
			String()
		return x, upd, x.cmp(attrStatus, eq, sv(store.HealthFailing))
	}
	for range maxHealthAttempts {
		h, recovered, err := st.transitionHealth(ctx, op, orgID, provider, recovery, audit)
		switch {
		case errors.Is(err, errConcurrentTransaction):
			continue
		case err != nil:
			return store.ClientHealth{}, false, err
		case recovered:
			return h, true, nil
		}
		h, err = st.GetClientHealth(ctx, orgID, provider)
		return h, false, err
	}
	return store.ClientHealth{}, false, fmt.Errorf("dynamostore: %s: still changing after %d attempts: %w", op, maxHealthAttempts, store.ErrConflict)
}

// transitionHealth applies the update and condition change builds if the
// condition holds, with the audit entries in the same transaction when
// there are any. done is false when the condition did not hold (nothing was
// written); errConcurrentTransaction means another transaction held the
// item and nothing was decided.
func (st *Store) transitionHealth(ctx context.Context, op, orgID, provider string, change func() (x *expr, upd, cond string), audit []store.AuditEntry) (h store.ClientHealth, done bool, err error) {
	x, upd, cond := change()
	if len(audit) == 0 {
		h, err := st.updateHealth(ctx, orgID, provider, x, upd, cond)
		if isConditionFailed(err) {
			return store.ClientHealth{}, false, nil
		}
		if err != nil {
			return store.ClientHealth{}, false, wrap(op, err)
		}
		return h, true, nil
	}
	first := types.TransactWriteItem{Update: &types.Update{
		TableName: st.table, Key: healthKey(orgID, provider),
		UpdateExpression: aws.String(upd), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	}}
	err = st.transactAudited(ctx, op, first, audit)
	switch {
	case errors.Is(err, errFirstCondition):
		return store.ClientHealth{}, false, nil
	case err != nil:
		return store.ClientHealth{}, false, err
	}
	// A transaction returns no item: read what it wrote.
	h, err = st.GetClientHealth(ctx, orgID, provider)
	return h, true, err
}

// updateHealth applies update upd under condition cond, both built on x.
func (st *Store) updateHealth(ctx context.Context, orgID, provider string, x *expr, upd, cond string) (store.ClientHealth, error) {
	out, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: st.table, Key: healthKey(orgID, provider),
		UpdateExpression: aws.String(upd), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return store.ClientHealth{}, err
	}
	var it healthItem
	if err := unmarshal(out.Attributes, &it); err != nil {
		return store.ClientHealth{}, err
	}
	return it.ClientHealth, nil
}

// --- jobs ------------------------------------------------------------------------

// Jobs live in one partition (JOBS): there are a handful at a time, and a
// run lists them all.

type jobItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	store.Job
}

const jobsPK = "JOBS"

func jobKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: sv(jobsPK), AttrSK: sv("JOB#" + join(id))}
}

// EnqueueJob implements store.Jobs.
func (st *Store) EnqueueJob(ctx context.Context, j store.Job) error {
	if err := required("job id", j.ID, "job kind", j.Kind); err != nil {
		return err
	}
	k := jobKey(j.ID)
	item, err := marshal(jobItem{PK: jobsPK, SK: k[AttrSK].(*types.AttributeValueMemberS).Value, Type: typeJob, Job: j})
	if err != nil {
		return err
	}
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: st.table, Item: item}); err != nil {
		return wrap("enqueue job "+j.ID, err)
	}
	return nil
}

// ListJobs implements store.Jobs.
func (st *Store) ListJobs(ctx context.Context, limit int) ([]store.Job, error) {
	if limit <= 0 || limit > MaxPageLimit {
		limit = DefaultPageLimit
	}
	var x expr
	kc := x.cmp(AttrPK, eq, sv(jobsPK))
	items, _, err := st.queryPage(ctx, &dynamodb.QueryInput{
		TableName: st.table, KeyConditionExpression: aws.String(kc),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values, ConsistentRead: aws.Bool(true),
	}, limit)
	if err != nil {
		return nil, wrap("list jobs", err)
	}
	out := make([]store.Job, 0, len(items))
	for _, item := range items {
		var it jobItem
		if err := unmarshal(item, &it); err != nil {
			return nil, wrap("list jobs", err)
		}
		out = append(out, it.Job)
	}
	sortJobs(out)
	return out, nil
}

// SaveJobProgress implements store.Jobs.
func (st *Store) SaveJobProgress(ctx context.Context, j store.Job) error {
	var x expr
	upd := x.update().set("cursor", sv(j.Cursor)).set("updatedAt", sv(timeString(j.UpdatedAt))).String()
	cond := x.cmp("createdAt", eq, sv(timeString(j.CreatedAt)))
	_, err := st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: st.table, Key: jobKey(j.ID),
		UpdateExpression: aws.String(upd), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			return fmt.Errorf("dynamostore: save job progress %s: %w", j.ID, store.ErrNotFound)
		}
		return fmt.Errorf("dynamostore: save job progress %s: %w", j.ID, store.ErrConflict)
	}
	if err != nil {
		return wrap("save job progress "+j.ID, err)
	}
	return nil
}

// FinishJob implements store.Jobs.
func (st *Store) FinishJob(ctx context.Context, j store.Job) error {
	var x expr
	cond := x.cmp("createdAt", eq, sv(timeString(j.CreatedAt)))
	_, err := st.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: st.table, Key: jobKey(j.ID),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: x.names, ExpressionAttributeValues: x.values,
	})
	if isConditionFailed(err) {
		return nil // enqueued again meanwhile (or already gone): it stays for the next run
	}
	if err != nil {
		return wrap("finish job "+j.ID, err)
	}
	return nil
}

// --- the off-index listing ------------------------------------------------------

func offIndexPK(provider, reason string) string { return "OFF#" + join(provider, reason) }

// ListOffIndex implements store.OffIndex (GSI OffIndex, keys only).
func (st *Store) ListOffIndex(ctx context.Context, provider, reason, orgID string, page store.Page) ([]store.OffIndexRef, string, error) {
	op := "list " + provider + " connections off the due-index for " + reason
	pk := offIndexPK(provider, reason)
	in := &dynamodb.QueryInput{TableName: st.table, IndexName: aws.String(IndexOffIndex)}
	if page.Cursor != "" {
		c, err := decodeCursor(page.Cursor, AttrGSI4PK, AttrGSI4SK, AttrPK, AttrSK)
		if err != nil || c[AttrGSI4PK] != pk || (orgID != "" && !strings.HasPrefix(c[AttrGSI4SK], join(orgID)+"#")) {
			return nil, "", fmt.Errorf("dynamostore: %s: %w", op, store.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = startKey(c)
	}
	var x expr
	kc := x.cmp(AttrGSI4PK, eq, sv(pk))
	if orgID != "" {
		kc = and(kc, x.beginsWith(AttrGSI4SK, join(orgID)+"#"))
	}
	in.KeyConditionExpression = aws.String(kc)
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = x.names, x.values
	items, more, err := st.queryPage(ctx, in, pageLimit(page))
	if err != nil {
		return nil, "", wrap(op, err)
	}
	out := make([]store.OffIndexRef, 0, len(items))
	for _, item := range items {
		pkv, _ := item[AttrPK].(*types.AttributeValueMemberS)
		skv, _ := item[AttrSK].(*types.AttributeValueMemberS)
		if pkv == nil || skv == nil {
			return nil, "", fmt.Errorf("dynamostore: %s: index entry without keys", op)
		}
		k, ok := parseConnKey(pkv.Value, skv.Value)
		if !ok {
			return nil, "", fmt.Errorf("dynamostore: %s: malformed key", op)
		}
		out = append(out, store.OffIndexRef{ConnKey: k, Reason: reason})
	}
	next := ""
	if more {
		if next, err = encodeCursor(items[len(items)-1], AttrGSI4PK, AttrGSI4SK, AttrPK, AttrSK); err != nil {
			return nil, "", wrap(op, err)
		}
	}
	return out, next, nil
}

// sortJobs orders jobs oldest first, then by id.
func sortJobs(js []store.Job) {
	slices.SortFunc(js, func(a, b store.Job) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
