package fakeprovider_test

import (
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
)

// TestConcurrentRefreshChains: 16 goroutines each refresh their own
// rotating connection many times; every refresh is counted once, no
// refresh token is ever presented twice, and all tokens are distinct.
func TestConcurrentRefreshChains(t *testing.T) {
	const workers, rounds = 16, 70
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	e.rotating(true)
	type chain struct {
		provider string
		cfg      *oauth2.Config
		rt       string
	}
	var chains []chain
	for i := range workers {
		p := catalog.Microsoft365
		if i%2 == 1 {
			p = catalog.Salesforce
		}
		cfg := e.config(p)
		chains = append(chains, chain{p, cfg, e.connect(p, cfg).RefreshToken})
	}
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for _, c := range chains {
		wg.Go(func() {
			rt := c.rt
			for range rounds {
				tok, err := e.refresh(c.cfg, rt)
				if err != nil {
					t.Errorf("%s refresh: %v", c.provider, err)
					return
				}
				mu.Lock()
				if seen[tok.AccessToken] || seen[tok.RefreshToken] {
					t.Errorf("a token was issued twice")
				}
				seen[tok.AccessToken], seen[tok.RefreshToken] = true, true
				mu.Unlock()
				rt = tok.RefreshToken
			}
		})
	}
	wg.Wait()
	if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeOK}); got != workers*rounds {
		t.Errorf("refreshes = %d, want %d", got, workers*rounds)
	}
	used := e.fake.RefreshTokensUsed(fakeprovider.Filter{})
	distinct := map[string]bool{}
	for _, u := range used {
		if u.Reused || distinct[u.Token] {
			t.Fatalf("refresh token presented twice: %+v", u)
		}
		distinct[u.Token] = true
	}
	if len(used) != workers*rounds {
		t.Errorf("refresh log has %d entries", len(used))
	}
}

// TestConcurrentSameRefreshToken: many goroutines race with one rotating
// refresh token; exactly one wins, the others are caught reusing it.
func TestConcurrentSameRefreshToken(t *testing.T) {
	const racers = 24
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	cfg := e.config(catalog.Microsoft365)
	rt := e.connect(catalog.Microsoft365, cfg).RefreshToken
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range racers {
		wg.Go(func() {
			if _, err := e.refresh(cfg, rt); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d refreshes won with one refresh token, want 1", wins)
	}
	reused := 0
	for _, u := range e.fake.RefreshTokensUsed(fakeprovider.Filter{Provider: catalog.Microsoft365}) {
		if u.Reused {
			reused++
		}
	}
	if reused != racers-1 {
		t.Errorf("reuses recorded = %d, want %d", reused, racers-1)
	}
	if got := e.fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindRefresh, Outcome: fakeprovider.OutcomeRefused}); got != racers-1 {
		t.Errorf("refused = %d", got)
	}
}

// TestCountFilters: counts by user and client, and ResetCounts.
func TestCountFilters(t *testing.T) {
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	e.fake.AddUser(fakeprovider.User{Provider: catalog.Salesforce, Email: "frank@example.com"})
	cfg := e.config(catalog.Salesforce)
	e.connect(catalog.Salesforce, cfg)
	e.connect(catalog.Salesforce, cfg, oauth2.SetAuthURLParam("login_hint", "Frank@Example.com"))
	e.connect(catalog.Salesforce, cfg, oauth2.SetAuthURLParam("login_hint", "frank@example.com"))
	for _, tc := range []struct {
		f    fakeprovider.Filter
		want int
	}{
		{fakeprovider.Filter{Kind: fakeprovider.KindExchange}, 3},
		{fakeprovider.Filter{Kind: fakeprovider.KindExchange, User: "FRANK@example.com"}, 2},
		{fakeprovider.Filter{Kind: fakeprovider.KindAuthorize, User: fakeprovider.DefaultSalesforceUser}, 1},
		{fakeprovider.Filter{ClientID: cfg.ClientID}, 6},
		{fakeprovider.Filter{ClientID: "other"}, 0},
		{fakeprovider.Filter{Provider: catalog.Microsoft365}, 0},
		{fakeprovider.Filter{Outcome: fakeprovider.OutcomeRefused}, 0},
	} {
		if got := e.fake.Count(tc.f); got != tc.want {
			t.Errorf("Count(%+v) = %d, want %d", tc.f, got, tc.want)
		}
	}
	e.fake.ResetCounts()
	if got := e.fake.Count(fakeprovider.Filter{}); got != 0 {
		t.Errorf("after ResetCounts: %d", got)
	}
}
