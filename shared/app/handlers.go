package app

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/problem"
)

// Routes returns the HTTP routes each function serves, keyed by logical id.
// The template test compares them with template.yaml.
func Routes(d *Deps) map[string][]httpapi.Route {
	return map[string][]httpapi.Route{
		config.AdminFunction:       adminRoutes(d),
		config.OAuthFunction:       oauthRoutes(d),
		config.DiagnosticsFunction: diagnosticsRoutes(d),
	}
}

// AdminHandler is AdminFunction's Lambda handler.
func AdminHandler(d *Deps) lambda.Handler {
	return httpapi.LambdaHandler(httpapi.NewRouter(adminRoutes(d), d.Config.Claims))
}

// OAuthHandler is OAuthFunction's Lambda handler.
func OAuthHandler(d *Deps) lambda.Handler {
	return httpapi.LambdaHandler(httpapi.NewRouter(oauthRoutes(d), d.Config.Claims))
}

// DiagnosticsHandler is DiagnosticsFunction's Lambda handler.
func DiagnosticsHandler(d *Deps) lambda.Handler {
	return httpapi.LambdaHandler(httpapi.NewRouter(diagnosticsRoutes(d), d.Config.Claims))
}

// notImplemented answers routes whose feature is not built yet.
func notImplemented(w http.ResponseWriter, r *http.Request) {
	problem.Write(w, r, problem.New(http.StatusNotImplemented, problem.CodeNotImplemented, "This route is not built yet."))
}

// adminRoutes are AdminFunction's routes (package admin). A Deps without
// stores (only the route table is wanted, as by the template and OpenAPI
// tests) still yields the routes; they answer 503 instead of panicking.
func adminRoutes(d *Deps) []httpapi.Route {
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
			routes[i].Handler = adminUnavailable
		}
	}
	return routes
}

func adminUnavailable(w http.ResponseWriter, r *http.Request) {
	problem.Write(w, r, problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, "This function is not configured."))
}
