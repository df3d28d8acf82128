// Command minimal is the yardstick of the functions' size and start-up
// cost: a Lambda function that uses the same AWS pieces as they do
// (aws-lambda-go, the SDK's config loader, DynamoDB with attributevalue,
// Secrets Manager) and nothing of the service. make bench builds it beside
// the four bootstraps and reports each one's size and package
// initialisation time as a share of this one's.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type item struct {
	PK    string `dynamodbav:"PK"`
	Value string `dynamodbav:"value"`
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		os.Exit(1)
	}
	ddb := dynamodb.NewFromConfig(cfg)
	sm := secretsmanager.NewFromConfig(cfg)
	table, secret := os.Getenv("TABLE_NAME"), os.Getenv("SECRET_ID")
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		key, err := attributevalue.MarshalMap(map[string]string{"PK": req.RawPath})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 500}, nil
		}
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 502}, nil
		}
		var it item
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 500}, nil
		}
		if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret)}); err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 502}, nil
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: it.Value}, nil
	})
}
