// Package fakeprovider is an in-process stand-in for Microsoft 365, Google
// Workspace and Salesforce: their OAuth 2.0 authorization servers, identity
// endpoints, and the read APIs that connection diagnostics probe. It serves
// tests and offline runs (make run with FAKE_PROVIDERS=1); nothing in it is
// used in production.
//
// # How it is reached
//
// A *Server is one http.Handler. The service's outbound client
// (shared/outbound) rewrites every provider URL https://<host>/<path> to
// <fake-base>/<host>/<path>, and so does the authorization URL sent to the
// browser; the fake dispatches on that first path segment:
//
//	login.microsoftonline.com/{tenant}/oauth2/v2.0/{authorize,token}
//	graph.microsoft.com/v1.0/me, /me/{messages,events,contacts}[/{id}],
//	  /me/drive/root, /me/drive/items/{id}[/content]
//	<prefix>-my.sharepoint.com/...download.aspx (Graph's pre-authenticated downloads)
//	accounts.google.com/o/oauth2/v2/auth
//	oauth2.googleapis.com/{token,revoke}
//	openidconnect.googleapis.com/v1/userinfo (and www.googleapis.com/oauth2/v3/userinfo)
//	gmail.googleapis.com/gmail/v1/users/me/{profile,messages[/{id}]}
//	www.googleapis.com/calendar/v3/{users/me/calendarList,calendars/primary/events/{id}}
//	www.googleapis.com/drive/v3/{about,files/{id}[?alt=media]}
//	people.googleapis.com/v1/people/{me,me/connections,{id}}
//	{login,test,*.my,*.sandbox.my}.salesforce.com/services/oauth2/{authorize,token,revoke,userinfo,introspect}
//	<login host>/id/{orgId}/{userId}
//	<instance host>/services/data/vNN.0/{limits,sobjects,sobjects/{Object}/{id}}
//
// and the write test's items (created in the account's own space, then
// deleted; see shared/providers/*/writetest.go):
//
//	graph.microsoft.com/v1.0/me/{messages,events,contacts} (POST), .../{id} (DELETE),
//	  /me/drive/special/approot:/{name}:/content (PUT), /me/drive/items/{id} (DELETE)
//	gmail.googleapis.com/gmail/v1/users/me/drafts (POST), /drafts/{id} (DELETE)
//	www.googleapis.com/calendar/v3/calendars/primary/events (POST), /events/{id} (DELETE)
//	www.googleapis.com/upload/drive/v3/files?uploadType=multipart (POST), drive/v3/files/{id} (DELETE)
//	people.googleapis.com/v1/people:createContact (POST), /people/{id}:deleteContact (DELETE)
//	<instance host>/services/data/vNN.0/sobjects/Task/ (POST), /sobjects/Task/{id} (DELETE)
//
// and Microsoft's org-wide admin consent (GET, from the browser):
//
//	login.microsoftonline.com/{tenant}/v2.0/adminconsent
//
// These are exactly the URLs shared/catalog and the dialects build; tests
// walk the catalog to keep the two in step.
//
// A Microsoft user with UserConsentBlocked is in a tenant that does not let
// users consent: authorizing answers consent_required (AADSTS65001) until an
// admin consent of the client in the tenant covers the scopes asked for.
//
// # Dialects
//
// Each provider is one file (microsoft.go, google.go, salesforce.go): a
// type implementing the dialect interface (oauth.go) over base's defaults,
// registering its own routes, wording its own errors and minting its own
// token shapes. The shared flow (authorize.go, token.go, api.go,
// consent.go) asks the dialect and never compares provider ids; dialects()
// is the explicit registry, and TestEveryProviderHasADialect holds it to
// the catalog.
//
// # Using it
//
//	fake := fakeprovider.New(fakeprovider.Options{AutoApprove: true})
//	srv := httptest.NewServer(fake)
//	rw, _ := outbound.NewRewriter(srv.URL)
//	hc := outbound.NewClient(rw, 0) // the service's client: reaches the fake
//
// New registers one platform default client per provider (DefaultClients;
// seed them as the deployment's default clients for FAKE_PROVIDERS=1 local
// runs) and one default user per provider: DefaultMicrosoftUser in tenant
// DefaultMicrosoftTenantID (domain DefaultMicrosoftTenantDomain),
// DefaultGoogleUser of Workspace domain DefaultGoogleDomain, and
// DefaultSalesforceUser of org DefaultSalesforceOrgID on
// DefaultSalesforceInstanceURL. Each default user may use every capability
// and owns one item per capability, id "sample-<capability>" (Salesforce:
// "Account/001000000000001AAA").
//
// The API, all safe for concurrent use:
//
//	New(Options{TokenTTL, AutoApprove, Lenient, Now, Latency, DefaultRedirectURIs})
//	ParseTokenTTL(os.Getenv("FAKE_PROVIDER_TOKEN_TTL"))
//	DefaultClients() map[provider]store.DefaultClient
//	(*Server).RegisterClient(ClientSpec{Provider, ClientID, Secret, RedirectURIs, RotateRefreshTokens, RequirePKCE})
//	(*Server).AddUser(User{Provider, Email, Tenant, HostedDomain, OrgID, InstanceURL, GrantScopes, Denied, Items, ...})
//	(*Server).UpdateUser(provider, email, func(*User)) error
//	(*Server).User(provider, email) (User, bool)
//	(*Server).RevokeUser(provider, email) error
//	(*Server).Inject(Fault{Provider, Kind, ClientID, User, Times, Status, RetryAfter, Delay, Malformed, Error, AADSTS, Description}) (remove func())
//	(*Server).ClearFaults()
//	(*Server).SetLatency(d)
//	(*Server).Count(Filter{Provider, Kind, ClientID, User, Outcome}) int
//	(*Server).RefreshTokensUsed(Filter) []RefreshUse
//	(*Server).ResetCounts()
//	(*Server).TokenInfo(token) (TokenInfo, bool)
//
// RegisterClient and AddUser panic on an unknown provider or a missing id:
// that is a mistake in the test, not a condition to handle.
//
// # Authorization
//
// With Options.AutoApprove an authorization request is answered at once by a
// 302 to the redirect_uri with code and state. Otherwise a small HTML consent
// page lets a person choose the account (and, for Google, untick scopes).
// The account is the one named by login_hint, else the provider's default
// user (for a Microsoft tenant-specific endpoint, the first user of that
// tenant). An unknown client_id or a redirect_uri that is not registered is
// shown on an error page and never redirected to, as the providers do; so
// is an unknown Microsoft tenant and a login_hint naming no account. Every
// other refusal is a redirect with error and error_description, including
// Microsoft's AADSTS50020 (which Microsoft shows on its own page) so that a
// headless test sees it arrive at the service's callback. prompt=none
// without an earlier grant is consent_required.
//
// All three dialects verify PKCE (S256 only: a plain or missing method is
// refused when a challenge is sent, Salesforce treating a missing method as
// S256, its only one; a missing or wrong code_verifier is invalid_grant),
// authenticate clients (client_secret_post or client_secret_basic), require
// the token request's redirect_uri to equal the authorization request's,
// and issue single-use codes that expire (a second redemption is refused and
// revokes what the first one issued). Access tokens live Options.TokenTTL;
// a refresh token unused for longer than the catalog's RefreshTokenIdle
// (Microsoft 90 days, Google six months) is dead. Every lifetime runs on
// Options.Now, so tests move a clock instead of waiting.
//
// Microsoft: the tenant is in the path; a user of one tenant is refused on
// another tenant's endpoint (AADSTS50020), organizations and common accept
// any organization account, an unknown tenant is AADSTS90002. A refresh
// token is issued only with offline_access, and every refresh replaces it:
// the old one is refused from then on (AADSTS70000), stricter than the real
// service so that a client keeping an old refresh token is caught. Errors
// carry AADSTS codes in error_description (followed by Trace ID,
// Correlation ID and Timestamp lines), error_codes, timestamp, trace_id,
// correlation_id, error_uri and, where Microsoft sends one, suberror. The
// token response's scope names Graph permissions without their resource
// prefix and leaves out offline_access. Consent is recorded per user and
// client: a token carries every permission consented before as well as
// those the request named (incremental consent), until RevokeUser. Access tokens are JWT-shaped, as
// Graph's are (tid, oid, upn, scp; the signature part is random: treat them
// as opaque). The ID token (unsigned, alg "none")
// carries tid, oid, preferred_username, email. The client-credentials grant
// serves https://graph.microsoft.com/.default on a specific tenant and is
// refused on common (AADSTS90010) and organizations (AADSTS50059). A file's
// content is a 302 to a pre-authenticated SharePoint URL, as Graph does, so
// the Authorization header is not sent there (and that second request is
// not counted).
//
// Google: a refresh token only with access_type=offline, and on a later
// consent of the same client and user only with prompt=consent; granular
// consent (User.GrantScopes, or the consent page's tick boxes) and
// include_granted_scopes; email and profile are answered as userinfo.email
// and userinfo.profile; hd for Workspace users; refresh tokens are not
// rotated; the revoke endpoint ends the whole grant.
//
// Salesforce: token responses carry instance_url, id, issued_at and an
// HMAC-SHA256 signature but no expires_in (introspection tells the expiry);
// a refresh token only with the refresh_token (or offline_access) scope;
// with ClientSpec.RotateRefreshTokens each refresh returns a new refresh
// token and presenting a replaced one revokes the whole family. Userinfo
// answers an unusable token with 403 and the plain-text body
// Bad_OAuth_Token, as Salesforce's identity service does; the REST API
// answers 401 INVALID_SESSION_ID, and only on the token's instance host.
//
// # Probe APIs
//
// Every API call needs an unexpired, unrevoked access token of that provider
// (401 in the dialect's shape otherwise: Graph InvalidAuthenticationToken,
// Google UNAUTHENTICATED, Salesforce INVALID_SESSION_ID) holding one of the
// capability's scopes from the catalog (403 insufficient scope for Graph and
// Google, 401 for Salesforce, as they answer). A capability listed in
// User.Denied answers 403 in the dialect's shape (Graph ErrorAccessDenied,
// Google PERMISSION_DENIED, Salesforce INSUFFICIENT_ACCESS). Items are found
// by capability and id: a missing one is 404, one marked Forbidden is 403.
//
// # Writes
//
// The write endpoints need a scope of the capability's create or delete
// actions (a read-only grant is refused in the provider's shape), answer
// the providers' success statuses (Graph 201 then 204, Gmail 200 then 204,
// Calendar 200 then 204 and 410 Gone for an event deleted before, Drive
// 200 then 204, People 200 then 200 {}, Salesforce 201 then 204 and 404
// ENTITY_IS_DELETED for a record deleted before), and keep what they create
// among the user's Items, so a test reads back (User) what a write test
// left behind. Graph's upload into the app folder honours
// @microsoft.graph.conflictBehavior (fail: 409 nameAlreadyExists). They are
// counted and faulted as KindCreate and KindDelete.
//
// # Faults, latency, counters
//
// Inject adds a Fault for a provider and endpoint Kind, optionally narrowed
// to a client or user, for N calls or until removed: an HTTP status (5xx, or
// 429 with Retry-After), a delay, malformed JSON, or an OAuth error with the
// provider's own wording (Microsoft AADSTS codes, Google invalid_rapt, ...).
// A faulted call consumes nothing: the code or refresh token it carried
// stays usable. Options.Latency (or SetLatency) delays every response.
//
// Count reports the calls received by provider, kind, client, user and
// outcome; RefreshTokensUsed lists every refresh token presented, in order,
// and whether it had already been redeemed, so a test can prove that no old
// refresh token was reused.
package fakeprovider
