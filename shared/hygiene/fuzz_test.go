package hygiene

import (
	"strings"
	"testing"
)

// FuzzCheck: the checker never panics, judges one value the same way every
// time, never quotes the value in its message, still finds a credential
// pasted among other words, and ShapesOnly never finds what the full check
// does not. Credential-shaped seeds are built here (no such literal in the
// repository); the others are in testdata/fuzz/FuzzCheck.
func FuzzCheck(f *testing.F) {
	f.Add("GOCSPX-" + strings.Repeat("Ab1_", 7))
	f.Add("Ab" + "c" + "8" + "Q~" + strings.Repeat("xY9.", 8))
	f.Add("eyJhbGciOi" + "JIUzI1NiJ9.eyJzdWIiOi" + "IxIn0.sig")
	f.Add(strings.Repeat("0123456789abcdef", 2)) // a hex run at the threshold
	f.Fuzz(func(t *testing.T, v string) {
		got, found := Check(v)
		if again, foundAgain := Check(v); again != got || foundAgain != found {
			t.Fatal("two checks of one value disagree")
		}
		shape, foundShape := Check(v, Options{ShapesOnly: true})
		if foundShape && !found {
			t.Fatalf("ShapesOnly found %s where the full check found nothing", shape.Kind)
		}
		if !found {
			return
		}
		if got.Describe() == "" {
			t.Fatalf("finding %q has no description", got.Kind)
		}
		if msg := Message(got, "tenant"); len(v) >= 8 && strings.Contains(msg, v) {
			t.Fatal("the message quotes the value")
		}
		if _, still := Check("see " + v + " here"); !still {
			t.Fatalf("%s found alone but not among other words", got.Kind)
		}
	})
}
