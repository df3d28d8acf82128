package google

import (
	"context"
	"errors"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// CodeHostedDomain refuses an account outside the org's hosted domain.
const CodeHostedDomain = "hosted_domain_mismatch"

// Identify: the account is OpenID Connect userinfo (sub, email, hd); with a
// hosted domain configured, only accounts of that Workspace domain are
// admitted (the hd authorization parameter is only a hint).
// Docs: https://developers.google.com/identity/openid-connect/openid-connect#obtainuserinfo
func (*dialect) Identify(ctx context.Context, call providers.Caller, s providers.Session) (store.Account, error) {
	var ui struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
		Name  string `json:"name"`
		HD    string `json:"hd"`
	}
	if err := call.GetJSON(ctx, "google userinfo", s.Endpoints.UserInfoURL, s.Token.AccessToken, &ui); err != nil {
		return store.Account{}, err
	}
	if ui.Sub == "" {
		return store.Account{}, errors.New("google userinfo: no sub in the answer")
	}
	if want := s.Settings.HostedDomain; want != "" && !strings.EqualFold(ui.HD, want) {
		return store.Account{}, &providers.Refusal{Code: CodeHostedDomain, Message: "This Google account is not part of your organization's Google Workspace domain. Connect an account of that domain."}
	}
	return store.Account{ID: ui.Sub, Email: ui.Email, Name: ui.Name, Domain: strings.ToLower(ui.HD)}, nil
}

func (*dialect) TokenExtras(*oauth2.Token, *store.Account) error { return nil }

// AccessExpiry: token responses carry expires_in.
func (*dialect) AccessExpiry(context.Context, providers.Caller, providers.Session) (time.Time, error) {
	return time.Time{}, providers.ErrNoExpiryStatement
}

// Revoke: Google's revocation endpoint (RFC 7009 style) ends every token of
// the client and account, not only the one presented (RevokeGrant).
// Docs: https://developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke
func (*dialect) Revoke(ctx context.Context, call providers.Caller, e providers.Endpoints, tok *oauth2.Token) error {
	return providers.RevokeRFC7009(ctx, call, e.RevokeURL, providers.RevocableToken(tok))
}

// AccountSettings: Google's endpoints do not depend on settings.
func (*dialect) AccountSettings(store.Account) (providers.Settings, error) {
	return providers.Settings{}, nil
}

// ResolveSettings: nothing to ask Google.
func (*dialect) ResolveSettings(_ context.Context, _ providers.Caller, s providers.Settings) (providers.Settings, error) {
	return s, nil
}

// Admits: with a hosted domain set, only accounts of that Workspace domain
// (a consumer Gmail account has none). An account connected before the
// domain was set, or while another was, stops being usable as soon as it
// is narrowed.
func (*dialect) Admits(s providers.Settings, acct store.Account) bool {
	return s.HostedDomain == "" || strings.EqualFold(acct.Domain, s.HostedDomain)
}
