// Package app wires the service together: configuration, stores, the
// provider client, and the Lambda handler of each function. Each
// functions/<name>/main.go and the local server in infra/ build the same
// handlers from here, so a local run exercises exactly what Lambda runs.
package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/smithy-go/middleware"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/outbound"
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

	closers []func() error
}

// Option changes how Build builds the dependencies. Deployed functions pass
// none.
type Option func(*buildOptions)

type buildOptions struct {
	awsAPIOptions []func(*middleware.Stack) error
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
	if err := openStores(ctx, d, o); err != nil {
		return nil, fmt.Errorf("open stores: %w", err)
	}
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

// Handler returns the Lambda handler of the function with that logical id.
func Handler(d *Deps, logicalID string) (lambda.Handler, error) {
	switch logicalID {
	case config.AdminFunction:
		return AdminHandler(d), nil
	case config.OAuthFunction:
		return OAuthHandler(d), nil
	case config.RefreshFunction:
		return RefreshHandler(d), nil
	case config.DiagnosticsFunction:
		return DiagnosticsHandler(d), nil
	}
	return nil, fmt.Errorf("no function %q", logicalID)
}
