package connections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Microsoft admin consent: in many tenants users may not consent to Graph
// permissions themselves, so each connection stops at "Need admin
// approval" (AADSTS65001 afterwards). An admin of the org starts an
// org-wide admin consent on POST .../integrations/microsoft365/admin-consent:
// the answer is the URL of Microsoft's /{tenant}/v2.0/adminconsent
// endpoint with the client, this service's callback, a state and the
// permissions of the enabled capabilities. The state is bound as the
// connect flow's (org, admin, provider, client, expiry, single use; its
// purpose store.PurposeAdminConsent), and the callback answers Microsoft's
// redirect (admin_consent=True&tenant=...&scope=..., or error and
// error_description): it records the outcome on the integration
// (store.Integration.AdminConsent), audits it, and sends the browser back
// to returnTo with a status. Nothing is exchanged and no token is issued:
// the answer says what the tenant's administrator did, no more.
//
// OAuthFunction serves it: it is the connect flow's state and callback.

// ActionAdminConsent is the audit action of an admin consent's outcome.
const ActionAdminConsent = "integration.admin_consent"

// Codes of the admin consent.
const (
	// CodeAdminConsentUnsupported: the provider has no org-wide admin
	// consent (only Microsoft 365 has one).
	CodeAdminConsentUnsupported = "admin_consent_unsupported"
	// CodeAdminConsentTenantMismatch: Microsoft answered for another
	// directory than the integration's tenant.
	CodeAdminConsentTenantMismatch = "admin_consent_tenant_mismatch"
	// CodeAdminConsentInvalid: the provider's answer was neither a consent
	// with a directory id nor an error (nothing is recorded).
	CodeAdminConsentInvalid = "admin_consent_invalid"
)

// OutcomeAdminConsentGranted is the status= of the redirect to returnTo
// when the administrator granted the permissions.
const OutcomeAdminConsentGranted = "admin_consent_granted"

// AdminConsentRequest is the body of an admin consent's start.
type AdminConsentRequest struct {
	// ReturnTo is the app's page the browser goes to afterwards, with the
	// status; it must start with one of the allowed return URLs.
	ReturnTo string `json:"returnTo"`
}

// AdminConsentStart is the answer of an admin consent's start.
type AdminConsentStart struct {
	AuthorizationURL string    `json:"authorizationUrl"`
	ExpiresAt        time.Time `json:"expiresAt"`
	Provider         string    `json:"provider"`
	// Tenant is the directory asked ("organizations": the administrator's
	// own, for a multi-tenant integration).
	Tenant string   `json:"tenant"`
	Scopes []string `json:"scopes"`
}

// StartAdminConsent begins an org-wide admin consent of the provider for
// who, an admin of the org (the API checks the role). Refusals are
// *problem.Problem.
func (s *Service) StartAdminConsent(ctx context.Context, who auth.Principal, providerID string, req AdminConsentRequest, redirectURI string) (AdminConsentStart, error) {
	p, ok := s.opts.Catalog.Get(providerID)
	if !ok {
		return AdminConsentStart{}, problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider.")
	}
	consenter, ok := p.Dialect.(providers.AdminConsenter)
	if !ok {
		return AdminConsentStart{}, problem.New(http.StatusConflict, CodeAdminConsentUnsupported,
			p.DisplayName+" has no organization-wide admin consent: each user approves the app when connecting. Admin consent is Microsoft 365's.")
	}
	returnTo, err := s.startReturnTo(req.ReturnTo, "the app's page the browser returns to when Microsoft has the administrator's answer")
	if err != nil {
		return AdminConsentStart{}, err
	}
	v, in, cl, err := s.connectable(ctx, who, p, store.PurposeAdminConsent)
	if err != nil {
		return AdminConsentStart{}, err
	}
	scopes := v.RequestedScopes(p)
	state, stateID, err := newState()
	if err != nil {
		return AdminConsentStart{}, err
	}
	now := s.now()
	st := store.OAuthState{
		ID: stateID, OrgID: who.OrgID, UserID: who.UserID, Provider: p.ID,
		ConfigVersion: in.Version, ClientRef: in.ClientRef(),
		RedirectURI: redirectURI, ReturnTo: returnTo, Scopes: scopes,
		CreatedAt: now, ExpiresAt: now.Add(StateTTL), Purpose: store.PurposeAdminConsent,
	}
	if err := s.opts.Store.CreateState(ctx, st); err != nil {
		return AdminConsentStart{}, fmt.Errorf("store admin consent state for %s/%s: %w", who.OrgID, p.ID, err)
	}
	raw := consenter.AdminConsentURL(cl.Settings, cl.OAuth2.ClientID, redirectURI, state, scopes)
	tenant := ""
	if u, err := url.Parse(raw); err == nil {
		tenant, _, _ = strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	}
	slog.InfoContext(ctx, "admin consent started", "org", who.OrgID, "actor", who.UserID, "provider", p.ID, "scopes", len(scopes))
	return AdminConsentStart{
		AuthorizationURL: s.opts.Clients.Rewriter.URL(raw),
		ExpiresAt:        st.ExpiresAt, Provider: p.ID, Tenant: tenant, Scopes: scopes,
	}, nil
}

