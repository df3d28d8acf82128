package connections

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/store"
)

// salesforceDialect: the token response names the account (id:
// https://<login host>/id/<org id>/<user id>) and its instance
// (instance_url), userinfo gives the username, and, since the response has
// no expires_in, token introspection gives the access token's expiry.
type salesforceDialect struct{}

func (salesforceDialect) identify(ctx context.Context, call caller, g grant) (identity, error) {
	orgID, userID, err := salesforceIDs(extraString(g.tok, "id"))
	if err != nil {
		return identity{}, err
	}
	instance, err := catalog.SalesforceInstanceURL(extraString(g.tok, "instance_url"))
	if err != nil {
		return identity{}, fmt.Errorf("salesforce token response: instance_url: %w", err)
	}
	var ui struct {
		UserID            string `json:"user_id"`
		OrganizationID    string `json:"organization_id"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		Name              string `json:"name"`
	}
	if err := call.getJSON(ctx, "salesforce userinfo", g.client.Endpoints.UserInfoURL, g.tok.AccessToken, &ui); err != nil {
		return identity{}, err
	}
	if (ui.UserID != "" && ui.UserID != userID) || (ui.OrganizationID != "" && ui.OrganizationID != orgID) {
		return identity{}, errors.New("salesforce userinfo names another user or org than the token response")
	}
	username := ui.PreferredUsername
	if username == "" {
		username = ui.Email
	}
	id := identity{account: store.Account{
		ID: userID, Email: username, Name: ui.Name,
		InstanceURL: instance, ExternalOrg: orgID,
	}}
	id.accessExpiresAt, id.expiryAssumed = salesforceExpiry(ctx, call, g)
	return id, nil
}

// salesforceExpiry asks token introspection when the access token expires.
// When it cannot tell, it reports the expiry unknown (assumed true): the
// callback then stores schedule.AssumedAccessLifetime and says so, and the
// refresh job renews the token early rather than late.
func salesforceExpiry(ctx context.Context, call caller, g grant) (time.Time, bool) {
	exp, err := clients.AccessExpiry(ctx, call.hc, g.client, g.tok.AccessToken)
	if err == nil && exp.After(g.now) {
		return exp, false
	}
	return time.Time{}, true
}

// salesforceIDs reads the org and user ids from the identity URL of a token
// response: https://login.salesforce.com/id/<org id>/<user id>.
func salesforceIDs(idURL string) (orgID, userID string, err error) {
	u, perr := url.Parse(idURL)
	if perr != nil || u.Host == "" {
		return "", "", errors.New("salesforce token response: id is not a URL")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 3 || parts[0] != "id" || !sfidRE(parts[1]) || !sfidRE(parts[2]) {
		return "", "", fmt.Errorf("salesforce token response: id is not /id/<org>/<user> (%d segments)", len(parts))
	}
	return parts[1], parts[2], nil
}

// sfidRE reports whether s looks like a Salesforce record id (15 or 18
// alphanumerics).
func sfidRE(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (salesforceDialect) revoke(ctx context.Context, call caller, cl clients.Client, tok *oauth2.Token) error {
	return revokeRFC7009(ctx, call, cl.Endpoints.RevokeURL, revocableToken(tok))
}
