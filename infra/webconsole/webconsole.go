// Package webconsole serves the web console (web/, built into web/dist by
// make web) in front of the local API, on the API's origin, as make run and
// the browser tests do:
//
//   - the console's files, with a strict Content-Security-Policy (scripts and
//     styles from the console's own origin only) and no referrer, so a
//     connection's completion handle never leaves in a Referer header;
//   - its runtime configuration, GET /config.json;
//   - in local runs only, the development sign-in, POST /local/sign-in, which
//     mints a token with the local server's secret for whoever the developer
//     picks.
//
// Every other request, and every path under /v1/ or /oauth/, goes to the API.
//
// Deployed, the console is the same files in an S3 bucket behind CloudFront
// (template.yaml, ConsoleHosted) with the template's ConsoleConfig output as
// its config.json, which signs in with the product's OpenID Connect issuer:
// none of this package runs there, and the template serves no sign-in route.
package webconsole

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/shared/auth"
)

// Sign-in modes of Config.
const (
	// SignInLocal is make run's development sign-in.
	SignInLocal = "local"
	// SignInOIDC is the product's OpenID Connect issuer (authorization code
	// with PKCE, as a public client): the only mode a deployment has.
	SignInOIDC = "oidc"
)

// Paths the console serves besides its files.
const (
	ConfigPath    = "/config.json"
	DevSignInPath = "/local/sign-in"
)

// apiPrefixes are the API's: the console never answers under them.
var apiPrefixes = []string{"/v1/", "/oauth/"}

