package refresh_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store"
)

func refreshes(f *fixture) int {
	return f.env.Fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh})
}

// TestAccessToken covers the on-demand path diagnostics uses.
func TestAccessToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("valid token: no provider call, the use is recorded once", func(t *testing.T) {
		f := newFixture(t)
		now := f.env.Clock.Now()
		in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
		sd := f.seed(in, "u-", 1, now.Add(45*time.Minute))[0]
		stored := f.conn(sd.key)
		s := f.service(nil)

		tok, err := s.AccessToken(ctx, sd.key)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Refreshed || tok.AccessToken != f.tokens(stored).AccessToken || !tok.Expiry.Equal(stored.AccessExpiresAt) || tok.TokenType == "" {
			t.Fatalf("token %+v, want the stored one", tok)
		}
		if refreshes(f) != 0 {
			t.Fatal("a valid token was refreshed")
		}
		c := f.conn(sd.key)
		if !c.LastUsedAt.Equal(now) || c.LeaseOwner != "" {
			t.Fatalf("use not recorded or lease left: %+v", c)
		}
		// A second use within the hour writes nothing.
		if _, err := s.AccessToken(ctx, sd.key); err != nil {
			t.Fatal(err)
		}
		if again := f.conn(sd.key); again.Version != c.Version {
			t.Fatalf("a second use wrote the record (version %d → %d)", c.Version, again.Version)
		}
	})

	t.Run("a use brings an idle connection's due time forward", func(t *testing.T) {
		f := newFixture(t)
		now := f.env.Clock.Now()
		in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
		sd := f.seed(in, "u-", 1, now.Add(-time.Minute))[0]
		s := f.service(nil)
		f.run(ctx, s) // refreshed: connected an hour ago, so in use
		// Two days later, idle: refreshed on the daily keepalive.
		f.env.Clock.Advance(48 * time.Hour)
		f.run(ctx, s)
		idle := f.conn(sd.key)
		if want := f.env.Clock.Now().Add(24 * time.Hour); !idle.NextRefreshAt.Equal(want) {
			t.Fatalf("idle connection due %v, want the keepalive %v", idle.NextRefreshAt, want)
		}
		if _, err := s.AccessToken(ctx, sd.key); err != nil {
			t.Fatal(err)
		}
		if used := f.conn(sd.key); !used.NextRefreshAt.Equal(used.AccessExpiresAt.Add(-15 * time.Minute)) {
			t.Fatalf("used connection due %v, want 15 minutes before expiry %v", used.NextRefreshAt, used.AccessExpiresAt)
		}
	})

	t.Run("expiring token: refreshed once however many ask at once", func(t *testing.T) {
		f := newFixture(t)
		now := f.env.Clock.Now()
		in := f.enable(integrationSpec{org: "o1", provider: catalog.Microsoft365})
		sd := f.seed(in, "u-", 1, now.Add(45*time.Minute))[0]
		f.env.Clock.Advance(65 * time.Minute) // expired
		f.env.Fake.SetLatency(50 * time.Millisecond)
		s := f.service(nil)

		toks := make([]refresh.Token, 10)
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range toks {
			wg.Go(func() { toks[i], errs[i] = s.AccessToken(ctx, sd.key) })
		}
		wg.Wait()
		for i := range toks {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if toks[i].AccessToken != toks[0].AccessToken {
				t.Fatalf("callers got different tokens")
			}
		}
		if n := refreshes(f); n != 1 {
			t.Fatalf("%d refreshes for 10 concurrent callers, want 1", n)
		}
		info, ok := f.env.Fake.TokenInfo(toks[0].AccessToken)
		if !ok || !info.Active || !toks[0].Expiry.After(f.env.Clock.Now()) {
			t.Fatalf("returned token not live: %+v", info)
		}
		f.assertRefreshedOnce(catalog.Microsoft365, []seeded{sd})
	})

	t.Run("a scheduled run holds the lease: wait and read its result", func(t *testing.T) {
		f := newFixture(t)
		now := f.env.Clock.Now()
		in := f.enable(integrationSpec{org: "o1", provider: catalog.Salesforce, orgClient: true, rotate: true})
		sd := f.seed(in, "u-", 1, now.Add(45*time.Minute))[0]
		f.env.Clock.Advance(2 * time.Hour) // expired and due
		f.env.Fake.SetLatency(300 * time.Millisecond)
		s := f.service(nil)

		done := make(chan refresh.Result)
		go func() { done <- f.run(ctx, f.service(nil)) }()
		for f.conn(sd.key).LeaseOwner == "" {
			time.Sleep(5 * time.Millisecond)
		}
		tok, err := s.AccessToken(ctx, sd.key)
		if err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.Refreshed != 1 {
			t.Fatalf("run: %+v", r)
		}
		if tok.AccessToken != f.tokens(f.conn(sd.key)).AccessToken {
			t.Fatal("on demand did not return the token the run stored")
		}
		if n := refreshes(f); n != 1 {
			t.Fatalf("%d refreshes, want 1: the run's", n)
		}
	})

	t.Run("errors say why", func(t *testing.T) {
		f := newFixture(t)
		now := f.env.Clock.Now()
		in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
		conns := f.seed(in, "u-", 2, now.Add(45*time.Minute))
		s := f.service(nil)

		code := func(err error) string {
			var e *refresh.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not a *refresh.Error", err)
			}
			return e.Code
		}
		if _, err := s.AccessToken(ctx, store.ConnKey{OrgID: "o1", UserID: "nobody", Provider: catalog.GoogleWorkspace}); code(err) != refresh.CodeNotConnected {
			t.Fatalf("missing connection: %v", err)
		}

		// Expired token, provider down: refresh_failed with the classified cause.
		f.env.Clock.Advance(2 * time.Hour)
		f.env.Fake.Inject(fakeprovider.Fault{Kind: fakeprovider.KindRefresh, Status: 503, Times: 1})
		_, err := s.AccessToken(ctx, conns[0].key)
		var e *refresh.Error
		if !errors.As(err, &e) || e.Code != refresh.CodeRefreshFailed || e.Failure == nil || e.Failure.Code != "provider_unavailable" {
			t.Fatalf("provider down: %v", err)
		}
		if c := f.conn(conns[0].key); c.ConsecutiveFailures != 1 || c.LastError.Code != "provider_unavailable" {
			t.Fatalf("on-demand failure not recorded: %+v", c)
		}

		// Revoked grant: needs_reconnect, recorded.
		f.env.Fake.Inject(fakeprovider.Fault{Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrInvalidGrant, Times: 1})
		if _, err := s.AccessToken(ctx, conns[0].key); code(err) != refresh.CodeNeedsReconnect {
			t.Fatalf("revoked: %v", err)
		}
		if c := f.conn(conns[0].key); c.Status != store.StatusNeedsReconnect {
			t.Fatalf("status %s", c.Status)
		}

		// Provider disabled for the org.
		in.Enabled = false
		if _, err := f.env.Deps.Store.PutIntegration(ctx, in, in.Version); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AccessToken(ctx, conns[1].key); code(err) != refresh.CodeProviderDisabled {
			t.Fatalf("disabled: %v", err)
		}
	})
}

