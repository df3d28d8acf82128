package connections

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// The org's test account ("Test after changes": connect a test account, an
// account with representative but limited access) is a connection owned by
// the org, not by a user: store.TestAccountKey, one per provider. An admin
// connects it through the same start → provider → callback → complete flow
// as a user's connection, on POST .../integrations/{provider}/test-account;
// the flow's purpose (store.PurposeTestAccount) is fixed at the start and
// travels in the state and the pending completion, sealed into their
// bindings, so the complete route creates what was started and nothing
// else: a member's flow never becomes the test account, an admin's test
// account flow never becomes their own connection, and only the admin who
// started it (still an admin) completes it.
//
// OAuthFunction serves these routes because they are the connect flow:
// they seal a PKCE verifier and tokens (the token key, which AdminFunction
// must never hold) and revoke tokens at disconnect. The admin API lists the
// test account on the integration by reading the record, never its tokens.

// Audit actions of the test account (AdminFunction lists them with the
// rest of the trail).
const (
	ActionTestAccountConnected    = "test_account.connected"
	ActionTestAccountDisconnected = "test_account.disconnected"
)

// purposeTag is the purpose's part of a sealed value's binding: empty for a
// user's connection (as before purposes existed), so states and pending
// completions already stored keep opening.
func purposeTag(purpose string) string {
	if purpose == store.PurposeConnection {
		return ""
	}
	return purpose + "/"
}

// targetUser is the user id of the connection a flow of purpose started by
// userID creates.
func targetUser(purpose, userID string) string {
	if purpose == store.PurposeTestAccount {
		return store.TestAccountUserID
	}
	return userID
}

// mayComplete: who (already known to be the starting user) may complete a
// flow of pc's purpose. A purpose this build does not know completes
// nothing.
func mayComplete(pc store.PendingCompletion, who auth.Principal) bool {
	switch pc.Purpose {
	case store.PurposeConnection:
		return true
	case store.PurposeTestAccount:
		return who.IsAdmin()
	}
	return false
}

// StartTestAccount begins the authorization of the org's test account of
// the provider for who, an admin (the API checks the role). The rollout
// does not apply to it (readiness.Value.ForOrg). Refusals are
// *problem.Problem.
func (s *Service) StartTestAccount(ctx context.Context, who auth.Principal, providerID string, req StartRequest, redirectURI string) (StartResult, error) {
	return s.start(ctx, who, providerID, req, redirectURI, store.PurposeTestAccount)
}

// testAccountView is the org's test account as the completion answers it.
func testAccountView(p catalog.Provider, v readiness.Value, c store.Connection) View {
	view := NewView(p, v, c, auth.Principal{})
	view.UsableCapabilities = v.OrgUsableCapabilities(p, c)
	view.NeedsConsent = v.NeedsConsent(p, c) // the rollout does not apply to it
	view.TestAccount = true
	return view
}

// put writes a completed connection under expected: a user's as it is, the
// test account with the audit entry that records who connected which
// account, in one transaction.
func (s *Service) put(ctx context.Context, c store.Connection, expected int64, pc store.PendingCompletion, who auth.Principal, old store.Connection, now time.Time) (store.Connection, error) {
	if pc.Purpose != store.PurposeTestAccount {
		return s.opts.Store.PutConnection(ctx, c, expected)
	}
	entry, err := auditEntry(who, c.Provider, ActionTestAccountConnected, now, []store.FieldChange{
		{Field: "testAccount", Old: accountName(old.Account), New: accountName(c.Account)},
	})
	if err != nil {
		return store.Connection{}, err
	}
	return s.opts.Store.PutConnectionAudited(ctx, c, expected, entry)
}

