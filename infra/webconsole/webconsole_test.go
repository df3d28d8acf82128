package webconsole

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/shared/auth"
)

// fakeDist is a built console: what the handler serves.
func fakeDist(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":     "<!doctype html><title>console</title>",
		"signed-in.html": "<!doctype html><title>signed in</title>",
		"styles.css":     "body{}",
		"js/main.js":     "export {};",
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// apiStub answers every request it gets with 418, so a test sees which
// requests reached the API.
var apiStub = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })

func localHandler(t *testing.T) http.Handler {
	t.Helper()
	names := auth.DefaultClaimNames()
	h, err := Handler(apiStub, Options{Dir: fakeDist(t), Config: LocalConfig(names), DevSignIn: MintWith([]byte("s3cret-for-tests"), names)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServesTheConsoleAndPassesTheRestToTheAPI(t *testing.T) {
	h := localHandler(t)
	for _, tc := range []struct {
		method, path string
		status       int
		contains     string
	}{
		{"GET", "/", 200, "<title>console</title>"},
		{"GET", "/?provider=google_workspace&status=pending&completion=abc", 200, "<title>console</title>"},
		{"GET", "/js/main.js", 200, "export"},
		{"HEAD", "/styles.css", 200, ""},
		{"GET", "/config.json", 200, `"signIn":"local"`},
		{"GET", "/../../etc/passwd", http.StatusTeapot, ""},
		{"GET", "/js/", http.StatusTeapot, ""},
		{"GET", "/nothing-here.html", http.StatusTeapot, ""},
		{"POST", "/", http.StatusTeapot, ""},
		{"GET", "/v1/providers", http.StatusTeapot, ""},
		{"GET", "/oauth/callback?state=x", http.StatusTeapot, ""},
	} {
		rec := serve(h, tc.method, tc.path, "", "")
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.status, tc.contains)
		}
		if rec.Code == 200 {
			for _, hdr := range []string{"Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"} {
				if rec.Header().Get(hdr) == "" {
					t.Errorf("%s %s: no %s", tc.method, tc.path, hdr)
				}
			}
		}
	}
	if ct := serve(h, "GET", "/js/main.js", "", "").Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("a module is served as %q: browsers refuse modules that are not JavaScript", ct)
	}
}

// TestNoConsolePathShadowsAnAPIRoute: every route of template.yaml still
// reaches the API through the console's handler.
func TestNoConsolePathShadowsAnAPIRoute(t *testing.T) {
	tmpl, err := localserver.LoadTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	h := localHandler(t)
	n := 0
	for _, f := range tmpl.Functions {
		for _, r := range f.Routes {
			path := strings.NewReplacer("{orgId}", "o1", "{provider}", "google_workspace").Replace(r.Path)
			if rec := serve(h, r.Method, path, "application/json", "{}"); rec.Code != http.StatusTeapot {
				t.Errorf("%s is answered by the console (%d), not the API", r.Key(), rec.Code)
			}
			if !IsAPIPath(path) {
				t.Errorf("%s is outside the API's prefixes %v", r.Key(), apiPrefixes)
			}
			if strings.HasPrefix(r.Path, "/local/") {
				t.Errorf("the template serves %s: the development sign-in must never be deployed", r.Key())
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("the template has no routes")
	}
}

func TestDevSignInMintsALocalToken(t *testing.T) {
	h := localHandler(t)
	rec := serve(h, "POST", DevSignInPath, "application/json", `{"user":"u-bob","org":"o1","roles":[],"groups":["Pilot Team"]}`)
	if rec.Code != 200 {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || strings.Count(out.Token, ".") != 2 {
		t.Fatalf("sign-in answer %s: want a JWT", rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("the token answer may be cached")
	}
	for _, tc := range []struct {
		name, method, ct, origin, body string
		status                         int
	}{
		{"GET", "GET", "", "", "", http.StatusMethodNotAllowed},
		{"form post", "POST", "application/x-www-form-urlencoded", "", "user=u1&org=o1", http.StatusUnsupportedMediaType},
		{"another site", "POST", "application/json", "https://evil.example", `{"user":"u1","org":"o1"}`, http.StatusForbidden},
		{"no org", "POST", "application/json", "", `{"user":"u1"}`, http.StatusBadRequest},
		{"unknown field", "POST", "application/json", "", `{"user":"u1","org":"o1","exp":1}`, http.StatusBadRequest},
	} {
		req := httptest.NewRequest(tc.method, DevSignInPath, strings.NewReader(tc.body))
		if tc.ct != "" {
			req.Header.Set("Content-Type", tc.ct)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.status || strings.Contains(rec.Body.String(), "token") {
			t.Errorf("%s: %d %s, want %d and no token", tc.name, rec.Code, rec.Body, tc.status)
		}
	}
}

// TestDeployedConsoleHasNoDevSignIn: a console configured to sign in with
// OIDC neither offers the development sign-in in its configuration nor
// serves its route, and cannot be built with one.
func TestDeployedConsoleHasNoDevSignIn(t *testing.T) {
	cfg := Config{SignIn: SignInOIDC, Issuer: "https://auth.example.com/", ClientID: "console", Claims: ClaimNames{"sub", "org_id", "roles", "groups"}, AdminRole: "org_admin"}
	if _, err := Handler(apiStub, Options{Dir: fakeDist(t), Config: cfg, DevSignIn: MintWith([]byte("x"), auth.DefaultClaimNames())}); err == nil {
		t.Fatal("an OIDC console was built with the development sign-in")
	}
	h, err := Handler(apiStub, Options{Dir: fakeDist(t), Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, "POST", DevSignInPath, "application/json", `{"user":"u1","org":"o1"}`); rec.Code != http.StatusTeapot {
		t.Errorf("POST %s: %d, want it passed to the API (which has no such route)", DevSignInPath, rec.Code)
	}
	rec := serve(h, "GET", ConfigPath, "", "")
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), `"signIn":"oidc"`) || strings.Contains(string(body), "local") {
		t.Errorf("config.json %s", body)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://auth.example.com") || !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP %q: want scripts from the console only and connections to the issuer", csp)
	}
}

func TestHandlerNeedsABuiltConsole(t *testing.T) {
	_, err := Handler(apiStub, Options{Dir: t.TempDir(), Config: LocalConfig(auth.DefaultClaimNames())})
	if err == nil || !strings.Contains(err.Error(), "make web") {
		t.Fatalf("err %v: want a pointer to make web", err)
	}
}
