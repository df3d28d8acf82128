// Package refreshsvc builds the token refresh service (package refresh) on
// the shared dependencies. RefreshFunction runs it on its schedule;
// DiagnosticsFunction asks it for access tokens on demand. Both go through
// the same lease and code path, so they never refresh one connection
// twice: that is why both link package refresh.
package refreshsvc

import (
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/refresh"
)

// Options are the refresh service's options from the dependencies and
// configuration. Tests adjust them (metrics writer, logger) before
// refresh.New.
func Options(d *app.Deps) refresh.Options {
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
		// Set by Lambda from LoggingConfig.ApplicationLogLevel (as
		// lambdacontext reads it): metric lines must not be filtered out.
		LogLevel: os.Getenv("AWS_LAMBDA_LOG_LEVEL"),
	}
}

// New builds the refresh service.
func New(d *app.Deps) (*refresh.Service, error) {
	return refresh.New(Options(d))
}
