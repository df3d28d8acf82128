package dynamostore

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestExpr(t *testing.T) {
	for _, tc := range []struct {
		name   string
		build  func(x *expr) string
		want   string
		names  map[string]string
		values map[string]types.AttributeValue
	}{{
		name:  "not exists: names only, values stay nil",
		build: func(x *expr) string { return x.notExists(AttrPK) },
		want:  "attribute_not_exists (#n0)",
		names: map[string]string{"#n0": "PK"},
	}, {
		name:  "exists",
		build: func(x *expr) string { return x.exists("status") },
		want:  "attribute_exists (#n0)",
		names: map[string]string{"#n0": "status"},
	}, {
		name: "every comparator",
		build: func(x *expr) string {
			return and(x.cmp("a", eq, sv("1")), x.cmp("b", ne, sv("2")), x.cmp("c", lt, nv(3)), x.cmp("d", le, nv(-4)), x.cmp("e", gt, sv("")))
		},
		want:  "(#n0 = :v0) AND (#n1 <> :v1) AND (#n2 < :v2) AND (#n3 <= :v3) AND (#n4 > :v4)",
		names: map[string]string{"#n0": "a", "#n1": "b", "#n2": "c", "#n3": "d", "#n4": "e"},
		values: map[string]types.AttributeValue{
			":v0": sv("1"), ":v1": sv("2"), ":v2": nv(3), ":v3": &types.AttributeValueMemberN{Value: "-4"}, ":v4": sv(""),
		},
	}, {
		name:   "key condition with begins_with",
		build:  func(x *expr) string { return and(x.cmp(AttrPK, eq, sv("ORG#o1")), x.beginsWith(AttrSK, "INTEG#")) },
		want:   "(#n0 = :v0) AND (begins_with (#n1, :v1))",
		names:  map[string]string{"#n0": "PK", "#n1": "SK"},
		values: map[string]types.AttributeValue{":v0": sv("ORG#o1"), ":v1": sv("INTEG#")},
	}, {
		// An OR inside an AND stays one operand: without the parentheses
		// "a AND b OR c" would mean "(a AND b) OR c".
		name: "nesting keeps precedence; a name used twice has one placeholder",
		build: func(x *expr) string {
			return and(x.exists(AttrPK), or(x.notExists("leaseOwner"), x.cmp("leaseOwner", eq, sv("me"))))
		},
		want:   "(attribute_exists (#n0)) AND ((attribute_not_exists (#n1)) OR (#n1 = :v0))",
		names:  map[string]string{"#n0": "PK", "#n1": "leaseOwner"},
		values: map[string]types.AttributeValue{":v0": sv("me")},
	}, {
		name:  "a single operand is not wrapped",
		build: func(x *expr) string { return or(x.notExists("x")) },
		want:  "attribute_not_exists (#n0)",
		names: map[string]string{"#n0": "x"},
	}, {
		name: "names with any characters never reach the text",
		build: func(x *expr) string {
			return x.cmp("a.b[0] #:v0 = 1", eq, sv("v"))
		},
		want:   "#n0 = :v0",
		names:  map[string]string{"#n0": "a.b[0] #:v0 = 1"},
		values: map[string]types.AttributeValue{":v0": sv("v")},
	}, {
		name: "update: clauses in SET, REMOVE, ADD order whatever the call order",
		build: func(x *expr) string {
			return x.update().add("count", nv(1)).set("type", sv("limit")).remove("cause").set("ttl", nv(60)).remove("since").String()
		},
		want:   "SET #n1 = :v1, #n3 = :v2 REMOVE #n2, #n4 ADD #n0 :v0",
		names:  map[string]string{"#n0": "count", "#n1": "type", "#n2": "cause", "#n3": "ttl", "#n4": "since"},
		values: map[string]types.AttributeValue{":v0": nv(1), ":v1": sv("limit"), ":v2": nv(60)},
	}, {
		name: "update and condition share placeholders",
		build: func(x *expr) string {
			u := x.update().set("status", sv("ok")).remove("cause").String()
			return u + " | " + x.cmp("status", eq, sv("failing"))
		},
		want:   "SET #n0 = :v0 REMOVE #n1 | #n0 = :v1",
		names:  map[string]string{"#n0": "status", "#n1": "cause"},
		values: map[string]types.AttributeValue{":v0": sv("ok"), ":v1": sv("failing")},
	}, {
		name:  "empty update",
		build: func(x *expr) string { return x.update().String() },
		want:  "",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var x expr
			if got := tc.build(&x); got != tc.want {
				t.Errorf("expression %q, want %q", got, tc.want)
			}
			if !reflect.DeepEqual(x.names, tc.names) {
				t.Errorf("names %v, want %v", x.names, tc.names)
			}
			if !reflect.DeepEqual(x.values, tc.values) {
				t.Errorf("values %#v, want %#v", x.values, tc.values)
			}
		})
	}
}

func TestVersionCondition(t *testing.T) {
	var x expr
	if got := versionCondition(&x, 0); got != "attribute_not_exists (#n0)" || x.names["#n0"] != AttrPK || x.values != nil {
		t.Errorf("version 0: %q %v %v, want the item absent", got, x.names, x.values)
	}
	x = expr{}
	got := versionCondition(&x, 7)
	if got != "#n0 = :v0" || x.names["#n0"] != attrVersion || !reflect.DeepEqual(x.values[":v0"], nv(7)) {
		t.Errorf("version 7: %q %v %v, want version = 7", got, x.names, x.values)
	}
}
