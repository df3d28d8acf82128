package connections_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

type disconnectAnswer struct {
	Provider   string `json:"provider"`
	Deleted    bool   `json:"deleted"`
	Revocation string `json:"revocation"`
	Message    string `json:"message"`
}

func disconnect(t *testing.T, env *localtest.Env, token, provider string) disconnectAnswer {
	t.Helper()
	resp := env.Do("DELETE", "/v1/orgs/"+org+"/connections/"+provider, token, nil)
	conforms(t, "DELETE", "/v1/orgs/{orgId}/connections/{provider}", resp)
	if resp.Status != 200 {
		t.Fatalf("disconnect %s: %s", provider, resp)
	}
	var a disconnectAnswer
	if err := resp.Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// connected connects u-1 and returns the tokens the service stored.
func connected(t *testing.T, env *localtest.Env, token, provider string) (access, refresh string) {
	t.Helper()
	mustConnect(t, env, token, provider, map[string]any{"returnTo": localtest.ReturnURL})
	c := env.Connection(org, "u-1", provider)
	tok, err := env.Deps.Tokens.OpenToken(context.Background(), c.ConnKey, c.SealedTokens)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken, tok.RefreshToken
}

func TestDisconnectRevokesAtTheProvider(t *testing.T) {
	for _, provider := range []string{catalog.GoogleWorkspace, catalog.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			env := localtest.New(t)
			enable(t, env, provider, nil)
			tok := env.MemberToken("u-1", org)
			access, refresh := connected(t, env, tok, provider)

			a := disconnect(t, env, tok, provider)
			if a.Provider != provider || !a.Deleted || a.Revocation != "revoked" || a.Message == "" {
				t.Fatalf("disconnect = %+v", a)
			}
			if n := count(env, provider, fakeprovider.KindRevoke, fakeprovider.OutcomeOK); n != 1 {
				t.Fatalf("revocations at the fake = %d, want 1", n)
			}
			for name, v := range map[string]string{"access": access, "refresh": refresh} {
				if info, ok := env.Fake.TokenInfo(v); !ok || info.Active {
					t.Errorf("the %s token is still active at the provider", name)
				}
			}
			if env.Connection(org, "u-1", provider) != nil {
				t.Fatal("the connection is still stored")
			}
			if n := len(list(t, env, tok).Connections); n != 0 {
				t.Fatalf("%d connections listed", n)
			}

			// Idempotent: nothing left to delete or revoke.
			if again := disconnect(t, env, tok, provider); again.Deleted || again.Revocation != "none" {
				t.Fatalf("second disconnect = %+v", again)
			}
			if n := count(env, provider, fakeprovider.KindRevoke, ""); n != 1 {
				t.Fatalf("revocations at the fake = %d after a second disconnect", n)
			}
		})
	}
}

func TestDisconnectMicrosoftSaysRevocationIsNotSupported(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Microsoft365, nil)
	tok := env.MemberToken("u-1", org)
	connected(t, env, tok, catalog.Microsoft365)
	a := disconnect(t, env, tok, catalog.Microsoft365)
	if !a.Deleted || a.Revocation != "not_supported" || !strings.Contains(a.Message, "Microsoft has no per-token revocation") {
		t.Fatalf("disconnect = %+v", a)
	}
	if env.Connection(org, "u-1", catalog.Microsoft365) != nil {
		t.Fatal("the connection is still stored")
	}
	if n := count(env, catalog.Microsoft365, "", ""); n != count(env, catalog.Microsoft365, fakeprovider.KindAuthorize, "")+count(env, catalog.Microsoft365, fakeprovider.KindExchange, "")+count(env, catalog.Microsoft365, fakeprovider.KindUserInfo, "") {
		t.Fatalf("the disconnect called Microsoft")
	}
}

func TestDisconnectDeletesEvenWhenRevocationFails(t *testing.T) {
	for _, provider := range []string{catalog.GoogleWorkspace, catalog.Salesforce} {
		t.Run(provider, func(t *testing.T) {
			env := localtest.New(t)
			enable(t, env, provider, nil)
			tok := env.MemberToken("u-1", org)
			_, refresh := connected(t, env, tok, provider)
			env.Fake.Inject(fakeprovider.Fault{Provider: provider, Kind: fakeprovider.KindRevoke, Status: 500})
			a := disconnect(t, env, tok, provider)
			if !a.Deleted || a.Revocation != "failed" || !strings.Contains(a.Message, "did not confirm") {
				t.Fatalf("disconnect = %+v", a)
			}
			if env.Connection(org, "u-1", provider) != nil {
				t.Fatal("the connection is still stored")
			}
			if n := count(env, provider, fakeprovider.KindRevoke, fakeprovider.OutcomeFaulted); n != 1 {
				t.Fatalf("revocation attempts = %d, want 1", n)
			}
			if info, _ := env.Fake.TokenInfo(refresh); !info.Active {
				t.Fatal("the fault did not stop the revocation; the test proves nothing")
			}
		})
	}
}