// adminConsentCallback answers the provider's redirect of an admin
// consent whose state st was consumed: it records the outcome on the
// integration and says where the browser goes.
func (s *Service) adminConsentCallback(ctx context.Context, p catalog.Provider, st store.OAuthState, q url.Values, returnTo string) CallbackResult {
	fail := func(code, msg string) CallbackResult {
		return CallbackResult{Status: OutcomeError, Code: code, Provider: p.ID, Message: msg, ReturnTo: returnTo}
	}
	in, err := s.opts.Store.GetIntegration(ctx, st.OrgID, p.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(CodeIntegrationChanged, "The "+p.DisplayName+" integration was removed while the administrator was consenting.")
	case err != nil:
		slog.ErrorContext(ctx, "read integration at admin consent", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeInternal, "The administrator's answer could not be recorded. Try again in a moment.")
	case in.ClientRef() != st.ClientRef:
		// The consent was for the client the integration no longer uses.
		return fail(CodeIntegrationChanged, "Your organization changed the "+p.DisplayName+" integration's app while the administrator was consenting. Start the admin consent again.")
	}
	rec := store.AdminConsent{Scopes: slices.Clone(st.Scopes), At: s.now(), By: st.UserID}
	var res CallbackResult
	switch e := q.Get("error"); {
	case e != "":
		f := p.Dialect.ClassifyAuthorize(e, q.Get("error_description"))
		rec.Error = errorCode(e)
		res = fail(f.Code, "The administrator's consent was not given: "+f.Cause)
	case strings.EqualFold(q.Get("admin_consent"), "true"):
		rec.Tenant = directoryID(q.Get("tenant"))
		if rec.Tenant == "" {
			return fail(CodeAdminConsentInvalid, "Microsoft's answer named no valid directory. Start the admin consent again.")
		}
		if in.TenantID != "" && !strings.EqualFold(in.TenantID, rec.Tenant) {
			rec.Error = "tenant_mismatch"
			res = fail(CodeAdminConsentTenantMismatch, "The administrator consented in another Microsoft directory than the integration's tenant ("+in.Tenant+"). Sign in as an administrator of that tenant and grant consent again.")
			break
		}
		rec.Granted = true
		if granted := consentedScopes(p, st.Scopes, q.Get("scope")); len(granted) > 0 {
			rec.Scopes = granted
		}
		res = CallbackResult{Status: OutcomeAdminConsentGranted, Provider: p.ID, ReturnTo: returnTo,
			Message: "An administrator granted the " + p.DisplayName + " permissions for the whole organization. Users can now connect without being asked to consent."}
	default:
		f := p.Dialect.ClassifyAuthorize("", "")
		return fail(f.Code, f.Cause)
	}
	if err := s.recordAdminConsent(ctx, st, in, rec); err != nil {
		slog.ErrorContext(ctx, "record admin consent", "org", st.OrgID, "provider", p.ID, "err", err.Error())
		return fail(CodeInternal, "The administrator's answer could not be recorded. Try again in a moment.")
	}
	return res
}

// recordAdminConsent writes rec on the integration with its audit entry,
// re-reading when another write came first.
func (s *Service) recordAdminConsent(ctx context.Context, st store.OAuthState, in store.Integration, rec store.AdminConsent) error {
	who := auth.Principal{OrgID: st.OrgID, UserID: st.UserID}
	for attempt := 0; ; attempt++ {
		entry, err := auditEntry(who, in.Provider, ActionAdminConsent, rec.At, []store.FieldChange{
			{Field: "adminConsent", Old: consentText(in.AdminConsent), New: consentText(&rec)},
		})
		if err != nil {
			return err
		}
		next := in
		next.AdminConsent = &rec
		_, err = s.opts.Store.PutIntegration(ctx, next, in.Version, entry)
		if err == nil || !errors.Is(err, store.ErrConflict) || attempt >= 2 {
			return err
		}
		if in, err = s.opts.Store.GetIntegration(ctx, st.OrgID, in.Provider); err != nil {
			return err
		}
		if in.ClientRef() != st.ClientRef {
			return errors.New("the integration's client changed")
		}
	}
}

// consentText is an admin consent in the audit trail: "granted for
// <tenant>: 3 permissions", "refused (access_denied)", "" for none.
func consentText(c *store.AdminConsent) string {
	switch {
	case c == nil:
		return ""
	case c.Granted:
		return "granted for " + c.Tenant + ": " + strconv.Itoa(len(c.Scopes)) + " permissions"
	default:
		return "refused (" + c.Error + ")"
	}
}

// consentedScopes are the scopes of the provider's answer that were asked
// for (compared as the provider normalizes them), in the asked form; nil
// when the answer names none.
func consentedScopes(p catalog.Provider, asked []string, answer string) []string {
	var out []string
	for _, a := range strings.Fields(answer) {
		n := p.Dialect.NormalizeScope(a)
		for _, s := range asked {
			if p.Dialect.NormalizeScope(s) == n && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// directoryID is a directory id from the provider's answer: a GUID (hex
// digits and dashes, at most 36 characters), "" otherwise. The answer
// comes through the browser: nothing else is stored.
func directoryID(s string) string {
	if len(s) == 0 || len(s) > 36 || strings.Trim(strings.ToLower(s), "0123456789abcdef-") != "" {
		return ""
	}
	return strings.ToLower(s)
}

// errorCode is an OAuth error code from the provider's answer, for the
// record: letters and underscores, at most 64; "error" otherwise.
func errorCode(s string) string {
	if len(s) == 0 || len(s) > 64 || strings.Trim(strings.ToLower(s), "abcdefghijklmnopqrstuvwxyz_") != "" {
		return "error"
	}
	return strings.ToLower(s)
}

// StartAdminConsent serves POST
// /v1/orgs/{orgId}/integrations/{provider}/admin-consent (admins).
func (a *API) StartAdminConsent(w http.ResponseWriter, r *http.Request) {
	var req AdminConsentRequest
	a.startFlow(w, r, auth.OrgAdmin, &req, func(ctx context.Context, who auth.Principal, provider, redirectURI string) (any, error) {
		return a.Service.StartAdminConsent(ctx, who, provider, req, redirectURI)
	})
}
