package connections

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/problem"
)

// API adapts HTTP requests to the service: OAuthFunction's routes.
type API struct {
	Service *Service
	// PublicBaseURL is the API's base URL as browsers see it; empty derives
	// https://<API Gateway domain> from each request.
	PublicBaseURL string
}

// ListResponse is the body of GET /v1/orgs/{orgId}/connections.
type ListResponse struct {
	Connections []View `json:"connections"`
}

var errNoRedirectBase = errors.New("no PUBLIC_BASE_URL and no API Gateway domain name: cannot build the OAuth redirect URI")

// RedirectURI is the callback URL providers redirect to for this request.
func (a *API) RedirectURI(r *http.Request) (string, error) {
	if base, ok := httpapi.PublicBaseURL(r, a.PublicBaseURL); ok {
		return base + CallbackPath, nil // with a custom domain's API mapping key
	}
	return "", errNoRedirectBase
}

// Start serves POST /v1/orgs/{orgId}/connections/{provider}.
func (a *API) Start(w http.ResponseWriter, r *http.Request) {
	// An empty body decodes to no returnTo, which Start refuses with a
	// field error that says what is missing.
	var req StartRequest
	a.startFlow(w, r, auth.OrgMember, &req, func(ctx context.Context, who auth.Principal, provider, redirectURI string) (any, error) {
		return a.Service.Start(ctx, who, provider, req, redirectURI)
	})
}

// startFlow serves the routes that start a flow through the provider and
// the callback (a connection, the test account, Microsoft admin consent):
// the caller's role, the JSON body into req, the callback's URL, then
// start, whose answer is a 201.
func (a *API) startFlow(w http.ResponseWriter, r *http.Request, role func(*http.Request) (auth.Principal, *problem.Problem), req any,
	start func(ctx context.Context, who auth.Principal, provider, redirectURI string) (any, error)) {
	who, prob := role(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	if prob := httpapi.DecodeJSON(r, req, true); prob != nil {
		problem.Write(w, r, prob)
		return
	}
	redirectURI, err := a.RedirectURI(r)
	if err != nil {
		problem.WriteError(w, r, err)
		return
	}
	res, err := start(r.Context(), who, r.PathValue("provider"), redirectURI)
	if err != nil {
		problem.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, res)
}

// Callback serves GET /oauth/callback (public: the provider redirects the
// browser here). It answers with a redirect to the start's returnTo, or with
// a small page when there is none.
func (a *API) Callback(w http.ResponseWriter, r *http.Request) {
	res := a.Service.Callback(r.Context(), r.URL.Query())
	// The callback URL carries the code and state: keep it out of the
	// Referer of whatever the browser loads next, and out of caches.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	if res.ReturnTo != "" {
		if to, err := withOutcome(res.ReturnTo, res.Params()); err == nil {
			// No body: http.Redirect's HTML link adds nothing a browser needs.
			w.Header().Set("Location", to)
			w.WriteHeader(http.StatusFound)
			return
		}
		slog.ErrorContext(r.Context(), "returnTo could not be extended", "provider", res.Provider)
	}
	writePage(w, res)
}

// Complete serves POST /v1/orgs/{orgId}/connections/{provider}/complete:
// the page at returnTo posts the completion handle with the signed-in
// user's token, and gets the connection as an item of the listing.
func (a *API) Complete(w http.ResponseWriter, r *http.Request) {
	who, prob := auth.OrgMember(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	var req CompleteRequest
	if prob := httpapi.DecodeJSON(r, &req, false); prob != nil {
		problem.Write(w, r, prob)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	v, err := a.Service.Complete(r.Context(), who, r.PathValue("provider"), req.Completion)
	if err != nil {
		problem.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

// List serves GET /v1/orgs/{orgId}/connections.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	who, prob := auth.OrgMember(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	views, err := a.Service.List(r.Context(), who)
	if err != nil {
		problem.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ListResponse{Connections: views})
}

// Disconnect serves DELETE /v1/orgs/{orgId}/connections/{provider}. It
// answers 200 with the revocation outcome, also when there was nothing to
// delete.
func (a *API) Disconnect(w http.ResponseWriter, r *http.Request) {
	who, prob := auth.OrgMember(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	res, err := a.Service.Disconnect(r.Context(), who, r.PathValue("provider"))
	if err != nil {
		problem.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
}
