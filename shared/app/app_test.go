package app_test

import (
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/config"
)

// TestEmbeddedStoreIsNotBuiltIn: a deployed function links only the AWS
// stores; STORE=embedded without injected stores (infra/localapp injects
// them for local runs) is refused at Build with that reason.
func TestEmbeddedStoreIsNotBuiltIn(t *testing.T) {
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"ENVIRONMENT": "local", "STORE": "embedded", "LOCAL_DATA_DIR": t.TempDir()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = app.Build(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "injected by local runs") {
		t.Fatalf("Build on STORE=embedded: %v, want the local-only refusal", err)
	}
}
