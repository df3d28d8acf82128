// Package browsertest drives the web console in Debian's Chromium, headless,
// against the whole service (infra/localtest, with the fake provider), and
// asserts on what the page shows and on what the service stored.
//
// One Chromium runs for the package; each person in a test gets their own
// browser context (their own cookies and storage), as two people on two
// machines would. The suite fails, never skips, when Chromium is missing
// (make test installs it) or the console is not built (make web).
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserCtx is the running Chromium, shared by the package's tests.
var browserCtx context.Context

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	path, err := exec.LookPath("chromium")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest: Chromium is not installed (apt-get install chromium; make test installs it):", err)
		return 1
	}
	profile, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "browsertest:", err)
		return 1
	}
	defer os.RemoveAll(profile)
	// chromedp's defaults (Puppeteer's) first: no hang monitor, no renderer
	// backgrounding or timer throttling, so a page on a loaded machine runs
	// as it would for a person; without the background-networking flag
	// Chromium keeps reaching for Google's services, which a closed network
	// refuses slowly.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first Run starts Chromium and binds its life to the context it is
	// given, so it gets ctx itself: a start bounded with a timeout context
	// would kill the browser when that timeout ends, mid-suite on a loaded
	// machine (every later test then failed with "context canceled"). The
	// start is bounded by cancelling ctx instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			fmt.Fprintln(os.Stderr, "browsertest: Chromium does not start:", err)
			return 1
		}
	case <-time.After(60 * time.Second):
		cancel()
		fmt.Fprintln(os.Stderr, "browsertest: Chromium did not start within 60 s")
		return 1
	}
	browserCtx = ctx
	return m.Run()
}

// consoleDir is the built console; stale or missing fails the test.
func consoleDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(root, "web", "dist")
	built, err := os.Stat(filepath.Join(dist, "js", "main.js"))
	if err != nil {
		t.Fatalf("the web console is not built: run make web (%v)", err)
	}
	for _, src := range []string{"src", "public"} {
		_ = filepath.WalkDir(filepath.Join(root, "web", src), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if st, err := d.Info(); err == nil && st.ModTime().After(built.ModTime()) {
					t.Fatalf("web/dist is older than %s: run make web", p)
				}
			}
			return nil
		})
	}
	return dist
}

// page is one person's browser tab.
type page struct {
	t    *testing.T
	ctx  context.Context
	name string

	mu      sync.Mutex
	console []string // console calls and uncaught exceptions, as text
}

// newPage opens a tab in a fresh browser context, recording the console.
func newPage(t *testing.T, name string) *page {
	t.Helper()
	p := &page{t: t, name: name}
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext(), chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			p.mu.Lock()
			p.console = append(p.console, "console."+string(ev.Type)+": "+strings.Join(parts, " "))
			p.mu.Unlock()
		case *runtime.EventExceptionThrown:
			p.mu.Lock()
			p.console = append(p.console, "exception: "+ev.ExceptionDetails.Text+" "+exceptionDescription(ev))
			p.mu.Unlock()
		}
	}))
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	p.ctx = ctx
	return p
}

func exceptionDescription(ev *runtime.EventExceptionThrown) string {
	if ev.ExceptionDetails.Exception != nil {
		return ev.ExceptionDetails.Exception.Description
	}
	return ""
}

// consoleLines is what the page wrote to the console so far.
func (p *page) consoleLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// noExceptions fails the test if the page threw.
func (p *page) noExceptions() {
	p.t.Helper()
	for _, l := range p.consoleLines() {
		if strings.HasPrefix(l, "exception:") || strings.HasPrefix(l, "console.error") {
			p.t.Errorf("%s: the page reported an error: %s", p.name, l)
		}
	}
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
}

func (p *page) navigate(url string) { p.t.Helper(); p.do(chromedp.Navigate(url)) }
func (p *page) click(sel string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill replaces a field's value by typing, as a person would.
func (p *page) fill(sel, value string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Clear(chromedp.CSS(sel)))
	if value != "" {
		p.do(chromedp.SendKeys(chromedp.CSS(sel), value))
	}
}

