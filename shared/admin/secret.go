package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/store"
)

var timeZero time.Time

// maxSecretRecordAttempts bounds the retries of recording a secret change
// on the integration when other saves keep landing in between.
const maxSecretRecordAttempts = 5

// PutClientSecret stores the org's client secret for the provider (write
// only), records when it was set on the integration with an audit entry
// "client secret set", resumes the connections a refused client paused
// (health.go), and verifies the credentials when the integration is in
// organization mode. If-Match is optional here and checked before
// anything is written: setting the secret commutes with configuration edits,
// so the record update retries on a concurrent save instead of failing.
func (s *Service) PutClientSecret(ctx context.Context, who auth.Principal, provider string, body SecretInput, pre Precondition, redirectURI string) (Update, error) {
	p, err := s.provider(provider)
	if err != nil {
		return Update{}, err
	}
	cur, err := s.current(ctx, who.OrgID, provider)
	if err != nil {
		return Update{}, err
	}
	if prob := validateSecret(body, cur.ClientID); prob != nil {
		return Update{}, prob
	}
	if prob := pre.check(cur.Version, false); prob != nil {
		return Update{}, prob
	}
	// The secret first: if recording it below fails, the integration still
	// shows the previous state and a retry repairs it; the other order could
	// show a secret as set that was never stored.
	if err := s.o.Secrets.PutClientSecret(ctx, who.OrgID, provider, body.ClientSecret); err != nil {
		return Update{}, fmt.Errorf("store client secret of %s/%s: %w", who.OrgID, provider, err)
	}
	saved, created, err := s.recordSecret(ctx, who, provider, true)
	if err != nil {
		return Update{}, err
	}
	slog.InfoContext(ctx, "client secret set", "org", who.OrgID, "provider", provider, "actor", who.UserID, "version", saved.Version)
	v, err := s.view(ctx, p, saved, redirectURI)
	if err != nil {
		return Update{}, err
	}
	// A new secret may be what the refused client needed (health.go).
	s.resumePaused(ctx, who.UserID, who.OrgID, provider, v)
	if s.shouldCheck(p, saved, v) {
		v.CredentialCheck = s.checkCredentials(ctx, who, saved, redirectURI)
	}
	return Update{View: v, Created: created}, nil
}

// DeleteClientSecret removes the org's client secret. It is idempotent: the
// audit records "client secret removed" only when one was recorded as set.
func (s *Service) DeleteClientSecret(ctx context.Context, who auth.Principal, provider string, pre Precondition, redirectURI string) (IntegrationView, error) {
	p, err := s.provider(provider)
	if err != nil {
		return IntegrationView{}, err
	}
	cur, err := s.current(ctx, who.OrgID, provider)
	if err != nil {
		return IntegrationView{}, err
	}
	if prob := pre.check(cur.Version, false); prob != nil {
		return IntegrationView{}, prob
	}
	if err := s.o.Secrets.DeleteClientSecret(ctx, who.OrgID, provider); err != nil {
		return IntegrationView{}, fmt.Errorf("delete client secret of %s/%s: %w", who.OrgID, provider, err)
	}
	saved := cur
	if !cur.ClientSecretSetAt.IsZero() {
		if saved, _, err = s.recordSecret(ctx, who, provider, false); err != nil {
			return IntegrationView{}, err
		}
		slog.InfoContext(ctx, "client secret removed", "org", who.OrgID, "provider", provider, "actor", who.UserID, "version", saved.Version)
	}
	return s.view(ctx, p, saved, redirectURI)
}

// recordSecret writes ClientSecretSetAt and the audit entry, re-reading on
// a concurrent save. An org that sets a secret before saving the provider
// gets a disabled, default-mode integration holding only the secret.
func (s *Service) recordSecret(ctx context.Context, who auth.Principal, provider string, set bool) (store.Integration, bool, error) {
	for range maxSecretRecordAttempts {
		cur, err := s.current(ctx, who.OrgID, provider)
		if err != nil {
			return store.Integration{}, false, err
		}
		if !set && cur.ClientSecretSetAt.IsZero() {
			return cur, false, nil // removed meanwhile
		}
		now := s.now()
		next := cur
		next.UpdatedAt, next.UpdatedBy = now, who.UserID
		change := store.FieldChange{Field: SecureField, Old: "not set", New: "set"}
		action := ActionSecretSet
		if !cur.ClientSecretSetAt.IsZero() {
			change.Old = "set"
		}
		if set {
			next.ClientSecretSetAt = now
		} else {
			next.ClientSecretSetAt = timeZero
			change.New, action = "removed", ActionSecretRemoved
		}
		entry, err := s.auditEntry(who, provider, action, now, []store.FieldChange{change})
		if err != nil {
			return store.Integration{}, false, err
		}
		saved, err := s.o.Store.PutIntegration(ctx, next, cur.Version, entry)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Integration{}, false, fmt.Errorf("record client secret change of %s/%s: %w", who.OrgID, provider, err)
		}
		return saved, cur.Version == 0, nil
	}
	return store.Integration{}, false, fmt.Errorf("record client secret change of %s/%s: %w", who.OrgID, provider, store.ErrConflict)
}
