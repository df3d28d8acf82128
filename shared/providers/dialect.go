package providers

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/store"
)

// Dialect is everything one provider does its own way: each provider
// package (microsoft, google, salesforce) implements it once, and nothing
// outside shared/providers asks which provider it is talking to.
type Dialect interface {
	// Endpoints builds the provider's URLs from an org's (valid) settings.
	Endpoints(s Settings) Endpoints
	// ValidateSettings checks the provider's own fields (Provider.Validate
	// adds the fields it does not have).
	ValidateSettings(s Settings) []FieldError
	// ValidateClientID checks the shape of a non-empty client id without
	// surrounding spaces (see ClientIDFormat).
	ValidateClientID(id string) []FieldError
	// NormalizeScope maps a scope to the form used to compare requested
	// and granted scopes.
	NormalizeScope(scope string) string
	// AuthCodeOptions are the authorization parameters that depend on the
	// org's settings (Google's hd); Provider.AuthParams holds the fixed ones.
	AuthCodeOptions(s Settings) []oauth2.AuthCodeOption
	// SetupSteps are what an admin does at the provider to register the
	// app (placeholders only). A method rather than a field of Provider so
	// that only the function that shows them (admin) links their text.
	SetupSteps() []string
	// CredentialCheck says how the org's client credentials are verified
	// without a user, for these settings.
	CredentialCheck(s Settings) CredentialCheck
	// ResolveSettings completes valid settings, when an admin saves them,
	// with what only the provider can tell (Microsoft: the directory id of
	// a tenant named by a verified domain). A *SettingsError is a setting
	// the provider refuses; any other error means it could not be asked.
	ResolveSettings(ctx context.Context, call Caller, s Settings) (Settings, error)
	// Admits reports whether settings s admit acct, an account connected
	// earlier, possibly under other settings (Google: of the hosted
	// domain; Microsoft: of the tenant). Settings tightened after the fact
	// apply to the connections already made, and exactly to those that no
	// longer conform. What cannot be told (a tenant domain the provider
	// was not asked about, an account stored without its tenant) is
	// admitted: a connection is never broken on a guess.
	Admits(s Settings, acct store.Account) bool

	// Identify returns the account behind freshly issued tokens (after the
	// code exchange). An account the org's settings do not admit is a
	// *Refusal.
	Identify(ctx context.Context, call Caller, s Session) (store.Account, error)
	// TokenExtras applies what a token response carries beyond RFC 6749
	// to the account (Salesforce: instance_url, checked). An error means
	// an extra was refused; acct is then unchanged.
	TokenExtras(tok *oauth2.Token, acct *store.Account) error
	// AccessExpiry is the provider's own statement of when s.Token's
	// access token expires, or ErrNoExpiryStatement when expires_in is
	// its only one (see Provider.AccessExpiry for the whole rule).
	AccessExpiry(ctx context.Context, call Caller, s Session) (time.Time, error)
	// Revoke revokes the grant behind tok at the provider's endpoints e
	// (ErrRevocationUnsupported when Provider.Revocation is RevokeNone).
	Revoke(ctx context.Context, call Caller, e Endpoints, tok *oauth2.Token) error
	// AccountSettings are the settings an account's own record implies,
	// for revoking its tokens when the org's integration is gone
	// (Salesforce: its checked instance, which accepts revocations).
	AccountSettings(acct store.Account) (Settings, error)

	// ClassifyToken says what a failed token request means (oauthfail.Token
	// with the provider's own rules first).
	ClassifyToken(err error, t TokenCall) oauthfail.Failure
	// ClassifyAuthorize says what an error sent back to the redirect URI
	// means (oauthfail.Authorize with the provider's own rules first).
	ClassifyAuthorize(code, description string) oauthfail.Failure
	// ClassifyAPI says what an API answer (its status, headers and
	// bounded body) to a call made with a user's token means
	// (oauthfail.APIAnswer with the provider's error shapes).
	ClassifyAPI(status int, h http.Header, body []byte) oauthfail.API

	// InstanceURL is the base URL of the account's own API host, for
	// {instance} in probe URLs; ErrNoInstance when the provider has none
	// or the account's may not be sent a token.
	InstanceURL(acct store.Account) (string, error)
	// ItemID validates an item id of capability c in the provider's form
	// and returns it normalized (Provider.ParseItem).
	ItemID(c Capability, raw string) (id string, ok bool)
	// FileMeta reads a file's metadata answer (the Files capability's
	// ItemURL); ok false when it cannot.
	FileMeta(body []byte) (FileMeta, bool)

	// CreateTestItem creates capability c's write-test item
	// (CapabilitySpec.WriteTest) in w.Account's own space with w.Token,
	// and returns the provider's answer and, when it is a success, the
	// new item's id ("" when the answer holds no usable one); a transport
	// error leaves unknown whether it was created. ErrNoTestItem when c
	// has no write test (writetest.go).
	CreateTestItem(ctx context.Context, call Caller, c Capability, w TestWrite) (Answer, string, error)
	// DeleteTestItem deletes the item of capability c that CreateTestItem
	// created, by the id it returned.
	DeleteTestItem(ctx context.Context, call Caller, c Capability, w TestWrite, id string) (Answer, error)
}

// Grant types of token requests.
const (
	GrantCode              = "authorization_code"
	GrantRefresh           = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// TokenCall describes the token request whose failure is classified: some
// answers mean one thing only in context (an invalid_grant seven days after
// a Google grant of an app in testing).
type TokenCall struct {
	// Grant is the request's grant type (GrantCode, GrantRefresh,
	// GrantClientCredentials).
	Grant string
	// GrantIssued is when the grant being refreshed was issued (the
	// connection's ConnectedAt); zero when unknown.
	GrantIssued time.Time
	// Now is when the request failed.
	Now time.Time
	// OrgClient: the org's own OAuth client, not the platform's.
	OrgClient bool
}

// Refusal is an account the org's settings do not admit (another tenant,
// another Workspace domain). Code is stable; Message is for the user.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return "account refused: " + r.Code }

// Revocation is what revoking a token at the provider ends.
type Revocation int

const (
	// RevokeNone: the provider has no per-token revocation (Microsoft).
	RevokeNone Revocation = iota
	// RevokeToken: revoking a token ends it (and, for a refresh token, the
	// access tokens issued with it), nothing else (Salesforce).
	RevokeToken
	// RevokeGrant: revoking any token ends every token of the client and
	// account (Google), so it must not be done while another stored
	// connection holds the same grant.
	RevokeGrant
)

// CredentialCheck is how an admin's client credentials are verified without
// a user.
type CredentialCheck struct {
	Method CheckMethod
	// Scope of a client-credentials check.
	Scope string
}

// CheckMethod is the grant a credential check makes.
type CheckMethod string

const (
	// CheckClientCredentials: a client-credentials grant (Microsoft with a
	// real tenant).
	CheckClientCredentials CheckMethod = "client_credentials"
	// CheckDummyCode: redeem a code that cannot exist; invalid_grant proves
	// the client authenticated, a client refusal that it did not.
	CheckDummyCode CheckMethod = "dummy_code"
)
