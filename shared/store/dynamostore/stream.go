package dynamostore

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/shared/store"
)

// Image is a table item as the table's stream carries it (a record's
// OldImage or NewImage), decoded to the record it stores: a connection or
// an integration, or a client's health. Every other item (states, pending
// completions, audit entries, rate limits, jobs) decodes to the empty
// Image.
type Image struct {
	Connection  *store.Connection
	Integration *store.Integration
	Health      *store.ClientHealth
}

// DecodeImage decodes a stream image (nil: no image, as a REMOVE's
// NewImage).
func DecodeImage(item map[string]types.AttributeValue) (Image, error) {
	t, _ := item[attrType].(*types.AttributeValueMemberS)
	if t == nil {
		return Image{}, nil
	}
	switch t.Value {
	case typeConnection:
		var it connItem
		if err := unmarshal(item, &it); err != nil {
			return Image{}, fmt.Errorf("dynamostore: connection image: %w", err)
		}
		return Image{Connection: &it.Connection}, nil
	case typeIntegration:
		var it integrationItem
		if err := unmarshal(item, &it); err != nil {
			return Image{}, fmt.Errorf("dynamostore: integration image: %w", err)
		}
		return Image{Integration: &it.Integration}, nil
	case typeHealth:
		var it healthItem
		if err := unmarshal(item, &it); err != nil {
			return Image{}, fmt.Errorf("dynamostore: health image: %w", err)
		}
		return Image{Health: &it.ClientHealth}, nil
	}
	return Image{}, nil
}

// ConnectionImage is c's item as the table stores it (and its stream
// carries it): local runs build stream records with it.
func ConnectionImage(c store.Connection) (map[string]types.AttributeValue, error) {
	return marshal(newConnItem(c))
}

// HealthImage is h's item as the table stores it.
func HealthImage(h store.ClientHealth) (map[string]types.AttributeValue, error) {
	k := healthKey(h.OrgID, h.Provider)
	return marshal(healthItem{PK: k[AttrPK].(*types.AttributeValueMemberS).Value, SK: k[AttrSK].(*types.AttributeValueMemberS).Value, Type: typeHealth, ClientHealth: h})
}

// IntegrationImage is in's item as the table stores it.
func IntegrationImage(in store.Integration) (map[string]types.AttributeValue, error) {
	return marshal(integrationItem{PK: integrationPK(in.OrgID), SK: integrationSK(in.Provider), Type: typeIntegration, Integration: in})
}
