package app

import (
	"log/slog"

	"github.com/sofie/integrations/shared/diagnostics"
	"github.com/sofie/integrations/shared/httpapi"
)

// diagnosticsRoutes are DiagnosticsFunction's routes (package diagnostics).
// A Deps without stores (only the route table is wanted, as by the template
// and OpenAPI tests) still yields the routes; they answer 503.
func diagnosticsRoutes(d *Deps) []httpapi.Route {
	diagnose, test := unavailable, unavailable
	if api, err := diagnosticsAPI(d); err != nil {
		slog.Warn("diagnostics service not built", "err", err.Error())
	} else {
		diagnose, test = api.Diagnose, api.Test
	}
	return []httpapi.Route{
		{Method: "GET", Path: "/v1/orgs/{orgId}/diagnostics/{provider}", Handler: diagnose},
		{Method: "POST", Path: "/v1/orgs/{orgId}/integrations/{provider}/test", Handler: test},
	}
}

func diagnosticsAPI(d *Deps) (*diagnostics.API, error) {
	// Access tokens come from the refresh service's on-demand path: the same
	// lease and code path as RefreshFunction, so the two never refresh one
	// connection twice.
	tokens, err := NewRefreshService(d)
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
	})
	if err != nil {
		return nil, err
	}
	return diagnostics.NewAPI(svc), nil
}
