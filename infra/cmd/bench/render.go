package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sofie/integrations/infra/localserver"
)

// report is everything one make bench run measured.
type report struct {
	Date     time.Time
	Took     time.Duration
	Machine  machineInfo
	Sizes    map[string]int64 // linux/arm64 bootstrap bytes by function (and Minimal)
	Init     map[string]initCost
	Sections map[string]section
	Template string // template.yaml, for each route's function
}

// section is the output of one go test command.
type section struct {
	Command string
	Took    time.Duration
	Results results
}

// doc builds the markdown.
type doc struct{ strings.Builder }

func (d *doc) p(format string, args ...any) {
	fmt.Fprintf(d, format, args...)
	d.WriteString("\n")
}

func (d *doc) table(header []string, rows [][]string) {
	d.p("| %s |", strings.Join(header, " | "))
	// Columns of figures align right, text left.
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
		figures := i > 0 && len(rows) > 0
		for _, r := range rows {
			if i < len(r) && (r[i] == "" || !strings.ContainsAny(r[i][:1], "0123456789–")) {
				figures = false
			}
		}
		if figures {
			seps[i] = "---:"
		}
	}
	d.p("| %s |", strings.Join(seps, " | "))
	for _, r := range rows {
		d.p("| %s |", strings.Join(r, " | "))
	}
	d.p("")
}

func (s section) command(d *doc) {
	d.p("Measured by `%s` (took %s).", s.Command, s.Took.Round(time.Second))
	d.p("")
}

// num formats a figure: whole numbers as such, otherwise three significant
// digits or more.
func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.2f MiB", float64(b)/(1<<20)) }

// get is a figure of a section, "–" when it is missing.
func (r *report) get(section, name, unit string) string {
	if v, ok := r.Sections[section].Results.get(name, unit); ok {
		return num(v)
	}
	return "–"
}

