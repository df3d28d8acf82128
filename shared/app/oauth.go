package app

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/problem"
)

func oauthRoutes(d *Deps) []httpapi.Route {
	// Only a Deps without stores fails here (when just the route table is
	// wanted, as by the template test): its routes answer 503, never panic.
	start, callback, complete, list, disconnect := unavailable, unavailable, unavailable, unavailable, unavailable
	if api, err := connectionsAPI(d); err != nil {
		slog.Warn("connections service not built", "err", err.Error())
	} else {
		start, callback, complete, list, disconnect = api.Start, api.Callback, api.Complete, api.List, api.Disconnect
	}
	return []httpapi.Route{
		{Method: "POST", Path: "/v1/orgs/{orgId}/connections/{provider}", Handler: start},
		{Method: "GET", Path: connections.CallbackPath, Handler: callback, Public: true},
		{Method: "POST", Path: "/v1/orgs/{orgId}/connections/{provider}/complete", Handler: complete},
		{Method: "GET", Path: "/v1/orgs/{orgId}/connections", Handler: list},
		{Method: "DELETE", Path: "/v1/orgs/{orgId}/connections/{provider}", Handler: disconnect},
	}
}

func connectionsAPI(d *Deps) (*connections.API, error) {
	var vault connections.Vault
	if d.Tokens != nil {
		vault = d.Tokens
	}
	svc, err := connections.New(connections.Options{
		Catalog:            d.Catalog,
		Store:              d.Store,
		Clients:            d.Clients,
		Vault:              vault,
		HTTPClient:         d.HTTPClient,
		Now:                func() time.Time { return d.Now() },
		AvailableProviders: d.Config.AvailableProviders,
		AllowedReturnURLs:  d.Config.AllowedReturnURLs,
		RefreshMargin:      d.Config.RefreshMargin,
	})
	if err != nil {
		return nil, err
	}
	return &connections.API{Service: svc, PublicBaseURL: d.Config.PublicBaseURL}, nil
}

func unavailable(w http.ResponseWriter, r *http.Request) {
	problem.Write(w, r, problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, "This function is not configured."))
}
