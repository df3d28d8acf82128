package catalog

import (
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// graphResource prefixes Microsoft Graph scopes. Token responses may name
// scopes with or without it.
const graphResource = "https://graph.microsoft.com/"

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE = regexp.MustCompile(`^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$`)
)

func graph(scopes ...string) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = graphResource + s
	}
	return out
}

// microsoft is Microsoft 365 through the Microsoft identity platform (v2.0
// endpoints) and Microsoft Graph.
// Docs: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
func microsoft() Provider {
	const api = "https://graph.microsoft.com/v1.0"
	return Provider{
		ID:          Microsoft365,
		DisplayName: "Microsoft 365",
		Registers:   "a Microsoft Entra app registration",
		DocsURL:     "https://learn.microsoft.com/entra/identity-platform/quickstart-register-app",
		SetupSteps: []string{
			"In the Microsoft Entra admin center, open App registrations and create a new registration.",
			"Supported account types: accounts in this organizational directory (single tenant) or any organizational directory.",
			"Add the web redirect URI <redirect-uri> shown on the integration card.",
			"Under API permissions, add the delegated Microsoft Graph permissions for the capabilities you enable, and grant admin consent if your tenant requires it.",
			"Under Certificates & secrets, create a client secret and paste it only into the secure client secret field: <client-secret>.",
			"Copy the Application (client) ID <client-id> and your tenant (ID or verified domain) into the integration settings.",
		},
		Capabilities: []CapabilitySpec{
			{
				ID: Email, Label: "Email (Outlook)",
				Actions:     []Action{Read, Create, Update, Send, Delete},
				ReadScopes:  graph("Mail.Read"),
				WriteScopes: writeScopes(graph("Mail.ReadWrite"), graph("Mail.ReadWrite"), graph("Mail.Send"), graph("Mail.ReadWrite")),
				Probe: Probe{
					ReadURL:  api + "/me/messages?$top=1&$select=id",
					ItemURL:  api + "/me/messages/{id}?$select=id,subject",
					ItemHint: "an Outlook message id",
				},
			},
			{
				ID: Calendar, Label: "Calendar (Outlook)",
				Actions:     []Action{Read, Create, Update, Delete},
				ReadScopes:  graph("Calendars.Read"),
				WriteScopes: writeScopes(graph("Calendars.ReadWrite"), graph("Calendars.ReadWrite"), nil, graph("Calendars.ReadWrite")),
				Probe: Probe{
					ReadURL:  api + "/me/events?$top=1&$select=id",
					ItemURL:  api + "/me/events/{id}?$select=id,subject",
					ItemHint: "an Outlook event id",
				},
			},
			{
				ID: Files, Label: "Files (OneDrive and SharePoint)",
				Actions:     []Action{Read, Create, Update, Delete},
				ReadScopes:  graph("Files.Read.All"),
				WriteScopes: writeScopes(graph("Files.ReadWrite.All"), graph("Files.ReadWrite.All"), nil, graph("Files.ReadWrite.All")),
				Probe: Probe{
					ReadURL:    api + "/me/drive/root",
					ItemURL:    api + "/me/drive/items/{id}",
					ContentURL: api + "/me/drive/items/{id}/content",
					ItemHint:   "a OneDrive item id",
				},
			},
			{
				ID: Contacts, Label: "Contacts (Outlook)",
				Actions:     []Action{Read, Create, Update, Delete},
				ReadScopes:  graph("Contacts.Read"),
				WriteScopes: writeScopes(graph("Contacts.ReadWrite"), graph("Contacts.ReadWrite"), nil, graph("Contacts.ReadWrite")),
				Probe: Probe{
					ReadURL:  api + "/me/contacts?$top=1&$select=id",
					ItemURL:  api + "/me/contacts/{id}",
					ItemHint: "an Outlook contact id",
				},
			},
		},
		Fields: []Field{{
			Name: "tenant", Label: "Tenant", Required: true, Example: "<tenant-id> or <your-domain>.onmicrosoft.com",
			Help: "Your directory (tenant) ID, a verified domain, or organizations (any work or school account). common also admits personal accounts.",
		}},
		BaseScopes:           append([]string{"openid", "profile", "email", "offline_access"}, graph("User.Read")...),
		ImplicitScopes:       []string{"openid", "profile", "email", "offline_access"},
		AuthParams:           map[string]string{"response_mode": "query", "prompt": "select_account"},
		Revocation:           false, // no per-token revocation endpoint in the v2.0 platform
		RefreshTokenIdle:     90 * 24 * time.Hour,
		RotatesRefreshToken:  true,
		CredentialCheck:      CheckClientCredentials,
		CredentialCheckScope: graphResource + ".default",
		PKCEMethod:           PKCES256,
		ClientIDLabel:        "Application (client) ID",
		ClientIDExample:      "<client-id>, a GUID such as 00000000-0000-0000-0000-000000000000",
		validateClientID:     clientIDFormat(guidRE, "Application (client) ID", "a GUID such as 00000000-0000-0000-0000-000000000000"),
		endpoints: func(s Settings) Endpoints {
			base := "https://login.microsoftonline.com/" + strings.ToLower(s.Tenant) + "/oauth2/v2.0"
			return Endpoints{
				OAuth2:      oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams},
				UserInfoURL: api + "/me?$select=id,displayName,mail,userPrincipalName",
			}
		},
		validate: validateTenant,
		normalizeScope: func(s string) string {
			return strings.ToLower(strings.TrimPrefix(s, graphResource))
		},
	}
}

func validateTenant(s Settings) []FieldError {
	t := strings.TrimSpace(s.Tenant)
	switch {
	case t == "":
		return []FieldError{{Field: "tenant", Code: "required", Message: "Enter your tenant ID, a verified domain such as <your-domain>.onmicrosoft.com, or organizations."}}
	case t != s.Tenant:
		return []FieldError{{Field: "tenant", Code: "invalid_format", Message: "Remove the spaces around the tenant."}}
	case strings.EqualFold(t, "consumers"):
		return []FieldError{{Field: "tenant", Code: "consumers_not_allowed", Message: "consumers admits only personal Microsoft accounts; an organization needs its tenant ID, a verified domain, organizations, or common."}}
	case strings.EqualFold(t, "organizations"), strings.EqualFold(t, "common"), guidRE.MatchString(t):
		return nil
	case len(t) <= 253 && domainRE.MatchString(t):
		return nil
	default:
		return []FieldError{{Field: "tenant", Code: "invalid_format", Message: "A tenant is a directory (tenant) ID (a GUID), a verified domain such as <your-domain>.onmicrosoft.com, organizations, or common."}}
	}
}
