package connections

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/store"
)

// grant is what the callback holds after a successful code exchange.
type grant struct {
	in     store.Integration
	client clients.Client
	tok    *oauth2.Token
	now    time.Time
}

// identity is what a dialect learned about the account behind a token.
type identity struct {
	account store.Account
	// accessExpiresAt, when not zero, is the access token's expiry learned
	// from the provider (Salesforce introspection); it overrides expires_in.
	accessExpiresAt time.Time
	// expiryAssumed: the provider gave no expiry and it could not be
	// learned; the callback stores schedule.AssumedAccessLifetime.
	expiryAssumed bool
}

// dialect is what differs between providers after the code exchange.
type dialect interface {
	// identify returns the account the token belongs to. An account the
	// integration does not admit is a *refusal.
	identify(ctx context.Context, call caller, g grant) (identity, error)
	// revoke revokes the grant behind tok at the provider.
	// errRevocationUnsupported when the provider has no per-token revocation.
	revoke(ctx context.Context, call caller, cl clients.Client, tok *oauth2.Token) error
}

// refusal: the account is not one the org's integration admits.
type refusal struct {
	code    string
	message string
}

func (r *refusal) Error() string { return "account refused: " + r.code }

var errRevocationUnsupported = errors.New("the provider has no per-token revocation")

// callError is a provider call answered with an unexpected status. It never
// carries the response body, which may echo request data.
type callError struct {
	what   string
	status int
}

func (e *callError) Error() string {
	return fmt.Sprintf("%s: provider answered HTTP %d", e.what, e.status)
}

// maxProviderBody bounds what is read from an identity or introspection
// answer.
const maxProviderBody = 1 << 20

// caller makes the provider calls that are not token requests.
type caller struct{ hc *http.Client }

// getJSON GETs url with the bearer access token and decodes a JSON object.
func (c caller) getJSON(ctx context.Context, what, rawURL, accessToken string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("%s: build request: %w", what, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	return c.do(req, what, v)
}

// postForm POSTs a form and decodes a JSON object answer (v may be nil).
func (c caller) postForm(ctx context.Context, what, rawURL string, form url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: build request: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	return c.do(req, what, v)
}

func (c caller) do(req *http.Request, what string, v any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, redactURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderBody))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", what, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &callError{what: what, status: resp.StatusCode}
	}
	if v == nil {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%s: malformed answer (%d bytes)", what, len(body))
	}
	return nil
}

// redactURLError drops the URL (whose query could carry a value) from a
// transport error, keeping its cause.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s request failed: %w", ue.Op, ue.Err)
	}
	return err
}

// revokeRFC7009 revokes a token at an RFC 7009 style endpoint (Google,
// Salesforce): POST token=... . A 400 invalid_token means the token is
// already unusable, which is what revocation wants.
func revokeRFC7009(ctx context.Context, call caller, revokeURL, token string) error {
	if revokeURL == "" || token == "" {
		return errors.New("revoke: no endpoint or no token")
	}
	var answer struct {
		Error string `json:"error"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, revokeURL, strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("revoke: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := call.hc.Do(req)
	if err != nil {
		return fmt.Errorf("revoke: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if resp.StatusCode == http.StatusBadRequest && json.Unmarshal(body, &answer) == nil && answer.Error == "invalid_token" {
		return nil
	}
	return &callError{what: "revoke", status: resp.StatusCode}
}

// revocableToken is the token whose revocation ends the grant: the refresh
// token when there is one (revoking it also ends its access tokens), else
// the access token.
func revocableToken(tok *oauth2.Token) string {
	if tok.RefreshToken != "" {
		return tok.RefreshToken
	}
	return tok.AccessToken
}

// jwtClaims decodes the claims of a JWT without verifying its signature. It
// is used only for ID tokens received directly from the provider's token
// endpoint over TLS, which OpenID Connect Core (3.1.3.7) allows to trust
// without signature validation.
func jwtClaims(raw string, v any) error {
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

// extraString returns a string field of the token response.
func extraString(tok *oauth2.Token, key string) string {
	if v, ok := tok.Extra(key).(string); ok {
		return v
	}
	return ""
}
