package catalog

import (
	"strings"
	"time"

	"golang.org/x/oauth2"
)

const googleAuthScope = "https://www.googleapis.com/auth/"

func gscope(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = googleAuthScope + n
	}
	return out
}

// google is Google Workspace through Google's OAuth 2.0 for web server
// applications. A refresh token is issued only with access_type=offline, and
// again on a later consent only with prompt=consent.
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server
func google() Provider {
	return Provider{
		ID:          GoogleWorkspace,
		DisplayName: "Google Workspace",
		Registers:   "a Google Cloud OAuth client (web application)",
		DocsURL:     "https://developers.google.com/identity/protocols/oauth2/web-server",
		SetupSteps: []string{
			"In the Google Cloud console, create or choose a project and enable the Gmail, Google Calendar, Google Drive and People APIs you need.",
			"Configure the OAuth consent screen (Internal for Workspace-only use).",
			"Create an OAuth client ID of type Web application with the authorized redirect URI <redirect-uri>.",
			"Copy the client ID <client-id> into the integration settings and paste the client secret only into the secure client secret field: <client-secret>.",
			"Optionally restrict sign-in to your Workspace domain with the hosted domain field: <your-domain>.",
		},
		Capabilities: []CapabilitySpec{
			{
				ID: Email, Label: "Email (Gmail)",
				Actions:     []Action{Read, Create, Update, Send, Delete},
				ReadScopes:  gscope("gmail.readonly"),
				WriteScopes: writeScopes(gscope("gmail.compose"), gscope("gmail.modify"), gscope("gmail.send"), gscope("gmail.modify")),
				Probe: Probe{
					ReadURL:  "https://gmail.googleapis.com/gmail/v1/users/me/profile",
					ItemURL:  "https://gmail.googleapis.com/gmail/v1/users/me/messages/{id}?format=metadata",
					ItemHint: "a Gmail message id",
				},
			},
			{
				ID: Calendar, Label: "Calendar (Google Calendar)",
				Actions:     []Action{Read, Create, Update, Delete},
				ReadScopes:  gscope("calendar.readonly"),
				WriteScopes: writeScopes(gscope("calendar.events"), gscope("calendar.events"), nil, gscope("calendar.events")),
				Probe: Probe{
					ReadURL:  "https://www.googleapis.com/calendar/v3/users/me/calendarList?maxResults=1",
					ItemURL:  "https://www.googleapis.com/calendar/v3/calendars/primary/events/{id}",
					ItemHint: "an event id of the primary calendar",
				},
			},
			{
				ID: Files, Label: "Files (Google Drive)",
				Actions:     []Action{Read, Create, Update, Delete},
				ReadScopes:  gscope("drive.readonly"),
				WriteScopes: writeScopes(gscope("drive"), gscope("drive"), nil, gscope("drive")),
				Probe: Probe{
					ReadURL:    "https://www.googleapis.com/drive/v3/about?fields=user",
					ItemURL:    "https://www.googleapis.com/drive/v3/files/{id}?fields=id,name,mimeType,size&supportsAllDrives=true",
					ContentURL: "https://www.googleapis.com/drive/v3/files/{id}?alt=media&supportsAllDrives=true",
					ItemHint:   "a Drive file id",
				},
			},
			{
				ID: Contacts, Label: "Contacts (Google Contacts)",
				Actions:     []Action{Read, Create, Update, Delete},
				ReadScopes:  gscope("contacts.readonly"),
				WriteScopes: writeScopes(gscope("contacts"), gscope("contacts"), nil, gscope("contacts")),
				Probe: Probe{
					ReadURL:  "https://people.googleapis.com/v1/people/me/connections?pageSize=1&personFields=names",
					ItemURL:  "https://people.googleapis.com/v1/people/{id}?personFields=names",
					ItemHint: "a contact resource id such as c123456789",
				},
			},
		},
		Fields: []Field{{
			Name: "hostedDomain", Label: "Hosted domain", Example: "<your-domain>",
			Help: "Optional. Only accounts of this Google Workspace domain may connect.",
		}},
		BaseScopes:       []string{"openid", "email", "profile"},
		ImplicitScopes:   []string{"openid"},
		AuthParams:       map[string]string{"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
		Revocation:       true,
		RefreshTokenIdle: 183 * 24 * time.Hour, // revoked after six months unused
		CredentialCheck:  CheckDummyCode,
		PKCEMethod:       PKCES256,
		ClientIDLabel:    "OAuth client ID",
		ClientIDExample:  "<client-id>.apps.googleusercontent.com",
		validateClientID: clientIDFormat(googleClientIDRE, "OAuth client ID", "<number>-<id>.apps.googleusercontent.com"),
		endpoints: func(Settings) Endpoints {
			return Endpoints{
				OAuth2:      oauth2.Endpoint{AuthURL: "https://accounts.google.com/o/oauth2/v2/auth", TokenURL: "https://oauth2.googleapis.com/token", AuthStyle: oauth2.AuthStyleInParams},
				RevokeURL:   "https://oauth2.googleapis.com/revoke",
				UserInfoURL: "https://openidconnect.googleapis.com/v1/userinfo",
			}
		},
		validate: func(s Settings) []FieldError {
			d := s.HostedDomain
			if d == "" {
				return nil
			}
			if len(d) > 253 || !domainRE.MatchString(d) || strings.TrimSpace(d) != d {
				return []FieldError{{Field: "hostedDomain", Code: "invalid_format", Message: "A hosted domain is a domain name such as <your-domain>, without @ or https://."}}
			}
			return nil
		},
		// Google answers the OpenID scopes email and profile with their
		// long userinfo names.
		normalizeScope: func(s string) string {
			switch s {
			case "email", googleAuthScope + "userinfo.email":
				return "email"
			case "profile", googleAuthScope + "userinfo.profile":
				return "profile"
			}
			return s
		},
	}
}

// AuthCodeOptionsFor are the provider's authorization parameters for one
// org's settings: Google adds hd, a hint that the hosted domain check at the
// callback enforces.
func (p Provider) AuthCodeOptionsFor(s Settings) []oauth2.AuthCodeOption {
	opts := p.AuthCodeOptions()
	if p.ID == GoogleWorkspace && s.HostedDomain != "" {
		opts = append(opts, oauth2.SetAuthURLParam("hd", s.HostedDomain))
	}
	return opts
}
