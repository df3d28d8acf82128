package connections

import (
	"html"
	"testing"
)

// TestEscapeHTML: the same as html.EscapeString.
func TestEscapeHTML(t *testing.T) {
	for _, s := range []string{"", "plain", `<script>alert("x" & 'y')</script>`, "&amp;&&lt;", "ünïcode <b>"} {
		if got, want := escapeHTML(s), html.EscapeString(s); got != want {
			t.Fatalf("escapeHTML(%q) = %q, want %q", s, got, want)
		}
	}
}
