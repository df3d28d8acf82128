package dynamostore

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
)

// ScanConnections implements store.ConnectionScan with a Scan of the table
// filtered on the item type. This is the one access pattern that reads the
// whole table, and it is acceptable only because it serves a maintenance
// task an operator starts (re-sealing every token before a key version is
// retired), paged and resumable, never a request or the scheduled refresh,
// which read the due-index. Connections carry no index that covers them all
// (the due-index is sparse, ByProvider is per org), and a full-coverage
// index would cost every connection write for a task run a few times a
// year. IAM: dynamodb:Scan on the table, RefreshFunction only.
//
// Reads are strongly consistent. A page evaluates at most the page limit of
// items per Scan call; the cursor is the key of the last item the page
// evaluated or returned, so items the filter dropped are not read again.
func (st *Store) ScanConnections(ctx context.Context, page store.Page) ([]store.Connection, string, error) {
	const op = "scan connections"
	limit := pageLimit(page)
	in := &dynamodb.ScanInput{TableName: st.table, ConsistentRead: aws.Bool(true), Limit: aws.Int32(int32(limit))}
	if page.Cursor != "" {
		c, err := decodeCursor(page.Cursor, AttrPK, AttrSK, scanCursorMark)
		if err != nil || c[scanCursorMark] != scanCursorValue {
			return nil, "", fmt.Errorf("dynamostore: %s: %w", op, store.ErrInvalidCursor)
		}
		in.ExclusiveStartKey = startKey(map[string]string{AttrPK: c[AttrPK], AttrSK: c[AttrSK]})
	}
	var x expr
	in.FilterExpression = aws.String(x.cmp(attrType, eq, sv(typeConnection)))
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = x.names, x.values

	var out []store.Connection
	var last map[string]types.AttributeValue // key of the last item read
	for {
		res, err := st.db.Scan(ctx, in)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		for i, item := range res.Items {
			if len(out) == limit {
				// Full: the rest of this Scan page is read again next time.
				return scanPage(out, last)
			}
			c, err := decodeConn(item)
			if err != nil {
				return nil, "", wrap(op, err)
			}
			out = append(out, c)
			last = res.Items[i]
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, "", nil
		}
		last = res.LastEvaluatedKey
		if len(out) == limit {
			return scanPage(out, last)
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// A scan cursor is the base-table key of the last item read, marked so that
// another listing's cursor (which may name the same attributes) is refused.
const (
	scanCursorMark  = "scan"
	scanCursorValue = "connections"
)

// scanPage returns the page with the cursor after key.
func scanPage(out []store.Connection, key map[string]types.AttributeValue) ([]store.Connection, string, error) {
	c, err := encodeCursor(map[string]types.AttributeValue{AttrPK: key[AttrPK], AttrSK: key[AttrSK], scanCursorMark: sv(scanCursorValue)},
		AttrPK, AttrSK, scanCursorMark)
	if err != nil {
		return nil, "", fmt.Errorf("dynamostore: scan connections: cursor: %w", err)
	}
	return out, c, nil
}
