// Package oauthfail is the one vocabulary of OAuth and provider API
// failures, for the token refresh job, the connection callback, the admin's
// credential check and diagnostics alike. Each failure says what must happen
// for the connection to work again (Kind), who can make it happen (Owner,
// with a Fallback when the owner may not be allowed to), a stable Code, and
// a Cause a person understands.
//
// What a provider's own answers mean is the provider's to say: each
// provider's dialect (shared/providers/...) classifies its token-endpoint
// and authorization errors with Token and Authorize below, giving its own
// rules first (Microsoft's AADSTS codes, Google's and Salesforce's error
// codes and descriptions), and its API errors into the API vocabulary
// (API). What is left here is what RFC 6749 and HTTP say for every
// provider. Descriptions from providers are matched, never echoed: they can
// quote request data.
//
// Kinds:
//
//	Reconnect      the grant is gone: the user signs in again (Owner may
//	               say that someone else must act first)
//	ClientRefused  the provider refuses the org's OAuth client itself
//	               (invalid_client and its variants): a failure of the
//	               integration, not of one connection; an admin fixes it
//	AdminAction    an admin of the org must change the integration (its
//	               permissions, tenant, or the app's publishing status)
//	Blocked        a policy of the provider's tenant or org refuses this
//	               account or app; the grant survives, so the same token
//	               works again once that administrator allows it: retried
//	               slowly, never a reconnect
//	Transient      a passing fault: retried with backoff
//
// Owners are user, admin (an admin of the org, in the integration
// settings), external_admin (the administrator of the provider's tenant or
// org) and none (nobody: it passes).
package oauthfail

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Kind says what must happen for the connection to work again.
type Kind string

// Kinds (see the package doc).
const (
	Reconnect     Kind = "reconnect"
	ClientRefused Kind = "client_refused"
	AdminAction   Kind = "admin_action"
	Blocked       Kind = "blocked"
	Transient     Kind = "transient"
)

// Owner is who can fix a failure.
type Owner string

const (
	OwnerUser          Owner = "user"
	OwnerAdmin         Owner = "admin"
	OwnerExternalAdmin Owner = "external_admin" // the provider tenant's admin
	OwnerNone          Owner = "none"           // nobody: it passes
)

// Failure is a classified failure.
type Failure struct {
	Kind  Kind
	Code  string // stable, e.g. token_revoked, client_secret_expired, provider_unavailable
	Cause string // for a person; never contains provider text verbatim
	Owner Owner
	// Fallback is who acts when Owner cannot (a user whose tenant does not
	// let users consent to apps needs its administrator); "" when nobody
	// else can.
	Fallback Owner
	// RetryAfter is the provider's Retry-After, when it sent one.
	RetryAfter time.Duration
	// HTTPStatus of the provider's answer, 0 for network failures.
	HTTPStatus int
}

// NeedsReconnect reports whether the connection cannot work again without
// someone acting and then the user signing in again. A refused client
// (ClientRefused) is not such a failure: every grant the client holds is
// still good, so the refresh job records it once on the integration (its
// client health) and pauses the refreshes until the client works again.
func (f Failure) NeedsReconnect() bool {
	return f.Kind == Reconnect || f.Kind == AdminAction
}

// Rules are a provider's own reading of its token endpoint's error answers
// (ok false: it says nothing more than RFC 6749 does). A dialect passes a
// function, not a closure: nothing is built per call.
type Rules func(re *oauth2.RetrieveError) (f Failure, ok bool)

// Token classifies a failed token request (exchange, refresh, client
// credentials): failures on the way by what they are, then the provider's
// rules (nil: none), then Common. The answer's HTTP status and Retry-After
// are kept.
func Token(err error, rules Rules) Failure {
	if err == nil {
		return Failure{}
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return classifyTransport(err)
	}
	if rules != nil {
		if f, ok := rules(re); ok {
			return f.answer(re)
		}
	}
	return common(re)
}

// answer returns f with the HTTP status and Retry-After of the answer re.
func (f Failure) answer(re *oauth2.RetrieveError) Failure {
	if re.Response != nil {
		f.HTTPStatus = re.Response.StatusCode
		f.RetryAfter = ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
	}
	return f
}

