package moto_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sofie/integrations/infra/testenv/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

func TestServerAnswers(t *testing.T) {
	cfg := moto.Config(t)
	if _, err := dynamodb.NewFromConfig(cfg).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("dynamodb: %v", err)
	}
	if _, err := secretsmanager.NewFromConfig(cfg).ListSecrets(t.Context(), &secretsmanager.ListSecretsInput{}); err != nil {
		t.Fatalf("secretsmanager: %v", err)
	}
	if moto.Endpoint(t) != moto.Endpoint(t) {
		t.Fatal("a second server was started")
	}
}

func TestPrefixUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		t.Run("same/name", func(t *testing.T) {
			p := moto.Prefix(t)
			if seen[p] || strings.ContainsAny(p, "/ ") {
				t.Fatalf("prefix %q repeated or not name-safe", p)
			}
			seen[p] = true
		})
	}
}

// TestFailsWithoutServer: with no moto_server on PATH a test that needs it
// fails (never skips) and says how to install it.
func TestFailsWithoutServer(t *testing.T) {
	if os.Getenv("MOTO_CHILD") == "1" {
		moto.Endpoint(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailsWithoutServer$", "-test.v")
	cmd.Env = append(os.Environ(), "MOTO_CHILD=1", "PATH=/nonexistent", "MOTO_ENDPOINT=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the child passed without moto_server:\n%s", out)
	}
	if !strings.Contains(string(out), "--- FAIL") || strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), moto.Install) {
		t.Fatalf("child output does not fail with install instructions:\n%s", out)
	}
}
