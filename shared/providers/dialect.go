package providers

import "golang.org/x/oauth2"

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
	// CredentialCheck says how the org's client credentials are verified
	// without a user, for these settings.
	CredentialCheck(s Settings) CredentialCheck
}

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
