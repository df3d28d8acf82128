package awssecrets

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestHandWrittenChecksMatchTheirPatterns: the name checks are written by
// hand to keep regular expressions off every function's cold start; they
// accept exactly what the patterns they replace accept.
func TestHandWrittenChecksMatchTheirPatterns(t *testing.T) {
	checks := []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
	}{
		{"prefix", regexp.MustCompile(`^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$`), validPrefix},
		{"org id", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,127}$`), validOrgID},
		{"provider", regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`), validProvider},
		{"version", regexp.MustCompile(`^[A-Za-z0-9-]{32,64}$`), validVersion},
		{"ARN-suffix-like", regexp.MustCompile(`-.{6}$`), arnSuffixLike},
	}
	fixed := []string{"", "a", "A", "-", "/", "a/b", "a//b", "/a", "a/", "org-1", "Org.1@x+=y", "_x", "x y", "é", "integrations/prod",
		"microsoft365", "google_workspace", "UPPER", "a-b_c", "0123456789abcdef0123456789abcdef", "x/client-secret", "x/client_secret", "ab-é12345"}
	alphabet := []rune("aZ09_+=.@-/ é\x00~")
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := rnd.IntN(140)
		b := make([]rune, n)
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		fixed = append(fixed, string(b))
	}
	for _, c := range checks {
		for _, s := range fixed {
			if got, want := c.fn(s), c.re.MatchString(s); got != want {
				t.Fatalf("%s check of %q: %v, pattern says %v", c.name, s, got, want)
			}
		}
	}
}
