package fakeprovider

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// dialect is what differs between the three providers' OAuth servers and
// APIs. The shared flow is in authorize.go, token.go and api.go.
type dialect interface {
	id() string
	codeTTL() time.Duration
	// knownScope reports whether the provider would accept the scope.
	knownScope(scope string) bool
	// admits refuses a user the endpoint does not serve (Microsoft tenants);
	// callers hold s.mu.
	admits(r *http.Request, u *User) (failure, bool)
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
