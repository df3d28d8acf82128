// Package config reads the service's configuration from the environment.
// Every variable is declared once in Vars, with the functions that read it
// and its default: the template test checks template.yaml sets each one for
// each function, and the README's configuration reference lists the same.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/auth"
)

// Function logical ids, as in template.yaml.
const (
	AdminFunction       = "AdminFunction"
	OAuthFunction       = "OAuthFunction"
	RefreshFunction     = "RefreshFunction"
	DiagnosticsFunction = "DiagnosticsFunction"
	EventsFunction      = "EventsFunction"
)

// Functions lists every function logical id.
var Functions = []string{AdminFunction, OAuthFunction, RefreshFunction, DiagnosticsFunction, EventsFunction}

// Var declares one environment variable.
type Var struct {
	Name    string
	Default string
	// Functions that read it. The template must set it for each of them,
	// unless LocalOnly.
	Functions []string
	// LocalOnly variables are read only by local runs and tests; the template
	// never sets them.
	LocalOnly bool
	Doc       string
}

var all = Functions

// Vars is every variable the service reads.
var Vars = []Var{
	{Name: "ENVIRONMENT", Default: "prod", Functions: all, Doc: "Deployment environment: prod, staging, dev; local and test are for local runs and allow provider endpoint overrides."},
	{Name: "TABLE_NAME", Functions: all, Doc: "DynamoDB table holding configs, connections, states and audit entries."},
	{Name: "SECRETS_PREFIX", Functions: []string{AdminFunction, OAuthFunction, RefreshFunction, DiagnosticsFunction, EventsFunction}, Doc: "Prefix of this deployment's Secrets Manager secret names: integrations/<stack name> in the template (see README, Secret names)."},
	{Name: "TOKEN_KEY_SECRET_ID", Functions: []string{OAuthFunction, RefreshFunction, DiagnosticsFunction}, Doc: "ARN of the token-encryption key secret."},
	{Name: "AVAILABLE_PROVIDERS", Default: "microsoft365,google_workspace,salesforce", Functions: all, Doc: "Providers offered in this deployment (comma-separated)."},
	{Name: "CLAIM_USER", Default: "sub", Functions: []string{AdminFunction, OAuthFunction, DiagnosticsFunction}, Doc: "JWT claim with the user id."},
	{Name: "CLAIM_ORG", Default: "org_id", Functions: []string{AdminFunction, OAuthFunction, DiagnosticsFunction}, Doc: "JWT claim with the organization id."},
	{Name: "CLAIM_ROLES", Default: "roles", Functions: []string{AdminFunction, OAuthFunction, DiagnosticsFunction}, Doc: "JWT claim with the caller's roles."},
	{Name: "CLAIM_GROUPS", Default: "groups", Functions: []string{AdminFunction, OAuthFunction, DiagnosticsFunction}, Doc: "JWT claim with the caller's groups (pilot rollout)."},
	{Name: "ADMIN_ROLE", Default: "org_admin", Functions: []string{AdminFunction, OAuthFunction, DiagnosticsFunction}, Doc: "Role that may administer an organization."},
	{Name: "PUBLIC_BASE_URL", Functions: []string{AdminFunction, OAuthFunction}, Doc: "Base URL of the API as users' browsers see it: a custom domain with its API mapping key, if any (https://api.example.com/integrations); empty derives https://<domain>/<mapping key> from each request. The OAuth redirect URI is <base>/oauth/callback."},
	{Name: "ALLOWED_RETURN_URLS", Functions: []string{OAuthFunction}, Doc: "Comma-separated URL prefixes a connection's returnTo must start with."},
	{Name: "PROVIDER_TIMEOUT_MS", Default: "10000", Functions: all, Doc: "Timeout of every call to a provider, in milliseconds."},
	{Name: "SECRETS_CACHE_TTL_SECONDS", Default: "300", Functions: all, Doc: "How long a warm function keeps a secret before asking Secrets Manager again."},
	{Name: "VERIFY_CREDENTIALS", Default: "true", Functions: []string{AdminFunction}, Doc: "Verify an org's client credentials at the provider when they are saved."},
	{Name: "REFRESH_CONCURRENCY", Default: "16", Functions: []string{RefreshFunction}, Doc: "Refreshes in flight at once in one run."},
	{Name: "REFRESH_MARGIN_SECONDS", Default: "900", Functions: []string{RefreshFunction, DiagnosticsFunction}, Doc: "Refresh access tokens expiring within this margin."},
	{Name: "REFRESH_LEASE_SECONDS", Default: "120", Functions: []string{RefreshFunction, DiagnosticsFunction}, Doc: "How long a refresh lease holds a connection."},
	{Name: "REFRESH_DEADLINE_MARGIN_SECONDS", Default: "20", Functions: []string{RefreshFunction}, Doc: "Stop claiming connections when the Lambda deadline is this close."},
	{Name: "EVENT_BUS_NAME", Default: "default", Functions: []string{EventsFunction}, Doc: "Amazon EventBridge bus the connection lifecycle events are put on (a name or an ARN). Locally, STORE=embedded writes them to LOCAL_DATA_DIR/events.jsonl instead."},

	{Name: "STORE", Default: "aws", LocalOnly: true, Doc: "aws (DynamoDB and Secrets Manager) or embedded (local durable files). Local runs default to embedded."},
	{Name: "LOCAL_DATA_DIR", Default: ".local", LocalOnly: true, Doc: "Where the embedded stores keep their files."},
	{Name: "PROVIDER_ENDPOINT_OVERRIDE", LocalOnly: true, Doc: "Send every provider call to this base URL (the fake provider). Refused unless ENVIRONMENT is local or test."},
	{Name: "LOCAL_JWT_SECRET", LocalOnly: true, Doc: "HS256 secret of local tokens (make token)."},
	{Name: "FAKE_PROVIDERS", LocalOnly: true, Doc: "1: make run starts the fake provider and points all three providers at it."},
	{Name: "FAKE_PROVIDER_TOKEN_TTL", Default: "3600", LocalOnly: true, Doc: "Lifetime in seconds of access tokens the fake provider issues."},
	{Name: "LOCAL_CORS_ORIGINS", LocalOnly: true, Doc: "make run's value of the template parameter CorsAllowedOrigins: comma-separated browser origins (scheme://host[:port]) the local API answers CORS for, as API Gateway does; empty: no CORS."},
}

