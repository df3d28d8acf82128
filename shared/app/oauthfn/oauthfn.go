// Package oauthfn wires OAuthFunction: user connections (package
// connections) on the shared dependencies.
package oauthfn

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/httpapi"
)

// Routes are OAuthFunction's routes. Only a Deps without stores fails to
// build the service (when just the route table is wanted, as by the
// template test): its routes answer 503, never panic.
func Routes(d *app.Deps) []httpapi.Route {
	start, callback, complete, list, disconnect := app.Unavailable, app.Unavailable, app.Unavailable, app.Unavailable, app.Unavailable
	startTest, disconnectTest, adminConsent := app.Unavailable, app.Unavailable, app.Unavailable
	if api, err := newAPI(d); err != nil {
		slog.Warn("connections service not built", "err", err.Error())
	} else {
		start, callback, complete, list, disconnect = api.Start, api.Callback, api.Complete, api.List, api.Disconnect
		startTest, disconnectTest, adminConsent = api.StartTestAccount, api.DisconnectTestAccount, api.StartAdminConsent
	}
	return []httpapi.Route{
		{Method: "POST", Path: "/v1/orgs/{orgId}/connections/{provider}", Handler: start},
		{Method: "GET", Path: connections.CallbackPath, Handler: callback, Public: true},
		{Method: "POST", Path: "/v1/orgs/{orgId}/connections/{provider}/complete", Handler: complete},
		{Method: "GET", Path: "/v1/orgs/{orgId}/connections", Handler: list},
		{Method: "DELETE", Path: "/v1/orgs/{orgId}/connections/{provider}", Handler: disconnect},
		// The org's test account: the connect flow, for an admin (see
		// connections/testaccount.go for why OAuthFunction serves it).
		{Method: "POST", Path: "/v1/orgs/{orgId}/integrations/{provider}/test-account", Handler: startTest},
		{Method: "DELETE", Path: "/v1/orgs/{orgId}/integrations/{provider}/test-account", Handler: disconnectTest},
		// Microsoft's org-wide admin consent: a state the callback answers
		// (connections/adminconsent.go).
		{Method: "POST", Path: "/v1/orgs/{orgId}/integrations/{provider}/admin-consent", Handler: adminConsent},
	}
}

// Handler is OAuthFunction's Lambda handler.
func Handler(d *app.Deps) lambda.Handler {
	return httpapi.LambdaHandler(httpapi.NewRouter(Routes(d), d.Config.Claims))
}

func newAPI(d *app.Deps) (*connections.API, error) {
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
