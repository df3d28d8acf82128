package providers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// MaxAnswer bounds what is read of any provider answer that is not a
// download: identity, introspection and revocation answers and API errors
// are small, and a provider that sends more does not get it buffered.
const MaxAnswer = 64 << 10

// Caller makes every provider call that is not a token request (those go
// through golang.org/x/oauth2): identity, introspection, revocation, and the
// diagnostics probes. It is the one place that builds those requests, bounds
// what it reads, and keeps URLs (which can carry an item id or a token in a
// query) out of its errors.
type Caller struct {
	// HTTP is the provider client (shared/outbound: a timeout on every
	// call, and in local runs the rewrite to the fake provider).
	HTTP *http.Client
}

// Answer is a provider's answer, its body read up to MaxAnswer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// OK reports a 2xx status.
func (a Answer) OK() bool { return a.Status >= 200 && a.Status <= 299 }

// CallError is a provider call answered with an unexpected status. It never
// carries the response body, which may echo request data.
type CallError struct {
	What   string
	Status int
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s: provider answered HTTP %d", e.What, e.Status)
}

// Do sends req and reads its answer (at most MaxAnswer). A transport error
// says what failed and why, never the URL.
func (c Caller) Do(req *http.Request) (Answer, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}, RedactURLError(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return Answer{Status: resp.StatusCode, Header: resp.Header}, fmt.Errorf("read answer: %w", err)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Get GETs rawURL with the bearer access token, accepting accept.
func (c Caller) Get(ctx context.Context, rawURL, accessToken, accept string) (Answer, error) {
	return c.send(ctx, http.MethodGet, rawURL, accessToken, accept, "", nil)
}

// send sends method to rawURL with the bearer access token, accepting
// accept, with body (of contentType) when it is not nil.
func (c Caller) send(ctx context.Context, method, rawURL, accessToken, accept, contentType string, body []byte) (Answer, error) {
	var rd io.Reader // nil, not a nil *bytes.Reader, when there is no body
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := newRequest(ctx, method, rawURL, rd)
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	return c.Do(req)
}

// GetJSON GETs rawURL with the bearer access token and decodes a JSON
// answer into v. what names the call in errors.
func (c Caller) GetJSON(ctx context.Context, what, rawURL, accessToken string, v any) error {
	a, err := c.Get(ctx, rawURL, accessToken, "application/json")
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return decode(what, a, v)
}

// PostForm POSTs form to rawURL and returns the answer.
func (c Caller) PostForm(ctx context.Context, rawURL string, form url.Values) (Answer, error) {
	req, err := newRequest(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return c.Do(req)
}

// PostFormJSON POSTs form to rawURL and decodes a JSON answer into v.
func (c Caller) PostFormJSON(ctx context.Context, what, rawURL string, form url.Values, v any) error {
	a, err := c.PostForm(ctx, rawURL, form)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return decode(what, a, v)
}

// Download GETs rawURL's content with the bearer access token and counts at
// most limit bytes of it, keeping none. A non-2xx answer is returned as is
// (its body bounded) with n zero.
func (c Caller) Download(ctx context.Context, rawURL, accessToken string, limit int64) (a Answer, n int64, truncated bool, err error) {
	req, err := newRequest(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Answer{}, 0, false, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "*/*")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return Answer{}, 0, false, RedactURLError(err)
	}
	defer resp.Body.Close()
	a = Answer{Status: resp.StatusCode, Header: resp.Header}
	if !a.OK() {
		a.Body, _ = io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
		return a, 0, false, nil
	}
	n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return a, 0, false, fmt.Errorf("read content: %w", err)
	}
	if n > limit {
		return a, limit, true, nil
	}
	return a, n, false, nil
}

func newRequest(ctx context.Context, method, rawURL string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, errors.New("build request: malformed provider URL")
	}
	return req, nil
}

func decode(what string, a Answer, v any) error {
	if !a.OK() {
		return &CallError{What: what, Status: a.Status}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(a.Body, v); err != nil {
		return fmt.Errorf("%s: malformed answer (%d bytes)", what, len(a.Body))
	}
	return nil
}

// RedactURLError drops the URL (whose query could carry a value) from a
// transport error, keeping its cause.
func RedactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request failed: %w", ue.Op, ue.Err)
	}
	return err
}

// ErrRevocationUnsupported: the provider has no per-token revocation.
var ErrRevocationUnsupported = errors.New("the provider has no per-token revocation")

// RevokeRFC7009 revokes token at an RFC 7009 revocation endpoint (Google,
// Salesforce): POST token=... . A 400 invalid_token means the token is
// already unusable, which is what revocation wants.
func RevokeRFC7009(ctx context.Context, c Caller, revokeURL, token string) error {
	if revokeURL == "" || token == "" {
		return errors.New("revoke: no endpoint or no token")
	}
	a, err := c.PostForm(ctx, revokeURL, url.Values{"token": {token}})
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	if a.Status == http.StatusOK {
		return nil
	}
	var answer struct {
		Error string `json:"error"`
	}
	if a.Status == http.StatusBadRequest && json.Unmarshal(a.Body, &answer) == nil && answer.Error == "invalid_token" {
		return nil
	}
	return &CallError{What: "revoke", Status: a.Status}
}

// RevocableToken is the token whose revocation ends the grant: the refresh
// token when there is one (revoking it also ends its access tokens), else
// the access token.
func RevocableToken(tok *oauth2.Token) string {
	if tok.RefreshToken != "" {
		return tok.RefreshToken
	}
	return tok.AccessToken
}

// JWTClaims decodes the claims of a JWT without verifying its signature. It
// is used only for ID tokens received directly from the provider's token
// endpoint over TLS, which OpenID Connect Core (3.1.3.7) allows to trust
// without signature validation.
func JWTClaims(raw string, v any) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("id_token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return errors.New("id_token payload is not base64url")
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return errors.New("id_token payload is not a JSON object")
	}
	return nil
}

// ExtraString returns a string field of the token response.
func ExtraString(tok *oauth2.Token, key string) string {
	v, _ := tok.Extra(key).(string)
	return v
}
