package main

import (
	"bufio"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// results are the benchmark lines of go test output: each benchmark's runs
// (one per -count), in the order they first appeared.
type results struct {
	names []string
	runs  map[string][]map[string]float64
	// cpu is the "cpu:" line go test prints (the processor's name).
	cpu string
}

var (
	// "BenchmarkX/sub-2   \t  5\t 123 ns/op\t 4.0 calls/op": the name (its
	// -GOMAXPROCS suffix apart), iterations, then value-unit pairs.
	benchLine = regexp.MustCompile(`^(Benchmark\S*?)(?:-\d+)?\s+(\d+)((?:\s+\S+\s+\S+)*)\s*$`)
	// A benchmark whose code printed something while it ran has its name
	// (and what was printed) on one line and its figures on a later one.
	nameOnly    = regexp.MustCompile(`^(Benchmark\S*?)(?:-\d+)?(?:\s|$)`)
	figuresOnly = regexp.MustCompile(`^\s*(\d+)((?:\s+\S+\s+\S+)+)\s*$`)
)

// parse reads go test -bench output.
func parse(out string) results {
	r := results{runs: map[string][]map[string]float64{}}
	pending := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok && r.cpu == "" {
			r.cpu = strings.TrimSpace(cpu)
			continue
		}
		if m := benchLine.FindStringSubmatch(line); m != nil {
			if metrics, ok := pairs(m[3]); ok {
				r.add(m[1], metrics)
				pending = ""
				continue
			}
		}
		if m := nameOnly.FindStringSubmatch(line); m != nil {
			pending = m[1]
			continue
		}
		if m := figuresOnly.FindStringSubmatch(line); m != nil && pending != "" {
			if metrics, ok := pairs(m[2]); ok {
				r.add(pending, metrics)
				pending = ""
			}
		}
	}
	return r
}

// pairs reads " 123 ns/op 4.0 calls/op"; ok is false unless every value is
// a number.
func pairs(s string) (map[string]float64, bool) {
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return nil, false
	}
	m := map[string]float64{}
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil, false
		}
		m[f[i+1]] = v
	}
	return m, true
}

func (r *results) add(name string, metrics map[string]float64) {
	if _, seen := r.runs[name]; !seen {
		r.names = append(r.names, name)
	}
	r.runs[name] = append(r.runs[name], metrics)
}

// with returns the names under prefix ("BenchmarkAPI/"), in order.
func (r results) with(prefix string) []string {
	var out []string
	for _, n := range r.names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// get is the median over the runs of name's unit; ok is false when no run
// reported it.
func (r results) get(name, unit string) (float64, bool) {
	var v []float64
	for _, run := range r.runs[name] {
		if x, ok := run[unit]; ok {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// units are the units any run of name reported, sorted.
func (r results) units(name string) []string {
	seen := map[string]bool{}
	for _, run := range r.runs[name] {
		for u := range run {
			seen[u] = true
		}
	}
	var out []string
	for u := range seen {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// merge adds other's benchmarks to r.
func (r *results) merge(other results) {
	if r.runs == nil {
		r.runs = map[string][]map[string]float64{}
	}
	for _, n := range other.names {
		for _, run := range other.runs[n] {
			r.add(n, run)
		}
	}
	if r.cpu == "" {
		r.cpu = other.cpu
	}
}
