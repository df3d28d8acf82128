package main

import (
	"strings"
	"testing"
)

func TestParseInittrace(t *testing.T) {
	out := `init internal/bytealg @0.019 ms, 0.002 ms clock, 0 bytes, 0 allocs
init runtime @0.30 ms, 0.15 ms clock, 16 bytes, 1 allocs
some other line
init github.com/x/y @1.0 ms, 2.5 ms clock, 4096 bytes, 12 allocs
`
	ms, b, a, ok := parseInittrace(out)
	if !ok || b != 4112 || a != 13 || ms < 2.651 || ms > 2.653 {
		t.Fatalf("parseInittrace = %v %d %d %v", ms, b, a, ok)
	}
	if _, _, _, ok := parseInittrace("expected AWS Lambda environment variables"); ok {
		t.Fatal("no init lines parsed as some")
	}
}

func TestLeanSection(t *testing.T) {
	r := &report{
		Sizes: map[string]int64{minimalID: 1000, "AdminFunction": 1090, "OAuthFunction": 1200, "RefreshFunction": 1000, "DiagnosticsFunction": 1000},
		Init: map[string]initCost{minimalID: {MedianMs: 2}, "AdminFunction": {MedianMs: 2.5}, "OAuthFunction": {MedianMs: 3},
			"RefreshFunction": {MedianMs: 2}, "DiagnosticsFunction": {MedianMs: 2}},
	}
	var d doc
	r.lean(&d)
	got := d.String()
	for _, want := range []string{"| AdminFunction | 1090 | 1.090 | 2.50 | 1.250 |", "| OAuthFunction | 1200 | 1.200 (over 1.10) | 3.00 | 1.500 (over 1.30) |"} {
		if !strings.Contains(got, want) {
			t.Errorf("the section lacks %q:\n%s", want, got)
		}
	}
}
