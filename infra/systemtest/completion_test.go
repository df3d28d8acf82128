package systemtest_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
)

// The connect-link attack (issue 11): someone starts a connection in their
// own name, optionally with the victim's address as loginHint, and sends the
// authorization URL to the victim. The victim, already signed in at the
// provider, picks their account; the provider redirects the victim's
// browser to the callback. Before the completion step existed, the victim's
// mailbox was then stored as the attacker's connection. Now the callback
// only parks the tokens, and the victim's own signed-in app at returnTo
// posts the handle with the victim's token, which finds nothing and spends
// the handle: nobody is connected, and the tokens are revoked where the
// provider allows it.

// stores are the two store configurations every attack runs on.
var stores = []struct {
	name string
	opts []localtest.Option
}{
	{"embedded", nil},
	{"aws", []localtest.Option{localtest.WithAWS()}},
}

// victimAccount adds the victim's account at the fake: for Microsoft in a
// tenant of its own (fabrikam), so only a multi-tenant integration admits
// it.
func victimAccount(w *world, provider string) string {
	u := fakeprovider.User{Provider: provider}
	switch provider {
	case catalog.Microsoft365:
		u.Email, u.Tenant, u.TenantDomains = "victim@fabrikam.example", "33333333-4444-5555-6666-777777777777", []string{"fabrikam.example"}
	case catalog.GoogleWorkspace:
		u.Email, u.HostedDomain = "victim@victim-corp.example", "victim-corp.example"
	case catalog.Salesforce:
		u.Email = "victim@victim-corp.example"
	}
	w.env.Fake.AddUser(u)
	return u.Email
}

// enableMultiTenant enables provider for org with the platform's default
// client, Microsoft with tenant organizations (any work account).
func enableMultiTenant(t *testing.T, w *world, org, provider string) {
	t.Helper()
	body := integrationBody(provider)
	if provider == catalog.Microsoft365 {
		body["tenant"] = "organizations"
	}
	want(t, w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, nil), 201, "")
}

// revocations counts the revocations the fake accepted for provider.
func revocations(w *world, provider string) int {
	return w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindRevoke, Outcome: fakeprovider.OutcomeOK})
}

// noConnections fails t if any of the users has a connection to provider.
func noConnections(t *testing.T, w *world, provider string, who ...[2]string) {
	t.Helper()
	for _, ou := range who {
		if c := w.conn(ou[0], ou[1], provider); c != nil {
			t.Fatalf("%s/%s has a %s connection (account %s) after the attack", ou[0], ou[1], provider, c.Account.Email)
		}
		resp := w.do(t, "GET", "/v1/orgs/"+ou[0]+"/connections", w.member(ou[0], ou[1]), nil, nil)
		if strings.Contains(string(resp.Body), `"provider":"`+provider+`"`) {
			t.Fatalf("%s/%s lists a %s connection: %s", ou[0], ou[1], provider, resp.Body)
		}
	}
}

// TestConnectLinkAttackConnectsNobody: across orgs and within one org, for
// each provider, on both stores, the attacker-initiated link ends with no
// connection for anyone, even when the victim's signed-in app posts the
// completion, and the attacker cannot use the handle after that either.
func TestConnectLinkAttackConnectsNobody(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, st.opts...)
			for _, provider := range providers {
				for _, crossOrg := range []bool{true, false} {
					name := provider + "/same-org"
					if crossOrg {
						name = provider + "/cross-org"
					}
					t.Run(name, func(t *testing.T) {
						evilOrg, victimOrg := "o-evil-"+provider, "o-victim-"+provider
						if !crossOrg {
							evilOrg, victimOrg = "o-shared-"+provider, "o-shared-"+provider
						}
						const attacker, victim = "u-mallory", "u-victim"
						enableMultiTenant(t, w, evilOrg, provider)
						if crossOrg {
							enableMultiTenant(t, w, victimOrg, provider)
						}
						victimEmail := victimAccount(w, provider)
						revokedBefore := revocations(w, provider)

						// The attacker starts, naming the victim; the victim's
						// browser follows the link and signs in.
						out := pending(t, w.callback(t, w.toCallback(t, w.start(t, evilOrg, w.member(evilOrg, attacker), provider, victimEmail))))
						if out.Get("provider") != provider {
							t.Fatalf("callback outcome %v", out)
						}
						noConnections(t, w, provider, [2]string{evilOrg, attacker}, [2]string{victimOrg, victim})

						// The victim's signed-in app at returnTo posts the
						// handle: nothing, and the handle is spent.
						want(t, w.complete(t, victimOrg, victim, out), 404, "completion_not_found")
						// The attacker, had they obtained the handle, comes
						// too late.
						want(t, w.complete(t, evilOrg, attacker, out), 404, "completion_not_found")
						noConnections(t, w, provider, [2]string{evilOrg, attacker}, [2]string{victimOrg, victim})

						// The victim's tokens are given back where the provider
						// can revoke (Google, Salesforce; Microsoft has no
						// per-token revocation).
						wantRevoked := 1
						if provider == catalog.Microsoft365 {
							wantRevoked = 0
						}
						if n := revocations(w, provider) - revokedBefore; n != wantRevoked {
							t.Fatalf("%d revocations of the discarded tokens, want %d", n, wantRevoked)
						}
					})
				}
			}
		})
	}
}