// setChecked makes a checkbox or radio button checked or not by clicking it.
func (p *page) setChecked(sel string, on bool) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	if eval[bool](p, fmt.Sprintf(`document.querySelector(%s).checked`, js(sel))) != on {
		p.click(sel)
	}
}

// text waits for sel to be visible and returns its text.
func (p *page) text(sel string) string {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("%s: text of %s: %v", p.name, sel, err)
	}
	return s
}

// waitText waits until the element sel's text contains want and returns
// that text; it fails with what the element said instead.
func (p *page) waitText(sel, want string) string {
	p.t.Helper()
	read := fmt.Sprintf(`(document.querySelector(%s) || {innerText: "(no such element)"}).innerText`, js(sel))
	var got string
	var last error
	if !p.poll(func() (bool, error) {
		var err error
		got, err = chromedp.Run(p.ctx, chromedp.Evaluate[string](read))
		last = err
		return strings.Contains(got, want), err
	}) {
		p.t.Fatalf("%s: %s never said %q (last error %v); it says:\n%s", p.name, sel, want, last, got)
	}
	return got
}

// waitFor waits until a JavaScript expression is true.
func (p *page) waitFor(what, expr string) {
	p.t.Helper()
	var last error
	if !p.poll(func() (bool, error) {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](expr, chromedp.EvalAwaitPromise))
		last = err
		return ok, err
	}) {
		p.t.Fatalf("%s: waiting for %s (last error %v)", p.name, what, last)
	}
}

// poll retries check for up to 30 seconds. Errors count as "not yet": a page
// that is navigating has no document to ask for a moment. The bound is for
// a browser sharing two cores with the other test binaries of go test -p 2
// (15 s was once not enough for a provider page to load there); a passing
// check returns at once, so only a failure waits it out.
func (p *page) poll(check func() (bool, error)) bool {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ok, err := check(); ok && err == nil {
			return true
		}
		if time.Now().After(deadline) || p.ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *page) location() string {
	p.t.Helper()
	u, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return u
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// updateScreenshots rewrites the README's screenshots (make screenshots).
var updateScreenshots = flag.Bool("update-screenshots", false, "write the screenshots under docs/")

// screenshot takes the whole page as a PNG and, with -update-screenshots,
// saves it under docs/.
func (p *page) screenshot(name string) {
	p.t.Helper()
	buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil || img.Bounds().Dx() < 800 {
		p.t.Fatalf("screenshot %s is not a page-wide PNG: %v", name, err)
	}
	if *updateScreenshots {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", name), buf, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

// devSignIn signs in through the development sign-in form.
func (p *page) devSignIn(user, org string, admin bool, groups string) {
	p.t.Helper()
	p.fill("#dev-user", user)
	p.fill("#dev-org", org)
	p.setChecked("#dev-admin", admin)
	p.fill("#dev-groups", groups)
	p.click("#dev-sign-in button[type=submit]")
	p.waitText("#identity", "Signed in as "+user)
}

// accessibilityProblems lists form fields without a label, buttons
// without text and statuses without words on the current page.
func (p *page) accessibilityProblems() []string {
	p.t.Helper()
	return eval[[]string](p, `(() => {
		const out = [];
		for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
			if (el.closest("[hidden]")) continue;
			const named = (el.labels && el.labels.length > 0 && [...el.labels].some(l => l.innerText.trim() !== "")) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
			if (!named) out.push("field without a label: " + (el.id || el.name || el.outerHTML.slice(0, 80)));
		}
		for (const b of document.querySelectorAll("button, a[href]")) {
			if (b.innerText.trim() === "" && !b.getAttribute("aria-label")) out.push("control without text: " + b.outerHTML.slice(0, 80));
		}
		for (const s of document.querySelectorAll(".status, .check-status, .overall")) {
			if (s.innerText.trim() === "") out.push("status without words: " + s.outerHTML.slice(0, 80));
		}
		return out;
	})()`)
}

func (p *page) checkAccessible(where string) {
	p.t.Helper()
	for _, problem := range p.accessibilityProblems() {
		p.t.Errorf("%s, %s: %s", p.name, where, problem)
	}
}

// setSelect chooses an option of a <select> and tells the page, as a
// person's choice would.
func setSelect(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%s); s.value = %s; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, js(sel), js(value)))
}
