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
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// openAWSStores builds the DynamoDB and Secrets Manager adapters from the
// SDK's standard configuration (AWS_REGION, credentials chain,
// AWS_ENDPOINT_URL). Local and test configurations (a moto_server behind
// AWS_ENDPOINT_URL) also get defaults for what a developer does not set;
// the local server creates the table and token-key secret there
// (WithAWSSetup). Deployed configurations never create anything: the
// template does.
func openAWSStores(ctx context.Context, d *Deps, o buildOptions) error {
	cfg := d.Config
	var opts []func(*awsconfig.LoadOptions) error
	var err error
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
			if tokenKeyID, err = awssecrets.TokenKeyName(prefix); err != nil {
				return err
			}
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
	if o.awsSetup != nil {
		if err := o.awsSetup(ctx, ddb, sm, cfg.TableName, tokenKeyID); err != nil {
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
	d.AWS = &awsCfg
	return nil
}
