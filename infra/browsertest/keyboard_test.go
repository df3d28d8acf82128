package browsertest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sofie/integrations/infra/localtest"
)

// TestKeyboardOnly signs in and runs diagnostics with the Tab and Enter
// keys alone, the way a person who cannot use a mouse would.
func TestKeyboardOnly(t *testing.T) {
	env := localtest.New(t, localtest.WithConsole(consoleDir(t)))
	seedGoogle(t, env)
	p := newPage(t, "keyboard")
	p.navigate(env.URL + "/")
	p.waitText("#dev-sign-in", "Sign in as")

	p.tabTo("Bob, member of the pilot group")
	p.press(kb.Enter) // fills the form and moves to "Sign in"
	p.waitFor("focus on Sign in", `document.activeElement.innerText === "Sign in"`)
	p.press(kb.Enter)
	p.waitText("#identity", "Signed in as u-bob")

	p.tabTo("Why doesn't this work?")
	p.press(kb.Enter)
	p.waitFor("focus in the diagnostics form", `document.activeElement.id === "diag-google_workspace-capability"`)
	p.tabTo("Run the checks")
	p.press(kb.Enter)
	p.waitText("#diag-google_workspace .overall", "Overall: Blocked")
	p.waitText(`#diag-google_workspace li[data-check=user_connected]`, "Fail")
	p.waitFor("focus on the result", `document.activeElement.classList.contains("overall")`)
	p.noExceptions()
}

func (p *page) press(key string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(key))
}

// tabTo presses Tab until the focused control's text is label.
func (p *page) tabTo(label string) {
	p.t.Helper()
	var seen []string
	for range 80 {
		p.press(kb.Tab)
		got := eval[string](p, `(document.activeElement.innerText || document.activeElement.id || document.activeElement.tagName).trim()`)
		if got == label {
			return
		}
		seen = append(seen, got)
	}
	p.t.Fatalf("%s: Tab never reaches %q; it went through %s", p.name, label, strings.Join(quoteAll(seen), ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
