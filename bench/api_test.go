package bench

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
)

// warmPerCold is how many warm requests follow each cold one.
const warmPerCold = 5

// routeCase says how to measure one route of the template: prepare sets up
// what the request needs through env's API (not measured; the probe's
// container sees none of it) and returns the request, sent by a user of
// p's server. i is unique per request.
type routeCase struct {
	route   string // the template's route key
	status  int
	prepare func(b *testing.B, s *scenario, p *probe, i int) request
}

func (p *probe) admin(b *testing.B, orgID string) string {
	return p.token(b, adminUser, orgID, []string{p.deps.Config.Claims.AdminRole}, nil)
}

func (p *probe) member(b *testing.B, user string) string {
	return p.token(b, user, org, nil, []string{pilotGroup})
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

const (
	orgPath       = "/v1/orgs/" + org
	googlePath    = orgPath + "/integrations/" + catalog.GoogleWorkspace
	secretMSPath  = "/v1/orgs/" + secretsOrg + "/integrations/" + catalog.Microsoft365 + "/client-secret"
	microsoftPath = orgPath + "/integrations/" + catalog.Microsoft365
)

var routeCases = []routeCase{
	{"GET /v1/providers", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: "/v1/providers", token: p.member(b, memberUser)}
	}},
	{"GET /v1/orgs/{orgId}/integrations", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: orgPath + "/integrations", token: p.member(b, memberUser)}
	}},
	{"GET /v1/orgs/{orgId}/integrations/{provider}", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: googlePath, token: p.admin(b, org)}
	}},
	// An admin changes the Google configuration's pilot groups (a save that
	// changes nothing writes nothing), after reading its ETag.
	{"PUT /v1/orgs/{orgId}/integrations/{provider}", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		etag := expect(b, s.env.Do("GET", googlePath, s.admin, nil), 200).Header.Get("ETag")
		body := maps.Clone(googleBody)
		body["rollout"] = map[string]any{"mode": "groups", "groups": []string{pilotGroup, fmt.Sprintf("beta-%d", i)}}
		return request{method: "PUT", target: googlePath, token: p.admin(b, org), body: jsonBody(body), header: http.Header{"If-Match": {etag}}}
	}},
	// o-secrets' Microsoft client secret, set again (checked at the
	// provider with a client-credentials grant) ...
	{"PUT /v1/orgs/{orgId}/integrations/{provider}/client-secret", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "PUT", target: secretMSPath, token: p.admin(b, secretsOrg), body: jsonBody(map[string]string{"clientSecret": microsoftSecret})}
	}},
	// ... and removed, after env's API set it.
	{"DELETE /v1/orgs/{orgId}/integrations/{provider}/client-secret", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		expect(b, s.env.Do("PUT", secretMSPath, s.env.AdminToken(adminUser, secretsOrg), map[string]string{"clientSecret": microsoftSecret}), 200)
		return request{method: "DELETE", target: secretMSPath, token: p.admin(b, secretsOrg)}
	}},
	{"GET /v1/orgs/{orgId}/audit", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: orgPath + "/audit?limit=20", token: p.admin(b, org)}
	}},
	{"POST /v1/orgs/{orgId}/connections/{provider}", 201, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "POST", target: orgPath + "/connections/" + catalog.GoogleWorkspace, token: p.member(b, memberUser),
			body: jsonBody(map[string]string{"returnTo": localtest.ReturnURL + "settings"})}
	}},
	// A new user's first connection to Google Workspace (the org's own
	// client): env's API started it and the fake provider approved it; the
	// measured request is the provider's redirect back (code exchange,
	// identity, sealing, storing).
	{"GET /oauth/callback", 302, func(b *testing.B, s *scenario, p *probe, i int) request {
		user := fmt.Sprintf("u-callback-%04d", i)
		return request{method: "GET", target: s.callbackURL(b, s.env.MemberToken(user, org, pilotGroup), catalog.GoogleWorkspace)}
	}},
	// The same user completes it (the pending tokens opened, sealed for the
	// connection, stored).
	{"POST /v1/orgs/{orgId}/connections/{provider}/complete", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		user := fmt.Sprintf("u-complete-%04d", i)
		handle := s.completion(b, s.env.MemberToken(user, org, pilotGroup), catalog.GoogleWorkspace)
		return request{method: "POST", target: orgPath + "/connections/" + catalog.GoogleWorkspace + "/complete", token: p.member(b, user),
			body: jsonBody(map[string]string{"completion": handle})}
	}},
	{"GET /v1/orgs/{orgId}/connections", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: orgPath + "/connections", token: p.member(b, memberUser)}
	}},
	// A user disconnects Salesforce, connected through env's API.
	{"DELETE /v1/orgs/{orgId}/connections/{provider}", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		user := fmt.Sprintf("u-disconnect-%04d", i)
		s.connect(b, s.env.MemberToken(user, org, pilotGroup), catalog.Salesforce)
		return request{method: "DELETE", target: orgPath + "/connections/" + catalog.Salesforce, token: p.member(b, user)}
	}},
	// An admin diagnoses u-bob's Microsoft 365 email (stored tokens opened,
	// a read probe at the provider).
	{"GET /v1/orgs/{orgId}/diagnostics/{provider}", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: orgPath + "/diagnostics/" + catalog.Microsoft365 + "?user=" + memberUser + "&capability=email&action=read", token: p.admin(b, org)}
	}},
	{"POST /v1/orgs/{orgId}/integrations/{provider}/test", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "POST", target: microsoftPath + "/test", token: p.admin(b, org), body: "{}"}
	}},
	// The admin starts the org's Google Workspace test account ...
	{"POST /v1/orgs/{orgId}/integrations/{provider}/test-account", 201, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "POST", target: googlePath + "/test-account", token: p.admin(b, org),
			body: jsonBody(map[string]string{"returnTo": localtest.ReturnURL + "settings"})}
	}},
	// ... and removes it, after env's API connected it (revoked at the fake
	// Google, the record and its audit entry in one transaction).
	{"DELETE /v1/orgs/{orgId}/integrations/{provider}/test-account", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		resp := expect(b, s.env.Do("POST", googlePath+"/test-account", s.admin, map[string]string{"returnTo": localtest.ReturnURL + "settings"}), 201)
		authURL, _ := resp.Object()["authorizationUrl"].(string)
		_, handle := s.env.Completion(expect(b, s.env.Do("GET", expect(b, s.env.Do("GET", authURL, "", nil), 302).Location().String(), "", nil), 302))
		expect(b, s.env.Do("POST", orgPath+"/connections/"+catalog.GoogleWorkspace+"/complete", s.admin, map[string]string{"completion": handle}), 200)
		return request{method: "DELETE", target: googlePath + "/test-account", token: p.admin(b, org)}
	}},
	// The admin asks for Microsoft's org-wide admin consent (a state bound
	// to the admin, the adminconsent URL).
	{"POST /v1/orgs/{orgId}/integrations/{provider}/admin-consent", 201, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "POST", target: microsoftPath + "/admin-consent", token: p.admin(b, org),
			body: jsonBody(map[string]string{"returnTo": localtest.ReturnURL + "settings"})}
	}},
	// The rollout view of the org's Google Workspace (every connection the
	// benchmark made).
	{"GET /v1/orgs/{orgId}/integrations/{provider}/rollout", 200, func(b *testing.B, s *scenario, p *probe, i int) request {
		return request{method: "GET", target: googlePath + "/rollout", token: p.admin(b, org)}
	}},
}