// Config is the console's runtime configuration, /config.json. The
// deployed one is template.yaml's ConsoleConfig output.
type Config struct {
	SignIn string `json:"signIn"`
	// APIBaseURL is where the API is; empty for the console's own origin.
	APIBaseURL string `json:"apiBaseUrl,omitempty"`
	// Issuer and ClientID of the OIDC sign-in (SignInOIDC).
	Issuer   string `json:"issuer,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	Scope    string `json:"scope,omitempty"`
	// Claims name the token's claims, as the functions read them (CLAIM_*).
	Claims    ClaimNames `json:"claims"`
	AdminRole string     `json:"adminRole"`
}

// ClaimNames are the token claims the console reads to know who is signed in.
type ClaimNames struct {
	User   string `json:"user"`
	Org    string `json:"org"`
	Roles  string `json:"roles"`
	Groups string `json:"groups"`
}

// LocalConfig is the configuration of a local run: the development sign-in
// and the API on the console's origin.
func LocalConfig(names auth.ClaimNames) Config {
	return Config{
		SignIn:    SignInLocal,
		Claims:    ClaimNames{User: names.User, Org: names.Org, Roles: names.Roles, Groups: names.Groups},
		AdminRole: names.AdminRole,
	}
}

// Validate checks what the console needs of a configuration.
func (c Config) Validate() error {
	var errs []error
	switch c.SignIn {
	case SignInLocal:
	case SignInOIDC:
		if u, err := url.Parse(c.Issuer); err != nil || u.Host == "" {
			errs = append(errs, errors.New("oidc sign-in needs an absolute issuer URL"))
		}
		if c.ClientID == "" {
			errs = append(errs, errors.New("oidc sign-in needs a client id"))
		}
	default:
		errs = append(errs, fmt.Errorf("signIn %q is neither %s nor %s", c.SignIn, SignInLocal, SignInOIDC))
	}
	if c.Claims.User == "" || c.Claims.Org == "" || c.Claims.Roles == "" || c.Claims.Groups == "" || c.AdminRole == "" {
		errs = append(errs, errors.New("claim names and the admin role are required"))
	}
	return errors.Join(errs...)
}

// DevIdentity is whom the development sign-in signs in.
type DevIdentity struct {
	User   string   `json:"user"`
	Org    string   `json:"org"`
	Roles  []string `json:"roles"`
	Groups []string `json:"groups"`
}

// MintWith returns a development sign-in that mints local tokens, as make
// token does, signed with secret and named as the functions read them.
func MintWith(secret []byte, names auth.ClaimNames) func(DevIdentity) (string, error) {
	return func(id DevIdentity) (string, error) {
		return localserver.MintToken(secret, localserver.Claims{
			User: id.User, Org: id.Org, Roles: nonNil(id.Roles), Groups: nonNil(id.Groups), Names: names,
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Options configure Handler.
type Options struct {
	// Dir holds the built console (web/dist): index.html, signed-in.html,
	// styles.css, js/.
	Dir string
	// Config is served as /config.json.
	Config Config
	// DevSignIn, when set, serves the development sign-in. Only with
	// Config.SignIn local: a console that signs in with OIDC never has it.
	DevSignIn func(DevIdentity) (string, error)
}

type handler struct {
	api       http.Handler
	dir       string
	config    []byte
	csp       string
	devSignIn func(DevIdentity) (string, error)
}

// Handler serves the console from o.Dir and passes everything else to api.
func Handler(api http.Handler, o Options) (http.Handler, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("web console: %w", err)
	}
	if o.DevSignIn != nil && o.Config.SignIn != SignInLocal {
		return nil, errors.New("web console: the development sign-in exists only with signIn local")
	}
	if _, err := os.Stat(path.Join(o.Dir, "index.html")); err != nil {
		return nil, fmt.Errorf("web console: %s has no index.html (run make web): %w", o.Dir, err)
	}
	cfg, err := json.Marshal(o.Config)
	if err != nil {
		return nil, fmt.Errorf("web console: %w", err)
	}
	return &handler{api: api, dir: o.Dir, config: cfg, csp: ContentSecurityPolicy(o.Config), devSignIn: o.DevSignIn}, nil
}

// ContentSecurityPolicy is the console's policy: its own scripts and styles
// only, no inline script, no framing, and connections only to its origin,
// the API and the OIDC issuer.
func ContentSecurityPolicy(c Config) string {
	connect := []string{"'self'"}
	for _, u := range []string{c.APIBaseURL, c.Issuer} {
		if p, err := url.Parse(u); err == nil && p.Scheme != "" && p.Host != "" {
			if o := p.Scheme + "://" + p.Host; !slices.Contains(connect, o) {
				connect = append(connect, o)
			}
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src " +
		strings.Join(connect, " ") + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// IsAPIPath reports whether p belongs to the API rather than the console.
func IsAPIPath(p string) bool {
	return slices.ContainsFunc(apiPrefixes, func(prefix string) bool { return strings.HasPrefix(p, prefix) })
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case IsAPIPath(p):
	case p == ConfigPath && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		h.headers(w)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(h.config)
		return
	case p == DevSignInPath && h.devSignIn != nil:
		h.signIn(w, r)
		return
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		if h.serveFile(w, r, p) {
			return
		}
	}
	h.api.ServeHTTP(w, r)
}

func (h *handler) headers(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", h.csp)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Frame-Options", "DENY")
}

// serveFile serves a file of the console (/ is index.html), reporting
// whether there was one. os.OpenInRoot keeps every name inside the
// directory (no "..", no symbolic link out).
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, p string) bool {
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "index.html"
	}
	f, err := os.OpenInRoot(h.dir, name)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	h.headers(w)
	// Files keep their names across builds: the browser revalidates.
	w.Header().Set("Cache-Control", "no-cache")
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
	return true
}

// signIn is the development sign-in: a JSON body naming the user, org,
// roles and groups; the answer is a token the local API accepts. A page of
// another origin cannot use it: its JSON post needs a preflight, which this
// server never grants, and an Origin of another site is refused.
func (h *handler) signIn(w http.ResponseWriter, r *http.Request) {
	h.headers(w)
	w.Header().Set("Cache-Control", "no-store")
	fail := func(status int, detail string) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "title": http.StatusText(status), "detail": detail})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(http.StatusMethodNotAllowed, "POST a JSON body.")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		fail(http.StatusUnsupportedMediaType, "The body must be application/json.")
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		fail(http.StatusForbidden, "The development sign-in answers only the console's own origin.")
		return
	}
	var id DevIdentity
	dec := json.NewDecoder(io.LimitReader(r.Body, 8<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&id); err != nil {
		fail(http.StatusBadRequest, "The body must be {user, org, roles, groups}.")
		return
	}
	id.User, id.Org = strings.TrimSpace(id.User), strings.TrimSpace(id.Org)
	if id.User == "" || id.Org == "" {
		fail(http.StatusBadRequest, "A user id and an organization id are required.")
		return
	}
	tok, err := h.devSignIn(id)
	if err != nil {
		fail(http.StatusInternalServerError, "The token could not be minted.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// subRef is a ${Name} or ${Resource.Attribute} of an Fn::Sub.
var subRef = regexp.MustCompile(`\$\{([^}!]+)\}`)

// TemplateConfig is the config.json a deployment of tmpl uploads: its
// ConsoleConfig output with the parameter values params (defaults for the
// rest). A resource's id or attribute, which only CloudFormation knows,
// becomes "<Name>".
func TemplateConfig(tmpl *localserver.Template, params map[string]string) (Config, error) {
	out, _ := tmpl.Outputs["ConsoleConfig"].(map[string]any)
	sub, _ := out["Value"].(map[string]any)
	text, ok := sub["Fn::Sub"].(string)
	if !ok {
		return Config{}, errors.New("template: the ConsoleConfig output is not a one-argument Fn::Sub")
	}
	var bad error
	text = subRef.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if _, isResource := tmpl.Resources[strings.Split(name, ".")[0]]; isResource {
			return "<" + name + ">"
		}
		v, err := tmpl.Evaluate(map[string]any{"Ref": name}, params)
		if err != nil {
			bad = errors.Join(bad, err)
		}
		return fmt.Sprint(v)
	})
	if bad != nil {
		return Config{}, fmt.Errorf("template: ConsoleConfig: %w", bad)
	}
	var c Config
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("template: ConsoleConfig is not the console's configuration: %w", err)
	}
	return c, nil
}