// Config is the parsed configuration.
type Config struct {
	Environment        string
	TableName          string
	SecretsPrefix      string
	TokenKeySecretID   string
	AvailableProviders []string
	Claims             auth.ClaimNames
	PublicBaseURL      string
	AllowedReturnURLs  []string
	ProviderTimeout    time.Duration
	SecretsCacheTTL    time.Duration
	VerifyCredentials  bool

	RefreshConcurrency    int
	RefreshMargin         time.Duration
	RefreshLease          time.Duration
	RefreshDeadlineMargin time.Duration

	EventBusName string

	Store                    string
	LocalDataDir             string
	ProviderEndpointOverride string
}

// IsLocal reports whether this is a local or test configuration, the only
// kind that may override provider endpoints or create its own tables.
func (c Config) IsLocal() bool { return c.Environment == "local" || c.Environment == "test" }

// FromEnv reads the configuration with getenv (os.Getenv in production).
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string { return lookup(getenv, name) }
	var errs []error
	num := func(name string, min int) int {
		n, err := strconv.Atoi(get(name))
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("%s must be a whole number >= %d", name, min))
		}
		return n
	}
	seconds := func(name string, min int) time.Duration { return time.Duration(num(name, min)) * time.Second }

	c := Config{
		Environment:        get("ENVIRONMENT"),
		TableName:          get("TABLE_NAME"),
		SecretsPrefix:      strings.Trim(get("SECRETS_PREFIX"), "/"),
		TokenKeySecretID:   get("TOKEN_KEY_SECRET_ID"),
		AvailableProviders: List(get("AVAILABLE_PROVIDERS")),
		Claims: auth.ClaimNames{
			User: get("CLAIM_USER"), Org: get("CLAIM_ORG"), Roles: get("CLAIM_ROLES"),
			Groups: get("CLAIM_GROUPS"), AdminRole: get("ADMIN_ROLE"),
		},
		PublicBaseURL:            strings.TrimRight(get("PUBLIC_BASE_URL"), "/"),
		AllowedReturnURLs:        List(get("ALLOWED_RETURN_URLS")),
		ProviderTimeout:          time.Duration(num("PROVIDER_TIMEOUT_MS", 100)) * time.Millisecond,
		SecretsCacheTTL:          seconds("SECRETS_CACHE_TTL_SECONDS", 0),
		RefreshConcurrency:       num("REFRESH_CONCURRENCY", 1),
		RefreshMargin:            seconds("REFRESH_MARGIN_SECONDS", 60),
		RefreshLease:             seconds("REFRESH_LEASE_SECONDS", 10),
		RefreshDeadlineMargin:    seconds("REFRESH_DEADLINE_MARGIN_SECONDS", 1),
		EventBusName:             get("EVENT_BUS_NAME"),
		Store:                    get("STORE"),
		LocalDataDir:             get("LOCAL_DATA_DIR"),
		ProviderEndpointOverride: get("PROVIDER_ENDPOINT_OVERRIDE"),
	}
	switch v := strings.ToLower(get("VERIFY_CREDENTIALS")); v {
	case "true", "1", "yes":
		c.VerifyCredentials = true
	case "false", "0", "no":
	default:
		errs = append(errs, errors.New("VERIFY_CREDENTIALS must be true or false"))
	}

	if !slices.Contains([]string{"prod", "staging", "dev", "local", "test"}, c.Environment) {
		errs = append(errs, fmt.Errorf("ENVIRONMENT %q is not one of prod, staging, dev, local, test", c.Environment))
	}
	if c.ProviderEndpointOverride != "" && !c.IsLocal() {
		errs = append(errs, fmt.Errorf("PROVIDER_ENDPOINT_OVERRIDE is set but ENVIRONMENT is %q: provider endpoints can be overridden only in local or test configurations", c.Environment))
	}
	switch c.Store {
	case "aws":
		if c.TableName == "" {
			errs = append(errs, errors.New("TABLE_NAME is required"))
		}
	case "embedded":
		if !c.IsLocal() {
			errs = append(errs, errors.New("STORE=embedded is for local runs only (ENVIRONMENT local or test)"))
		}
	default:
		errs = append(errs, fmt.Errorf("STORE %q is not aws or embedded", c.Store))
	}
	if c.PublicBaseURL != "" {
		if u, err := url.Parse(c.PublicBaseURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(c.IsLocal() && u.Scheme == "http")) ||
			u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, errors.New("PUBLIC_BASE_URL must be an absolute https URL (a path, such as an API mapping key, but no query)"))
		}
	}
	for _, p := range c.AllowedReturnURLs {
		if u, err := url.Parse(p); err != nil || u.Host == "" || (u.Scheme != "https" && !(c.IsLocal() && u.Scheme == "http")) {
			errs = append(errs, fmt.Errorf("ALLOWED_RETURN_URLS entry %q must be an absolute https URL", p))
		}
	}
	return c, errors.Join(errs...)
}

// lookup is the value of the declared variable name, or its default.
// It is kept out of line: FromEnv reads some thirty variables, and a copy
// of this loop at each read made FromEnv 8 KB of every bootstrap (issue 13
// §1).
//
//go:noinline
func lookup(getenv func(string) string, name string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: undeclared variable " + name) // a programming error, caught by tests
}

// List splits a comma-separated value, trimming spaces and dropping empties.
func List(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