// TestForceRefresh covers the refresh diagnostics forces when the provider
// refuses an access token whose expiry says it is good.
func TestForceRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("a valid token is refreshed, once however many force at once", func(t *testing.T) {
		f := newFixture(t)
		in := f.enable(integrationSpec{org: "o1", provider: catalog.Microsoft365})
		sd := f.seed(in, "u-", 1, f.env.Clock.Now().Add(45*time.Minute))[0]
		old := f.tokens(f.conn(sd.key)).AccessToken
		f.env.Fake.SetLatency(50 * time.Millisecond)
		s := f.service(nil)

		toks := make([]refresh.Token, 6)
		errs := make([]error, len(toks))
		var wg sync.WaitGroup
		for i := range toks {
			wg.Go(func() { toks[i], errs[i] = s.ForceRefresh(ctx, sd.key, old) })
		}
		wg.Wait()
		refreshedBy := 0
		for i := range toks {
			if errs[i] != nil {
				t.Fatalf("caller %d: %v", i, errs[i])
			}
			if toks[i].AccessToken == old || toks[i].AccessToken != toks[0].AccessToken {
				t.Fatalf("caller %d got %q..., want the one new token", i, toks[i].AccessToken[:8])
			}
			if toks[i].Refreshed {
				refreshedBy++
			}
		}
		if n := refreshes(f); n != 1 || refreshedBy != 1 {
			t.Fatalf("%d refreshes at the fake (%d callers say they refreshed) for %d forced callers, want 1", n, refreshedBy, len(toks))
		}
		f.assertRefreshedOnce(catalog.Microsoft365, []seeded{sd})
		if c := f.conn(sd.key); f.tokens(c).AccessToken != toks[0].AccessToken {
			t.Fatal("the stored token is not the one handed out")
		}
		// The stored token is no longer the refused one: forcing again with
		// the old one hands out the current one without refreshing.
		again, err := s.ForceRefresh(ctx, sd.key, old)
		if err != nil || again.Refreshed || again.AccessToken != toks[0].AccessToken || refreshes(f) != 1 {
			t.Fatalf("forced with a replaced token: %+v %v, %d refreshes", again.Refreshed, err, refreshes(f))
		}
	})

	t.Run("a scheduled run holds the lease: its refresh is the forced one", func(t *testing.T) {
		f := newFixture(t)
		now := f.env.Clock.Now()
		in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
		sd := f.seed(in, "u-", 1, now.Add(-time.Minute))[0] // due, token still valid
		old := f.tokens(f.conn(sd.key)).AccessToken
		f.env.Fake.SetLatency(300 * time.Millisecond)

		done := make(chan refresh.Result)
		go func() { done <- f.run(ctx, f.service(nil)) }()
		for f.conn(sd.key).LeaseOwner == "" {
			time.Sleep(5 * time.Millisecond)
		}
		tok, err := f.service(nil).ForceRefresh(ctx, sd.key, old)
		if err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.Refreshed != 1 {
			t.Fatalf("run: %+v", r)
		}
		if tok.Refreshed || tok.AccessToken == old || tok.AccessToken != f.tokens(f.conn(sd.key)).AccessToken {
			t.Fatal("the forced refresh did not hand out the run's token")
		}
		if n := refreshes(f); n != 1 {
			t.Fatalf("%d refreshes, want 1: the run's", n)
		}
	})

	t.Run("a revoked grant needs a reconnect", func(t *testing.T) {
		f := newFixture(t)
		in := f.enable(integrationSpec{org: "o1", provider: catalog.GoogleWorkspace})
		sd := f.seed(in, "u-", 1, f.env.Clock.Now().Add(45*time.Minute))[0]
		old := f.tokens(f.conn(sd.key)).AccessToken
		if err := f.env.Fake.RevokeUser(catalog.GoogleWorkspace, fakeprovider.DefaultGoogleUser); err != nil {
			t.Fatal(err)
		}
		_, err := f.service(nil).ForceRefresh(ctx, sd.key, old)
		var re *refresh.Error
		if !errors.As(err, &re) || re.Code != refresh.CodeNeedsReconnect || re.Failure == nil || re.Failure.Code != "token_revoked" {
			t.Fatalf("err = %v, want needs_reconnect (token_revoked)", err)
		}
		if c := f.conn(sd.key); c.Status != store.StatusNeedsReconnect || !c.NextRefreshAt.IsZero() || c.LeaseOwner != "" {
			t.Fatalf("stored: %s next %v lease %q", c.Status, c.NextRefreshAt, c.LeaseOwner)
		}
	})
}
