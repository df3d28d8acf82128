package oauthfail

import "net/http"

// API is what a provider's API answers a call made with a user's access
// token (the diagnostics probes, the admin's test after changes), whatever
// dialect the provider said it in. Each provider's dialect reads its own
// error shapes into it with APIAnswer; diagnostics turn it into a check's
// outcome and owner.
type API string

// API answers.
const (
	APIOK API = "ok"
	// APITokenRejected: the access token is not accepted (expired, revoked,
	// the session ended): refreshing may cure it, else the user reconnects.
	APITokenRejected API = "token_rejected"
	// APIConditionalAccess: the tenant's Conditional Access requires a
	// stronger sign-in for this call (Microsoft's claims challenge): its
	// administrator's policy, not a revoked token.
	APIConditionalAccess API = "conditional_access"
	// APIScopeMissing: the token lacks a scope the call needs; the user
	// reconnects and grants it.
	APIScopeMissing API = "scope_missing"
	// APIDisabledForClient: the API is not enabled for the integration's
	// OAuth client (Google: in the client's Cloud project); the org's admin
	// enables it.
	APIDisabledForClient API = "api_not_enabled"
	// APIDisabledForUser: API access is turned off for the user or their
	// org (Salesforce's API Enabled permission, or an edition without the
	// API); the provider's administrator grants it.
	APIDisabledForUser API = "api_access_disabled"
	// APIUnlicensed: the account has no such service (no mailbox, no
	// license).
	APIUnlicensed API = "unlicensed"
	// APIForbidden: the account may not do this at the provider.
	APIForbidden API = "forbidden"
	// APINotFound: no such item.
	APINotFound API = "not_found"
	// APINotFoundOrHidden: the provider answers the same for a missing item
	// and for one the account may not see (Google Drive, Salesforce
	// sharing).
	APINotFoundOrHidden API = "not_found_or_hidden"
	// APIInvalidID: the provider does not take the id as one of its ids.
	APIInvalidID API = "invalid_id"
	// APIRateLimited and APIUnavailable pass; nothing is wrong with the
	// connection.
	APIRateLimited API = "rate_limited"
	APIUnavailable API = "provider_unavailable"
	// APIUnexpected: an answer none of the above.
	APIUnexpected API = "unexpected_response"
)

// APIAnswer classifies an API answer: success, throttling and server errors
// as HTTP says for every provider, then the provider's own reading of its
// error body (rules; ok false when it has none), then the status alone.
func APIAnswer(status int, rules func() (API, bool)) API {
	switch {
	case status >= 200 && status <= 299:
		return APIOK
	case status == http.StatusTooManyRequests:
		return APIRateLimited
	case status >= 500:
		return APIUnavailable
	}
	if rules != nil {
		if a, ok := rules(); ok {
			return a
		}
	}
	return APIStatus(status)
}

// APIStatus is what an error status alone says.
func APIStatus(status int) API {
	switch status {
	case http.StatusUnauthorized:
		return APITokenRejected
	case http.StatusForbidden:
		return APIForbidden
	case http.StatusNotFound, http.StatusGone:
		return APINotFound
	case http.StatusBadRequest:
		return APIInvalidID
	}
	return APIUnexpected
}
