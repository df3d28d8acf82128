package connections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// View is a connection as its user sees it: never a token, the sealed bytes
// or the refresh job's lease and scheduling internals.
type View struct {
	Provider     string      `json:"provider"`
	Status       string      `json:"status"`
	StatusReason string      `json:"statusReason,omitempty"`
	Account      AccountView `json:"account"`
	// RequestedScopes are what the integration's current settings ask a
	// user to grant, and MissingScopes those of them GrantedScopes lack:
	// an admin who enables a capability, or write actions, after the
	// connection was made changes both (readiness.Value.MissingScopes).
	RequestedScopes []string `json:"requestedScopes"`
	GrantedScopes   []string `json:"grantedScopes"`
	MissingScopes   []string `json:"missingScopes"`
	// NeedsConsent: the connection works, and connecting again to grant
	// MissingScopes would let it serve everything the org enabled
	// (readiness.Value.NeedsConsent, for a user in the rollout).
	NeedsConsent bool `json:"needsConsent"`
	// UsableCapabilities are the capabilities the connection serves its
	// user for reading now (readiness.Value.UsableCapabilities).
	UsableCapabilities []catalog.Capability `json:"usableCapabilities"`
	ConnectedAt        time.Time            `json:"connectedAt"`
	AccessExpiresAt    *time.Time           `json:"accessExpiresAt"`
	LastRefreshAt      *time.Time           `json:"lastRefreshAt"`
	LastError          *ErrorView           `json:"lastError"`
	// SupportContact and UserGuidance are the integration's: who to ask
	// when the connection fails, and what it is for.
	SupportContact *store.SupportContact `json:"supportContact,omitempty"`
	UserGuidance   string                `json:"userGuidance,omitempty"`
	// TestAccount: this is the org's test account (the answer of a test
	// account's completion), not the caller's own connection.
	TestAccount bool `json:"testAccount,omitempty"`
}

// AccountView is the external account of a connection.
type AccountView struct {
	ID          string `json:"id,omitempty"`
	Email       string `json:"email,omitempty"` // or username (Salesforce)
	Name        string `json:"name,omitempty"`
	Tenant      string `json:"tenant,omitempty"`      // Microsoft tenant id
	Domain      string `json:"domain,omitempty"`      // Google hosted domain
	InstanceURL string `json:"instanceUrl,omitempty"` // Salesforce
	ExternalOrg string `json:"externalOrg,omitempty"` // Salesforce org id
}

// ErrorView is the last failure of a connection.
type ErrorView struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Owner   string    `json:"owner"`
	At      time.Time `json:"at"`
}

// List returns the caller's own connections in the org, in catalog order.
func (s *Service) List(ctx context.Context, who auth.Principal) ([]View, error) {
	conns, err := s.opts.Store.ListUserConnections(ctx, who.OrgID, who.UserID)
	if err != nil {
		return nil, fmt.Errorf("list connections of %s/%s: %w", who.OrgID, who.UserID, err)
	}
	conns = inCatalogOrder(conns, s.opts.Catalog.IDs())
	out := make([]View, 0, len(conns))
	offered := func(id string) bool { return slices.Contains(s.opts.AvailableProviders, id) }
	for _, c := range conns {
		p, ok := s.opts.Catalog.Get(c.Provider)
		if !ok {
			continue // a provider this build no longer knows
		}
		f := readiness.Facts{Offered: offered(p.ID)}
		switch got, err := s.opts.Store.GetIntegration(ctx, who.OrgID, c.Provider); {
		case err == nil:
			f.Integration = &got
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("read integration %s/%s: %w", who.OrgID, c.Provider, err)
		}
		out = append(out, NewView(p, readiness.Of(p, f), c, who))
	}
	return out, nil
}

// NewView builds who's view of their connection c under the integration's
// readiness v.
func NewView(p catalog.Provider, v readiness.Value, c store.Connection, who auth.Principal) View {
	view := View{
		Provider:           c.Provider,
		Status:             c.Status,
		StatusReason:       c.StatusReason,
		Account:            AccountView(c.Account),
		RequestedScopes:    nonNil(v.RequestedScopes(p)),
		GrantedScopes:      nonNil(c.GrantedScopes),
		MissingScopes:      v.MissingScopes(p, c.GrantedScopes),
		NeedsConsent:       v.NeedsConsent(p, c) && readiness.InRollout(v.Integration().Rollout, who),
		UsableCapabilities: v.UsableCapabilities(p, c, who),
		ConnectedAt:        c.ConnectedAt,
		AccessExpiresAt:    timePtr(c.AccessExpiresAt),
		LastRefreshAt:      timePtr(c.LastRefreshAt),
		SupportContact:     v.Integration().SupportContact,
		UserGuidance:       v.Integration().UserGuidance,
	}
	if e := c.LastError; e != nil {
		view.LastError = &ErrorView{Code: e.Code, Message: e.Message, Owner: e.Owner, At: e.At}
	}
	switch why := v.Connection(c); why {
	case readiness.ReasonClientChanged, readiness.ReasonSettingsChanged:
		// Derived, not stored: the tokens came from a client that is not
		// the integration's now, or the account is not one its settings
		// admit now. Undoing the change restores the connection.
		msg := "Your organization changed the OAuth app for " + p.DisplayName + ". Reconnect your account to keep using it."
		if why == readiness.ReasonSettingsChanged {
			msg = v.SettingsChangedMessage()
		}
		view.Status, view.StatusReason = store.StatusNeedsReconnect, why
		view.LastError = &ErrorView{Code: why, Owner: "user", At: v.Integration().UpdatedAt, Message: msg}
	}
	return view
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// inCatalogOrder returns conns ordered by their provider's place in order,
// keeping the store's order among one provider's, those of providers not in
// order first: what a stable sort by that place gives, without the stable
// sort's instantiation for the large Connection type (issue 13 §1).
func inCatalogOrder(conns []store.Connection, order []string) []store.Connection {
	out := make([]store.Connection, 0, len(conns))
	for i := range conns {
		if !slices.Contains(order, conns[i].Provider) {
			out = append(out, conns[i])
		}
	}
	for j, id := range order {
		if slices.Index(order, id) != j {
			continue // listed twice: placed at its first place
		}
		for i := range conns {
			if conns[i].Provider == id {
				out = append(out, conns[i])
			}
		}
	}
	return out
}
