// Package adminfn wires AdminFunction: the admin enablement API (package
// admin) on the shared dependencies.
package adminfn

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/httpapi"
)

// Routes are AdminFunction's routes. A Deps without stores (only the route
// table is wanted, as by the template and OpenAPI tests) still yields the
// routes; they answer 503 instead of panicking.
func Routes(d *app.Deps) []httpapi.Route {
	svc, err := admin.New(admin.Options{
		Catalog:            d.Catalog,
		Store:              d.Store,
		Secrets:            d.Secrets,
		Clients:            d.Clients,
		HTTPClient:         d.HTTPClient,
		Now:                d.Now,
		AvailableProviders: d.Config.AvailableProviders,
		VerifyCredentials:  d.Config.VerifyCredentials,
		CheckTimeout:       min(d.Config.ProviderTimeout, admin.DefaultCheckTimeout),
	})
	routes := (&admin.API{Service: svc, PublicBaseURL: d.Config.PublicBaseURL}).Routes()
	if err != nil {
		slog.Warn("admin service not built", "err", err.Error())
		for i := range routes {
			routes[i].Handler = app.Unavailable
		}
	}
	return routes
}

// Handler is AdminFunction's Lambda handler.
func Handler(d *app.Deps) lambda.Handler {
	return httpapi.LambdaHandler(httpapi.NewRouter(Routes(d), d.Config.Claims))
}
