package providers

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Session is what a provider call made with freshly issued tokens knows:
// the org's settings, the URLs built from them, the client's credentials
// (token introspection authenticates the client) and the tokens.
type Session struct {
	Settings     Settings
	Endpoints    Endpoints
	ClientID     string
	ClientSecret string
	Token        *oauth2.Token
}

// Why an access token's expiry was assumed rather than learned (the cause
// field of schedule.AssumeExpiry's log line).
const (
	// ExpiryIntrospectionFailed: the provider answers token requests
	// without expires_in, and its token introspection did not tell the
	// expiry (an error, an inactive token, no exp).
	ExpiryIntrospectionFailed = "introspection_failed"
	// ExpiryNotGiven: the token answer had no expires_in and the provider
	// has no other way to tell.
	ExpiryNotGiven = "no_expiry_given"
)

// ErrNoExpiryStatement is what Dialect.AccessExpiry answers when the
// provider says when its access tokens expire only by expires_in.
var ErrNoExpiryStatement = errors.New("the provider states access token expiry only by expires_in")

// AccessExpiry is when the access token of s.Token, requested at
// requestedAt, expires: the one rule of the callback and the refresh job.
//  1. What the provider itself says, when its dialect has its own way
//     (Salesforce sends no expires_in; its token introspection tells).
//  2. Else expires_in, counted from when the request was sent: on the safe
//     side of the provider's clock.
//  3. Else unknown: the zero time and why (ExpiryIntrospectionFailed,
//     ExpiryNotGiven); the caller assumes a short lifetime
//     (schedule.AssumeExpiry).
//
// A stated expiry that is not after now counts as not stated.
func (p Provider) AccessExpiry(ctx context.Context, call Caller, s Session, requestedAt, now time.Time) (time.Time, string) {
	exp, err := p.Dialect.AccessExpiry(ctx, call, s)
	switch {
	case err == nil && exp.After(now):
		return exp.UTC(), ""
	case err == nil || !errors.Is(err, ErrNoExpiryStatement):
		return time.Time{}, ExpiryIntrospectionFailed
	case s.Token.ExpiresIn > 0:
		return requestedAt.Add(time.Duration(s.Token.ExpiresIn) * time.Second).UTC(), ""
	}
	return time.Time{}, ExpiryNotGiven
}

// Introspect asks an RFC 7662 token introspection endpoint when accessToken
// expires, authenticating the client with its id and secret in the form.
// Errors never carry the answer's body or the token.
func Introspect(ctx context.Context, call Caller, s Session) (time.Time, error) {
	if s.Endpoints.IntrospectURL == "" {
		return time.Time{}, errors.New("introspection: the provider has no introspection endpoint")
	}
	form := url.Values{
		"token":           {s.Token.AccessToken},
		"token_type_hint": {"access_token"},
		"client_id":       {s.ClientID},
		"client_secret":   {s.ClientSecret},
	}
	var ir struct {
		Active bool  `json:"active"`
		Exp    int64 `json:"exp"`
	}
	if err := call.PostFormJSON(ctx, "introspection", s.Endpoints.IntrospectURL, form, &ir); err != nil {
		return time.Time{}, err
	}
	if !ir.Active || ir.Exp <= 0 {
		return time.Time{}, fmt.Errorf("introspection: token reported inactive or without exp")
	}
	return time.Unix(ir.Exp, 0).UTC(), nil
}
