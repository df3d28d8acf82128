package admin

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// markClientChanged sends every connection of the org and provider that was
// issued by another client than cfg's to needs_reconnect / client_changed
// and takes it off the due-index (store.UpdateProviderConnections: every
// page, each write under the record's version, re-read on a conflict). A
// connection already issued by the new client (a user who reconnected
// meanwhile) is left alone. It returns how many it marked.
func (s *Service) markClientChanged(ctx context.Context, cfg store.Integration) (int, error) {
	ref := cfg.ClientRef()
	marked, err := store.UpdateProviderConnections(ctx, s.o.Store, cfg.OrgID, cfg.Provider, func(c *store.Connection) bool {
		if !needsMarking(*c, ref) {
			return false
		}
		setClientChanged(c, s.now())
		return true
	})
	if marked > 0 {
		slog.InfoContext(ctx, "connections marked for reconnect", "org", cfg.OrgID, "provider", cfg.Provider, "reason", store.ReasonClientChanged, "count", marked)
	}
	if err != nil {
		return marked, fmt.Errorf("mark %s connections of %s: %w", cfg.Provider, cfg.OrgID, err)
	}
	return marked, nil
}

func needsMarking(c store.Connection, ref string) bool {
	if c.ClientRef == ref {
		return false
	}
	return c.Status != store.StatusNeedsReconnect || c.StatusReason != store.ReasonClientChanged || !c.NextRefreshAt.IsZero()
}

// setClientChanged makes c a connection whose integration's client was
// replaced: the user must reconnect, and it leaves the due-index.
func setClientChanged(c *store.Connection, now time.Time) {
	c.Status = store.StatusNeedsReconnect
	c.StatusReason = store.ReasonClientChanged
	c.NextRefreshAt = time.Time{}
	c.OffIndexReason = store.ReasonClientChanged
	c.LastError = &store.ConnError{
		Code:    store.ReasonClientChanged,
		Message: "Your organization changed the OAuth app for this provider. Reconnect your account to keep using it.",
		Owner:   "user",
		At:      now,
	}
	c.UpdatedAt = now
}

// reinstate puts the connections taken off the due-index while the provider
// was disabled back on it (store.Reinstate), due at once: the next run
// refreshes them, or takes them off again with the reason that holds then.
func (s *Service) reinstate(ctx context.Context, cfg store.Integration) (int, error) {
	n, err := store.Reinstate(ctx, s.o.Store, cfg.OrgID, cfg.Provider, s.now)
	if n > 0 {
		slog.InfoContext(ctx, "connections put back on the refresh schedule", "org", cfg.OrgID, "provider", cfg.Provider, "count", n)
	}
	return n, err
}
