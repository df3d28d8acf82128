// Command bench runs the service's benchmarks (make bench) and writes one
// markdown report, printed and saved to bench/results.md (overwritten each
// run):
//
//   - the size of each linux/arm64 bootstrap (make build, which make bench
//     runs first) and its package initialisation, side by side with
//     bench/minimal's (lean.go);
//   - cold start and warm latency of each bootstrap through the Lambda
//     runtime emulator, on moto_server
//     (bench.BenchmarkColdStart);
//   - AWS calls and handler time of every API route (bench.BenchmarkAPI);
//   - Secrets Manager calls per secret of a warm container over 1,000
//     requests (bench.BenchmarkSecretsCache);
//   - refresh throughput at 50 ms provider latency, pooled and one at a
//     time, and the due-index reads with 100,000 connections stored
//     (infra/systemtest/refresh's BenchmarkRefreshThroughput and BenchmarkRunAtScale);
//   - the micro-benchmarks of sealing and of the store adapters (-benchmem).
//
// Every figure comes from a go test -bench command the report names, so
// each can be rerun alone. The whole run takes about 8 minutes on 2 cores;
// the 100,000-connection run on moto_server is the slowest part (about 4
// minutes there, allow 10; -scale=false skips it).
//
//	go run ./infra/cmd/bench [-out bench/results.md] [-bootstraps build] [-scale=false]
package main

import (
	"bytes"
	"context"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/config"
)

// functions are the template's functions, in the order the report lists
// them.
var functions = []string{config.AdminFunction, config.OAuthFunction, config.DiagnosticsFunction, config.RefreshFunction, config.EventsFunction}

// step is one go test command and the report section it feeds.
type step struct {
	section string
	what    string // shown while it runs
	args    []string
}

func goTest(pkgs []string, flags ...string) []string {
	return append(append([]string{"test", "-run", "^$"}, flags...), pkgs...)
}

// steps are the benchmark commands. Figures that involve timing are medians
// of several samples: each bench/ iteration is one sample (-benchtime Nx),
// package benchmarks repeat with -count and the report takes the median.
func steps(scale bool) []step {
	s := []step{
		{"coldstart", "cold start and warm latency of the five bootstraps through the Lambda runtime emulator",
			goTest([]string{"./bench/"}, "-bench", "^BenchmarkColdStart$", "-benchtime", "5x", "-count", "1", "-timeout", "30m")},
		{"api", "AWS calls and handler time of every API route (moto_server)",
			goTest([]string{"./bench/"}, "-bench", "^BenchmarkAPI$", "-benchtime", "5x", "-count", "1", "-timeout", "30m")},
		{"secrets", "Secrets Manager calls of a warm container over 1,000 requests (moto_server)",
			goTest([]string{"./bench/"}, "-bench", "^BenchmarkSecretsCache$", "-benchtime", "1x", "-count", "1", "-timeout", "30m")},
		{"refresh", "refresh throughput at 50 ms provider latency",
			goTest([]string{"./infra/systemtest/refresh/"}, "-tags", "moto", "-bench", "^BenchmarkRefreshThroughput$", "-benchtime", "3x", "-count", "3", "-timeout", "30m")},
	}
	if scale {
		s = append(s, step{"scale", "a refresh run with 100,000 connections stored on moto_server (slow: allow up to 10 minutes)",
			goTest([]string{"./infra/systemtest/refresh/"}, "-tags", "moto", "-bench", "^BenchmarkRunAtScale$", "-benchtime", "1x", "-count", "1", "-timeout", "90m")})
	}
	return append(s,
		step{"adminscale", "admin saves against an org of 10,000 connections (moto_server)",
			goTest([]string{"./infra/systemtest/admin/"}, "-tags", "moto", "-bench", "^BenchmarkAdminSaveAtScale$", "-benchtime", "1x", "-count", "1", "-timeout", "30m")},
		step{"seal", "sealing micro-benchmarks",
			goTest([]string{"./shared/tokenseal/"}, "-bench", ".", "-benchmem", "-count", "5", "-timeout", "30m")},
		step{"store", "store operations on moto_server",
			goTest([]string{"./shared/store/dynamostore/", "./shared/store/awssecrets/"}, "-tags", "moto", "-bench", ".", "-benchmem", "-count", "3", "-timeout", "30m")},
	)
}

