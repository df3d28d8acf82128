package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/rie"
	"github.com/sofie/integrations/shared/config"
)

// warmInvokes is how many warm invocations follow each cold start.
const warmInvokes = 10

// coldStartEvents is the representative events/ sample of each function
// and the status its answer must have (0: the refresh function's result, or
// EventsFunction's partial batch response).
var coldStartEvents = []struct {
	function, pkg, event string
	status               int
}{
	// A member opening the Integrations tab.
	{config.AdminFunction, "./functions/admin", "ListIntegrations.json", 200},
	// A member starting a Google Workspace connection (state stored,
	// authorization URL built from the default client).
	{config.OAuthFunction, "./functions/oauth", "StartConnection.json", 201},
	// An admin diagnosing a connected user's Microsoft 365 email (tokens
	// opened, a read probe at the provider).
	{config.DiagnosticsFunction, "./functions/diagnostics", "Diagnose.json", 200},
	// The schedule's run (nothing due: the scenario's tokens are fresh).
	{config.RefreshFunction, "./functions/refresh", "Schedule.json", 0},
	// A batch of the table's stream: its lifecycle events put on
	// moto_server's default bus.
	{config.EventsFunction, "./functions/events", "EventsStreamMapping.json", 0},
}

// BenchmarkColdStart starts each function's built bootstrap (built for this
// machine's architecture with the Lambda build's flags) under the Lambda
// Runtime Interface Emulator (package infra/rie) with its representative
// event, on the AWS adapters (moto_server). Each
// iteration is one cold start followed by warmInvokes warm invocations of
// the same event. Reported, medians over the iterations:
//
//   - cold-start-ms: from starting the emulator process to the first
//     answer (the function's process starts, runs its init and handles the
//     event);
//   - first-invoke-ms: the first invocation's round trip alone (the
//     emulator already listening);
//   - warm-ms: a warm invocation's round trip;
//   - bytes: the bootstrap's size (this machine's architecture; make bench
//     reports the linux/arm64 sizes from make build).
//
// The emulator applies no Lambda CPU or memory limit: a 256 MB function in
// Lambda gets a fraction of a vCPU and starts slower than here.
func BenchmarkColdStart(b *testing.B) {
	ctx := context.Background()
	root := moduleRoot(b)
	emulator, err := rie.EmulatorPath(ctx, root)
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := localserver.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	bins := map[string]string{}
	sizes := map[string]int64{}
	for _, e := range coldStartEvents {
		bin, err := rie.BuildBootstrap(ctx, root, e.pkg, filepath.Join(dir, e.function))
		if err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(bin)
		if err != nil {
			b.Fatal(err)
		}
		bins[e.function], sizes[e.function] = bin, fi.Size()
	}

	// The bootstraps link only the AWS stores: they run on moto_server.
	for _, storeKind := range []string{"aws"} {
		s := newScenario(b, localtest.WithAWS())
		quietLogs()
		env := bootstrapEnv(s)
		for _, e := range coldStartEvents {
			// The name carries the event: make bench's table shows it.
			b.Run(e.function+"/"+strings.TrimSuffix(e.event, ".json")+"/"+storeKind, func(b *testing.B) {
				payload, err := os.ReadFile(filepath.Join(root, "events", e.function, e.event))
				if err != nil {
					b.Fatal(err)
				}
				var cold, first, warm []float64
				for b.Loop() {
					emu, err := rie.Start(ctx, rie.Config{
						Emulator: emulator, Bootstrap: bins[e.function], FunctionName: e.function,
						Timeout: tmpl.Functions[e.function].Timeout, Env: env,
					})
					if err != nil {
						b.Fatal(err)
					}
					out, took, err := emu.Invoke(ctx, payload)
					cold = append(cold, ms(time.Since(emu.Started())))
					first = append(first, ms(took))
					checkAnswer(b, e.function, e.status, out, err, emu)
					for range warmInvokes {
						out, took, err := emu.Invoke(ctx, payload)
						checkAnswer(b, e.function, e.status, out, err, emu)
						warm = append(warm, ms(took))
					}
					emu.Stop()
				}
				b.ReportMetric(median(cold), "cold-start-ms")
				b.ReportMetric(median(first), "first-invoke-ms")
				b.ReportMetric(median(warm), "warm-ms")
				b.ReportMetric(float64(sizes[e.function]), "bytes")
				b.ReportMetric(float64(len(cold)), "cold-starts")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// bootstrapEnv is the functions' environment for the scenario's stores,
// fake provider and API URL.
func bootstrapEnv(s *scenario) []string {
	cfg := s.env.Config
	vars := map[string]string{
		"ENVIRONMENT":                "test",
		"STORE":                      "aws",
		"PUBLIC_BASE_URL":            s.env.URL,
		"PROVIDER_ENDPOINT_OVERRIDE": s.env.FakeURL,
		"ALLOWED_RETURN_URLS":        localtest.ReturnURL + "," + eventsReturnURL,
		"TABLE_NAME":                 cfg.TableName,
		"SECRETS_PREFIX":             cfg.SecretsPrefix,
		"TOKEN_KEY_SECRET_ID":        cfg.TokenKeySecretID,
	}
	// localtest points the SDK at moto_server process-wide.
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} {
		vars[k] = os.Getenv(k)
	}
	var env []string
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// checkAnswer fails the benchmark unless the function answered the event
// as it should: a fast error is not a cold start.
func checkAnswer(b *testing.B, function string, status int, out []byte, err error, emu *rie.Emulator) {
	b.Helper()
	if err != nil {
		b.Fatalf("%s: %v\n%s", function, err, tail(emu.Output(), 3000))
	}
	if function == config.EventsFunction {
		var res struct {
			Failures  []any  `json:"batchItemFailures"`
			ErrorType string `json:"errorType"`
		}
		if json.Unmarshal(out, &res) != nil || res.ErrorType != "" || res.Failures == nil || len(res.Failures) != 0 {
			b.Fatalf("%s: %s\n%s", function, out, tail(emu.Output(), 3000))
		}
		return
	}
	if status == 0 {
		var res struct {
			Complete  bool   `json:"complete"`
			ErrorType string `json:"errorType"`
		}
		if json.Unmarshal(out, &res) != nil || res.ErrorType != "" || !res.Complete {
			b.Fatalf("%s: %s\n%s", function, out, tail(emu.Output(), 3000))
		}
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != status {
		b.Fatalf("%s: want status %d, got %.500s\n%s", function, status, out, tail(emu.Output(), 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
