// Package diagnosticsfn wires DiagnosticsFunction: connection diagnostics
// and the admin's test after changes (package diagnostics).
package diagnosticsfn

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/refreshsvc"
	"github.com/sofie/integrations/shared/diagnostics"
	"github.com/sofie/integrations/shared/httpapi"
)

// Routes are DiagnosticsFunction's routes. A Deps without stores (only the
// route table is wanted, as by the template and OpenAPI tests) still
// yields the routes; they answer 503.
func Routes(d *app.Deps) []httpapi.Route {
	diagnose, test := app.Unavailable, app.Unavailable
	if api, err := newAPI(d); err != nil {
		slog.Warn("diagnostics service not built", "err", err.Error())
	} else {
		diagnose, test = api.Diagnose, api.Test
	}
	return []httpapi.Route{
		{Method: "GET", Path: "/v1/orgs/{orgId}/diagnostics/{provider}", Handler: diagnose},
		{Method: "POST", Path: "/v1/orgs/{orgId}/integrations/{provider}/test", Handler: test},
	}
}

// Handler is DiagnosticsFunction's Lambda handler.
func Handler(d *app.Deps) lambda.Handler {
	return httpapi.LambdaHandler(httpapi.NewRouter(Routes(d), d.Config.Claims))
}

func newAPI(d *app.Deps) (*diagnostics.API, error) {
	// Access tokens come from the refresh service's on-demand path: the same
	// lease and code path as RefreshFunction, so the two never refresh one
	// connection twice.
	tokens, err := refreshsvc.New(d)
	if err != nil {
		return nil, err
	}
	svc, err := diagnostics.New(diagnostics.Options{
		Catalog:            d.Catalog,
		Store:              d.Store,
		Secrets:            d.Secrets,
		Tokens:             tokens,
		HTTPClient:         d.HTTPClient,
		ProbeTimeout:       min(d.Config.ProviderTimeout, diagnostics.DefaultProbeTimeout),
		AvailableProviders: d.Config.AvailableProviders,
		Now:                func() time.Time { return d.Now() },
	})
	if err != nil {
		return nil, err
	}
	return diagnostics.NewAPI(svc), nil
}