func main() {
	out := flag.String("out", "bench/results.md", "where to write the report (relative to the module root)")
	bootstraps := flag.String("bootstraps", "build", "make build's output directory: <dir>/<LogicalId>/bootstrap")
	scale := flag.Bool("scale", true, "run the refresh benchmark over 100,000 stored connections (up to 10 minutes)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *bootstraps, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, bootstraps string, scale bool) error {
	begin := time.Now()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	rep := &report{
		Date:     begin.UTC(),
		Sections: map[string]section{},
		Template: filepath.Join(root, "template.yaml"),
	}
	rep.Sizes, err = sizes(filepath.Join(root, bootstraps))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: package initialisation of the functions and the minimal function (%d starts each)\n", initRuns)
	if rep.Init, err = initCosts(ctx, root); err != nil {
		return err
	}
	rep.Machine = machine(ctx, root)

	all := steps(scale)
	for i, s := range all {
		fmt.Fprintf(os.Stderr, "bench: [%d/%d] %s\n        go %s\n", i+1, len(all), s.what, strings.Join(s.args, " "))
		start := time.Now()
		output, err := goCmd(ctx, root, s.args...)
		took := time.Since(start)
		if err != nil {
			return fmt.Errorf("%s: go %s: %w\n%s", s.section, strings.Join(s.args, " "), err, lastLines(output, 60))
		}
		r := parse(output)
		if len(r.names) == 0 {
			return fmt.Errorf("%s: no benchmark results in the output of go %s:\n%s", s.section, strings.Join(s.args, " "), lastLines(output, 60))
		}
		if rep.Machine.CPU == "" {
			rep.Machine.CPU = r.cpu
		}
		rep.Sections[s.section] = section{Command: "go " + shellJoin(s.args), Took: took, Results: r}
		fmt.Fprintf(os.Stderr, "        done in %s\n", took.Round(time.Second))
	}
	rep.Took = time.Since(begin)
	rep.Machine.LoadEnd = loadAverage()

	md, err := rep.markdown()
	if err != nil {
		return err
	}
	path := out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	if err := os.WriteFile(path, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	fmt.Print(md)
	fmt.Fprintf(os.Stderr, "bench: wrote %s (%s)\n", out, rep.Took.Round(time.Second))
	return nil
}

// goCmd runs go with args in dir and returns its output (stdout and
// stderr).
func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// moduleRoot is the directory of go.mod at or above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// sizes reads each bootstrap make build wrote, which must be linux/arm64
// (the architecture the template deploys).
func sizes(dir string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, id := range append([]string{minimalID}, functions...) {
		path := filepath.Join(dir, id, "bootstrap")
		f, err := elf.Open(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (make bench runs make build first)", path, err)
		}
		machine := f.Machine
		f.Close()
		if machine != elf.EM_AARCH64 {
			return nil, fmt.Errorf("%s is built for %s, not linux/arm64: run make build", path, machine)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		out[id] = fi.Size()
	}
	return out, nil
}

// machineInfo is where the figures were measured.
type machineInfo struct {
	CPU, OS, Kernel, Memory string
	CPUs                    int
	GoVersion, Platform     string
	Moto                    string
	Commit                  string
	// LoadStart and LoadEnd are the 1-minute load average when the run
	// started and ended: other work on the machine slows timing figures.
	LoadStart, LoadEnd string
}

// loadAverage is the 1-minute load average ("" where /proc has none).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func machine(ctx context.Context, root string) machineInfo {
	m := machineInfo{CPUs: runtime.NumCPU(), Platform: runtime.GOOS + "/" + runtime.GOARCH, LoadStart: loadAverage()}
	if v, err := goCmd(ctx, root, "env", "GOVERSION"); err == nil {
		m.GoVersion = strings.TrimSpace(v)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, l := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kb); err == nil {
				m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				break
			}
		}
	}
	m.Moto = "unknown"
	if v, err := exec.CommandContext(ctx, "python3", "-c", "import moto; print(moto.__version__)").Output(); err == nil {
		m.Moto = strings.TrimSpace(string(v))
	}
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = root
		b, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if c := git("rev-parse", "--short", "HEAD"); c != "" {
		m.Commit = c
		if git("status", "--porcelain") != "" {
			m.Commit += " with uncommitted changes"
		}
	}
	return m
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// shellJoin quotes the arguments that a shell would split or expand.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " $^|*?()[]{}'\"\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
