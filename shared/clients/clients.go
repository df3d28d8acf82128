// Package clients resolves the OAuth client an org's integration uses (the
// platform's default client or the org's own client id and secret) into an
// oauth2.Config for the provider's endpoints. Connect, refresh, diagnostics
// and the admin credential check all go through it, so they cannot disagree
// about which client issued a token.
package clients

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Errors of Resolve. Both mean the integration is not ready.
var (
	ErrNoDefaultClient = errors.New("the platform's default client is not available in this environment")
	ErrNoClientSecret  = errors.New("the organization's client secret is not set")
	ErrNoClientID      = errors.New("the organization's client id is not set")
)

// Client is an integration's resolved OAuth client.
type Client struct {
	Provider  catalog.Provider
	Settings  catalog.Settings
	Endpoints catalog.Endpoints // real provider URLs
	// OAuth2 carries client id, secret and token URL. RedirectURL and Scopes
	// are left for the caller.
	OAuth2    oauth2.Config
	ClientRef string
}

// Resolver builds Clients.
type Resolver struct {
	Catalog  *catalog.Catalog
	Secrets  store.Secrets
	Rewriter *outbound.Rewriter // nil in production
}

// SettingsOf returns the provider-specific fields of an integration.
func SettingsOf(in store.Integration) catalog.Settings { return providers.SettingsOf(in) }

// Resolve returns the client the integration uses now. Secret values are
// never part of an error.
func (r *Resolver) Resolve(ctx context.Context, in store.Integration) (Client, error) {
	p, ok := r.Catalog.Get(in.Provider)
	if !ok {
		return Client{}, fmt.Errorf("resolve client: unknown provider %q", in.Provider)
	}
	s := SettingsOf(in)
	c := Client{Provider: p, Settings: s, Endpoints: p.Endpoints(s), ClientRef: in.ClientRef()}
	switch in.ConfigMode {
	case store.ConfigModeOrganization:
		if in.ClientID == "" {
			return Client{}, ErrNoClientID
		}
		secret, err := r.Secrets.GetClientSecret(ctx, in.OrgID, in.Provider)
		if errors.Is(err, store.ErrNotFound) {
			return Client{}, ErrNoClientSecret
		}
		if err != nil {
			return Client{}, fmt.Errorf("resolve client for %s/%s: %w", in.OrgID, in.Provider, err)
		}
		c.OAuth2.ClientID, c.OAuth2.ClientSecret = in.ClientID, secret
	default:
		dc, err := r.Secrets.DefaultClient(ctx, in.Provider)
		if errors.Is(err, store.ErrNotFound) {
			return Client{}, ErrNoDefaultClient
		}
		if err != nil {
			return Client{}, fmt.Errorf("resolve default client for %s: %w", in.Provider, err)
		}
		c.OAuth2.ClientID, c.OAuth2.ClientSecret = dc.ClientID, dc.ClientSecret
	}
	c.OAuth2.Endpoint = c.Endpoints.OAuth2
	return c, nil
}

// Session is what a provider call made with tok, issued by this client,
// knows (providers.Session).
func (c Client) Session(tok *oauth2.Token) providers.Session {
	return providers.Session{Settings: c.Settings, Endpoints: c.Endpoints, ClientID: c.OAuth2.ClientID, ClientSecret: c.OAuth2.ClientSecret, Token: tok}
}

// AuthCodeURL is the URL to send the user's browser to, rewritten to the
// fake provider in local runs.
func (r *Resolver) AuthCodeURL(c Client, cfg *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) string {
	return r.Rewriter.URL(cfg.AuthCodeURL(state, append(c.Provider.AuthCodeOptionsFor(c.Settings), opts...)...))
}
