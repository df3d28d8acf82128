package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
)

// secretsRunRequests is the length of one warm container's run.
const secretsRunRequests = 1000

// secretsMix are the requests of the run, in turn: every route that reads
// secrets or stores (routeCases) except the two that write a client secret
// (a container's own write drops its cached entry, by design), plus a
// callback through a platform default client.
func secretsMix() []routeCase {
	var mix []routeCase
	for _, rc := range routeCases {
		if !strings.HasSuffix(rc.route, "/client-secret") {
			mix = append(mix, rc)
		}
	}
	return append(mix, routeCase{"GET /oauth/callback (default client)", 302, func(b *testing.B, s *scenario, p *probe, i int) request {
		user := fmt.Sprintf("u-callback-ms-%04d", i)
		return request{method: "GET", target: s.callbackURL(b, s.env.MemberToken(user, org, pilotGroup), catalog.Microsoft365)}
	}})
}

// BenchmarkSecretsCache: one warm container (one set of dependencies on
// moto_server) serves secretsRunRequests requests, a mix of routes; the
// Secrets Manager GetSecretValue calls are counted per secret. With the
// in-process cache (SECRETS_CACHE_TTL_SECONDS, default 300 s) and a run
// shorter than the TTL, each secret the run needs is read once.
//
// Reported per iteration (medians): "gets:<secret>" per secret (token-key,
// default-client/<provider>, org-secret/<org>/<provider>), secrets-read
// (how many distinct), secrets-calls (every Secrets Manager call),
// max-gets-per-secret, run-s and cache-ttl-s.
func BenchmarkSecretsCache(b *testing.B) {
	s := newScenario(b, localtest.WithAWS())
	quietLogs()
	mix := secretsMix()
	cfg := s.env.Config
	label := func(name string) string {
		// A token key read by version id (a token sealed under an older
		// key) is its own cache entry.
		version := ""
		if n, _, ok := strings.Cut(name, " (version "); ok {
			name, version = n, "@version"
		}
		switch {
		case name == cfg.TokenKeySecretID:
			return "token-key" + version
		case strings.HasPrefix(name, cfg.SecretsPrefix+"/default-clients/"):
			return "default-client/" + strings.TrimPrefix(name, cfg.SecretsPrefix+"/default-clients/") + version
		case strings.HasPrefix(name, cfg.SecretsPrefix+"/orgs/"):
			return "org-secret/" + strings.TrimSuffix(strings.TrimPrefix(name, cfg.SecretsPrefix+"/orgs/"), "/client-secret") + version
		}
		b.Fatalf("a secret of no known kind was read: %s", name)
		return ""
	}

	perSecret := map[string][]float64{}
	var read, calls, maxGets, runS []float64
	seq := 0
	for b.Loop() {
		p := newProbe(b, s.env)
		gets := map[string]int{}
		total := 0
		start := time.Now()
		for i := range secretsRunRequests {
			rc := mix[i%len(mix)]
			seq++
			req := rc.prepare(b, s, p, 100000+seq)
			smp := p.do(b, req)
			mustStatus(b, rc.route, smp, rc.status)
			total += smp.secrets
			for name, n := range p.secrets.take() {
				gets[label(name)] += n
			}
		}
		runS = append(runS, time.Since(start).Seconds())
		p.close()
		most := 0
		for k, n := range gets {
			perSecret[k] = append(perSecret[k], float64(n))
			most = max(most, n)
		}
		read = append(read, float64(len(gets)))
		calls = append(calls, float64(total))
		maxGets = append(maxGets, float64(most))
	}
	for _, k := range slices.Sorted(maps.Keys(perSecret)) {
		b.ReportMetric(median(perSecret[k]), "gets:"+k)
	}
	b.ReportMetric(float64(secretsRunRequests), "requests")
	b.ReportMetric(median(read), "secrets-read")
	b.ReportMetric(median(calls), "secrets-calls")
	b.ReportMetric(median(maxGets), "max-gets-per-secret")
	b.ReportMetric(median(runS), "run-s")
	b.ReportMetric(cfg.SecretsCacheTTL.Seconds(), "cache-ttl-s")
	b.ReportMetric(0, "ns/op")
}
