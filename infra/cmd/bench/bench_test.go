package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		out  string
		// want: benchmark → unit → median; runs: benchmark → number of runs
		want map[string]map[string]float64
		runs map[string]int
		cpu  string
	}{
		{
			name: "one line per run, -count medians, GOMAXPROCS suffix dropped",
			out: `goos: linux
cpu: Some CPU @ 2.0GHz
BenchmarkSeal-2   	  100	  1000 ns/op	 1500 MB/s	 64 B/op	 2 allocs/op
BenchmarkSeal-2   	  100	  3000 ns/op	 1500 MB/s	 64 B/op	 2 allocs/op
BenchmarkSeal-2   	  100	  2000 ns/op	 1500 MB/s	 64 B/op	 2 allocs/op
PASS`,
			want: map[string]map[string]float64{"BenchmarkSeal": {"ns/op": 2000, "MB/s": 1500, "B/op": 64, "allocs/op": 2}},
			runs: map[string]int{"BenchmarkSeal": 3},
			cpu:  "Some CPU @ 2.0GHz",
		},
		{
			name: "even number of runs: mean of the middle two",
			out: `BenchmarkX/a-16 	 3	 10 ns/op	 4.5 calls/op
BenchmarkX/a-16 	 3	 20 ns/op	 5.5 calls/op`,
			want: map[string]map[string]float64{"BenchmarkX/a": {"ns/op": 15, "calls/op": 5}},
			runs: map[string]int{"BenchmarkX/a": 2},
		},
		{
			name: "sub-benchmark names with slashes, braces and a suppressed ns/op",
			out:  "BenchmarkAPI/GET_/v1/orgs/{orgId}/audit-2  \t 1\t 0.5 cold-beyond-store-ms\t 1.000 warm-op:DynamoDB.Query\n",
			want: map[string]map[string]float64{"BenchmarkAPI/GET_/v1/orgs/{orgId}/audit": {"cold-beyond-store-ms": 0.5, "warm-op:DynamoDB.Query": 1}},
			runs: map[string]int{"BenchmarkAPI/GET_/v1/orgs/{orgId}/audit": 1},
		},
		{
			name: "output printed while the benchmark ran splits name and figures",
			out: `BenchmarkRunAtScale-2   	{"level":"INFO","msg":"noise"}
some log line
       1	 1.001 items-read/due	 1001 items-read/run`,
			want: map[string]map[string]float64{"BenchmarkRunAtScale": {"items-read/due": 1.001, "items-read/run": 1001}},
			runs: map[string]int{"BenchmarkRunAtScale": 1},
		},
		{
			name: "name line, then figures on the next line",
			out:  "BenchmarkRunAtScale-2   \t\n       1\t 1.001 items-read/due\n",
			want: map[string]map[string]float64{"BenchmarkRunAtScale": {"items-read/due": 1.001}},
			runs: map[string]int{"BenchmarkRunAtScale": 1},
		},
		{
			name: "failures and logs are not results",
			out: `--- FAIL: BenchmarkY
    y_test.go:10: BenchmarkY failed 3 times
FAIL`,
			want: map[string]map[string]float64{},
			runs: map[string]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parse(tt.out)
			if len(r.names) != len(tt.want) {
				t.Fatalf("benchmarks %v, want %d", r.names, len(tt.want))
			}
			for name, units := range tt.want {
				if got := len(r.runs[name]); got != tt.runs[name] {
					t.Errorf("%s: %d runs, want %d", name, got, tt.runs[name])
				}
				for unit, want := range units {
					if got, ok := r.get(name, unit); !ok || got != want {
						t.Errorf("%s %s = %v (%v), want %v", name, unit, got, ok, want)
					}
				}
			}
			if r.cpu != tt.cpu {
				t.Errorf("cpu %q, want %q", r.cpu, tt.cpu)
			}
		})
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{3: "3", 0: "0", 1.234: "1.23", 12.34: "12.3", 123.4: "123", 1500: "1500", 0.05: "0.05"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestMarkdown renders a report from canned go test output: every section
// shows its command and its figures, and a missing figure is a dash, never
// a zero.
func TestMarkdown(t *testing.T) {
	sec := func(cmd, out string) section {
		return section{Command: cmd, Took: 3 * time.Second, Results: parse(out)}
	}
	r := &report{
		Date:     time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC),
		Took:     14 * time.Minute,
		Machine:  machineInfo{CPU: "Test CPU", CPUs: 2, GoVersion: "go1.26.8", Platform: "linux/amd64", Moto: "5.2.1", LoadStart: "0.52", LoadEnd: "1.10"},
		Sizes:    map[string]int64{"AdminFunction": 12 << 20, "OAuthFunction": 13 << 20, "DiagnosticsFunction": 12 << 20, "RefreshFunction": 11 << 20},
		Template: filepath.Join("..", "..", "..", "template.yaml"),
		Sections: map[string]section{
			"coldstart": sec("go test -bench ColdStart", "BenchmarkColdStart/AdminFunction/ListIntegrations/embedded-2 5 151.6 cold-start-ms 75.8 first-invoke-ms 3.14 warm-ms 5 cold-starts\n"),
			"api": sec("go test -bench API", "BenchmarkAPI/GET_/v1/orgs/{orgId}/audit-2 5 1 cold-dynamodb-calls 0 cold-secrets-calls 1 warm-dynamodb-calls 0 warm-secrets-calls 1 warm-op:DynamoDB.Query 20.0 warm-handler-ms 19.4 warm-aws-ms 0 warm-provider-ms 0.61 warm-beyond-store-ms 0.58 cold-beyond-store-ms 5 samples-cold 25 samples-warm\n"+
				"BenchmarkAPI/PUT_/v1/orgs/{orgId}/integrations/{provider}/client-secret-2 5 2 warm-secrets-calls 2 warm-op:SecretsManager.PutSecretValue 3.5 warm-beyond-store-ms\n"),
			"secrets": sec("go test -bench SecretsCache", "BenchmarkSecretsCache-2 1 300 cache-ttl-s 1 gets:token-key 1 gets:org-secret/o-acme/google_workspace 1 max-gets-per-secret 1000 requests 34.7 run-s 2 secrets-calls 2 secrets-read\n"),
			"refresh": sec("go test -bench RefreshThroughput", "BenchmarkRefreshThroughput/pool-16-2 3 1 ns/op 95.07 %-of-bound 320.0 bound/s 304.2 refreshes/s\n"),
			"seal":    sec("go test -bench . ./shared/tokenseal/", "BenchmarkVaultSealOpenToken-2 1000 4200 ns/op 3000 B/op 12 allocs/op\n"),
		},
	}
	md, err := r.markdown()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"- Date: 2026-11-29 20:00 UTC",
		"Test CPU, 2 logical CPUs",
		"1-minute load average 0.52 at the start, 1.10 at the end, on 2 logical CPUs",
		"| AdminFunction | `ListIntegrations.json` | 12.00 MiB | embedded | 152 | 75.8 | 3.14 | 5 |",
		"| `GET /v1/orgs/{orgId}/audit` | Admin | 1 | 0 | 1 | 0 | Query | 20 | 19.4 | 0 | 0.61 | 0.58 | 5 / 25 |",
		"Secrets Manager 2 on `PUT /v1/orgs/{orgId}/integrations/{provider}/client-secret`, none on the others",
		"handler time beyond the store calls, warm (slowest route) | 3.50 ms (`PUT /v1/orgs/{orgId}/integrations/{provider}/client-secret`)",
		"| `token-key` | 1 |",
		"| pool-16 | 304 | 320 | 95.1 | 1 |",
		"304 /s of a 320 /s bound (95.1%)",
		"4.20 µs, 12 allocations",
		"| VaultSealOpenToken | 4.20 µs | 3000 | 12 |  |",
		"| function | event | linux/arm64 size | store | cold start ms | first invoke ms | warm ms | cold starts |\n| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |",
		"Measured by `go test -bench API` (took 3s).",
		"The 100,000-connection run was skipped",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	// The second API route reported no cold figures: dashes, not zeros.
	if !strings.Contains(md, "| `PUT /v1/orgs/{orgId}/integrations/{provider}/client-secret` | Admin | – | – | – | 2 | PutSecretValue ×2 |") {
		t.Errorf("missing figures are not dashes:\n%s", md)
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"test", "-run", "^$", "-bench", ".", "./bench/"})
	if want := "test -run '^$' -bench . ./bench/"; got != want {
		t.Fatalf("shellJoin = %q, want %q", got, want)
	}
}
