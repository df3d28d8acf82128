package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sofie/integrations/shared/store"
)

// ReasonClientChanged is the StatusReason and OffIndexReason of a connection
// whose OAuth client was replaced by an admin.
const ReasonClientChanged = "client_changed"

// maxMarkAttempts bounds the re-read-and-retry loop of one connection that
// keeps changing under us (a refresh finishing, the user reconnecting).
const maxMarkAttempts = 5

// markClientChanged sends every connection of the org and provider that was
// issued by another client than cfg's to needs_reconnect / client_changed
// and takes it off the due-index. It pages through the provider's
// connections and writes each with its version, re-reading on a conflict.
// A connection already issued by the new client (a user who reconnected
// meanwhile) is left alone. It returns how many it marked.
func (s *Service) markClientChanged(ctx context.Context, cfg store.Integration) (int, error) {
	ref := cfg.ClientRef()
	marked := 0
	page := store.Page{Limit: 100}
	for {
		conns, next, err := s.o.Store.ListProviderConnections(ctx, cfg.OrgID, cfg.Provider, page)
		if err != nil {
			return marked, fmt.Errorf("list %s connections of %s: %w", cfg.Provider, cfg.OrgID, err)
		}
		for _, c := range conns {
			ok, err := s.markOne(ctx, c, ref)
			if err != nil {
				return marked, err
			}
			if ok {
				marked++
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if marked > 0 {
		slog.InfoContext(ctx, "connections marked for reconnect", "org", cfg.OrgID, "provider", cfg.Provider, "reason", ReasonClientChanged, "count", marked)
	}
	return marked, nil
}

func needsMarking(c store.Connection, ref string) bool {
	if c.ClientRef == ref {
		return false
	}
	return c.Status != store.StatusNeedsReconnect || c.StatusReason != ReasonClientChanged || !c.NextRefreshAt.IsZero()
}

func (s *Service) markOne(ctx context.Context, c store.Connection, ref string) (bool, error) {
	for range maxMarkAttempts {
		if !needsMarking(c, ref) {
			return false, nil
		}
		now := s.now()
		m := c
		m.Status = store.StatusNeedsReconnect
		m.StatusReason = ReasonClientChanged
		m.NextRefreshAt = timeZero
		m.OffIndexReason = ReasonClientChanged
		m.LastError = &store.ConnError{
			Code:    ReasonClientChanged,
			Message: "Your organization changed the OAuth app for this provider. Reconnect your account to keep using it.",
			Owner:   "user",
			At:      now,
		}
		m.UpdatedAt = now
		_, err := s.o.Store.PutConnection(ctx, m, c.Version)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return false, fmt.Errorf("mark connection %s: %w", c.ConnKey, err)
		}
		// Someone wrote first: re-read and decide again.
		c, err = s.o.Store.GetConnection(ctx, c.ConnKey)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil // disconnected meanwhile
		}
		if err != nil {
			return false, fmt.Errorf("re-read connection %s: %w", c.ConnKey, err)
		}
	}
	return false, fmt.Errorf("mark connection %s: still changing after %d attempts: %w", c.ConnKey, maxMarkAttempts, store.ErrConflict)
}
