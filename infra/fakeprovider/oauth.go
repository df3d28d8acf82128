package fakeprovider

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// dialect is what differs between the providers' OAuth servers and APIs,
// one file each (microsoft.go, google.go, salesforce.go) over base's
// defaults. The shared flow (authorize.go, token.go, api.go, consent.go)
// asks its dialect and never compares provider ids.
type dialect interface {
	id() string
	// routes registers the provider's endpoints; handle wraps nothing.
	routes(handle func(pattern string, h http.HandlerFunc))
	// seedUser is the default user New registers; defaultClient the
	// platform client it registers (and whether it rotates refresh tokens).
	// Neither may use the server (DefaultClients has none).
	seedUser() User
	defaultClient() (c store.DefaultClient, rotates bool)
	// normalize fills in a user's derived defaults (ids, tenant, instance);
	// domain is the email's, lower case.
	normalize(u *User, domain string)

	codeTTL() time.Duration
	// knownScope reports whether the provider would accept the scope.
	knownScope(scope string) bool
	// admits refuses a user the endpoint does not serve (Microsoft tenants);
	// callers hold s.mu.
	admits(r *http.Request, u *User) (failure, bool)
	// admitsClient refuses a client the endpoint does not serve (a
	// single-tenant Microsoft app under common or organizations).
	admitsClient(r *http.Request, cl *client) (failure, bool)
	// defaultUser picks the account when there is no login_hint; callers
	// hold s.mu.
	defaultUser(r *http.Request, users []*User) *User
	// redirectExtras are provider-specific parameters of the code redirect.
	redirectExtras(ar *authzRequest, u *User, granted []string) url.Values
	// oauthError words a refusal of an OAuth endpoint (token, revoke,
	// introspect; and authorize, as a redirect or a page).
	oauthError(f failure, x errCtx) oauthError
	writeOAuthError(w http.ResponseWriter, e oauthError)
	// rotates reports whether a refresh replaces the refresh token.
	rotates(cl *client) bool
	// tokenResponse is the JSON body of a successful token request.
	tokenResponse(t *issue) map[string]any
	// writeAPIError answers a probe or identity call in the API's shape.
	writeAPIError(w http.ResponseWriter, p apiProblem)
	// apiRefusal refuses every API call of the user for a reason of the
	// provider's own (Graph's claims challenges).
	apiRefusal(u *User) (problemKind, bool)

	// scopeRequired: an authorization request without scope is refused.
	scopeRequired() bool
	// challengeMethod is the PKCE method a request's code_challenge_method
	// stands for (Salesforce takes none and knows only S256).
	challengeMethod(method string) string
	// granularConsent: the consent page lets the user untick scopes.
	granularConsent() bool
	// keepsGrant reports whether a new authorization's tokens also carry
	// the scopes the user granted the client before (Google with
	// include_granted_scopes; Microsoft always).
	keepsGrant(ar *authzRequest) bool
	// offline reports whether a grant of granted scopes gets a refresh
	// token, given whether the client and user had one before.
	offline(ar *authzRequest, granted []string, priorOffline bool) bool
	// loginHost is the host an authorization is identified by later
	// (Salesforce: login or test), "" when the provider has none.
	loginHost(ar *authzRequest) string
	// accountDetail is what the consent page shows beside an account.
	accountDetail(u *User) string
	// codePrefix, newAccessToken and newRefreshToken mint values in the
	// provider's shapes.
	codePrefix() string
	newAccessToken(cl *client, fam *family, u *User, at *accessToken) string
	newRefreshToken() string
	// grantSupported reports whether the token endpoint takes grantType;
	// clientCredentials serves grant_type=client_credentials where it does.
	grantSupported(grantType string) bool
	clientCredentials(w http.ResponseWriter, r *http.Request, cl *client, x errCtx)
	// refreshLifetime is how long a refresh token of the client lives from
	// its issue whatever its use (Google's apps in testing), 0: no limit.
	refreshLifetime(cl *client, fam *family) time.Duration
	// reuseRevokesFamily: presenting a replaced refresh token revokes
	// every token of its authorization (Salesforce's rotation).
	reuseRevokesFamily() bool
	// servesAPI reports whether the request's host serves an API call of a
	// token issued for instanceHost (a Salesforce session is valid on its
	// org's instance only).
	servesAPI(r *http.Request, n need, instanceHost string) bool
}

