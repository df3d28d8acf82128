// Package oauthfail classifies OAuth failures in one place, for the token
// refresh job, the connection callback and diagnostics alike: does the user
// have to reconnect, does an admin have to fix the client, or is it a passing
// fault to retry with backoff? Each failure gets a stable code and a cause a
// person understands. Descriptions from providers are matched, never echoed:
// they can quote request data.
package oauthfail

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Kind says what must happen for the connection to work again.
type Kind string

const (
	// Reconnect: the grant is gone; the user must connect again.
	Reconnect Kind = "reconnect"
	// AdminAction: the OAuth client itself is refused; an admin must fix it.
	AdminAction Kind = "admin_action"
	// Transient: retry later; the connection may be fine.
	Transient Kind = "transient"
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
	// RetryAfter is the provider's Retry-After, when it sent one.
	RetryAfter time.Duration
	// HTTPStatus of the provider's answer, 0 for network failures.
	HTTPStatus int
}

// NeedsReconnect reports whether the connection cannot work again without
// someone acting (the user, or an admin).
func (f Failure) NeedsReconnect() bool { return f.Kind != Transient }

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// Microsoft identity platform error codes that decide the outcome, whatever
// the OAuth error code says. See
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes
var aadsts = map[string]Failure{
	"50173":   {Kind: Reconnect, Code: "grant_revoked", Owner: OwnerUser, Cause: "The Microsoft sign-in was revoked, for example after a password change. Reconnect the account."},
	"700082":  {Kind: Reconnect, Code: "refresh_token_inactive", Owner: OwnerUser, Cause: "The Microsoft sign-in expired after a long time unused. Reconnect the account."},
	"70043":   {Kind: Reconnect, Code: "sign_in_frequency", Owner: OwnerUser, Cause: "Your organization's Conditional Access sign-in frequency requires signing in again. Reconnect the account."},
	"70008":   {Kind: Reconnect, Code: "refresh_token_expired", Owner: OwnerUser, Cause: "The Microsoft sign-in expired. Reconnect the account."},
	"50076":   {Kind: Reconnect, Code: "mfa_required", Owner: OwnerUser, Cause: "Microsoft requires multi-factor authentication again. Reconnect the account."},
	"50079":   {Kind: Reconnect, Code: "mfa_required", Owner: OwnerUser, Cause: "Microsoft requires multi-factor authentication enrollment. Reconnect the account."},
	"65001":   {Kind: Reconnect, Code: "consent_required", Owner: OwnerExternalAdmin, Cause: "The app no longer has consent in the Microsoft tenant. A tenant admin must grant consent, then the user reconnects."},
	"53003":   {Kind: Reconnect, Code: "conditional_access_blocked", Owner: OwnerExternalAdmin, Cause: "A Conditional Access policy in the Microsoft tenant blocks this sign-in. The tenant's admin must allow it."},
	"50057":   {Kind: Reconnect, Code: "account_disabled", Owner: OwnerExternalAdmin, Cause: "The Microsoft account is disabled in its tenant."},
	"7000222": {Kind: AdminAction, Code: "client_secret_expired", Owner: OwnerAdmin, Cause: "The organization's Microsoft Entra client secret has expired. An admin must create a new secret and save it in the integration settings."},
	"7000215": {Kind: AdminAction, Code: "invalid_client_secret", Owner: OwnerAdmin, Cause: "The Microsoft Entra client secret is wrong. An admin must save the secret's value (not its ID)."},
	"700016":  {Kind: AdminAction, Code: "client_not_found", Owner: OwnerAdmin, Cause: "The Microsoft Entra app was not found in the tenant. An admin must check the client ID and tenant."},
	"50020":   {Kind: Reconnect, Code: "account_not_in_tenant", Owner: OwnerUser, Cause: "The Microsoft account is not in the tenant the integration is configured for. Connect a work account of that tenant."},
}

// Classify returns the failure of a token request (exchange, refresh,
// client credentials) to provider.
func Classify(provider string, err error) Failure {
	if err == nil {
		return Failure{}
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return classifyRetrieve(provider, re)
	}
	return classifyTransport(err)
}

func classifyRetrieve(provider string, re *oauth2.RetrieveError) Failure {
	status := 0
	var retryAfter time.Duration
	if re.Response != nil {
		status = re.Response.StatusCode
		retryAfter = ParseRetryAfter(re.Response.Header.Get("Retry-After"), time.Now())
	}
	with := func(f Failure) Failure {
		f.HTTPStatus, f.RetryAfter = status, retryAfter
		return f
	}
	desc := re.ErrorDescription
	if m := aadstsRE.FindStringSubmatch(desc); m != nil {
		if f, ok := aadsts[m[1]]; ok {
			return with(f)
		}
	}
	code := re.ErrorCode
	switch {
	case status == http.StatusTooManyRequests:
		return with(Failure{Kind: Transient, Code: "rate_limited", Owner: OwnerNone, Cause: "The provider is rate limiting requests; the refresh will be retried."})
	case status >= 500 && code == "":
		return with(providerUnavailable)
	}
	switch code {
	case "invalid_grant":
		return with(invalidGrant(provider, desc))
	case "invalid_client", "unauthorized_client":
		return with(Failure{Kind: AdminAction, Code: code, Owner: OwnerAdmin, Cause: "The provider refused the integration's OAuth client. An admin must check the client ID and secret in the integration settings."})
	case "invalid_scope":
		return with(Failure{Kind: AdminAction, Code: "invalid_scope", Owner: OwnerAdmin, Cause: "The provider refused the requested permissions. An admin must check the capabilities enabled and the app's allowed permissions."})
	case "interaction_required", "consent_required", "login_required":
		return with(Failure{Kind: Reconnect, Code: code, Owner: OwnerUser, Cause: "The provider needs the user to sign in again. Reconnect the account."})
	case "access_denied":
		return with(Failure{Kind: Reconnect, Code: "access_denied", Owner: OwnerUser, Cause: "Access was denied at the provider. Reconnect and approve the requested access."})
	case "temporarily_unavailable", "server_error":
		return with(providerUnavailable)
	}
	if status >= 500 || status == 0 {
		return with(providerUnavailable)
	}
	// An error we do not know: never break a connection that may be fine.
	return with(Failure{Kind: Transient, Code: "unexpected_response", Owner: OwnerNone, Cause: "The provider gave an unexpected answer; the refresh will be retried."})
}

