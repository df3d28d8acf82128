package app

import (
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"

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

func adminRoutes(d *Deps) []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Path: "/v1/providers", Handler: notImplemented},
		{Method: "GET", Path: "/v1/orgs/{orgId}/integrations", Handler: notImplemented},
		{Method: "GET", Path: "/v1/orgs/{orgId}/integrations/{provider}", Handler: notImplemented},
		{Method: "PUT", Path: "/v1/orgs/{orgId}/integrations/{provider}", Handler: notImplemented},
		{Method: "PUT", Path: "/v1/orgs/{orgId}/integrations/{provider}/client-secret", Handler: notImplemented},
		{Method: "DELETE", Path: "/v1/orgs/{orgId}/integrations/{provider}/client-secret", Handler: notImplemented},
		{Method: "GET", Path: "/v1/orgs/{orgId}/audit", Handler: notImplemented},
	}
}
