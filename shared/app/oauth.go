package app

import (
	"github.com/sofie/integrations/shared/httpapi"
)

func oauthRoutes(d *Deps) []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Path: "/v1/orgs/{orgId}/connections/{provider}", Handler: notImplemented},
		{Method: "GET", Path: "/oauth/callback", Handler: notImplemented, Public: true},
		{Method: "GET", Path: "/v1/orgs/{orgId}/connections", Handler: notImplemented},
		{Method: "DELETE", Path: "/v1/orgs/{orgId}/connections/{provider}", Handler: notImplemented},
	}
}