// BenchmarkAPI measures every route of template.yaml on the AWS adapters
// (DynamoDB and Secrets Manager on moto_server), each request through the
// local server's API Gateway emulation into the function's own Lambda
// handler, in-process. Each iteration builds fresh dependencies (a cold
// container) and sends one cold request, then warmPerCold warm ones (the
// secret cache filled). Reported per route, medians over the samples:
//
//   - DynamoDB and Secrets Manager calls per request (awscount, on the SDK
//     clients the dependencies are built with), cold and warm;
//   - handler time (inside the Lambda handler), the time with an AWS call
//     in flight, the time with a provider call in flight (the fake
//     provider, in-process), and handler time beyond the store calls
//     (handler − AWS).
//
// moto_server answers far slower than DynamoDB, so the AWS time here is
// moto's; the call counts and the time beyond the store calls carry over.
func BenchmarkAPI(b *testing.B) {
	s := newScenario(b, localtest.WithAWS())
	quietLogs()

	tmpl, err := localserver.LoadTemplate(filepath.Join(moduleRoot(b), "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var routes, covered []string
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			routes = append(routes, r.Key())
		}
	}
	for _, rc := range routeCases {
		covered = append(covered, rc.route)
	}
	slices.Sort(routes)
	slices.Sort(covered)
	if !slices.Equal(routes, covered) {
		b.Fatalf("template.yaml has the routes %v, the benchmark measures %v", routes, covered)
	}

	// Each route once before measuring, on a container of its own: what
	// happens only the first time ever (a connection's first diagnosis
	// records what it found) is not what a cold container costs.
	seq := 0
	warmUp := newProbe(b, s.env)
	for _, rc := range routeCases {
		seq++
		mustStatus(b, rc.route+" (warm-up)", warmUp.do(b, rc.prepare(b, s, warmUp, seq)), rc.status)
	}
	warmUp.close()

	for _, rc := range routeCases {
		b.Run(rc.route, func(b *testing.B) {
			var cold, warm []sample
			for b.Loop() {
				p := newProbe(b, s.env)
				for j := range 1 + warmPerCold {
					seq++
					req := rc.prepare(b, s, p, seq)
					smp := p.do(b, req)
					mustStatus(b, rc.route, smp, rc.status)
					if j == 0 {
						cold = append(cold, smp)
					} else {
						warm = append(warm, smp)
					}
				}
				p.close()
			}
			reportSamples(b, cold, warm)
		})
	}
}