func (r *report) markdown() (string, error) {
	var d doc
	m := r.Machine
	d.p("# Benchmarks")
	d.p("")
	d.p("Written by `make bench` (`go run ./infra/cmd/bench`), overwritten on every run. Each figure comes from the `go test -bench` command its section names, so any one can be rerun alone.")
	d.p("")
	d.p("- Date: %s", r.Date.Format("2006-01-02 15:04 MST"))
	d.p("- Machine: %s, %d logical CPUs, %s memory; %s (kernel %s)", orDash(m.CPU), m.CPUs, orDash(m.Memory), orDash(m.OS), orDash(m.Kernel))
	if m.LoadStart != "" {
		d.p("- Load: 1-minute load average %s at the start, %s at the end, on %d logical CPUs (other work on the machine slows the timing figures, not the counts)", m.LoadStart, orDash(m.LoadEnd), m.CPUs)
	}
	d.p("- Go: %s (%s); moto_server %s stands in for DynamoDB and Secrets Manager", orDash(m.GoVersion), m.Platform, m.Moto)
	if m.Commit != "" {
		d.p("- Commit: %s", m.Commit)
	}
	d.p("- Run time: %s (the benchmarks; `make build` before them not counted)", r.Took.Round(time.Second))
	d.p("")
	d.p("Latencies are medians of several samples (the sample counts are in each section). moto_server is a Python emulator, sent one request at a time here and far slower than DynamoDB: times that include AWS calls are moto's; call counts, handler time beyond the store calls and refresh throughput against its bound carry over.")
	d.p("")
	r.summary(&d)
	r.lean(&d)
	r.coldStart(&d)
	if err := r.api(&d); err != nil {
		return "", err
	}
	r.secrets(&d)
	r.refresh(&d)
	r.adminScale(&d)
	r.micro(&d)
	return d.String(), nil
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// summary is the headline table.
func (r *report) summary(d *doc) {
	d.p("## Summary")
	d.p("")
	var rows [][]string
	cs := r.Sections["coldstart"].Results
	for _, fn := range functions {
		var cells []string
		for _, name := range cs.with("BenchmarkColdStart/" + fn + "/") {
			store := name[strings.LastIndex(name, "/")+1:]
			if store == "aws" {
				store = "moto"
			}
			cells = append(cells, fmt.Sprintf("%s ms cold, %s ms warm (%s)", r.get("coldstart", name, "cold-start-ms"), r.get("coldstart", name, "warm-ms"), store))
		}
		rows = append(rows, []string{fn + ": cold start (process start to first answer) and warm invoke", strings.Join(cells, "; ")})
	}
	var sizes []string
	for _, fn := range functions {
		sizes = append(sizes, fmt.Sprintf("%s %s", strings.TrimSuffix(fn, "Function"), mib(r.Sizes[fn])))
	}
	rows = append(rows, []string{"linux/arm64 bootstrap sizes", strings.Join(sizes, ", ")})

	api := r.Sections["api"].Results
	if names := api.with("BenchmarkAPI/"); len(names) > 0 {
		var maxDDB, maxBeyond float64
		slowest := ""
		var withSM []string
		for _, n := range names {
			v, _ := api.get(n, "warm-dynamodb-calls")
			maxDDB = max(maxDDB, v)
			if v, _ = api.get(n, "warm-secrets-calls"); v > 0 {
				withSM = append(withSM, fmt.Sprintf("%s on `%s`", num(v), routeOf(n)))
			}
			if v, _ = api.get(n, "warm-beyond-store-ms"); v > maxBeyond {
				maxBeyond, slowest = v, routeOf(n)
			}
		}
		sm := "none on any route"
		if len(withSM) > 0 {
			sm = strings.Join(withSM, ", ") + ", none on the others"
		}
		rows = append(rows,
			[]string{fmt.Sprintf("AWS calls per API request, warm (%d routes)", len(names)),
				fmt.Sprintf("DynamoDB at most %s; Secrets Manager %s", num(maxDDB), sm)},
			[]string{"handler time beyond the store calls, warm (slowest route)", fmt.Sprintf("%s ms (`%s`)", num(maxBeyond), slowest)})
	}
	for _, mode := range []string{"pool-16", "one-at-a-time"} {
		name := "BenchmarkRefreshThroughput/" + mode
		rows = append(rows, []string{"refreshes per second at 50 ms provider latency, " + mode,
			fmt.Sprintf("%s /s of a %s /s bound (%s%%)", r.get("refresh", name, "refreshes/s"), r.get("refresh", name, "bound/s"), r.get("refresh", name, "%-of-bound"))})
	}
	if _, ok := r.Sections["scale"]; ok {
		rows = append(rows, []string{"due-index items read per due connection, 100,000 stored (bound 1.05)", r.get("scale", "BenchmarkRunAtScale", "items-read/due")})
	}
	sc := "BenchmarkSecretsCache"
	rows = append(rows, []string{"Secrets Manager reads per secret, one warm container, 1,000 requests",
		fmt.Sprintf("at most %s (%s secrets, %s calls in all; cache TTL %s s, run %s s)",
			r.get("secrets", sc, "max-gets-per-secret"), r.get("secrets", sc, "secrets-read"), r.get("secrets", sc, "secrets-calls"),
			r.get("secrets", sc, "cache-ttl-s"), r.get("secrets", sc, "run-s"))})
	rows = append(rows, []string{"seal and open a connection's token pair (AES-256-GCM)",
		fmt.Sprintf("%s µs, %s allocations", usec(r, "seal", "BenchmarkVaultSealOpenToken"), r.get("seal", "BenchmarkVaultSealOpenToken", "allocs/op"))})
	d.table([]string{"figure", "value"}, rows)
}

// perOp is ns/op in the unit that reads best.
func perOp(r *report, section, name string) string {
	v, ok := r.Sections[section].Results.get(name, "ns/op")
	switch {
	case !ok:
		return "–"
	case v >= 1e6:
		return num(v/1e6) + " ms"
	case v >= 1e3:
		return num(v/1e3) + " µs"
	}
	return num(v) + " ns"
}

func usec(r *report, section, name string) string {
	if v, ok := r.Sections[section].Results.get(name, "ns/op"); ok {
		return num(v / 1000)
	}
	return "–"
}

func (r *report) coldStart(d *doc) {
	s, ok := r.Sections["coldstart"]
	if !ok {
		return
	}
	d.p("## Lambda bootstraps: size, cold start, warm latency")
	d.p("")
	d.p("Each function's `bootstrap`, built with the Lambda build's flags for this machine's architecture, started under the AWS Lambda Runtime Interface Emulator (`infra/rie`, the emulator `sam local` uses) with its representative `events/` sample. A cold start is the time from starting the emulator process to the first answer (the function's process starts, runs its init, handles the event); *first invoke* is that first invocation's round trip alone. Then %s warm invocations of the same event. Local configuration: on moto the init also checks that the table and token key exist, which a deployment does not. The emulator applies no Lambda CPU limit: a 256 MB function gets a fraction of a vCPU in Lambda and starts slower. Sizes are of the linux/arm64 binaries `make build` writes (what is deployed).", "10")
	d.p("")
	s.command(d)
	var rows [][]string
	for _, fn := range functions {
		for _, name := range s.Results.with("BenchmarkColdStart/" + fn + "/") {
			parts := strings.Split(name, "/")
			if len(parts) != 4 {
				continue
			}
			store := parts[3]
			if store == "aws" {
				store = "DynamoDB + Secrets Manager (moto)"
			}
			rows = append(rows, []string{fn, "`" + parts[2] + ".json`", mib(r.Sizes[fn]), store,
				r.get("coldstart", name, "cold-start-ms"), r.get("coldstart", name, "first-invoke-ms"), r.get("coldstart", name, "warm-ms"),
				r.get("coldstart", name, "cold-starts")})
		}
	}
	d.table([]string{"function", "event", "linux/arm64 size", "store", "cold start ms", "first invoke ms", "warm ms", "cold starts"}, rows)
}

// routeOf turns "BenchmarkAPI/GET_/v1/providers" back into "GET /v1/providers".
func routeOf(name string) string {
	return strings.Replace(strings.TrimPrefix(name, "BenchmarkAPI/"), "_", " ", 1)
}

func (r *report) api(d *doc) error {
	s, ok := r.Sections["api"]
	if !ok {
		return nil
	}
	tmpl, err := localserver.LoadTemplate(r.Template)
	if err != nil {
		return err
	}
	function := map[string]string{}
	for id, f := range tmpl.Functions {
		for _, rt := range f.Routes {
			function[rt.Key()] = strings.TrimSuffix(id, "Function")
		}
	}
	d.p("## API operations")
	d.p("")
	d.p("Every route of `template.yaml`, on the AWS adapters (moto), through the local server's API Gateway emulation into the function's own Lambda handler, in-process. Setup: org `o-acme` with all three providers configured (Microsoft 365 on the default client, Google Workspace on the org's own client, Salesforce on the default client), an admin, and a member connected to Microsoft 365 and Google Workspace; a second org's Microsoft 365 on its own client for the client-secret routes (set again with a credential check, removed after being set). The integration routes read and save the Google configuration; start is a Google connection, callback a new user's first Google connection (code exchange at the fake provider), disconnect a Salesforce connection, diagnostics the member's Microsoft 365 email, test Microsoft 365. The routes that need state (an ETag, a state, a connection) get it through a second, unmeasured instance of the service. Each sample builds fresh dependencies (a new container) for one **cold** request (its first, secret cache empty), followed by warm requests. AWS calls are counted by `shared/store/awscount` on the SDK clients the dependencies are built with, and timed by a middleware beside it; *beyond store* is handler time minus the time with an AWS call in flight, and includes the calls to the (in-process) fake provider, shown apart.")
	d.p("")
	s.command(d)
	var rows [][]string
	for _, name := range s.Results.with("BenchmarkAPI/") {
		route := routeOf(name)
		g := func(unit string) string { return r.get("api", name, unit) }
		rows = append(rows, []string{"`" + route + "`", function[route],
			g("cold-dynamodb-calls"), g("cold-secrets-calls"), g("warm-dynamodb-calls"), g("warm-secrets-calls"),
			breakdown(s.Results, name, "warm-op:"),
			g("warm-handler-ms"), g("warm-aws-ms"), g("warm-provider-ms"), g("warm-beyond-store-ms"), g("cold-beyond-store-ms"),
			g("samples-cold") + " / " + g("samples-warm")})
	}
	d.table([]string{"route", "function", "DynamoDB cold", "Secrets Mgr cold", "DynamoDB warm", "Secrets Mgr warm", "warm calls",
		"handler ms", "AWS ms", "provider ms", "beyond store ms", "beyond store ms, cold", "samples cold / warm"}, rows)
	return nil
}

// breakdown lists the calls by operation: "GetItem, Query ×2".
func breakdown(r results, name, prefix string) string {
	var parts []string
	for _, u := range r.units(name) {
		op, ok := strings.CutPrefix(u, prefix)
		if !ok {
			continue
		}
		v, _ := r.get(name, u)
		if v == 0 {
			continue
		}
		_, op, _ = strings.Cut(op, ".")
		if v == 1 {
			parts = append(parts, op)
		} else {
			parts = append(parts, fmt.Sprintf("%s ×%s", op, num(v)))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (r *report) secrets(d *doc) {
	s, ok := r.Sections["secrets"]
	if !ok {
		return
	}
	name := "BenchmarkSecretsCache"
	d.p("## Secrets Manager cache")
	d.p("")
	d.p("One warm container (one set of dependencies on moto) serves %s requests, a round robin over every route except the two that write a client secret, plus OAuth callbacks through a platform default client; GetSecretValue calls are counted per secret. Expected: one per secret per cache TTL (`SECRETS_CACHE_TTL_SECONDS`, %s s); the run took %s s. %s Secrets Manager calls in all, %s distinct secrets.",
		r.get("secrets", name, "requests"), r.get("secrets", name, "cache-ttl-s"), r.get("secrets", name, "run-s"),
		r.get("secrets", name, "secrets-calls"), r.get("secrets", name, "secrets-read"))
	d.p("")
	s.command(d)
	var rows [][]string
	for _, u := range s.Results.units(name) {
		if secret, ok := strings.CutPrefix(u, "gets:"); ok {
			rows = append(rows, []string{"`" + secret + "`", r.get("secrets", name, u)})
		}
	}
	d.table([]string{"secret", "GetSecretValue calls over the run"}, rows)
}

func (r *report) refresh(d *doc) {
	s, ok := r.Sections["refresh"]
	if !ok {
		return
	}
	d.p("## Refresh")
	d.p("")
	d.p("The refresh benchmarks (`infra/systemtest/refresh`). Throughput: the fake provider answers every call in 50 ms (Google: one call per refresh); each iteration refreshes a fresh batch of due connections (embedded store); the bound is concurrency ÷ latency. Figures are medians over the `-count` runs.")
	d.p("")
	s.command(d)
	var rows [][]string
	for _, name := range s.Results.with("BenchmarkRefreshThroughput/") {
		rows = append(rows, []string{strings.TrimPrefix(name, "BenchmarkRefreshThroughput/"),
			r.get("refresh", name, "refreshes/s"), r.get("refresh", name, "bound/s"), r.get("refresh", name, "%-of-bound"),
			fmt.Sprint(len(s.Results.runs[name]))})
	}
	d.table([]string{"workers", "refreshes/s", "bound /s", "% of bound", "runs"}, rows)

	sc, ok := r.Sections["scale"]
	if !ok {
		d.p("The 100,000-connection run was skipped (`-scale=false`).")
		d.p("")
		return
	}
	d.p("Due-index reads at scale: 100,000 connections stored on moto, 1,000 of them due; a run reads the due-index (ScannedCount summed over every Query page) and never the rest of the table. The slowest part of make bench (moto sorts the whole table for every Query, and storing 100,000 items takes it minutes): allow up to 10 minutes.")
	d.p("")
	sc.command(d)
	name := "BenchmarkRunAtScale"
	d.table([]string{"figure", "value"}, [][]string{
		{"items read per due connection (bound 1.05)", r.get("scale", name, "items-read/due")},
		{"items read per run", r.get("scale", name, "items-read/run")},
	})
}

// adminScale is the admin save against a large org (issue 18): its
// DynamoDB calls must be those of a small org.
func (r *report) adminScale(d *doc) {
	if _, ok := r.Sections["adminscale"]; !ok {
		return
	}
	s := r.Sections["adminscale"]
	name := "BenchmarkAdminSaveAtScale"
	d.p("## Admin saves at scale")
	d.p("")
	d.p("An org with 10,000 connections on moto: a save that switches the OAuth client, one that disables the provider and one that enables it again. A save writes no connection (what it changes for them is derived, and what must be written back is a job the refresh run drains), so its DynamoDB calls are an empty org's: `TestSaveCostDoesNotGrowWithTheOrg` in `make test` holds them equal for 10 and 2,000 connections. The latency is moto's: its TransactWriteItems copies the whole table to make the transaction atomic, so it grows with the table (seconds at 10,000 items); DynamoDB's does not.")
	d.p("")
	s.command(d)
	d.table([]string{"figure", "value"}, [][]string{
		{"connections in the org", r.get("adminscale", name, "connections")},
		{"DynamoDB calls per save", r.get("adminscale", name, "dynamodb-calls/save")},
		{"latency per save on moto (ms)", r.get("adminscale", name, "ms/save")},
	})
}

func (r *report) micro(d *doc) {
	d.p("## Micro-benchmarks")
	d.p("")
	d.p("The package benchmarks of sealing (`shared/tokenseal`) and of the store adapters on moto (`shared/store/dynamostore`, `shared/store/awssecrets`), with `-benchmem`; medians over the `-count` runs. Store ns/op is moto's speed; calls/op and items-read/op carry over to DynamoDB.")
	d.p("")
	for _, key := range []string{"seal", "store"} {
		s, ok := r.Sections[key]
		if !ok {
			continue
		}
		s.command(d)
		var rows [][]string
		for _, name := range s.Results.names {
			var extra []string
			for _, u := range s.Results.units(name) {
				if !slices.Contains([]string{"ns/op", "B/op", "allocs/op"}, u) {
					extra = append(extra, r.get(key, name, u)+" "+u)
				}
			}
			rows = append(rows, []string{strings.TrimPrefix(name, "Benchmark"),
				perOp(r, key, name), r.get(key, name, "B/op"), r.get(key, name, "allocs/op"), strings.Join(extra, ", ")})
		}
		d.table([]string{"benchmark", "time/op", "B/op", "allocs/op", "other"}, rows)
	}
}
