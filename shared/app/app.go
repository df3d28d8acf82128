// Package app builds the dependencies every function shares: the
// configuration's stores (DynamoDB and Secrets Manager), the token vault,
// the provider HTTP client and the OAuth client resolver. It links no
// function's feature: each function's handler is wired by its own package
// (shared/app/adminfn, oauthfn, refreshfn, diagnosticsfn), so a Lambda
// binary links exactly what its routes use. The local server composes all
// four (infra/localapp) and injects the embedded store, which no Lambda
// build links.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/tokenseal"
)

// Deps are the dependencies every function is built from. Tests replace
// fields (Now, HTTPClient) before building handlers.
type Deps struct {
	Config     config.Config
	Catalog    *catalog.Catalog
	Store      store.Store
	Secrets    store.Secrets
	Tokens     *tokenseal.Vault // seals and opens user tokens with Secrets' keys
	Rewriter   *outbound.Rewriter
	HTTPClient *http.Client
	Clients    *clients.Resolver
	Now        func() time.Time
	// AWS is the SDK configuration the AWS stores were built with (nil on
	// injected stores): EventsFunction's EventBridge client uses it too.
	AWS *aws.Config

	closers []func() error
}

// Option changes how Build builds the dependencies. Deployed functions pass
// none.
type Option func(*buildOptions)

type buildOptions struct {
	awsAPIOptions []func(*middleware.Stack) error
	store         store.Store
	secrets       store.Secrets
	closeStores   func() error
	awsSetup      AWSSetup
}

// AWSSetup prepares the AWS stores before they are used: the local server
// creates the table and the token key on a local DynamoDB and Secrets
// Manager with it (infra/localapp). table and tokenKeyID are the names the
// stores use.
type AWSSetup func(ctx context.Context, ddb *dynamodb.Client, sm *secretsmanager.Client, table, tokenKeyID string) error

// WithAWSSetup runs setup on the AWS clients before the stores are built.
// Deployed functions never pass it: what they use, the template creates.
func WithAWSSetup(setup AWSSetup) Option {
	return func(o *buildOptions) { o.awsSetup = setup }
}

// WithStores gives Build the stores to use instead of opening the ones
// the configuration names: the local server and tests inject the embedded
// store this way (infra/localapp), which keeps it out of Lambda builds.
// closeStores (may be nil) runs at Close.
func WithStores(s store.Store, sec store.Secrets, closeStores func() error) Option {
	return func(o *buildOptions) { o.store, o.secrets, o.closeStores = s, sec, closeStores }
}

// WithAWSAPIOptions adds middleware to the stack of every AWS SDK client the
// stores use (aws.Config.APIOptions): benchmarks count and time the
// DynamoDB and Secrets Manager calls a request makes with it (package
// shared/store/awscount). It has no effect on the embedded store.
func WithAWSAPIOptions(fns ...func(*middleware.Stack) error) Option {
	return func(o *buildOptions) { o.awsAPIOptions = append(o.awsAPIOptions, fns...) }
}

// Build opens the stores the configuration names and builds the shared
// dependencies.
func Build(ctx context.Context, cfg config.Config, opts ...Option) (*Deps, error) {
	var o buildOptions
	for _, opt := range opts {
		opt(&o)
	}
	rw, err := outbound.NewRewriter(cfg.ProviderEndpointOverride)
	if err != nil {
		return nil, err
	}
	d := &Deps{
		Config:     cfg,
		Catalog:    catalog.New(),
		Rewriter:   rw,
		HTTPClient: outbound.NewClient(rw, cfg.ProviderTimeout),
		Now:        time.Now,
	}
	switch {
	case o.store != nil && o.secrets != nil:
		d.Store, d.Secrets = o.store, o.secrets
		if o.closeStores != nil {
			d.closers = append(d.closers, o.closeStores)
		}
	case cfg.Store == "aws":
		if err := openAWSStores(ctx, d, o); err != nil {
			return nil, fmt.Errorf("open stores: %w", err)
		}
	default:
		return nil, fmt.Errorf("STORE %q: %w", cfg.Store, errLocalOnly)
	}
	d.Tokens = &tokenseal.Vault{Secrets: d.Secrets}
	d.Clients = &clients.Resolver{Catalog: d.Catalog, Secrets: d.Secrets, Rewriter: rw}
	return d, nil
}

// Close releases what Build opened (the embedded database).
func (d *Deps) Close() error {
	var first error
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	d.closers = nil
	return first
}

// errLocalOnly: the embedded store is opened by the local server and tests
// (infra/localapp), never by a deployed function.
var errLocalOnly = errors.New("only the AWS stores (STORE=aws) are built in; the embedded store is injected by local runs with WithStores")

// Unavailable answers the routes of a function whose service could not be
// built (a Deps without stores, as the template and OpenAPI tests use).
func Unavailable(w http.ResponseWriter, r *http.Request) {
	problem.Write(w, r, problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, "This function is not configured."))
}
