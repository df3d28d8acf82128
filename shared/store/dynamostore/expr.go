package dynamostore

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr builds the expressions of one request: condition, key condition,
// filter and update expressions, with their ExpressionAttributeNames and
// ExpressionAttributeValues.
//
// It replaces the SDK's feature/dynamodb/expression, whose generic tree
// builder, and the packages it pulls in, cost every Lambda bootstrap tens
// of kilobytes (issue 13 §1) for the dozen shapes of expression this store
// writes.
//
// Every attribute name goes through a placeholder (#n0, #n1, ...), never
// into the expression text, so that names which are DynamoDB reserved
// words (status, count, type, ttl, cursor, ...) and names with any
// characters are safe. A name used twice gets the same placeholder. Every
// value goes through a placeholder of its own (:v0, :v1, ...).
//
// The methods return expression text to pass to the request, after the
// last of them ran: the maps are filled as a side effect, so read them
// (names, values) only once the text is complete. Both maps stay nil while
// empty, because DynamoDB rejects an empty ExpressionAttributeValues.
type expr struct {
	names  map[string]string               // placeholder -> attribute name
	values map[string]types.AttributeValue // placeholder -> value
}

// name returns the placeholder of attribute n.
func (x *expr) name(n string) string {
	for p, m := range x.names {
		if m == n {
			return p
		}
	}
	if x.names == nil {
		x.names = map[string]string{}
	}
	p := "#n" + strconv.Itoa(len(x.names))
	x.names[p] = n
	return p
}

// value returns a new placeholder for v.
func (x *expr) value(v types.AttributeValue) string {
	if x.values == nil {
		x.values = map[string]types.AttributeValue{}
	}
	p := ":v" + strconv.Itoa(len(x.values))
	x.values[p] = v
	return p
}

// nv is a Number value, as DynamoDB needs for ADD and for TTL attributes.
func nv(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// A comparator of cmp, as DynamoDB spells it.
type comparator string

const (
	eq comparator = "="
	ne comparator = "<>"
	lt comparator = "<"
	le comparator = "<="
	gt comparator = ">"
)

// cmp is "attribute n compares to v with c".
func (x *expr) cmp(n string, c comparator, v types.AttributeValue) string {
	return x.name(n) + " " + string(c) + " " + x.value(v)
}

// exists and notExists test whether the item has attribute n; on the key
// attribute, whether the item exists.
func (x *expr) exists(n string) string    { return "attribute_exists (" + x.name(n) + ")" }
func (x *expr) notExists(n string) string { return "attribute_not_exists (" + x.name(n) + ")" }

// beginsWith is "the string attribute n starts with prefix" (also a sort
// key condition).
func (x *expr) beginsWith(n, prefix string) string {
	return "begins_with (" + x.name(n) + ", " + x.value(sv(prefix)) + ")"
}

// and and or combine conditions. Each operand is parenthesised, so that
// an operand which is itself an OR stays one operand of an AND.
func and(conds ...string) string { return combine(" AND ", conds) }
func or(conds ...string) string  { return combine(" OR ", conds) }

func combine(op string, conds []string) string {
	if len(conds) == 1 {
		return conds[0]
	}
	return "(" + strings.Join(conds, ")"+op+"(") + ")"
}

// update is an update expression's actions, rendered by String in the
// order they were added within each clause.
type update struct {
	x                   *expr
	sets, removes, adds []string
}

func (x *expr) update() *update { return &update{x: x} }

// set writes v to attribute n.
func (u *update) set(n string, v types.AttributeValue) *update {
	u.sets = append(u.sets, u.x.name(n)+" = "+u.x.value(v))
	return u
}

// remove deletes attribute n.
func (u *update) remove(n string) *update {
	u.removes = append(u.removes, u.x.name(n))
	return u
}

// add adds the Number v to attribute n (a missing attribute counts as 0).
func (u *update) add(n string, v types.AttributeValue) *update {
	u.adds = append(u.adds, u.x.name(n)+" "+u.x.value(v))
	return u
}

func (u *update) String() string {
	var b []string
	for _, c := range [...]struct {
		verb    string
		actions []string
	}{{"SET ", u.sets}, {"REMOVE ", u.removes}, {"ADD ", u.adds}} {
		if len(c.actions) > 0 {
			b = append(b, c.verb+strings.Join(c.actions, ", "))
		}
	}
	return strings.Join(b, " ")
}
