package dynamostore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
)

// Record attributes used in conditions (the records' JSON names).
const (
	attrVersion    = "version"
	attrLeaseOwner = "leaseOwner"
	attrLeaseUntil = "leaseUntil"
	attrExpiresAt  = "expiresAt"
	attrType       = "type"
)

var (
	escaper   = strings.NewReplacer("%", "%25", "#", "%23")
	unescaper = strings.NewReplacer("%23", "#", "%25", "%")
)

// join escapes each part and joins them with '#'.
func join(parts ...string) string {
	for i, p := range parts {
		parts[i] = escaper.Replace(p)
	}
	return strings.Join(parts, "#")
}

const timeLayout = "2006-01-02T15:04:05.000000000Z"

// timeString is the stored form of every time: fixed width, so that string
// comparison in conditions and key conditions is time comparison.
func timeString(t time.Time) string { return t.UTC().Format(timeLayout) }

var (
	encoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
		o.OmitEmptyTime = true
		o.EncodeTime = func(t time.Time) (types.AttributeValue, error) {
			return &types.AttributeValueMemberS{Value: timeString(t)}, nil
		}
	})
	decoder = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
)

func marshal(v any) (map[string]types.AttributeValue, error) {
	av, err := encoder.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("encode item: %w", err)
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("encode item: not a map")
	}
	return m.Value, nil
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	if err := decoder.Decode(&types.AttributeValueMemberM{Value: item}, v); err != nil {
		return fmt.Errorf("decode item: %w", err)
	}
	return nil
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// --- items -------------------------------------------------------------------

const (
	typeIntegration = "integration"
	typeAudit       = "audit"
	typeState       = "state"
	typeCompletion  = "completion"
	typeHealth      = "health"
	typeJob         = "job"
	typeConnection  = "connection"
)

type integrationItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	store.Integration
}

func integrationPK(org string) string  { return "ORG#" + join(org) }
func integrationSK(prov string) string { return "INTEG#" + join(prov) }

type auditItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	store.AuditEntry
}

func auditSK(e store.AuditEntry) string { return "AUDIT#" + join(timeString(e.At), e.ID) }

type stateItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	TTL  int64  `dynamodbav:"ttl"`
	store.OAuthState
}

func stateKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: sv("STATE#" + join(id)), AttrSK: sv("STATE")}
}

type connItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	// Only connections on the due-index carry these (sparse GSI).
	GSI2PK string `dynamodbav:"GSI2PK,omitempty"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty"`
	// Only connections whose account is known carry these (sparse GSI).
	GSI3PK string `dynamodbav:"GSI3PK,omitempty"`
	GSI3SK string `dynamodbav:"GSI3SK,omitempty"`
	// Only connections off the due-index for a reason carry these
	// (sparse GSI).
	GSI4PK string `dynamodbav:"GSI4PK,omitempty"`
	GSI4SK string `dynamodbav:"GSI4SK,omitempty"`
	store.Connection
}

func connPK(org, user string) string { return "USER#" + join(org, user) }
func connSK(prov string) string      { return "CONN#" + join(prov) }
func provPK(org, prov string) string { return "PROV#" + join(org, prov) }
func provSK(user string) string      { return "USER#" + join(user) }
func dueShard(k store.ConnKey) int {
	h := fnv.New32a()
	h.Write([]byte(k.String()))
	return int(h.Sum32() % DueShards)
}
func duePK(shard int) string { return "DUE#" + strconv.Itoa(shard) }

func connKeyAV(k store.ConnKey) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: sv(connPK(k.OrgID, k.UserID)), AttrSK: sv(connSK(k.Provider))}
}

func newConnItem(c store.Connection) connItem {
	it := connItem{
		PK: connPK(c.OrgID, c.UserID), SK: connSK(c.Provider), Type: typeConnection,
		GSI1PK: provPK(c.OrgID, c.Provider), GSI1SK: provSK(c.UserID),
		Connection: c,
	}
	if !c.NextRefreshAt.IsZero() {
		it.GSI2PK, it.GSI2SK = duePK(dueShard(c.ConnKey)), timeString(c.NextRefreshAt)
	}
	if g, ok := c.Grant(); ok {
		it.GSI3PK, it.GSI3SK = grantPK(g), it.PK
	}
	if c.NextRefreshAt.IsZero() && c.OffIndexReason != "" {
		it.GSI4PK, it.GSI4SK = offIndexPK(c.Provider, c.OffIndexReason), join(c.OrgID, c.UserID)
	}
	return it
}

// parseConnKey reads a connection's key back from its PK and SK (the
// due-index projects only keys).
func parseConnKey(pk, sk string) (store.ConnKey, bool) {
	p := strings.Split(pk, "#")
	q := strings.Split(sk, "#")
	if len(p) != 3 || p[0] != "USER" || len(q) != 2 || q[0] != "CONN" {
		return store.ConnKey{}, false
	}
	return store.ConnKey{OrgID: unescaper.Replace(p[1]), UserID: unescaper.Replace(p[2]), Provider: unescaper.Replace(q[1])}, true
}

// --- cursors -----------------------------------------------------------------

// A cursor is the key of the last item returned (base64url JSON of its
// string key attributes). decodeCursor checks it names exactly the
// attributes of this listing and the partition asked for.
func encodeCursor(item map[string]types.AttributeValue, attrs ...string) (string, error) {
	m := map[string]string{}
	for _, a := range attrs {
		v, ok := item[a].(*types.AttributeValueMemberS)
		if !ok {
			return "", fmt.Errorf("item lacks key attribute %s", a)
		}
		m[a] = v.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(c string, attrs ...string) (map[string]string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, store.ErrInvalidCursor
	}
	var m map[string]string
	if json.Unmarshal(b, &m) != nil || len(m) != len(attrs) {
		return nil, store.ErrInvalidCursor
	}
	for _, a := range attrs {
		if m[a] == "" {
			return nil, store.ErrInvalidCursor
		}
	}
	return m, nil
}

func startKey(m map[string]string) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = sv(v)
	}
	return out
}
