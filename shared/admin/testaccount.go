package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// An org's test account (store.TestAccountKey) is connected and removed
// through OAuthFunction, which holds the token key; the admin API only
// shows it on the integration, from the record (never its tokens).

// TestAccountView is the org's test account of a provider, as admins see
// it on the integration.
type TestAccountView struct {
	Account       TestAccountIdentity `json:"account"`
	Status        string              `json:"status"`
	StatusReason  string              `json:"statusReason,omitempty"`
	ConnectedAt   time.Time           `json:"connectedAt"`
	LastRefreshAt *time.Time          `json:"lastRefreshAt"`
	// LastError is the connection's last classified failure (null when
	// none).
	LastError *store.ConnError `json:"lastError"`
}

// TestAccountIdentity names the external account.
type TestAccountIdentity struct {
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// view is the integration as admins see it: configView, the test
// account and the client's health.
func (s *Service) view(ctx context.Context, p catalog.Provider, in store.Integration, redirectURI string) (IntegrationView, error) {
	v, err := s.configView(ctx, p, in, redirectURI)
	if err != nil {
		return IntegrationView{}, err
	}
	if v.TestAccount, err = s.testAccount(ctx, in); err != nil {
		return IntegrationView{}, err
	}
	v.ClientHealth, err = s.clientHealth(ctx, in)
	return v, err
}

// testAccount reads the org's test account of in's provider (nil when
// there is none).
func (s *Service) testAccount(ctx context.Context, in store.Integration) (*TestAccountView, error) {
	key := store.TestAccountKey(in.OrgID, in.Provider)
	c, err := s.o.Store.GetConnection(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read test account %s: %w", key, err)
	}
	return testAccountView(c), nil
}