var providerUnavailable = Failure{Kind: Transient, Code: "provider_unavailable", Owner: OwnerNone, Cause: "The provider is unavailable; the refresh will be retried."}

func invalidGrant(provider, desc string) Failure {
	d := strings.ToLower(desc)
	switch {
	case strings.Contains(d, "invalid_rapt") || strings.Contains(d, "rapt"):
		return Failure{Kind: Reconnect, Code: "reauth_required", Owner: OwnerUser, Cause: "Google Workspace session control requires signing in again. Reconnect the account."}
	case strings.Contains(d, "expired or revoked"):
		return Failure{Kind: Reconnect, Code: "token_revoked", Owner: OwnerUser, Cause: "The access was revoked or expired at the provider (for example removed in the account's security settings, or unused for months). Reconnect the account."}
	case strings.Contains(d, "expired access/refresh token"):
		return Failure{Kind: Reconnect, Code: "token_expired", Owner: OwnerUser, Cause: "The Salesforce refresh token expired under the connected app's refresh token policy, or was revoked. Reconnect the account."}
	case strings.Contains(d, "inactive user"), strings.Contains(d, "user is inactive"):
		return Failure{Kind: Reconnect, Code: "account_disabled", Owner: OwnerExternalAdmin, Cause: "The account is inactive at the provider."}
	case strings.Contains(d, "ip restricted"), strings.Contains(d, "ip_restricted"):
		return Failure{Kind: Reconnect, Code: "ip_restricted", Owner: OwnerExternalAdmin, Cause: "The provider's IP restrictions refuse this service."}
	}
	_ = provider
	return Failure{Kind: Reconnect, Code: "invalid_grant", Owner: OwnerUser, Cause: "The provider no longer accepts this connection's sign-in. Reconnect the account."}
}

func classifyTransport(err error) Failure {
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Failure{Kind: Transient, Code: "provider_timeout", Owner: OwnerNone, Cause: "The provider did not answer in time; the refresh will be retried."}
	case errors.As(err, &ue), errors.As(err, &ne):
		return Failure{Kind: Transient, Code: "provider_unreachable", Owner: OwnerNone, Cause: "The provider could not be reached; the refresh will be retried."}
	case strings.HasPrefix(err.Error(), "oauth2: cannot parse"), strings.Contains(err.Error(), "missing access_token"), strings.Contains(err.Error(), "cannot unmarshal"):
		return Failure{Kind: Transient, Code: "malformed_response", Owner: OwnerNone, Cause: "The provider sent a malformed answer; the refresh will be retried."}
	}
	return Failure{Kind: Transient, Code: "provider_error", Owner: OwnerNone, Cause: "The token request failed; it will be retried."}
}

// AuthorizeError classifies an error the provider sent back to the redirect
// URI (error=access_denied&error_description=...).
func AuthorizeError(provider, code, desc string) Failure {
	if m := aadstsRE.FindStringSubmatch(desc); m != nil {
		if f, ok := aadsts[m[1]]; ok {
			return f
		}
	}
	switch code {
	case "access_denied":
		return Failure{Kind: Reconnect, Code: "access_denied", Owner: OwnerUser, Cause: "Access was not approved at the provider."}
	case "consent_required", "interaction_required", "login_required":
		return Failure{Kind: Reconnect, Code: code, Owner: OwnerUser, Cause: "The provider needs the user to sign in and approve access."}
	case "invalid_client", "unauthorized_client":
		return Failure{Kind: AdminAction, Code: code, Owner: OwnerAdmin, Cause: "The provider refused the integration's OAuth client. An admin must check the client ID and the app registration."}
	case "invalid_scope":
		return Failure{Kind: AdminAction, Code: "invalid_scope", Owner: OwnerAdmin, Cause: "The provider refused the requested permissions. An admin must check the app's allowed permissions."}
	case "invalid_request":
		return Failure{Kind: AdminAction, Code: "invalid_request", Owner: OwnerAdmin, Cause: "The provider refused the sign-in request, often because the redirect URI is not registered on the app."}
	case "server_error", "temporarily_unavailable":
		return Failure{Kind: Transient, Code: "provider_unavailable", Owner: OwnerNone, Cause: "The provider is unavailable. Try again in a few minutes."}
	}
	return Failure{Kind: Reconnect, Code: "authorization_failed", Owner: OwnerUser, Cause: "The provider did not complete the sign-in. Try again."}
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

// ExhaustedAfterDays: a connection whose refresh failed on this many
// separate UTC days without a success in between is refresh_exhausted.
const ExhaustedAfterDays = 4
