package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Identify: the token response names the account (id:
// https://<login host>/id/<org id>/<user id>) and its instance
// (instance_url), userinfo gives the username.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_userinfo_endpoint.htm
func (d *dialect) Identify(ctx context.Context, call providers.Caller, s providers.Session) (store.Account, error) {
	orgID, userID, err := ids(providers.ExtraString(s.Token, "id"))
	if err != nil {
		return store.Account{}, err
	}
	var acct store.Account
	if err := d.TokenExtras(s.Token, &acct); err != nil || acct.InstanceURL == "" {
		return store.Account{}, fmt.Errorf("salesforce token response: instance_url: %w", ErrInstanceURL)
	}
	var ui struct {
		UserID            string `json:"user_id"`
		OrganizationID    string `json:"organization_id"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		Name              string `json:"name"`
	}
	if err := call.GetJSON(ctx, "salesforce userinfo", s.Endpoints.UserInfoURL, s.Token.AccessToken, &ui); err != nil {
		return store.Account{}, err
	}
	if (ui.UserID != "" && ui.UserID != userID) || (ui.OrganizationID != "" && ui.OrganizationID != orgID) {
		return store.Account{}, errors.New("salesforce userinfo names another user or org than the token response")
	}
	username := ui.PreferredUsername
	if username == "" {
		username = ui.Email
	}
	acct.ID, acct.Email, acct.Name, acct.ExternalOrg = userID, username, ui.Name, orgID
	return acct, nil
}

// TokenExtras: every token response (the code exchange's and each
// refresh's) names the org's instance in instance_url, where the user's
// token is sent later; only a URL that passes InstanceURL is taken. A
// response without one leaves the account as it is.
func (*dialect) TokenExtras(tok *oauth2.Token, acct *store.Account) error {
	raw := providers.ExtraString(tok, "instance_url")
	if raw == "" {
		return nil
	}
	u, err := InstanceURL(raw)
	if err != nil {
		return err
	}
	acct.InstanceURL = u
	return nil
}

// AccessExpiry: token responses carry issued_at but no expires_in (the
// session timeout is the org's setting), so token introspection tells.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_token_introspection.htm
func (*dialect) AccessExpiry(ctx context.Context, call providers.Caller, s providers.Session) (time.Time, error) {
	return providers.Introspect(ctx, call, s)
}

// Revoke: Salesforce's revocation endpoint; a refresh token takes the
// access tokens issued with it along, nothing else (RevokeToken).
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_revoke_token.htm
func (*dialect) Revoke(ctx context.Context, call providers.Caller, e providers.Endpoints, tok *oauth2.Token) error {
	return providers.RevokeRFC7009(ctx, call, e.RevokeURL, providers.RevocableToken(tok))
}

// AccountSettings: the account's instance accepts revocations too, but it
// is used only when it passes InstanceURL: a token is never posted to any
// other host.
func (*dialect) AccountSettings(acct store.Account) (providers.Settings, error) {
	instance, err := InstanceURL(acct.InstanceURL)
	if err != nil {
		return providers.Settings{}, fmt.Errorf("stored instance URL: %w", err)
	}
	return providers.Settings{AuthBaseURL: instance}, nil
}

// ids reads the org and user ids from the identity URL of a token response:
// https://login.salesforce.com/id/<org id>/<user id>.
func ids(idURL string) (orgID, userID string, err error) {
	u, perr := url.Parse(idURL)
	if perr != nil || u.Host == "" {
		return "", "", errors.New("salesforce token response: id is not a URL")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "id" || !isRecordID(parts[1]) || !isRecordID(parts[2]) {
		return "", "", fmt.Errorf("salesforce token response: id is not /id/<org>/<user> (%d segments)", len(parts))
	}
	return parts[1], parts[2], nil
}

// isRecordID reports whether s looks like a Salesforce record id (15 or 18
// letters and digits).
func isRecordID(s string) bool {
	return (len(s) == 15 || len(s) == 18) && providers.IsAlnum(s)
}

// ResolveSettings: nothing to ask Salesforce.
func (*dialect) ResolveSettings(_ context.Context, _ providers.Caller, s providers.Settings) (providers.Settings, error) {
	return s, nil
}

// Admits: the authentication base URL says where users sign in, not which
// Salesforce org they belong to (login.salesforce.com admits any), so no
// setting narrows the accounts already connected.
func (*dialect) Admits(providers.Settings, store.Account) bool { return true }
