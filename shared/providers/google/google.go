// Package google is Google Workspace: Google's OAuth 2.0 for web server
// applications, OpenID Connect userinfo for the account, and the Gmail,
// Calendar, Drive and People APIs. It implements providers.Dialect.
package google

import (
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

// ID is the provider id.
const ID = "google_workspace"

const googleAuthScope = "https://www.googleapis.com/auth/"

// New returns Google Workspace. A refresh token is issued only with
// access_type=offline, and again on a later consent only with
// prompt=consent.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server
func New() providers.Provider { return provider }

var provider = providers.Provider{
	ID:          ID,
	DisplayName: "Google Workspace",
	Registers:   "a Google Cloud OAuth client (web application)",
	DocsURL:     "https://developers.google.com/identity/protocols/oauth2/web-server",
	Capabilities: []providers.CapabilitySpec{
		{
			ID: providers.Email, Label: "Email (Gmail)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Send, providers.Delete},
			ReadScopes: []string{googleAuthScope + "gmail.readonly"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{googleAuthScope + "gmail.compose"}},
				{Action: providers.Update, Scopes: []string{googleAuthScope + "gmail.modify"}},
				{Action: providers.Send, Scopes: []string{googleAuthScope + "gmail.send"}},
				{Action: providers.Delete, Scopes: []string{googleAuthScope + "gmail.modify"}},
			},
			Probe: providers.Probe{
				ReadURL:  "https://gmail.googleapis.com/gmail/v1/users/me/profile",
				ItemURL:  "https://gmail.googleapis.com/gmail/v1/users/me/messages/{id}?format=metadata",
				ItemHint: "a Gmail message id",
			},
			WriteTest: "a draft message to the account itself (never sent)",
		},
		{
			ID: providers.Calendar, Label: "Calendar (Google Calendar)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
			ReadScopes: []string{googleAuthScope + "calendar.readonly"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{googleAuthScope + "calendar.events"}},
				{Action: providers.Update, Scopes: []string{googleAuthScope + "calendar.events"}},
				{Action: providers.Delete, Scopes: []string{googleAuthScope + "calendar.events"}},
			},
			Probe: providers.Probe{
				ReadURL:  "https://www.googleapis.com/calendar/v3/users/me/calendarList?maxResults=1",
				ItemURL:  "https://www.googleapis.com/calendar/v3/calendars/primary/events/{id}",
				ItemHint: "an event id of the primary calendar",
			},
			WriteTest: "a tentative event without attendees in the account's primary calendar",
		},
		{
			ID: providers.Files, Label: "Files (Google Drive)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
			ReadScopes: []string{googleAuthScope + "drive.readonly"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{googleAuthScope + "drive"}},
				{Action: providers.Update, Scopes: []string{googleAuthScope + "drive"}},
				{Action: providers.Delete, Scopes: []string{googleAuthScope + "drive"}},
			},
			Probe: providers.Probe{
				ReadURL:    "https://www.googleapis.com/drive/v3/about?fields=user",
				ItemURL:    "https://www.googleapis.com/drive/v3/files/{id}?fields=id,name,mimeType,size&supportsAllDrives=true",
				ContentURL: "https://www.googleapis.com/drive/v3/files/{id}?alt=media&supportsAllDrives=true",
				ItemHint:   "a Drive file id",
			},
			WriteTest: "a small text file in My Drive",
		},
		{
			ID: providers.Contacts, Label: "Contacts (Google Contacts)",
			Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
			ReadScopes: []string{googleAuthScope + "contacts.readonly"},
			WriteScopes: []providers.ActionScopes{
				{Action: providers.Create, Scopes: []string{googleAuthScope + "contacts"}},
				{Action: providers.Update, Scopes: []string{googleAuthScope + "contacts"}},
				{Action: providers.Delete, Scopes: []string{googleAuthScope + "contacts"}},
			},
			Probe: providers.Probe{
				ReadURL:  "https://people.googleapis.com/v1/people/me/connections?pageSize=1&personFields=names",
				ItemURL:  "https://people.googleapis.com/v1/people/{id}?personFields=names",
				ItemHint: "a contact resource id such as c123456789",
			},
			WriteTest: "a contact named " + providers.TestItemSubject,
		},
	},
	Fields: []providers.Field{{
		Name: "hostedDomain", Label: "Hosted domain", Example: "<your-domain>",
		Help: "Optional. Only accounts of this Google Workspace domain may connect.",
	}},
	BaseScopes:             []string{"openid", "email", "profile"},
	ImplicitScopes:         []string{"openid"},
	AuthParams:             []providers.AuthParam{{Key: "access_type", Value: "offline"}, {Key: "include_granted_scopes", Value: "true"}, {Key: "prompt", Value: "consent"}},
	Revocation:             providers.RevokeGrant,
	RequiresUserConnection: true,
	RefreshTokenIdle:       183 * 24 * time.Hour, // revoked after six months unused
	PKCEMethod:             providers.PKCES256,
	// Incremental authorization: with include_granted_scopes=true (an
	// AuthParam of every request) the new token's grant covers every scope
	// the user granted the client before, and the token response's scope
	// names them all. Granular consent lets the user untick any scope but
	// the sign-in ones, so what was granted is read from that scope, never
	// assumed from the request.
	// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#incrementalAuth
	// Docs: https://developers.google.com/identity/protocols/oauth2/resources/granular-permissions
	Consent:         providers.ConsentIncremental,
	ClientIDLabel:   "OAuth client ID",
	ClientIDExample: "<client-id>.apps.googleusercontent.com",
	Dialect:         &dialect{},
}