// TestForeignCompletionKeepsASharedGrant: Google's revocation ends every
// token of the account and client. When the victim already has their own
// connection with the same account through the same (platform default)
// client, the attacker's discarded tokens are not revoked, since that would
// end the victim's own connection; they are still discarded.
func TestForeignCompletionKeepsASharedGrant(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, st.opts...)
			const provider = catalog.GoogleWorkspace
			const evilOrg, victimOrg, attacker, victim = "o-evil", "o-victim", "u-mallory", "u-victim"
			enableMultiTenant(t, w, evilOrg, provider)
			enableMultiTenant(t, w, victimOrg, provider)
			victimEmail := victimAccount(w, provider)
			w.connect(t, victimOrg, victim, provider, victimEmail)
			own := w.conn(victimOrg, victim, provider)
			ownTok := w.tokens(t, own)
			// The grant index is eventually consistent on DynamoDB; the
			// victim connected well before the attack's link is followed.
			time.Sleep(50 * time.Millisecond)

			revokedBefore := revocations(w, provider)
			out := pending(t, w.callback(t, w.toCallback(t, w.start(t, evilOrg, w.member(evilOrg, attacker), provider, victimEmail))))
			want(t, w.complete(t, victimOrg, victim, out), 404, "completion_not_found")
			if n := revocations(w, provider) - revokedBefore; n != 0 {
				t.Fatalf("%d revocations: the victim's shared grant was revoked", n)
			}
			if !w.live(ownTok.RefreshToken) {
				t.Fatal("the victim's own connection died with the attacker's discarded tokens")
			}
			if c := w.conn(victimOrg, victim, provider); c == nil || c.Version != own.Version {
				t.Fatal("the victim's own connection changed")
			}
			noConnections(t, w, provider, [2]string{evilOrg, attacker})
		})
	}
}

// TestLegitimateFlowConnectsEachProvider: start → provider → callback →
// complete ends connected for all three providers on both stores, the
// callback connects nobody by itself, and the handle is single use and
// expires after 10 minutes.
func TestLegitimateFlowConnectsEachProvider(t *testing.T) {
	t.Parallel()
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, st.opts...)
			const org, user = "o-legit", "u-alice"
			for _, provider := range providers {
				w.enable(t, org, provider)
				out := pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), provider, ""))))
				if w.conn(org, user, provider) != nil {
					t.Fatalf("%s: the callback stored a connection", provider)
				}
				resp := w.complete(t, org, user, out)
				want(t, resp, 200, "")
				if got := resp.Object(); got["provider"] != provider || got["status"] != "connected" {
					t.Fatalf("%s: complete answered %s", provider, resp)
				}
				if c := w.conn(org, user, provider); c == nil || c.Status != "connected" || !w.live(w.tokens(t, c).RefreshToken) {
					t.Fatalf("%s: stored %+v", provider, c)
				}
				want(t, w.complete(t, org, user, out), 404, "completion_not_found")
			}

			// A handle posted to another provider's path is nobody's.
			w.env.Fake.ResetCounts()
			out := pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), catalog.Salesforce, ""))))
			wrong := url.Values{"provider": {catalog.GoogleWorkspace}, "completion": {out.Get("completion")}}
			want(t, w.complete(t, org, user, wrong), 404, "completion_not_found")
			want(t, w.complete(t, org, user, out), 404, "completion_not_found")
			if revocations(w, catalog.Salesforce) != 1 {
				t.Fatal("the misdirected completion's tokens were not revoked")
			}

			// Expired after 10 minutes, before any TTL deletion.
			out = pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), catalog.Salesforce, ""))))
			w.env.Clock.Advance(10*time.Minute + time.Second)
			want(t, w.complete(t, org, user, out), 404, "completion_not_found")

			// Unknown and malformed handles look the same.
			for _, h := range []string{"unknown", strings.Repeat("a", 43), strings.Repeat("x", 500)} {
				want(t, w.complete(t, org, user, url.Values{"provider": {catalog.Salesforce}, "completion": {h}}), 404, "completion_not_found")
			}
			want(t, w.complete(t, org, user, url.Values{"provider": {catalog.Salesforce}}), 400, "validation_failed")
		})
	}
}

// TestCompletionAfterTheIntegrationChanged: an admin who disables the
// provider or replaces its client between the callback and the completion
// voids the pending tokens, which are discarded.
func TestCompletionAfterTheIntegrationChanged(t *testing.T) {
	t.Parallel()
	w := newWorld(t, localtest.WithAWS())
	const org, user = "o-changed", "u-bob"
	const provider = catalog.Salesforce
	etag := w.enable(t, org, provider)
	out := pending(t, w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, user), provider, ""))))
	body := integrationBody(provider)
	body["enabled"] = false
	want(t, w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, map[string][]string{"If-Match": {etag}}), 200, "")
	before := revocations(w, provider)
	want(t, w.complete(t, org, user, out), 409, "integration_changed")
	if w.conn(org, user, provider) != nil {
		t.Fatal("a connection was stored for a disabled integration")
	}
	if revocations(w, provider)-before != 1 {
		t.Fatal("the voided tokens were not revoked")
	}
	want(t, w.complete(t, org, user, out), 404, "completion_not_found")
}
