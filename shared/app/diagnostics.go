package app

import (
	"github.com/sofie/integrations/shared/httpapi"
)

func diagnosticsRoutes(d *Deps) []httpapi.Route {
	return []httpapi.Route{
		{Method: "GET", Path: "/v1/orgs/{orgId}/diagnostics/{provider}", Handler: notImplemented},
		{Method: "POST", Path: "/v1/orgs/{orgId}/integrations/{provider}/test", Handler: notImplemented},
	}
}
