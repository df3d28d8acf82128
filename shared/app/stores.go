package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sofie/integrations/shared/store/awssecrets"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/tokenseal"
)

// openStores sets d.Store, d.Secrets and d.Tokens from d.Config.Store: "aws"
// for DynamoDB and Secrets Manager, "embedded" for the local durable stores
// in LOCAL_DATA_DIR.
func openStores(ctx context.Context, d *Deps, o buildOptions) error {
	switch d.Config.Store {
	case "embedded":
		s, err := boltstore.Open(d.Config.LocalDataDir)
		if err != nil {
			return err
		}
		d.Store, d.Secrets = s, s
		d.closers = append(d.closers, s.Close)
	case "aws":
		if err := openAWSStores(ctx, d, o); err != nil {
			return err
		}
	default:
		return fmt.Errorf("STORE %q is not aws or embedded", d.Config.Store)
	}
	d.Tokens = &tokenseal.Vault{Secrets: d.Secrets}
	return nil
}

// openAWSStores builds the DynamoDB and Secrets Manager adapters from the
// SDK's standard configuration (AWS_REGION, credentials chain,
// AWS_ENDPOINT_URL). Local and test configurations (a moto_server behind
// AWS_ENDPOINT_URL) also get defaults for what a developer does not set, and
// the table and token-key secret are created if missing; deployed
// configurations never create anything.
func openAWSStores(ctx context.Context, d *Deps, o buildOptions) error {
	cfg := d.Config
	var opts []func(*awsconfig.LoadOptions) error
	prefix, tokenKeyID := cfg.SecretsPrefix, cfg.TokenKeySecretID
	if cfg.IsLocal() {
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, awsconfig.WithRegion("us-east-1"))
		}
		if os.Getenv("AWS_ENDPOINT_URL") != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			// A local emulator accepts any signature: spare the developer
			// the credentials chain (and its metadata-service timeouts).
			opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
		if prefix == "" {
			prefix = "integrations/" + cfg.Environment
		}
		if tokenKeyID == "" {
			tokenKeyID = prefix + "/token-key"
		}
	}
	if len(o.awsAPIOptions) > 0 {
		opts = append(opts, awsconfig.WithAPIOptions(o.awsAPIOptions))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	sm := secretsmanager.NewFromConfig(awsCfg)
	if cfg.IsLocal() {
		if err := dynamostore.EnsureTable(ctx, ddb, cfg.TableName); err != nil {
			return err
		}
		if err := awssecrets.EnsureTokenKey(ctx, sm, tokenKeyID); err != nil {
			return err
		}
		slog.InfoContext(ctx, "local AWS stores ready", "table", cfg.TableName, "secretsPrefix", prefix,
			"endpoint", aws.ToString(awsCfg.BaseEndpoint))
	}
	secrets, err := awssecrets.New(sm, awssecrets.Options{
		Prefix: prefix, TokenKeySecretID: tokenKeyID, CacheTTL: cfg.SecretsCacheTTL,
	})
	if err != nil {
		return err
	}
	d.Store, d.Secrets = dynamostore.New(ddb, cfg.TableName), secrets
	return nil
}
