package diagnostics

import (
	"context"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// TestTestAfterChangesUsesTheTestAccount: with a test account the test runs
// as it (its token, its account named in the report) even when the admin
// has a connection of their own; a test account needing reconnection is
// reported for an admin to reconnect; without one, the admin's own
// connection is used as before.
func TestTestAfterChangesUsesTheTestAccount(t *testing.T) {
	h := newHarness(t)
	h.setup(nil, func(c *store.Connection) { c.UserID = "u-admin" })
	p, _ := h.cat.Get(catalog.Microsoft365)
	ctx := context.Background()
	run := func() TestReport {
		t.Helper()
		rep, err := h.svc.TestAfterChanges(ctx, TestRequest{Caller: admin("u-admin"), Provider: p})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	// Without a test account: the admin's own connection.
	rep := run()
	if rep.Account != (TestAccountInfo{Source: SourceOwnConnection, UserID: "u-admin", Email: "alice@contoso.example"}) || rep.User != "u-admin" || rep.Overall != OverallOK {
		t.Fatalf("own connection: %+v", rep)
	}
	if k := h.tokens.keys[len(h.tokens.keys)-1]; k.UserID != "u-admin" {
		t.Fatalf("token asked for %v", k)
	}

	// With one: the test account, whatever the admin has.
	own, _ := h.st.GetConnection(ctx, store.ConnKey{OrgID: orgID, UserID: "u-admin", Provider: p.ID})
	ta := own
	ta.ConnKey, ta.Version = store.TestAccountKey(orgID, p.ID), 0
	ta.Account = store.Account{Email: "tester@contoso.example", Name: "Test Account"}
	if _, err := h.st.PutConnection(ctx, ta, 0); err != nil {
		t.Fatal(err)
	}
	rep = run()
	if rep.Account != (TestAccountInfo{Source: SourceTestAccount, Email: "tester@contoso.example", Name: "Test Account"}) || rep.User != "u-admin" || rep.Overall != OverallOK {
		t.Fatalf("test account: %+v", rep)
	}
	if k := h.tokens.keys[len(h.tokens.keys)-1]; k != store.TestAccountKey(orgID, p.ID) {
		t.Fatalf("token asked for %v, want the test account's", k)
	}
	if s := find(rep.Steps, TestAccountConnected); !strings.Contains(s.Message, "organization's test account is connected (tester@contoso.example)") {
		t.Errorf("test_account_connected = %q", s.Message)
	}

	// The test account needs reconnecting: an admin reconnects it in the
	// integration settings, not in Connected apps.
	ta, _ = h.st.GetConnection(ctx, store.TestAccountKey(orgID, p.ID))
	ta.Status = store.StatusNeedsReconnect
	ta.LastError = &store.ConnError{Code: "invalid_grant", Message: "The sign-in expired.", Owner: "user"}
	if _, err := h.st.PutConnection(ctx, ta, ta.Version); err != nil {
		t.Fatal(err)
	}
	rep = run()
	s := find(rep.Steps, TestAccountConnected)
	if s.Status != Fail || rep.Account.Source != SourceTestAccount || !strings.Contains(s.Remediation, "reconnects the organization's Microsoft 365 test account in Organization Settings, Integrations") {
		t.Fatalf("test account needing reconnection: %+v (account %+v)", s, rep.Account)
	}
}

// TestTestAfterChangesWithNoAccountAtAll: neither a test account nor the
// admin's own connection: the step says to connect a test account.
func TestTestAfterChangesWithNoAccountAtAll(t *testing.T) {
	h := newHarness(t)
	h.setup(nil, nil)
	p, _ := h.cat.Get(catalog.Microsoft365)
	rep, err := h.svc.TestAfterChanges(context.Background(), TestRequest{Caller: admin("u-admin"), Provider: p})
	if err != nil {
		t.Fatal(err)
	}
	s := find(rep.Steps, TestAccountConnected)
	if s.Status != Fail || !strings.Contains(s.Remediation, "Connect a Microsoft 365 test account") || rep.Account != (TestAccountInfo{Source: SourceOwnConnection, UserID: "u-admin"}) {
		t.Fatalf("%+v %+v", s, rep.Account)
	}
}
