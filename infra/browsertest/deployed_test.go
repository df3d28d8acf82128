package browsertest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/webconsole"
)

// issuer is a fake OpenID Connect provider that accepts only a public
// client doing authorization code with PKCE (S256) right, and records what
// it saw.
type issuer struct {
	t        *testing.T
	srv      *httptest.Server
	clientID string
	token    string // the access token it issues

	mu        sync.Mutex
	codes     map[string]url.Values // code -> the authorization request
	redeemed  int
	authorize url.Values
}

func newIssuer(t *testing.T, clientID, token string) *issuer {
	is := &issuer{t: t, clientID: clientID, token: token, codes: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"issuer": is.srv.URL + "/", "authorization_endpoint": is.srv.URL + "/authorize", "token_endpoint": is.srv.URL + "/token",
		})
	})
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		is.mu.Lock()
		is.authorize = q
		is.mu.Unlock()
		for k, want := range map[string]string{"response_type": "code", "client_id": clientID, "code_challenge_method": "S256", "scope": "openid"} {
			if q.Get(k) != want {
				http.Error(w, k+" must be "+want, http.StatusBadRequest)
				return
			}
		}
		if len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 22 || q.Get("redirect_uri") == "" {
			http.Error(w, "code_challenge, state and redirect_uri are required", http.StatusBadRequest)
			return
		}
		code := rand.Text()
		is.mu.Lock()
		is.codes[code] = q
		is.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := r.PostForm
		is.mu.Lock()
		req, ok := is.codes[f.Get("code")]
		delete(is.codes, f.Get("code"))
		is.mu.Unlock()
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case !ok, f.Get("grant_type") != "authorization_code", f.Get("client_id") != clientID,
			f.Get("redirect_uri") != req.Get("redirect_uri"),
			base64.RawURLEncoding.EncodeToString(sum[:]) != req.Get("code_challenge"),
			r.Header.Get("Authorization") != "", f.Get("client_secret") != "":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		is.mu.Lock()
		is.redeemed++
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": is.token, "token_type": "Bearer", "expires_in": 3600})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// TestDeployedConsoleSignsInWithOIDC serves the console with the
// configuration a deployment uploads (template.yaml's ConsoleConfig output,
// its issuer pointed at a fake one and its API at the test's): the page
// offers no development sign-in and the server has no such route; signing
// in runs authorization code with PKCE in a separate window, and the token
// it gets works against the API.
func TestDeployedConsoleSignsInWithOIDC(t *testing.T) {
	tmpl, err := localserver.LoadTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := webconsole.TemplateConfig(tmpl, map[string]string{"JwtIssuer": "https://issuer.invalid/", "ConsoleClientId": "console-test"})
	if err != nil {
		t.Fatal(err)
	}
	// The issuer's URL goes into the console's configuration, and the token
	// it hands out is minted by the environment that configuration starts.
	is := newIssuer(t, "console-test", "")
	cfg.Issuer, cfg.APIBaseURL = is.srv.URL+"/", ""
	env := localtest.New(t, localtest.WithDeployedConsole(consoleDir(t), cfg))
	is.token = env.Token("u-dana", org, []string{"org_admin"}, []string{})

	if resp := env.Do("POST", "/local/sign-in", "", map[string]string{"user": "u-mallory", "org": org}); resp.Status != http.StatusNotFound || strings.Contains(string(resp.Body), "token") {
		t.Errorf("POST /local/sign-in on a deployed console: %s, want the API's 404", resp)
	}

	dana := newPage(t, "dana")
	dana.navigate(env.URL + "/")
	dana.waitText("#sign-in", "Sign in with your organization account")
	if eval[bool](dana, `!!document.querySelector("#dev-sign-in, #dev-user")`) {
		t.Fatal("a deployed console shows the development sign-in")
	}
	dana.click("#oidc-sign-in")
	dana.waitText("#identity", "Signed in as u-dana, organization o-acme, admin")
	dana.waitText(googleCard+" .status", "Status:")

	is.mu.Lock()
	redeemed, authz := is.redeemed, is.authorize
	is.mu.Unlock()
	if redeemed != 1 {
		t.Errorf("the issuer redeemed %d codes, want 1", redeemed)
	}
	if got, want := authz.Get("redirect_uri"), env.URL+"/signed-in.html"; got != want {
		t.Errorf("redirect_uri %q, want %q", got, want)
	}
	for where, text := range pageContents(dana) {
		if strings.Contains(text, is.token) {
			t.Errorf("the access token is in the page's %s", where)
		}
	}
	dana.noExceptions()
}
