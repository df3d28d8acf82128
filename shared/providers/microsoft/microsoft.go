// Package microsoft is Microsoft 365: the Microsoft identity platform (v2.0
// endpoints) for OAuth, and Microsoft Graph for the account and the
// capabilities' data. It implements providers.Dialect.
package microsoft

import (
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

// ID is the provider id.
const ID = "microsoft365"

// graphResource prefixes Microsoft Graph scopes. Token responses may name
// scopes with or without it.
const graphResource = "https://graph.microsoft.com/"

// New returns Microsoft 365.
// Docs: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
func New() providers.Provider { return provider }

var provider = providers.Provider{
	ID:          ID,
	DisplayName: "Microsoft 365",
	Registers:   "a Microsoft Entra app registration",
	DocsURL:     "https://learn.microsoft.com/entra/identity-platform/quickstart-register-app",
	Capabilities: []providers.CapabilitySpec{
		{
			ID: providers.Email, Label: "Email (Outlook)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Send, providers.Delete},
			ReadScopes: []string{graphResource + "Mail.Read"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{graphResource + "Mail.ReadWrite"}},
				{Action: providers.Update, Scopes: []string{graphResource + "Mail.ReadWrite"}},
				{Action: providers.Send, Scopes: []string{graphResource + "Mail.Send"}},
				{Action: providers.Delete, Scopes: []string{graphResource + "Mail.ReadWrite"}},
			},
			Probe: providers.Probe{
				ReadURL:  graphAPI + "/me/messages?$top=1&$select=id",
				ItemURL:  graphAPI + "/me/messages/{id}?$select=id,subject",
				ItemHint: "an Outlook message id",
			},
			WriteTest: "a draft message to the account itself (never sent)",
		},
		{
			ID: providers.Calendar, Label: "Calendar (Outlook)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
			ReadScopes: []string{graphResource + "Calendars.Read"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{graphResource + "Calendars.ReadWrite"}},
				{Action: providers.Update, Scopes: []string{graphResource + "Calendars.ReadWrite"}},
				{Action: providers.Delete, Scopes: []string{graphResource + "Calendars.ReadWrite"}},
			},
			Probe: providers.Probe{
				ReadURL:  graphAPI + "/me/events?$top=1&$select=id",
				ItemURL:  graphAPI + "/me/events/{id}?$select=id,subject",
				ItemHint: "an Outlook event id",
			},
			WriteTest: "a tentative event without attendees in the account's own calendar",
		},
		{
			ID: providers.Files, Label: "Files (OneDrive and SharePoint)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
			ReadScopes: []string{graphResource + "Files.Read.All"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{graphResource + "Files.ReadWrite.All"}},
				{Action: providers.Update, Scopes: []string{graphResource + "Files.ReadWrite.All"}},
				{Action: providers.Delete, Scopes: []string{graphResource + "Files.ReadWrite.All"}},
			},
			Probe: providers.Probe{
				ReadURL:    graphAPI + "/me/drive/root",
				ItemURL:    graphAPI + "/me/drive/items/{id}",
				ContentURL: graphAPI + "/me/drive/items/{id}/content",
				ItemHint:   "a OneDrive item id",
			},
			WriteTest: "a small text file in the app's own OneDrive folder",
		},
		{
			ID: providers.Contacts, Label: "Contacts (Outlook)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
			ReadScopes: []string{graphResource + "Contacts.Read"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{graphResource + "Contacts.ReadWrite"}},
				{Action: providers.Update, Scopes: []string{graphResource + "Contacts.ReadWrite"}},
				{Action: providers.Delete, Scopes: []string{graphResource + "Contacts.ReadWrite"}},
			},
			Probe: providers.Probe{
				ReadURL:  graphAPI + "/me/contacts?$top=1&$select=id",
				ItemURL:  graphAPI + "/me/contacts/{id}",
				ItemHint: "an Outlook contact id",
			},
			WriteTest: "a contact named " + providers.TestItemSubject,
		},
	},
	Fields: []providers.Field{{
		Name: "tenant", Label: "Tenant", Required: true, Example: "<tenant-id> or <your-domain>.onmicrosoft.com",
		Help: "Your directory (tenant) ID, a verified domain, or organizations (any work or school account). common also admits personal accounts.",
	}},
	BaseScopes:     []string{"openid", "profile", "email", "offline_access", graphResource + "User.Read"},
	ImplicitScopes: []string{"openid", "profile", "email", "offline_access"},
	AuthParams:     []providers.AuthParam{{Key: "prompt", Value: "select_account"}, {Key: "response_mode", Value: "query"}},
	// No per-token revocation endpoint in the v2.0 platform.
	Revocation:             providers.RevokeNone,
	RequiresUserConnection: true,
	NoRevocationHint:       "Microsoft has no per-token revocation: the connection was removed here. To withdraw the app's access at Microsoft, remove it under My Apps (myapps.microsoft.com), or ask your tenant admin to remove its consent.",
	RefreshTokenIdle:       90 * 24 * time.Hour,
	RotatesRefreshToken:    true,
	PKCEMethod:             providers.PKCES256,
	// Incremental and dynamic consent: the scope parameter may name new
	// permissions at any time, and the user is prompted for those not yet
	// consented only; an access token encodes every permission the app is
	// granted for its resource. The prompt is approved or cancelled whole
	// (it has no per-permission choice). What was granted is read from the
	// token response's scope ("the scopes that the access_token is valid
	// for"), never assumed from the request.
	// Docs: https://learn.microsoft.com/entra/identity-platform/consent-types-developer
	// Docs: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
	Consent:         providers.ConsentDynamic,
	ClientIDLabel:   "Application (client) ID",
	ClientIDExample: "<client-id>, a GUID such as 00000000-0000-0000-0000-000000000000",
	Dialect:         &dialect{},
}