// common classifies a token endpoint's error answer by RFC 6749's error
// codes and the HTTP status.
func common(re *oauth2.RetrieveError) Failure {
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch {
	case status == http.StatusTooManyRequests:
		return rateLimited.answer(re)
	case status >= 500 && re.ErrorCode == "":
		return providerUnavailable.answer(re)
	}
	if f, ok := lookup(tokenCodes, re.ErrorCode); ok {
		return f.answer(re)
	}
	if status >= 500 || status == 0 {
		return providerUnavailable.answer(re)
	}
	// An error we do not know: never break a connection that may be fine.
	return unexpectedResponse.answer(re)
}

// coded is what one error code means. The tables of them are static data:
// nothing is built when a function starts, and no code is linked per code.
type coded struct {
	code string
	f    Failure
}

func lookup(table []coded, code string) (Failure, bool) {
	for _, e := range table {
		if e.code == code {
			return e.f, true
		}
	}
	return Failure{}, false
}

// tokenCodes are RFC 6749's token endpoint error codes.
// Docs: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
var tokenCodes = []coded{
	{"invalid_grant", InvalidGrant},
	{"invalid_client", ClientFailure("invalid_client")},
	{"unauthorized_client", ClientFailure("unauthorized_client")},
	{"invalid_scope", Failure{Kind: AdminAction, Code: "invalid_scope", Owner: OwnerAdmin, Cause: "The provider refused the requested permissions. An admin must check the capabilities enabled and the app's allowed permissions."}},
	{"interaction_required", signInAgain("interaction_required")},
	{"consent_required", signInAgain("consent_required")},
	{"login_required", signInAgain("login_required")},
	{"access_denied", Failure{Kind: Reconnect, Code: "access_denied", Owner: OwnerUser, Cause: "Access was denied at the provider. Reconnect and approve the requested access."}},
	{"temporarily_unavailable", providerUnavailable},
	{"server_error", providerUnavailable},
}

func signInAgain(code string) Failure {
	return Failure{Kind: Reconnect, Code: code, Owner: OwnerUser, Cause: "The provider needs the user to sign in again. Reconnect the account."}
}

// InvalidGrant is RFC 6749's invalid_grant when the provider's rules say
// nothing more: the grant is gone.
var InvalidGrant = Failure{Kind: Reconnect, Code: "invalid_grant", Owner: OwnerUser, Cause: "The provider no longer accepts this connection's sign-in. Reconnect the account."}

// ClientFailure is the provider refusing the org's OAuth client, under the
// provider's error code (RFC 6749's invalid_client and unauthorized_client,
// or a provider's own variant).
func ClientFailure(code string) Failure {
	return Failure{Kind: ClientRefused, Code: code, Owner: OwnerAdmin, Cause: "The provider refused the integration's OAuth client. An admin must check the client ID and secret in the integration settings."}
}

var (
	providerUnavailable = Failure{Kind: Transient, Code: "provider_unavailable", Owner: OwnerNone, Cause: "The provider is unavailable; the refresh will be retried."}
	rateLimited         = Failure{Kind: Transient, Code: "rate_limited", Owner: OwnerNone, Cause: "The provider is rate limiting requests; the refresh will be retried."}
	unexpectedResponse  = Failure{Kind: Transient, Code: "unexpected_response", Owner: OwnerNone, Cause: "The provider gave an unexpected answer; the refresh will be retried."}
	providerTimeout     = Failure{Kind: Transient, Code: "provider_timeout", Owner: OwnerNone, Cause: "The provider did not answer in time; the refresh will be retried."}
	providerUnreachable = Failure{Kind: Transient, Code: "provider_unreachable", Owner: OwnerNone, Cause: "The provider could not be reached; the refresh will be retried."}
	malformedResponse   = Failure{Kind: Transient, Code: "malformed_response", Owner: OwnerNone, Cause: "The provider sent a malformed answer; the refresh will be retried."}
	requestFailed       = Failure{Kind: Transient, Code: "provider_error", Owner: OwnerNone, Cause: "The token request failed; it will be retried."}
)

func classifyTransport(err error) Failure {
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return providerTimeout
	case errors.As(err, &ue), errors.As(err, &ne):
		return providerUnreachable
	case strings.HasPrefix(err.Error(), "oauth2: cannot parse"), strings.Contains(err.Error(), "missing access_token"), strings.Contains(err.Error(), "cannot unmarshal"):
		return malformedResponse
	}
	return requestFailed
}

