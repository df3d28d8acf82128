package refresh_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// TestRotationUsesTheNewRefreshToken: Microsoft replaces the refresh token on
// every refresh, Salesforce does with the connected app's rotation on (and
// revokes the whole family when a replaced one is presented again). Two
// rounds of 8 overlapping runs: every second refresh presents the token the
// first one issued, and no refresh ever presents a replaced token. Google
// does not rotate: its refresh token is kept.
func TestRotationUsesTheNewRefreshToken(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			f := newFixture(t, b.opts...)
			now := f.env.Clock.Now()
			specs := []integrationSpec{
				{org: "o1", provider: catalog.Microsoft365},
				{org: "o1", provider: catalog.Salesforce, orgClient: true, rotate: true},
				{org: "o1", provider: catalog.GoogleWorkspace},
			}
			seededBy := map[string][]seeded{}
			for _, s := range specs {
				seededBy[s.provider] = f.seed(f.enable(s), "u-", b.size(40, 0.25), now.Add(-time.Minute))
			}

			overlapping := func() {
				var wg sync.WaitGroup
				for range 8 {
					s := f.service(nil)
					wg.Go(func() { f.run(context.Background(), s) })
				}
				wg.Wait()
			}

			overlapping()
			first := map[store.ConnKey]string{} // refresh token stored after round one
			for p, conns := range seededBy {
				f.assertRefreshedOnce(p, conns)
				for _, s := range conns {
					rt := f.tokens(f.conn(s.key)).RefreshToken
					rotated := rt != s.refreshToken
					if want := p != catalog.GoogleWorkspace; rotated != want {
						t.Fatalf("%s: refresh token rotated = %v, want %v", s.key, rotated, want)
					}
					first[s.key] = rt
				}
			}

			// Round two, when the tokens issued in round one are due.
			f.env.Clock.Advance(50 * time.Minute)
			f.env.Fake.ResetCounts()
			overlapping()
			for p, conns := range seededBy {
				next := make([]seeded, len(conns))
				for i, s := range conns {
					next[i] = seeded{key: s.key, refreshToken: first[s.key]}
				}
				// Exactly one refresh per connection, with round one's token.
				f.assertRefreshedOnce(p, next)
				for _, u := range f.env.Fake.RefreshTokensUsed(fakeprovider.Filter{Provider: p}) {
					if u.Reused && p != catalog.GoogleWorkspace {
						t.Fatalf("%s: a replaced refresh token was presented again: %+v", p, u)
					}
				}
			}
		})
	}
}