// dialect is Microsoft's providers.Dialect.
type dialect struct{}

var _ providers.Dialect = (*dialect)(nil)

const graphAPI = "https://graph.microsoft.com/v1.0"

// Endpoints: the tenant is a path segment of the v2.0 endpoints.
func (*dialect) Endpoints(s providers.Settings) providers.Endpoints {
	base := "https://login.microsoftonline.com/" + strings.ToLower(s.Tenant) + "/oauth2/v2.0"
	return providers.Endpoints{
		OAuth2:      oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams},
		UserInfoURL: graphAPI + "/me?$select=id,displayName,mail,userPrincipalName",
	}
}

func (*dialect) ValidateSettings(s providers.Settings) []providers.FieldError {
	return validateTenant(s)
}

func (*dialect) ValidateClientID(id string) []providers.FieldError {
	return providers.ClientIDFormat(isGUID(id), "Application (client) ID", "a GUID such as 00000000-0000-0000-0000-000000000000")
}

// NormalizeScope: token responses name Graph permissions without their
// resource prefix, in any case.
func (*dialect) NormalizeScope(s string) string {
	return strings.ToLower(strings.TrimPrefix(s, graphResource))
}

func (*dialect) AuthCodeOptions(providers.Settings) []oauth2.AuthCodeOption { return nil }

// CredentialCheck: a client-credentials grant needs a real tenant; under
// the multi-tenant aliases common and organizations it cannot be issued,
// so the dummy-code method is used there.
func (*dialect) CredentialCheck(s providers.Settings) providers.CredentialCheck {
	if isMultiTenant(s.Tenant) {
		return providers.CredentialCheck{Method: providers.CheckDummyCode}
	}
	return providers.CredentialCheck{Method: providers.CheckClientCredentials, Scope: graphResource + ".default"}
}

// isMultiTenant reports whether a tenant setting is one of the aliases that
// admit accounts of any tenant.
func isMultiTenant(t string) bool {
	return strings.EqualFold(t, "organizations") || strings.EqualFold(t, "common")
}

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

func validateTenant(s providers.Settings) []providers.FieldError {
	t := strings.TrimSpace(s.Tenant)
	switch {
	case t == "":
		return []providers.FieldError{{Field: "tenant", Code: "required", Message: "Enter your tenant ID, a verified domain such as <your-domain>.onmicrosoft.com, or organizations."}}
	case t != s.Tenant:
		return []providers.FieldError{{Field: "tenant", Code: "invalid_format", Message: "Remove the spaces around the tenant."}}
	case strings.EqualFold(t, "consumers"):
		return []providers.FieldError{{Field: "tenant", Code: "consumers_not_allowed", Message: "consumers admits only personal Microsoft accounts; an organization needs its tenant ID, a verified domain, organizations, or common."}}
	case isMultiTenant(t), isGUID(t):
		return nil
	case providers.IsDomainName(t):
		return nil
	default:
		return []providers.FieldError{{Field: "tenant", Code: "invalid_format", Message: "A tenant is a directory (tenant) ID (a GUID), a verified domain such as <your-domain>.onmicrosoft.com, organizations, or common."}}
	}
}

// SetupSteps: what an admin does at the provider (placeholders only).
func (*dialect) SetupSteps() []string {
	return []string{
		"In the Microsoft Entra admin center, open App registrations and create a new registration.",
		"Supported account types: accounts in this organizational directory (single tenant) or any organizational directory.",
		"Add the web redirect URI <redirect-uri> shown on the integration card.",
		"Under API permissions, add the delegated Microsoft Graph permissions for the capabilities you enable, and grant admin consent if your tenant requires it.",
		"Under Certificates & secrets, create a client secret and paste it only into the secure client secret field: <client-secret>.",
		"Copy the Application (client) ID <client-id> and your tenant (ID or verified domain) into the integration settings.",
	}
}

// AdminConsentURL implements providers.AdminConsenter: the v2.0 admin
// consent endpoint of the org's tenant, with the permissions asked for in
// scope (explicit Graph permissions, fully qualified, as the endpoint takes
// them). "common" cannot take an admin's consent (personal accounts have no
// directory): it is asked of "organizations", the administrator's own
// directory.
// Docs: https://learn.microsoft.com/entra/identity-platform/v2-admin-consent
func (*dialect) AdminConsentURL(s providers.Settings, clientID, redirectURI, state string, scopes []string) string {
	tenant := strings.ToLower(s.Tenant)
	if tenant == "" || tenant == "common" || tenant == "consumers" {
		tenant = "organizations"
	}
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "state": {state}, "scope": {strings.Join(scopes, " ")}}
	return "https://login.microsoftonline.com/" + url.PathEscape(tenant) + "/v2.0/adminconsent?" + q.Encode()
}

var _ providers.AdminConsenter = (*dialect)(nil)
