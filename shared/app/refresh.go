package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sofie/integrations/shared/refresh"
)

// RefreshOptions are the refresh service's options from the dependencies
// and configuration. Tests adjust them (metrics writer, logger) before
// refresh.New.
func RefreshOptions(d *Deps) refresh.Options {
	return refresh.Options{
		Catalog:            d.Catalog,
		Store:              d.Store,
		Clients:            d.Clients,
		Vault:              d.Tokens,
		HTTPClient:         d.HTTPClient,
		Now:                d.Now,
		AvailableProviders: d.Config.AvailableProviders,
		Concurrency:        d.Config.RefreshConcurrency,
		Margin:             d.Config.RefreshMargin,
		Lease:              d.Config.RefreshLease,
		DeadlineMargin:     d.Config.RefreshDeadlineMargin,
		ProviderTimeout:    d.Config.ProviderTimeout,
		// Set by the Lambda runtime; empty in local runs.
		FunctionName: lambdacontext.FunctionName,
	}
}

// NewRefreshService builds the refresh service: RefreshFunction's scheduled
// run, and the on-demand AccessToken diagnostics uses.
func NewRefreshService(d *Deps) (*refresh.Service, error) {
	return refresh.New(RefreshOptions(d))
}

// RefreshHandler is RefreshFunction's Lambda handler: an EventBridge
// scheduled event in, the run's result out. The event carries nothing the
// run needs (the due-index says what to do); its deadline comes from the
// Lambda context. A run that could not read the due-index is an error, so
// the function's Errors alarm sees it.
func RefreshHandler(d *Deps) lambda.Handler {
	svc, buildErr := NewRefreshService(d)
	return lambda.NewHandler(func(ctx context.Context, _ events.EventBridgeEvent) (refresh.Result, error) {
		if buildErr != nil {
			return refresh.Result{}, buildErr
		}
		return svc.Run(ctx)
	})
}
