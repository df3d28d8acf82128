package connections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// View is a connection as its user sees it: never a token, the sealed bytes
// or the refresh job's lease and scheduling internals.
type View struct {
	Provider           string               `json:"provider"`
	Status             string               `json:"status"`
	StatusReason       string               `json:"statusReason,omitempty"`
	Account            AccountView          `json:"account"`
	RequestedScopes    []string             `json:"requestedScopes"`
	GrantedScopes      []string             `json:"grantedScopes"`
	MissingScopes      []string             `json:"missingScopes"`
	UsableCapabilities []catalog.Capability `json:"usableCapabilities"`
	ConnectedAt        time.Time            `json:"connectedAt"`
	AccessExpiresAt    *time.Time           `json:"accessExpiresAt"`
	LastRefreshAt      *time.Time           `json:"lastRefreshAt"`
	LastError          *ErrorView           `json:"lastError"`
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
	order := s.opts.Catalog.IDs()
	slices.SortStableFunc(conns, func(a, b store.Connection) int {
		return slices.Index(order, a.Provider) - slices.Index(order, b.Provider)
	})
	out := make([]View, 0, len(conns))
	for _, c := range conns {
		p, ok := s.opts.Catalog.Get(c.Provider)
		if !ok {
			continue // a provider this build no longer knows
		}
		var in *store.Integration
		switch got, err := s.opts.Store.GetIntegration(ctx, who.OrgID, c.Provider); {
		case err == nil:
			in = &got
		case !errors.Is(err, store.ErrNotFound):
			return nil, fmt.Errorf("read integration %s/%s: %w", who.OrgID, c.Provider, err)
		}
		out = append(out, NewView(p, in, c))
	}
	return out, nil
}

// NewView builds the user's view of c; in is the org's current integration
// (nil when there is none).
func NewView(p catalog.Provider, in *store.Integration, c store.Connection) View {
	v := View{
		Provider:           c.Provider,
		Status:             c.Status,
		StatusReason:       c.StatusReason,
		Account:            AccountView(c.Account),
		RequestedScopes:    nonNil(c.RequestedScopes),
		GrantedScopes:      nonNil(c.GrantedScopes),
		MissingScopes:      nonNil(c.MissingScopes),
		UsableCapabilities: UsableCapabilities(p, in, c),
		ConnectedAt:        c.ConnectedAt,
		AccessExpiresAt:    timePtr(c.AccessExpiresAt),
		LastRefreshAt:      timePtr(c.LastRefreshAt),
	}
	if e := c.LastError; e != nil {
		v.LastError = &ErrorView{Code: e.Code, Message: e.Message, Owner: e.Owner, At: e.At}
	}
	return v
}

// UsableCapabilities are the capabilities c can serve now for reading: the
// org has the provider enabled with that capability, the connection was
// made with the org's current client, and its granted scopes cover the
// capability's read scopes. A connection that needs reconnecting serves
// none. (Write actions additionally need the org's allowWriteActions and the
// action's scopes: see ActionUsable.)
func UsableCapabilities(p catalog.Provider, in *store.Integration, c store.Connection) []catalog.Capability {
	out := []catalog.Capability{}
	if in == nil || !in.Enabled || c.ClientRef != in.ClientRef() || c.Status == store.StatusNeedsReconnect || c.Status == store.StatusRefreshExhausted {
		return out
	}
	for _, cs := range p.Capabilities {
		if slices.Contains(in.Capabilities, string(cs.ID)) && p.Covers(c.GrantedScopes, cs.ReadScopes) {
			out = append(out, cs.ID)
		}
	}
	return out
}

// ActionUsable reports whether granted scopes and the org's policy allow
// action a on capability cap: the capability is enabled, the provider
// supports the action, a write action is allowed by the org, and the granted
// scopes cover it.
func ActionUsable(p catalog.Provider, in store.Integration, granted []string, cap catalog.Capability, a catalog.Action) bool {
	cs, ok := p.Capability(cap)
	if !ok || !in.Enabled || !slices.Contains(in.Capabilities, string(cap)) || !cs.Supports(a) {
		return false
	}
	if a.IsWrite() && !in.AllowWriteActions {
		return false
	}
	return p.Covers(granted, cs.ScopesFor(a))
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
