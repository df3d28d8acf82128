package connections

import (
	"context"
	"log/slog"

	"github.com/sofie/integrations/shared/store"
)

// The rollout view counts the users who tried to connect and never
// finished. The flow's own records cannot tell: a state is deleted when
// its callback consumes it and by a TTL when nobody does, and so is a
// pending completion. So a start records the user's attempt (one small
// item per user and provider, overwritten by the next start) and the
// completion of their connection deletes it; an attempt still there once
// the flow could no longer complete is a user who never finished. Both
// writes are bookkeeping for a figure: when one fails the user's
// connection goes on, and the figure is off by one.

// recordAttempt notes that st's user started connecting (users only: the
// org's test account is not someone rolling out).
func (s *Service) recordAttempt(ctx context.Context, st store.OAuthState) {
	if st.Purpose != store.PurposeConnection {
		return
	}
	a := store.ConnectAttempt{
		OrgID: st.OrgID, Provider: st.Provider, UserID: st.UserID,
		StartedAt: st.CreatedAt, ExpiresAt: st.CreatedAt.Add(store.AttemptRetention),
	}
	if err := s.opts.Store.RecordConnectAttempt(ctx, a); err != nil {
		slog.WarnContext(ctx, "connect attempt not recorded", "org", st.OrgID, "user", st.UserID, "provider", st.Provider, "err", err.Error())
	}
}

// clearAttempt forgets the attempt of a user whose connection k was just
// completed.
func (s *Service) clearAttempt(ctx context.Context, k store.ConnKey) {
	if err := s.opts.Store.ClearConnectAttempt(ctx, k.OrgID, k.Provider, k.UserID); err != nil {
		slog.WarnContext(ctx, "connect attempt not cleared", "org", k.OrgID, "user", k.UserID, "provider", k.Provider, "err", err.Error())
	}
}