// base is the behaviour most providers share; each dialect embeds it and
// overrides what it does differently.
type base struct{ s *Server }

func (base) admits(*http.Request, *User) (failure, bool)         { return failNone, false }
func (base) admitsClient(*http.Request, *client) (failure, bool) { return failNone, false }
func (base) apiRefusal(*User) (problemKind, bool)                { return 0, false }
func (base) refreshLifetime(*client, *family) time.Duration      { return 0 }

func (base) defaultUser(_ *http.Request, users []*User) *User {
	if len(users) == 0 {
		return nil
	}
	return users[0]
}

func (base) redirectExtras(*authzRequest, *User, []string) url.Values { return nil }
func (base) normalize(*User, string)                                  {}
func (base) scopeRequired() bool                                      { return true }
func (base) challengeMethod(method string) string                     { return method }
func (base) granularConsent() bool                                    { return false }
func (base) keepsGrant(*authzRequest) bool                            { return false }
func (base) loginHost(*authzRequest) string                           { return "" }
func (base) accountDetail(*User) string                               { return "" }
func (base) reuseRevokesFamily() bool                                 { return false }

func (base) servesAPI(*http.Request, need, string) bool { return true }

func (base) offline(_ *authzRequest, granted []string, _ bool) bool {
	return slices.Contains(granted, "offline_access")
}

func (base) grantSupported(grantType string) bool {
	return grantType == "authorization_code" || grantType == "refresh_token"
}

// clientCredentials is never reached: grantSupported refuses the grant.
func (b base) clientCredentials(w http.ResponseWriter, _ *http.Request, _ *client, x errCtx) {
	http.Error(w, "client_credentials is not supported here", http.StatusBadRequest)
}

// failure is a refusal, worded by each dialect.
type failure int

const (
	failNone failure = iota
	failInvalidRequest
	failMissingParam
	failUnsupportedGrant
	failUnsupportedResponseType
	failUnknownClient
	failBadSecret
	failMissingSecret
	failRedirectNotRegistered
	failInvalidScope
	failPKCEMethod
	failPKCERequired
	failUnknownCode
	failExpiredCode
	failUsedCode
	failCodeClient
	failRedirectMismatch
	failVerifierMissing
	failVerifierMismatch
	failUnknownRefresh
	failRevokedRefresh
	failReplacedRefresh
	failIdleRefresh
	failRefreshClient
	failTenantNotFound
	failUserNotInTenant
	failCCTenant
	failCCScope
	failCCResource
	failAccessDenied
	failAdminPolicy // the account's administrator does not let it use the app
	failNotAssigned // the app requires assignment and the user has none
	failSingleTenant
	failInactiveUser
	failInactiveOrg
	failConsentRequired
	failUnknownToken
	failServer // an injected HTTP status
	failInjected
)

// errCtx carries what a refusal's wording mentions.
type errCtx struct {
	clientID string
	tenant   string // the tenant in the path (Microsoft)
	param    string // the parameter concerned
	got      string
	want     string
	user     string
	kind     Kind
	fault    Fault
	now      time.Time
	issued   time.Time
}

// oauthError is an OAuth error answer.
type oauthError struct {
	status   int
	code     string
	desc     string
	codes    []int  // Microsoft error_codes
	suberror string // Microsoft
	subtype  string // Google error_subtype
	uri      string
	now      time.Time
	// page: shown to the browser instead of redirected (authorize only).
	page bool
}

// sweep forgets codes, consent requests, download tickets and access tokens
// long expired; callers hold s.mu. It runs at most once a minute of clock time.
func (s *Server) sweep(now time.Time) {
	if now.Before(s.sweepAt) {
		return
	}
	s.sweepAt = now.Add(time.Minute)
	for k, c := range s.codes {
		if now.Sub(c.expires) > time.Hour {
			delete(s.codes, k)
		}
	}
	for k, p := range s.pending {
		if now.After(p.expires) {
			delete(s.pending, k)
		}
	}
	for k, t := range s.tickets {
		if now.After(t.expires) {
			delete(s.tickets, k)
		}
	}
	// Access tokens long expired answer like unknown ones anyway. Refresh
	// tokens stay: a replaced one must still be recognised when reused.
	for k, at := range s.access {
		if now.Sub(at.expires) > time.Hour {
			delete(s.access, k)
		}
	}
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// scopeString joins scopes as token responses carry them.
func scopeString(scopes []string) string { return strings.Join(scopes, " ") }
