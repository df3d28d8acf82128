package connections

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/store"
)

// googleDialect: the account is OpenID Connect userinfo (sub, email, hd);
// with a hosted domain configured, only accounts of that Workspace domain
// are admitted (the hd authorization parameter is only a hint). Tokens are
// revoked at Google's revoke endpoint.
type googleDialect struct{}

func (googleDialect) identify(ctx context.Context, call caller, g grant) (identity, error) {
	var ui struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
		Name  string `json:"name"`
		HD    string `json:"hd"`
	}
	if err := call.getJSON(ctx, "google userinfo", g.client.Endpoints.UserInfoURL, g.tok.AccessToken, &ui); err != nil {
		return identity{}, err
	}
	if ui.Sub == "" {
		return identity{}, fmt.Errorf("google userinfo: no sub in the answer")
	}
	if want := g.in.HostedDomain; want != "" && !strings.EqualFold(ui.HD, want) {
		return identity{}, &refusal{code: CodeHostedDomain, message: "This Google account is not part of your organization's Google Workspace domain. Connect an account of that domain."}
	}
	return identity{account: store.Account{ID: ui.Sub, Email: ui.Email, Name: ui.Name, Domain: strings.ToLower(ui.HD)}}, nil
}

// revokesGrant: Google's revocation ends every token of the client and
// account, not only the one presented.
func (googleDialect) revokesGrant() bool { return true }

func (googleDialect) revoke(ctx context.Context, call caller, cl clients.Client, tok *oauth2.Token) error {
	return revokeRFC7009(ctx, call, cl.Endpoints.RevokeURL, revocableToken(tok))
}