// DisconnectTestAccount revokes the org's test account of the provider at
// the provider where it can (not when another connection holds the same
// grant and revoking would end it too: revoke decides, as for a user's
// disconnect), then deletes it with an audit entry. Removing a test account that does not exist succeeds with
// revocation "none".
func (s *Service) DisconnectTestAccount(ctx context.Context, who auth.Principal, providerID string) (DisconnectResult, error) {
	p, ok := s.opts.Catalog.Get(providerID)
	if !ok {
		return DisconnectResult{}, problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider.")
	}
	key := store.TestAccountKey(who.OrgID, p.ID)
	c, err := s.opts.Store.GetConnection(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return DisconnectResult{Provider: p.ID, Revocation: RevocationNone, Message: "The organization had no " + p.DisplayName + " test account."}, nil
	}
	if err != nil {
		return DisconnectResult{}, fmt.Errorf("read test account %s: %w", key, err)
	}
	res := DisconnectResult{Provider: p.ID, Deleted: true}
	switch err := s.revoke(ctx, p, c); {
	case err == nil:
		res.Revocation, res.Revoked, res.Message = RevocationRevoked, true, "The "+p.DisplayName+" test account was removed and its access revoked at "+p.DisplayName+"."
	case errors.Is(err, errGrantShared):
		res.Revocation, res.Message = RevocationSharedGrant, "The "+p.DisplayName+" test account was removed here. Its access was not revoked at "+p.DisplayName+": another connection here uses the same account through the same app (an admin's own, say), and revoking would end it too."
	case errors.Is(err, providers.ErrRevocationUnsupported):
		res.Revocation, res.Message = RevocationNotSupported, p.NoRevocationHint
	default:
		slog.WarnContext(ctx, "revocation of the test account failed", "org", key.OrgID, "provider", p.ID, "err", err.Error())
		res.Revocation, res.Message = RevocationFailed, "The "+p.DisplayName+" test account was removed here, but "+p.DisplayName+" did not confirm the revocation. Remove the app's access in the test account's security settings."
	}
	if !res.Revoked {
		res.Reason = res.Revocation
	}
	// A refresh may write the record between the read and the delete (its
	// lease claim bumps the version): read again and delete what is there.
	for attempt := 0; ; attempt++ {
		entry, err := auditEntry(who, p.ID, ActionTestAccountDisconnected, s.now(), []store.FieldChange{
			{Field: "testAccount", Old: accountName(c.Account), New: ""},
		})
		if err != nil {
			return DisconnectResult{}, err
		}
		err = s.opts.Store.DeleteConnectionAudited(ctx, key, c.Version, entry)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= 2 {
			return DisconnectResult{}, fmt.Errorf("delete test account %s: %w", key, err)
		}
		switch c, err = s.opts.Store.GetConnection(ctx, key); {
		case errors.Is(err, store.ErrNotFound):
			// Removed meanwhile (another admin's disconnect): done, and
			// audited by whoever removed it.
			return res, nil
		case err != nil:
			return DisconnectResult{}, fmt.Errorf("read test account %s: %w", key, err)
		}
	}
	slog.InfoContext(ctx, "test account removed", "org", key.OrgID, "actor", who.UserID, "provider", p.ID, "revocation", res.Revocation)
	return res, nil
}

// accountName names an account in the audit trail: its email address or
// username, else its display name.
func accountName(a store.Account) string {
	if a.Email != "" {
		return a.Email
	}
	return a.Name
}

// auditSeq orders the entries one process writes within one clock reading
// (a coarse or frozen clock), as the admin service's does.
var auditSeq atomic.Uint64

// auditEntry builds an entry with a unique, time-ordered id (the time, this
// process's sequence number and random bits, as the admin service's).
func auditEntry(who auth.Principal, provider, action string, at time.Time, changes []store.FieldChange) (store.AuditEntry, error) {
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		return store.AuditEntry{}, fmt.Errorf("audit id: %w", err)
	}
	return store.AuditEntry{
		OrgID: who.OrgID, ID: fmt.Sprintf("%s-%012d-%s", at.Format("20060102T150405.000000000Z"), auditSeq.Add(1), hex.EncodeToString(b[:])),
		At: at, Actor: who.UserID, Provider: provider, Action: action, Changes: changes,
	}, nil
}

// StartTestAccount serves POST /v1/orgs/{orgId}/integrations/{provider}/test-account
// (admins): the body is a start's ({"returnTo": ..., "loginHint": ...}),
// the answer the authorization URL.
func (a *API) StartTestAccount(w http.ResponseWriter, r *http.Request) {
	var req StartRequest
	a.startFlow(w, r, auth.OrgAdmin, &req, func(ctx context.Context, who auth.Principal, provider, redirectURI string) (any, error) {
		return a.Service.StartTestAccount(ctx, who, provider, req, redirectURI)
	})
}

// DisconnectTestAccount serves DELETE
// /v1/orgs/{orgId}/integrations/{provider}/test-account (admins).
func (a *API) DisconnectTestAccount(w http.ResponseWriter, r *http.Request) {
	who, prob := auth.OrgAdmin(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	res, err := a.Service.DisconnectTestAccount(r.Context(), who, r.PathValue("provider"))
	if err != nil {
		problem.WriteError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, res)
}
