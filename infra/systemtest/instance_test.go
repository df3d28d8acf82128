package systemtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// hostRecorder sees every provider request the functions make, with the
// real provider URL (before the test rewrite to the fake provider).
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
	next  http.RoundTripper
}

func (h *hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, r.URL.Hostname())
	h.mu.Unlock()
	return h.next.RoundTrip(r)
}

func (h *hostRecorder) saw(host string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, x := range h.hosts {
		if strings.EqualFold(x, host) {
			return true
		}
	}
	return false
}

// recordHosts wraps the functions' provider HTTP client with rec.
func recordHosts(rec *hostRecorder) localtest.Option {
	return localtest.WithDeps(func(d *app.Deps) {
		c := *d.HTTPClient
		rec.next = c.Transport
		if rec.next == nil {
			rec.next = http.DefaultTransport
		}
		c.Transport = rec
		d.HTTPClient = &c
	})
}

const evilInstance = "https://evil.example"

// TestSalesforceInstanceURLChecked: an instance_url that is not a
// Salesforce host is refused at the callback (nothing connected), is not
// stored from a refresh response (the checked one is kept, and the
// refreshed tokens still are), and disconnect never posts a token to one
// that is stored. Issue 11, finding 3 (Salesforce instance_url).
func TestSalesforceInstanceURLChecked(t *testing.T) {
	t.Parallel()
	rec := map[string]*hostRecorder{"embedded": {}, "aws": {}}
	eachStoreWith(t, func(name string) []localtest.Option {
		return []localtest.Option{localtest.WithClock(morning), recordHosts(rec[name])}
	}, func(t *testing.T, name string, w *world) {
		const org = "o-instance"
		ctx := context.Background()
		w.enable(t, org, catalog.Salesforce)

		// The callback refuses a foreign instance_url.
		mallory := w.account(catalog.Salesforce, "mallory")
		if err := w.env.Fake.UpdateUser(catalog.Salesforce, mallory, func(u *fakeprovider.User) { u.InstanceURL = evilInstance }); err != nil {
			t.Fatal(err)
		}
		out := w.callback(t, w.toCallback(t, w.start(t, org, w.member(org, "u-mallory"), catalog.Salesforce, mallory)))
		if out.Get("status") == "connected" {
			t.Errorf("a token response with instance_url %s connected: %v", evilInstance, out)
		}
		if c := w.conn(org, "u-mallory", catalog.Salesforce); c != nil {
			t.Errorf("stored a connection with instance %q", c.Account.InstanceURL)
		}

		// A refresh response's foreign instance_url is not stored.
		alice := w.account(catalog.Salesforce, "alice")
		w.connect(t, org, "u-alice", catalog.Salesforce, alice)
		before := w.conn(org, "u-alice", catalog.Salesforce)
		if before.Account.InstanceURL != fakeprovider.DefaultSalesforceInstanceURL {
			t.Fatalf("connected with instance %q", before.Account.InstanceURL)
		}
		if err := w.env.Fake.UpdateUser(catalog.Salesforce, alice, func(u *fakeprovider.User) { u.InstanceURL = evilInstance }); err != nil {
			t.Fatal(err)
		}
		w.env.Clock.Advance(55 * time.Minute)
		w.refresh(t)
		after := w.conn(org, "u-alice", catalog.Salesforce)
		if after.Account.InstanceURL != fakeprovider.DefaultSalesforceInstanceURL {
			t.Errorf("a refresh stored instance %q", after.Account.InstanceURL)
		}
		if !after.LastRefreshAt.After(before.LastRefreshAt) || w.tokens(t, after).AccessToken == w.tokens(t, before).AccessToken {
			t.Errorf("the refresh did not store the new tokens (last refresh %v → %v)", before.LastRefreshAt, after.LastRefreshAt)
		}

		// Disconnect without an integration revokes at the stored instance
		// only when it passes the check. Here it does not (stored by an
		// older version, or by anyone with write access to the table).
		const other = "o-instance-gone"
		c := *after
		c.OrgID, c.Version, c.Account.InstanceURL = other, 0, evilInstance
		tok := w.tokens(t, after)
		sealed, keyID, err := w.env.Deps.Tokens.SealToken(ctx, c.ConnKey, tok)
		if err != nil {
			t.Fatal(err)
		}
		c.SealedTokens, c.TokenKeyID = sealed, keyID
		if _, err := w.env.Deps.Store.PutConnection(ctx, c, 0); err != nil {
			t.Fatal(err)
		}
		resp := w.do(t, "DELETE", "/v1/orgs/"+other+"/connections/"+catalog.Salesforce, w.member(other, "u-alice"), nil, nil)
		want(t, resp, 200, "")
		if got := resp.Object()["revocation"]; got != "failed" {
			t.Errorf("revocation %v, want failed", got)
		}
		if rec[name].saw("evil.example") {
			t.Errorf("a provider request went to %s", evilInstance)
		}
		if _, err := w.env.Deps.Store.GetConnection(ctx, c.ConnKey); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the connection was not removed (%v)", err)
		}
	})
}
