package microsoft

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// ConsumerTenant is the directory id of personal Microsoft accounts: the
// tid of every consumer account's ID token.
// Docs: https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference (tid)
const ConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// CodeTenantNotFound refuses a tenant domain Microsoft does not know.
const CodeTenantNotFound = "tenant_not_found"

// ResolveSettings: a tenant named by a verified domain is resolved to its
// directory id through the tenant's public OpenID configuration document,
// whose issuer is https://login.microsoftonline.com/{tenant id}/v2.0.
// Without it, a domain-named tenant cannot be compared with the tid of the
// accounts connected under another tenant setting.
// Docs: https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc#fetch-the-openid-configuration-document
func (*dialect) ResolveSettings(ctx context.Context, call providers.Caller, s providers.Settings) (providers.Settings, error) {
	t := strings.ToLower(s.Tenant)
	switch {
	case isMultiTenant(t):
		s.TenantID = ""
		return s, nil
	case isGUID(t):
		s.TenantID = t
		return s, nil
	}
	s.TenantID = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://login.microsoftonline.com/"+url.PathEscape(t)+"/v2.0/.well-known/openid-configuration", nil)
	if err != nil {
		return s, err
	}
	req.Header.Set("Accept", "application/json")
	ans, err := call.Do(req)
	if err != nil {
		return s, err
	}
	id, err := tenantOfConfiguration(ans)
	if err != nil {
		return s, err
	}
	s.TenantID = id
	return s, nil
}

// tenantOfConfiguration reads the directory id out of an OpenID
// configuration answer. An unknown tenant is answered 400 with AADSTS90002
// (error invalid_tenant).
func tenantOfConfiguration(ans providers.Answer) (string, error) {
	if ans.Status == http.StatusBadRequest || ans.Status == http.StatusNotFound {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(ans.Body, &e)
		if e.Error == "invalid_tenant" || strings.HasPrefix(e.Description, "AADSTS90002") || bytes.Contains(ans.Body, []byte("AADSTS90002")) {
			return "", &providers.SettingsError{FieldError: providers.FieldError{Field: "tenant", Code: CodeTenantNotFound,
				Message: "Microsoft knows no tenant with this domain. Enter your directory (tenant) ID, or a domain verified in your tenant."}}
		}
	}
	if !ans.OK() {
		return "", &providers.CallError{What: "microsoft openid configuration", Status: ans.Status}
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(ans.Body, &doc); err != nil {
		return "", errors.New("microsoft openid configuration: not JSON")
	}
	u, err := url.Parse(doc.Issuer)
	if err != nil || u.Scheme != "https" {
		return "", errors.New("microsoft openid configuration: no https issuer")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[1] != "v2.0" || !isGUID(parts[0]) {
		return "", errors.New("microsoft openid configuration: the issuer names no tenant id")
	}
	return strings.ToLower(parts[0]), nil
}

// Admits: the account's tenant (the tid it signed in with) against the
// tenant setting: any under common; any work or school tenant under
// organizations; the same directory under a GUID, or under a domain once
// it was resolved (TenantID).
func (*dialect) Admits(s providers.Settings, acct store.Account) bool {
	tid := strings.ToLower(acct.Tenant)
	if tid == "" {
		return true
	}
	switch want := strings.ToLower(s.Tenant); {
	case want == "organizations":
		return tid != ConsumerTenant
	case isGUID(want):
		return tid == want
	case s.TenantID != "" && !isMultiTenant(want):
		return tid == strings.ToLower(s.TenantID)
	}
	return true
}
