package clients

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxIntrospectBody bounds what is read from an introspection answer.
const maxIntrospectBody = 64 << 10

// ErrNoIntrospection: the provider has no token introspection endpoint.
var ErrNoIntrospection = errors.New("the provider has no token introspection endpoint")

// AccessExpiry asks the provider's token introspection endpoint (RFC 7662)
// when accessToken expires. Salesforce needs it: its token responses carry
// no expires_in. The callback and the refresh job both call it. Errors
// never carry the answer's body or the token; ctx bounds the call.
func AccessExpiry(ctx context.Context, hc *http.Client, c Client, accessToken string) (time.Time, error) {
	if c.Endpoints.IntrospectURL == "" {
		return time.Time{}, ErrNoIntrospection
	}
	form := url.Values{
		"token":           {accessToken},
		"token_type_hint": {"access_token"},
		"client_id":       {c.OAuth2.ClientID},
		"client_secret":   {c.OAuth2.ClientSecret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoints.IntrospectURL, strings.NewReader(form.Encode()))
	if err != nil {
		return time.Time{}, fmt.Errorf("introspection: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is not needed, and keeps logs short
		}
		return time.Time{}, fmt.Errorf("introspection: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectBody))
	if err != nil {
		return time.Time{}, fmt.Errorf("introspection: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("introspection: provider answered HTTP %d", resp.StatusCode)
	}
	var ir struct {
		Active bool  `json:"active"`
		Exp    int64 `json:"exp"`
	}
	if err := json.Unmarshal(body, &ir); err != nil {
		return time.Time{}, fmt.Errorf("introspection: malformed answer (%d bytes)", len(body))
	}
	if !ir.Active || ir.Exp <= 0 {
		return time.Time{}, errors.New("introspection: token reported inactive or without exp")
	}
	return time.Unix(ir.Exp, 0).UTC(), nil
}
