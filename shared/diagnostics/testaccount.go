package diagnostics

import (
	"context"
	"errors"
	"fmt"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// "Test after changes" runs as the org's test account of the provider
// (store.TestAccountKey, connected by an admin for this purpose: an account
// with representative but limited access) when there is one, and otherwise
// as the admin's own connection, as it did before test accounts existed.
// The report says which (TestReport.Account).

// Sources of the account a test ran as.
const (
	SourceTestAccount   = "test_account"   // the org's designated test account
	SourceOwnConnection = "own_connection" // the admin's own connection (or none)
)

// TestAccountInfo says which account a test ran as.
type TestAccountInfo struct {
	Source string `json:"source"`
	// UserID is the admin whose own connection it was (own_connection).
	UserID string `json:"userId,omitempty"`
	// Email and Name are the external account's, when there was one.
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// testRun reads the integration and the connection a test runs as: the
// test account's, else the caller's own.
func (s *Service) testRun(ctx context.Context, caller auth.Principal, p catalog.Provider) (*run, error) {
	r, err := s.newRun(ctx, caller, p, store.TestAccountUserID)
	if err != nil {
		return nil, err
	}
	if r.conn != nil {
		r.testAccount = true
		return r, nil
	}
	r.userID, r.self = caller.UserID, true
	c, err := s.opts.Store.GetConnection(ctx, r.key())
	switch {
	case err == nil:
		r.conn = &c
	case !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("diagnostics: read connection %s: %w", r.key(), err)
	}
	return r, nil
}

// usedAccount is what the report says of the account the test ran as.
func (r *run) usedAccount() TestAccountInfo {
	info := TestAccountInfo{Source: SourceTestAccount}
	if !r.testAccount {
		info = TestAccountInfo{Source: SourceOwnConnection, UserID: r.userID}
	}
	if r.conn != nil {
		info.Email, info.Name = r.conn.Account.Email, r.conn.Account.Name
	}
	return info
}

// testAccountRemedy is the remediation of test_account_connected when one
// of the checks it summarizes did not pass. The checks speak to a user
// about their own connection in Connected apps; the org's test account is
// reconnected by an admin in the integration settings, and without any
// connection the admin can connect one.
func testAccountRemedy(r *run, worst Check) string {
	switch {
	case worst.Owner != OwnerUser:
		return worst.Remediation
	case r.testAccount:
		return "An admin reconnects the organization's " + r.provider.DisplayName + " test account in Organization Settings, Integrations (Connect test account)."
	case r.conn == nil:
		return "Connect a " + r.provider.DisplayName + " test account (an account with representative but limited access) in Organization Settings, Integrations, or your own account in Connected apps."
	}
	return worst.Remediation
}
