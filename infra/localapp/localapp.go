// Package localapp composes the service the way a local run needs it: all
// five functions in one process, on the stores the configuration names,
// including the embedded store (STORE=embedded, LOCAL_DATA_DIR), which only
// local runs and tests use and which no Lambda build links. The local
// server (make run), the end-to-end harness and the benchmarks build
// through it; each deployed function builds its own handler only (see its
// functions/<name>/main.go).
package localapp

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sofie/integrations/infra/localevents"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/adminfn"
	"github.com/sofie/integrations/shared/app/diagnosticsfn"
	"github.com/sofie/integrations/shared/app/eventsfn"
	"github.com/sofie/integrations/shared/app/oauthfn"
	"github.com/sofie/integrations/shared/app/refreshfn"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/store/awssecrets"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

// Build builds the shared dependencies: with STORE=embedded on the
// embedded store in LOCAL_DATA_DIR; otherwise on the AWS stores as a
// deployed function does (app.Build), creating the table and the token key
// first when missing, in local and test configurations only (a
// moto_server or DynamoDB Local behind AWS_ENDPOINT_URL).
func Build(ctx context.Context, cfg config.Config, opts ...app.Option) (*app.Deps, error) {
	switch {
	case cfg.Store == "embedded":
		s, err := boltstore.Open(cfg.LocalDataDir)
		if err != nil {
			return nil, fmt.Errorf("open the embedded store: %w", err)
		}
		opts = append([]app.Option{app.WithStores(s, s, s.Close)}, opts...)
	case cfg.IsLocal():
		opts = append([]app.Option{app.WithAWSSetup(createLocalAWSStores)}, opts...)
	}
	return app.Build(ctx, cfg, opts...)
}

// createLocalAWSStores creates the table and the token key when missing.
func createLocalAWSStores(ctx context.Context, ddb *dynamodb.Client, sm *secretsmanager.Client, table, tokenKeyID string) error {
	if err := dynamostore.EnsureTable(ctx, ddb, table); err != nil {
		return err
	}
	return awssecrets.EnsureTokenKey(ctx, sm, tokenKeyID)
}

// Handler returns the Lambda handler of the function with that logical id.
func Handler(d *app.Deps, logicalID string) (lambda.Handler, error) {
	switch logicalID {
	case config.AdminFunction:
		return adminfn.Handler(d), nil
	case config.OAuthFunction:
		return oauthfn.Handler(d), nil
	case config.RefreshFunction:
		return refreshfn.Handler(d), nil
	case config.DiagnosticsFunction:
		return diagnosticsfn.Handler(d), nil
	case config.EventsFunction:
		pub, err := Publisher(d)
		if err != nil {
			return nil, err
		}
		return eventsfn.Handler(d, pub), nil
	}
	return nil, fmt.Errorf("no function %q", logicalID)
}

// Publisher is where a local run's EventsFunction puts its events: on the
// embedded store, the file LOCAL_DATA_DIR/events.jsonl; on the AWS stores,
// the EventBridge bus EVENT_BUS_NAME behind AWS_ENDPOINT_URL (moto_server),
// with the client a deployment uses.
func Publisher(d *app.Deps) (events.Publisher, error) {
	if d.Config.Store == "embedded" {
		return &localevents.File{Path: EventsFile(d.Config)}, nil
	}
	return eventsfn.Publisher(d)
}

// EventsFile is the events file of an embedded-store run.
func EventsFile(cfg config.Config) string {
	return filepath.Join(cfg.LocalDataDir, localevents.FileName)
}

// Stream is the table's stream as the local server reads it for
// EventsFunction: the embedded store's change feed, or the table's
// DynamoDB stream behind AWS_ENDPOINT_URL, from now on.
func Stream(ctx context.Context, d *app.Deps) (localevents.Source, error) {
	if b, ok := d.Store.(*boltstore.Store); ok {
		return &localevents.Bolt{Store: b, Table: d.Config.TableName}, nil
	}
	if d.AWS == nil {
		return nil, errors.New("localapp: the stores are neither embedded nor AWS: no stream")
	}
	return localevents.OpenDynamoDB(ctx, *d.AWS, d.Config.TableName)
}

// Routes returns the HTTP routes each function serves, keyed by logical id.
// The template and OpenAPI tests compare them with template.yaml and
// openapi.yaml.
func Routes(d *app.Deps) map[string][]httpapi.Route {
	return map[string][]httpapi.Route{
		config.AdminFunction:       adminfn.Routes(d),
		config.OAuthFunction:       oauthfn.Routes(d),
		config.DiagnosticsFunction: diagnosticsfn.Routes(d),
	}
}
