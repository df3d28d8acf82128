package eventsfn

import (
	"fmt"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// sdkItem converts a stream image as Lambda delivers it (aws-lambda-go's
// attribute values) to the SDK's, which package dynamostore decodes.
func sdkItem(image map[string]awsevents.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(image))
	for k, v := range image {
		av, err := sdkValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func sdkValue(v awsevents.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case awsevents.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case awsevents.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case awsevents.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case awsevents.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case awsevents.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case awsevents.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case awsevents.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case awsevents.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case awsevents.DataTypeList:
		l := v.List()
		out := make([]types.AttributeValue, len(l))
		for i, x := range l {
			av, err := sdkValue(x)
			if err != nil {
				return nil, err
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case awsevents.DataTypeMap:
		m, err := sdkItem(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("attribute of unknown type %d", v.DataType())
}

// LambdaItem converts an SDK item to the attribute values Lambda delivers:
// local runs build stream records with it (the inverse of sdkItem).
func LambdaItem(item map[string]types.AttributeValue) map[string]awsevents.DynamoDBAttributeValue {
	out := make(map[string]awsevents.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = lambdaValue(v)
	}
	return out
}

func lambdaValue(v types.AttributeValue) awsevents.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return awsevents.NewStringAttribute(x.Value)
	case *types.AttributeValueMemberN:
		return awsevents.NewNumberAttribute(x.Value)
	case *types.AttributeValueMemberB:
		return awsevents.NewBinaryAttribute(x.Value)
	case *types.AttributeValueMemberBOOL:
		return awsevents.NewBooleanAttribute(x.Value)
	case *types.AttributeValueMemberSS:
		return awsevents.NewStringSetAttribute(x.Value)
	case *types.AttributeValueMemberNS:
		return awsevents.NewNumberSetAttribute(x.Value)
	case *types.AttributeValueMemberBS:
		return awsevents.NewBinarySetAttribute(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]awsevents.DynamoDBAttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = lambdaValue(e)
		}
		return awsevents.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return awsevents.NewMapAttribute(LambdaItem(x.Value))
	}
	return awsevents.NewNullAttribute()
}
