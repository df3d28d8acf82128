package dynamostore_test

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/store/storetest"
)

func TestImagesRoundTrip(t *testing.T) {
	c := storetest.Connection(store.ConnKey{OrgID: "o#1", UserID: "u1", Provider: "salesforce"})
	c.Version = 4
	img, err := dynamostore.ConnectionImage(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dynamostore.DecodeImage(img)
	if err != nil || got.Integration != nil || got.Connection == nil || !reflect.DeepEqual(*got.Connection, c) {
		t.Fatalf("connection image decodes to %+v, %v; want %+v", got, err, c)
	}
	in := storetest.Integration("o#1", "salesforce")
	in.Version = 2
	img, err = dynamostore.IntegrationImage(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err = dynamostore.DecodeImage(img)
	if err != nil || got.Connection != nil || got.Integration == nil || !reflect.DeepEqual(*got.Integration, in) {
		t.Fatalf("integration image decodes to %+v, %v; want %+v", got, err, in)
	}
	// Other items, and no image at all, are neither.
	for _, item := range []map[string]types.AttributeValue{
		nil,
		{"PK": &types.AttributeValueMemberS{Value: "STATE#x"}, "type": &types.AttributeValueMemberS{Value: "state"}},
		{"PK": &types.AttributeValueMemberS{Value: "ORG#o1"}, "type": &types.AttributeValueMemberS{Value: "audit"}},
	} {
		if got, err := dynamostore.DecodeImage(item); err != nil || got != (dynamostore.Image{}) {
			t.Errorf("image %v decodes to %+v, %v", item, got, err)
		}
	}
	// A connection image that does not decode is an error, not an empty image.
	bad := map[string]types.AttributeValue{"type": &types.AttributeValueMemberS{Value: "connection"}, "version": &types.AttributeValueMemberS{Value: "x"}}
	if _, err := dynamostore.DecodeImage(bad); err == nil {
		t.Error("a malformed connection image decoded")
	}
}
