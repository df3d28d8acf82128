package localserver

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sofie/integrations/shared/store"
)

// Local addresses of make run.
const (
	APIAddr    = "127.0.0.1:3000"
	InvokeAddr = "127.0.0.1:3001"
	FakeAddr   = "127.0.0.1:3002"
)

// LocalDefaults are the values a local run uses for variables the
// environment leaves unset. Everything else keeps config.Vars' defaults.
var LocalDefaults = map[string]string{
	"ENVIRONMENT":         "local",
	"STORE":               "embedded",
	"LOCAL_DATA_DIR":      ".local",
	"PUBLIC_BASE_URL":     "http://" + APIAddr,
	"ALLOWED_RETURN_URLS": "http://127.0.0.1:3000/,http://localhost:3000/",
	// Used with STORE=aws (created if missing, locally only).
	"TABLE_NAME":          "integrations-local",
	"SECRETS_PREFIX":      "integrations/local",
	"TOKEN_KEY_SECRET_ID": "integrations/local/token-key",
}

// LocalParameters maps the local-only variables (config.Vars) that stand in
// for template parameters in a local run to those parameters: a deployment
// sets the parameter, make run reads the variable.
var LocalParameters = map[string]string{
	"LOCAL_CORS_ORIGINS": "CorsAllowedOrigins",
}

// ParametersFromEnv returns the template parameter values of a local run:
// those of LocalParameters whose variable is set.
func ParametersFromEnv(getenv func(string) string) map[string]string {
	out := map[string]string{}
	for env, param := range LocalParameters {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			out[param] = v
		}
	}
	return out
}

// LocalEnv returns getenv with LocalDefaults filled in for unset (or empty)
// variables.
func LocalEnv(getenv func(string) string) func(string) string {
	return func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return LocalDefaults[name]
	}
}

// DefaultClientSeeder is implemented by secrets stores that can hold the
// platform's default OAuth clients (the embedded one, and the AWS one in
// local configurations).
type DefaultClientSeeder interface {
	PutDefaultClient(ctx context.Context, provider string, c store.DefaultClient) error
}

// SeedDefaultClients stores clients (the fake provider's) as the
// platform's default OAuth clients.
func SeedDefaultClients(ctx context.Context, secrets store.Secrets, clients map[string]store.DefaultClient) error {
	seeder, ok := secrets.(DefaultClientSeeder)
	if !ok {
		return fmt.Errorf("seed default clients: the secrets store (%T) cannot store default clients", secrets)
	}
	for _, provider := range slices.Sorted(maps.Keys(clients)) {
		if err := seeder.PutDefaultClient(ctx, provider, clients[provider]); err != nil {
			return fmt.Errorf("seed default client for %s: %w", provider, err)
		}
	}
	return nil
}
