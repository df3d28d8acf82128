package admin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// The integration's client health (store.Health) is written by the refresh
// job: a refused OAuth client is recorded once on the integration and
// pauses the refreshes of its connections (package refresh, client.go).
// Admins see it on the integration; a save that may fix the client asks
// for the paused connections to be made due at once.

// ClientHealthView is the integration's client health as admins see it:
// {"status":"ok"}, or failing with its cause, since when and when it was
// last met.
type ClientHealthView struct {
	Status   string     `json:"status"`
	Cause    string     `json:"cause,omitempty"`
	Since    *time.Time `json:"since,omitempty"`
	LastSeen *time.Time `json:"lastSeen,omitempty"`
}

func clientHealthView(h store.ClientHealth) ClientHealthView {
	if !h.Failing() {
		return ClientHealthView{Status: store.HealthOK}
	}
	return ClientHealthView{Status: store.HealthFailing, Cause: h.Cause, Since: timePtr(h.Since.UTC()), LastSeen: timePtr(h.LastSeen.UTC())}
}

// clientHealth reads the health of in's client.
func (s *Service) clientHealth(ctx context.Context, in store.Integration) (ClientHealthView, error) {
	h, err := s.o.Store.GetClientHealth(ctx, in.OrgID, in.Provider)
	if err != nil {
		return ClientHealthView{}, fmt.Errorf("read client health of %s/%s: %w", in.OrgID, in.Provider, err)
	}
	return clientHealthView(h), nil
}

// clientChanged reports whether a save from old to next changes what the
// token endpoint is asked with: the client (mode, id) or where it lives
// (Microsoft's tenant, Salesforce's authentication host). The secret has
// its own route.
func clientChanged(old, next store.Integration) bool {
	return old.ConfigMode != next.ConfigMode || old.ClientID != next.ClientID ||
		old.Tenant != next.Tenant || old.AuthBaseURL != next.AuthBaseURL
}

// resumePaused asks the refresh runs to make the connections the refused
// client paused due at once, after a save that may have fixed it (v is the
// saved integration's view). Only while the client is failing: the job
// walks the org's connections of the provider, which is no work to make
// for nothing. The save stands whatever happens here: the paused
// connections still come back at their next probe.
func (s *Service) resumePaused(ctx context.Context, who string, orgID, provider string, v IntegrationView) {
	if v.ClientHealth.Status != store.HealthFailing {
		return
	}
	if err := s.o.Store.EnqueueJob(ctx, store.ResumeJob(orgID, provider, s.now())); err != nil {
		slog.ErrorContext(ctx, "asking to resume connections paused for the client", "org", orgID, "provider", provider, "err", err.Error())
		return
	}
	slog.InfoContext(ctx, "connections paused for the client resume at the next refresh run", "org", orgID, "provider", provider, "actor", who)
}