func reportSamples(b *testing.B, cold, warm []sample) {
	pick := func(ss []sample, f func(sample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		return median(v)
	}
	metrics := map[string]float64{
		"cold-dynamodb-calls": pick(cold, func(s sample) float64 { return float64(s.dynamo) }),
		"cold-secrets-calls":  pick(cold, func(s sample) float64 { return float64(s.secrets) }),
		"warm-dynamodb-calls": pick(warm, func(s sample) float64 { return float64(s.dynamo) }),
		"warm-secrets-calls":  pick(warm, func(s sample) float64 { return float64(s.secrets) }),
		"cold-handler-ms":     pick(cold, func(s sample) float64 { return ms(s.handler) }),
		"cold-beyond-store-ms": pick(cold, func(s sample) float64 {
			return ms(s.handler - s.aws)
		}),
		"warm-handler-ms":      pick(warm, func(s sample) float64 { return ms(s.handler) }),
		"warm-aws-ms":          pick(warm, func(s sample) float64 { return ms(s.aws) }),
		"warm-provider-ms":     pick(warm, func(s sample) float64 { return ms(s.out) }),
		"warm-beyond-store-ms": pick(warm, func(s sample) float64 { return ms(s.handler - s.aws) }),
		"samples-cold":         float64(len(cold)),
		"samples-warm":         float64(len(warm)),
	}
	// The breakdown by operation ("warm-op:DynamoDB.GetItem"), medians.
	for prefix, ss := range map[string][]sample{"cold-op:": cold, "warm-op:": warm} {
		ops := map[string]bool{}
		for _, s := range ss {
			for op := range s.ops {
				ops[op] = true
			}
		}
		for op := range ops {
			if n := pick(ss, func(s sample) float64 { return float64(s.ops[op]) }); n > 0 {
				metrics[prefix+op] = n
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(metrics)) {
		b.ReportMetric(metrics[k], k)
	}
	b.ReportMetric(0, "ns/op")
}