func TestDisconnectTouchesOnlyTheCallersConnection(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.GoogleWorkspace, nil)
	alice := env.MemberToken("u-1", org)
	connected(t, env, alice, catalog.GoogleWorkspace)
	bob := env.MemberToken("u-2", org)
	if a := disconnect(t, env, bob, catalog.GoogleWorkspace); a.Deleted || a.Revocation != "none" {
		t.Fatalf("bob's disconnect = %+v", a)
	}
	if env.Connection(org, "u-1", catalog.GoogleWorkspace) == nil {
		t.Fatal("bob's disconnect removed alice's connection")
	}
	if resp := env.Do("DELETE", "/v1/orgs/org-2/connections/google_workspace", alice, nil); resp.Status != 404 {
		t.Fatalf("other org: %s", resp)
	}
	if resp := env.Do("DELETE", "/v1/orgs/org-1/connections/dropbox", alice, nil); resp.Status != 404 || resp.Code() != "unknown_provider" {
		t.Fatalf("unknown provider: %s", resp)
	}
}

// stripRefreshToken removes refresh_token from token endpoint answers: a
// provider that issued none (Google without offline access, an admin policy).
type stripRefreshToken struct{ next http.RoundTripper }

func (s stripRefreshToken) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/token") || resp.StatusCode != 200 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		delete(m, "refresh_token")
		body, _ = json.Marshal(m)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestNoRefreshTokenIsStoredAsNotRefreshable(t *testing.T) {
	env := localtest.New(t, localtest.WithDeps(func(d *app.Deps) {
		hc := *d.HTTPClient
		hc.Transport = stripRefreshToken{next: d.HTTPClient.Transport}
		d.HTTPClient = &hc
	}))
	enable(t, env, catalog.GoogleWorkspace, nil)
	tok := env.MemberToken("u-1", org)
	mustConnect(t, env, tok, catalog.GoogleWorkspace, map[string]any{"returnTo": localtest.ReturnURL})
	c := env.Connection(org, "u-1", catalog.GoogleWorkspace)
	if c.LastError == nil || c.LastError.Code != "no_refresh_token" || !c.NextRefreshAt.IsZero() || c.OffIndexReason != "no_refresh_token" {
		t.Fatalf("stored = lastError %+v nextRefreshAt %v offIndex %q", c.LastError, c.NextRefreshAt, c.OffIndexReason)
	}
	opened, err := env.Deps.Tokens.OpenToken(context.Background(), c.ConnKey, c.SealedTokens)
	if err != nil || opened.RefreshToken != "" || opened.AccessToken == "" {
		t.Fatalf("sealed token: %v", err)
	}
	if l := list(t, env, tok).Connections[0]; l.LastError == nil || l.LastError.Code != "no_refresh_token" {
		t.Fatalf("listed lastError = %+v", l.LastError)
	}
}

// Salesforce sends no expires_in; when introspection cannot tell the expiry
// either, schedule.AssumedAccessLifetime (the refresh job's assumption too)
// is assumed and the connection says so.
func TestSalesforceExpiryAssumedWhenIntrospectionFails(t *testing.T) {
	env := localtest.New(t)
	enable(t, env, catalog.Salesforce, nil)
	env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Salesforce, Kind: fakeprovider.KindIntrospect, Status: 503})
	tok := env.MemberToken("u-1", org)
	mustConnect(t, env, tok, catalog.Salesforce, map[string]any{"returnTo": localtest.ReturnURL})
	c := env.Connection(org, "u-1", catalog.Salesforce)
	if want := env.Clock.Now().Add(30 * time.Minute); !c.AccessExpiresAt.Equal(want) || c.StatusReason != "access_expiry_assumed" {
		t.Fatalf("accessExpiresAt %v (want %v), statusReason %q", c.AccessExpiresAt, want, c.StatusReason)
	}
	if c.Status != store.StatusConnected || c.NextRefreshAt.IsZero() {
		t.Fatalf("status %s, nextRefreshAt %v", c.Status, c.NextRefreshAt)
	}
	if n := count(env, catalog.Salesforce, fakeprovider.KindIntrospect, fakeprovider.OutcomeFaulted); n != 1 {
		t.Fatalf("introspection calls = %d", n)
	}
}