// dialect is Google's providers.Dialect.
type dialect struct{}

var _ providers.Dialect = (*dialect)(nil)

func (*dialect) Endpoints(providers.Settings) providers.Endpoints {
	return providers.Endpoints{
		OAuth2:      oauth2.Endpoint{AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token", AuthStyle: oauth2.AuthStyleInParams},
		RevokeURL:   "https://oauth2.googleapis.com/revoke",
		UserInfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
	}
}

func (*dialect) ValidateSettings(s providers.Settings) []providers.FieldError {
	d := s.HostedDomain
	if d == "" {
		return nil
	}
	if !providers.IsDomainName(d) {
		return []providers.FieldError{{Field: "hostedDomain", Code: "invalid_format", Message: "A hosted domain is a domain name such as <your-domain>, without @ or https://."}}
	}
	return nil
}

func (*dialect) ValidateClientID(id string) []providers.FieldError {
	return providers.ClientIDFormat(isClientID(id), "OAuth client ID", "<number>-<id>.apps.googleusercontent.com")
}

// isClientID reports whether id has the shape of a Google OAuth client id:
// <4 to 30 digits>-<8 to 64 lower-case letters and digits>.apps.googleusercontent.com.
func isClientID(id string) bool {
	rest, ok := strings.CutSuffix(id, ".apps.googleusercontent.com")
	if !ok {
		return false
	}
	num, key, ok := strings.Cut(rest, "-")
	if !ok || len(num) < 4 || len(num) > 30 || len(key) < 8 || len(key) > 64 {
		return false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return false
		}
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// NormalizeScope: Google answers the OpenID scopes email and profile with
// their long userinfo names.
func (*dialect) NormalizeScope(s string) string {
	switch s {
	case "email", googleAuthScope + "userinfo.email":
		return "email"
	case "profile", googleAuthScope + "userinfo.profile":
		return "profile"
	}
	return s
}

// AuthCodeOptions: hd, a hint that the hosted domain check at the callback
// enforces.
// Docs: https://developers.google.com/identity/openid-connect/openid-connect#hd-param
func (*dialect) AuthCodeOptions(s providers.Settings) []oauth2.AuthCodeOption {
	if s.HostedDomain == "" {
		return nil
	}
	return []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("hd", s.HostedDomain)}
}

// CredentialCheck: Google has no grant without a user for a web client.
func (*dialect) CredentialCheck(providers.Settings) providers.CredentialCheck {
	return providers.CredentialCheck{Method: providers.CheckDummyCode}
}

// SetupSteps: what an admin does at the provider (placeholders only).
func (*dialect) SetupSteps() []string {
	return []string{
		"In the Google Cloud console, create or choose a project and enable the Gmail, Google Calendar, Google Drive and People APIs you need.",
		"Configure the OAuth consent screen: Internal for Workspace-only use, or External and published (In production). An external app left in Testing has its users' sign-ins end after seven days.",
		"Create an OAuth client ID of type Web application with the authorized redirect URI <redirect-uri>.",
		"Copy the client ID <client-id> into the integration settings and paste the client secret only into the secure client secret field: <client-secret>.",
		"Optionally restrict sign-in to your Workspace domain with the hosted domain field: <your-domain>.",
	}
}
