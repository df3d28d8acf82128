package systemtest_test

import (
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
)

// disconnectAnswer is the body of DELETE /connections/{provider}.
type disconnectAnswer struct {
	Deleted    bool   `json:"deleted"`
	Revocation string `json:"revocation"`
	Revoked    bool   `json:"revoked"`
	Reason     string `json:"reason"`
	Message    string `json:"message"`
}

func (w *world) disconnect(t *testing.T, org, user, provider string) disconnectAnswer {
	t.Helper()
	resp := w.do(t, "DELETE", "/v1/orgs/"+org+"/connections/"+provider, w.member(org, user), nil, nil)
	want(t, resp, 200, "")
	var a disconnectAnswer
	if err := resp.Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDisconnectKeepsASharedGrant (issue 14 §3): two users of one org
// connect the same Google account (a shared mailbox) through the same
// client. Google's revocation ends every token of the account and client,
// so the first to disconnect has only their stored tokens deleted, and is
// told so; the second, the last holder, has the grant revoked.
func TestDisconnectKeepsASharedGrant(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org, provider = "o-shared", catalog.GoogleWorkspace
		w.enable(t, org, provider)
		mailbox := w.account(provider, "support")
		w.connect(t, org, "u-ana", provider, mailbox)
		w.connect(t, org, "u-ben", provider, mailbox)
		ana, ben := w.tokens(t, w.conn(org, "u-ana", provider)), w.tokens(t, w.conn(org, "u-ben", provider))
		benBefore := w.conn(org, "u-ben", provider)
		// The grant index is eventually consistent on DynamoDB.
		time.Sleep(50 * time.Millisecond)

		before := revocations(w, provider)
		a := w.disconnect(t, org, "u-ana", provider)
		if !a.Deleted || a.Revoked || a.Revocation != "shared_grant" || a.Reason != "shared_grant" || a.Message == "" {
			t.Fatalf("first disconnect = %+v", a)
		}
		if n := revocations(w, provider) - before; n != 0 {
			t.Fatalf("%d revocations while another connection held the grant", n)
		}
		if w.conn(org, "u-ana", provider) != nil {
			t.Fatal("the disconnected connection is still stored")
		}
		if !w.live(ben.RefreshToken) {
			t.Fatal("the other holder's refresh token died with the disconnect")
		}
		if c := w.conn(org, "u-ben", provider); c == nil || c.Version != benBefore.Version {
			t.Fatal("the other holder's connection changed")
		}

		b := w.disconnect(t, org, "u-ben", provider)
		if !b.Deleted || !b.Revoked || b.Revocation != "revoked" || b.Reason != "" {
			t.Fatalf("last holder's disconnect = %+v", b)
		}
		if n := revocations(w, provider) - before; n != 1 {
			t.Fatalf("%d revocations after the last holder left, want 1", n)
		}
		for name, tok := range map[string]string{"first": ana.RefreshToken, "last": ben.RefreshToken} {
			if w.live(tok) {
				t.Fatalf("the %s holder's refresh token outlived the grant's revocation", name)
			}
		}
	})
}

// TestReconnectRetiresTheReplacedTokens (issue 14 §3): a user who connects
// another account in place of their connection leaves no live tokens of the
// replaced one behind where the provider can revoke them; reconnecting the
// same Google account keeps the grant the new connection lives on.
func TestReconnectRetiresTheReplacedTokens(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org, user = "o-switch", "u-cy"
		for _, provider := range []string{catalog.GoogleWorkspace, catalog.Salesforce} {
			w.enable(t, org, provider)
			first, second := w.account(provider, "cy"), w.account(provider, "cy.other")
			w.connect(t, org, user, provider, first)
			old := w.tokens(t, w.conn(org, user, provider))

			// The same account again: for Google the old and new tokens are
			// one grant, which must stay.
			w.connect(t, org, user, provider, first)
			same := w.tokens(t, w.conn(org, user, provider))
			if provider == catalog.GoogleWorkspace && !w.live(same.RefreshToken) {
				t.Fatalf("%s: reconnecting the same account ended its own grant", provider)
			}
			if provider == catalog.Salesforce && w.live(old.RefreshToken) {
				t.Fatalf("%s: the replaced refresh token is still live", provider)
			}

			// Another account: the replaced account's tokens are given back.
			w.connect(t, org, user, provider, second)
			if c := w.conn(org, user, provider); c.Account.Email != second {
				t.Fatalf("%s: connected %s, want %s", provider, c.Account.Email, second)
			}
			if w.live(same.RefreshToken) {
				t.Fatalf("%s: the replaced account's refresh token is still live", provider)
			}
			if now := w.tokens(t, w.conn(org, user, provider)); !w.live(now.RefreshToken) {
				t.Fatalf("%s: the new connection's refresh token is not live", provider)
			}
		}
	})
}
