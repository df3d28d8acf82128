package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The yardstick of issue 13's lean functions: bench/minimal, a function that
// uses the same AWS pieces as the four (aws-lambda-go, the SDK's config,
// DynamoDB with attributevalue, Secrets Manager) and nothing of the service.
// Each bootstrap's size and package initialisation are reported as a share
// of the minimal function's, with the targets the functions are held to.
const (
	minimalID          = "Minimal"
	sizeTarget         = 1.10 // bootstrap bytes, × the minimal function's
	initTarget         = 1.3  // package initialisation time, × the minimal function's
	initRuns           = 41   // process starts per binary; the report takes the median
	minimalCommand     = "./bench/minimal"
	functionCommandDir = "./functions/"
)

// commands are the function commands under functions/, by logical id.
var commands = map[string]string{
	"AdminFunction": "admin", "OAuthFunction": "oauth", "RefreshFunction": "refresh", "DiagnosticsFunction": "diagnostics", "EventsFunction": "events",
}

// initCost is a binary's package initialisation, as GODEBUG=inittrace=1
// reports it: the summed clock time of every package's init (median of
// initRuns starts; it varies with the machine), and the bytes and objects
// allocated (the same every start).
type initCost struct {
	MedianMs      float64
	Bytes, Allocs int64
}

// parseInittrace sums one process's inittrace lines:
//
//	init internal/bytealg @0.019 ms, 0.002 ms clock, 0 bytes, 0 allocs
func parseInittrace(out string) (ms float64, bytes, allocs int64, ok bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// init <pkg> @<t> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs
		if len(f) < 11 || f[0] != "init" || f[6] != "clock," || f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		c, err1 := strconv.ParseFloat(f[4], 64)
		b, err2 := strconv.ParseInt(f[7], 10, 64)
		a, err3 := strconv.ParseInt(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		ms, bytes, allocs, ok = ms+c, bytes+b, allocs+a, true
	}
	return ms, bytes, allocs, ok
}

// initCosts builds the minimal function and each function for this
// machine's architecture with the Lambda build's flags, and starts each
// initRuns times (interleaved, so that a busy moment slows all alike) with
// GODEBUG=inittrace=1. A start ends right after init: without the Lambda
// runtime's environment the function exits.
func initCosts(ctx context.Context, root string) (map[string]initCost, error) {
	dir, err := os.MkdirTemp("", "bench-init-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{minimalID: minimalCommand}
	for id, c := range commands {
		bins[id] = functionCommandDir + c
	}
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range bins {
			if !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, id), bins[id])
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %w\n%s", bins[id], err, out)
		}
	}
	samples := map[string][]float64{}
	out := map[string]initCost{}
	for range initRuns {
		for _, id := range ids {
			cmd := exec.CommandContext(ctx, filepath.Join(dir, id))
			cmd.Env = []string{"GODEBUG=inittrace=1", "PATH=" + os.Getenv("PATH")}
			b, _ := cmd.CombinedOutput() // exits non-zero outside Lambda, after init
			ms, bytes, allocs, ok := parseInittrace(string(b))
			if !ok {
				return nil, fmt.Errorf("%s printed no inittrace lines:\n%s", id, lastLines(string(b), 10))
			}
			samples[id] = append(samples[id], ms)
			out[id] = initCost{Bytes: bytes, Allocs: allocs}
		}
	}
	for id, s := range samples {
		c := out[id]
		c.MedianMs = median(s)
		out[id] = c
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// lean is the report's section on the functions against the minimal one.
func (r *report) lean(d *doc) {
	if r.Init == nil {
		return
	}
	d.p("## Lean functions: size and start-up against a minimal function")
	d.p("")
	d.p("`bench/minimal` uses the same AWS pieces as the functions (aws-lambda-go, the SDK's config, DynamoDB with attributevalue, Secrets Manager) and nothing of the service. Sizes are the linux/arm64 `bootstrap` files `make build` writes (`-s -w`), target at most %.2f× the minimal function's. Package initialisation is what `GODEBUG=inittrace=1` reports for this machine's build with the same flags: the median over %d starts of the summed init clock time (it varies with the machine's load), and the bytes and objects allocated (the same every start), target at most %.1f× the minimal function's time.", sizeTarget, initRuns, initTarget)
	d.p("")
	base, baseInit := r.Sizes[minimalID], r.Init[minimalID]
	rows := [][]string{}
	for _, id := range append([]string{minimalID}, functions...) {
		sz, ic := r.Sizes[id], r.Init[id]
		rows = append(rows, []string{id, fmt.Sprintf("%d", sz), ratio(float64(sz), float64(base), sizeTarget),
			fmt.Sprintf("%.2f", ic.MedianMs), ratio(ic.MedianMs, baseInit.MedianMs, initTarget),
			fmt.Sprintf("%d", ic.Bytes), fmt.Sprintf("%d", ic.Allocs)})
	}
	d.table([]string{"function", "bootstrap bytes", "× minimal", "init ms (median)", "× minimal", "init bytes", "init allocs"}, rows)
}

// ratio is a/b with a mark when it exceeds the target.
func ratio(a, b, target float64) string {
	if b <= 0 {
		return "–"
	}
	x := a / b
	if x > target {
		return fmt.Sprintf("%.3f (over %.2f)", x, target)
	}
	return fmt.Sprintf("%.3f", x)
}
