package admin

import (
	"errors"
	"net/http"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/problem"
)

// CallbackPath is the OAuth redirect path the admin registers at the
// provider (served by OAuthFunction).
const CallbackPath = "/oauth/callback"

// API adapts HTTP requests to the service: AdminFunction's routes.
type API struct {
	Service *Service
	// PublicBaseURL is the API's base URL as browsers see it; empty derives
	// https://<API Gateway domain><API mapping key> from each request.
	PublicBaseURL string
}

// ProvidersResponse is the body of GET /v1/providers.
type ProvidersResponse struct {
	Providers []ProviderInfo `json:"providers"`
}

// CardsResponse is the body of GET /v1/orgs/{orgId}/integrations.
type CardsResponse struct {
	Integrations []Card `json:"integrations"`
}

// Routes are AdminFunction's routes, as template.yaml declares them.
func (a *API) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Method: http.MethodGet, Path: "/v1/providers", Handler: a.providers},
		{Method: http.MethodGet, Path: "/v1/orgs/{orgId}/integrations", Handler: a.listIntegrations},
		{Method: http.MethodGet, Path: "/v1/orgs/{orgId}/integrations/{provider}", Handler: a.getIntegration},
		{Method: http.MethodPut, Path: "/v1/orgs/{orgId}/integrations/{provider}", Handler: a.putIntegration},
		{Method: http.MethodPut, Path: "/v1/orgs/{orgId}/integrations/{provider}/client-secret", Handler: a.putClientSecret},
		{Method: http.MethodDelete, Path: "/v1/orgs/{orgId}/integrations/{provider}/client-secret", Handler: a.deleteClientSecret},
		{Method: http.MethodGet, Path: "/v1/orgs/{orgId}/audit", Handler: a.audit},
		{Method: http.MethodGet, Path: "/v1/orgs/{orgId}/integrations/{provider}/rollout", Handler: a.rollout},
	}
}

// redirectURI is the callback URL shown to admins and sent with a
// dummy-code credential check; "" when it cannot be known (no public base
// URL and no API Gateway domain).
func (a *API) redirectURI(r *http.Request) string {
	if base, ok := httpapi.PublicBaseURL(r, a.PublicBaseURL); ok {
		return base + CallbackPath
	}
	return ""
}

// writeErr writes err as problem+json; a precondition problem also carries
// the current version's ETag, so a client can reload and retry.
func writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem.Problem
	if errors.As(err, &p) {
		if v, ok := CurrentVersion(p); ok && v > 0 {
			w.Header().Set("ETag", ETag(v))
		}
	}
	problem.WriteError(w, r, err)
}

// admin authorizes an admin route on a catalog provider. The org check comes
// first, so another org's id is 404 whatever the provider.
func (a *API) admin(w http.ResponseWriter, r *http.Request, withProvider bool) (auth.Principal, bool) {
	who, prob := auth.OrgAdmin(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return who, false
	}
	if withProvider {
		if _, err := a.Service.provider(r.PathValue("provider")); err != nil {
			writeErr(w, r, err)
			return who, false
		}
	}
	return who, true
}

func writeView(w http.ResponseWriter, status int, v IntegrationView) {
	if v.Version > 0 {
		w.Header().Set("ETag", ETag(v.Version))
	}
	httpapi.WriteJSON(w, status, v)
}

func (a *API) providers(w http.ResponseWriter, r *http.Request) {
	ps, err := a.Service.Providers(r.Context())
	if err != nil {
		writeErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, ProvidersResponse{Providers: ps})
}

func (a *API) listIntegrations(w http.ResponseWriter, r *http.Request) {
	who, prob := auth.OrgMember(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	cards, err := a.Service.Cards(r.Context(), who, a.redirectURI(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, CardsResponse{Integrations: cards})
}

func (a *API) getIntegration(w http.ResponseWriter, r *http.Request) {
	who, ok := a.admin(w, r, true)
	if !ok {
		return
	}
	v, err := a.Service.Get(r.Context(), who.OrgID, r.PathValue("provider"), a.redirectURI(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeView(w, http.StatusOK, v)
}

func (a *API) putIntegration(w http.ResponseWriter, r *http.Request) {
	who, ok := a.admin(w, r, true)
	if !ok {
		return
	}
	var in IntegrationInput
	if prob := httpapi.DecodeJSON(r, &in, false); prob != nil {
		problem.Write(w, r, prob)
		return
	}
	res, err := a.Service.PutIntegration(r.Context(), who, r.PathValue("provider"), in, ParsePrecondition(r.Header), a.redirectURI(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeView(w, status, res.View)
}

func (a *API) putClientSecret(w http.ResponseWriter, r *http.Request) {
	who, ok := a.admin(w, r, true)
	if !ok {
		return
	}
	var in SecretInput
	if prob := httpapi.DecodeJSON(r, &in, false); prob != nil {
		problem.Write(w, r, prob)
		return
	}
	res, err := a.Service.PutClientSecret(r.Context(), who, r.PathValue("provider"), in, ParsePrecondition(r.Header), a.redirectURI(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeView(w, http.StatusOK, res.View)
}

func (a *API) deleteClientSecret(w http.ResponseWriter, r *http.Request) {
	who, ok := a.admin(w, r, true)
	if !ok {
		return
	}
	v, err := a.Service.DeleteClientSecret(r.Context(), who, r.PathValue("provider"), ParsePrecondition(r.Header), a.redirectURI(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	writeView(w, http.StatusOK, v)
}

func (a *API) audit(w http.ResponseWriter, r *http.Request) {
	who, ok := a.admin(w, r, false)
	if !ok {
		return
	}
	q := r.URL.Query()
	page, prob := ParseAuditPage(q.Get("limit"), q.Get("cursor"))
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	res, err := a.Service.Audit(r.Context(), who.OrgID, page)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
}