// AuthorizeRules are a provider's own reading of an error sent back to the
// redirect URI (ok false: it says nothing more than RFC 6749 does).
type AuthorizeRules func(code, desc string) (f Failure, ok bool)

// Authorize classifies an error the provider sent back to the redirect URI
// (error=access_denied&error_description=...): the provider's rules first
// (nil: none), then RFC 6749's codes.
func Authorize(code, desc string, rules AuthorizeRules) Failure {
	if rules != nil {
		if f, ok := rules(code, desc); ok {
			return f
		}
	}
	if f, ok := lookup(authorizeCodes, code); ok {
		return f
	}
	return Failure{Kind: Reconnect, Code: "authorization_failed", Owner: OwnerUser, Cause: "The provider did not complete the sign-in. Try again."}
}

// authorizeCodes are RFC 6749's authorization error codes.
// Docs: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
var authorizeCodes = []coded{
	{"access_denied", Failure{Kind: Reconnect, Code: "access_denied", Owner: OwnerUser, Cause: "Access was not approved at the provider."}},
	{"consent_required", approveAgain("consent_required")},
	{"interaction_required", approveAgain("interaction_required")},
	{"login_required", approveAgain("login_required")},
	{"invalid_client", clientNotAdmitted("invalid_client")},
	{"unauthorized_client", clientNotAdmitted("unauthorized_client")},
	{"invalid_scope", Failure{Kind: AdminAction, Code: "invalid_scope", Owner: OwnerAdmin, Cause: "The provider refused the requested permissions. An admin must check the app's allowed permissions."}},
	{"invalid_request", Failure{Kind: AdminAction, Code: "invalid_request", Owner: OwnerAdmin, Cause: "The provider refused the sign-in request, often because the redirect URI is not registered on the app."}},
	{"server_error", tryLater},
	{"temporarily_unavailable", tryLater},
}

var tryLater = Failure{Kind: Transient, Code: "provider_unavailable", Owner: OwnerNone, Cause: "The provider is unavailable. Try again in a few minutes."}

func approveAgain(code string) Failure {
	return Failure{Kind: Reconnect, Code: code, Owner: OwnerUser, Cause: "The provider needs the user to sign in and approve access."}
}

func clientNotAdmitted(code string) Failure {
	return Failure{Kind: ClientRefused, Code: code, Owner: OwnerAdmin, Cause: "The provider refused the integration's OAuth client. An admin must check the client ID and the app registration."}
}

// ParseRetryAfter reads a Retry-After header (seconds or HTTP date); 0 when
// absent or unreadable. Values are capped at one day.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < 0 {
		return 0
	}
	return min(d, 24*time.Hour)
}

// Backoff bounds retry delays after transient failures.
const (
	BackoffBase = time.Minute
	BackoffMax  = 2 * time.Hour
)

// NextDelay is how long to wait before the attempt after the n-th
// consecutive transient failure (n >= 1): exponential from BackoffBase,
// capped at BackoffMax, with full jitter over the upper half so runs spread
// out, and never sooner than the provider's Retry-After.
func NextDelay(n int, retryAfter time.Duration, rnd *rand.Rand) time.Duration {
	if n < 1 {
		n = 1
	}
	d := BackoffMax
	if n <= 20 {
		d = min(BackoffBase<<(n-1), BackoffMax)
	}
	half := d / 2
	var jitter time.Duration
	if half > 0 {
		if rnd != nil {
			jitter = time.Duration(rnd.Int64N(int64(half) + 1))
		} else {
			jitter = time.Duration(rand.Int64N(int64(half) + 1))
		}
	}
	return max(half+jitter, retryAfter)
}

// BlockedRetry is how long a Blocked connection waits before it is asked
// again: a policy changes by someone's decision, not in minutes, and asking
// more often only adds refused sign-ins to the tenant's audit log.
const BlockedRetry = 6 * time.Hour

// ExhaustedAfterDays: a connection whose refresh failed on this many
// separate UTC days without a success in between is refresh_exhausted.
const ExhaustedAfterDays = 4
