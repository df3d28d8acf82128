//go:build moto

// This file runs against moto_server (make test passes -tags moto; see the
// README's Tests): the package's other tests need nothing but Go.

package app_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
)

// TestWithAWSAPIOptionsSeesEveryStoreCall: middleware given to Build sits on
// both AWS clients the stores use, so a benchmark counting through it sees
// each DynamoDB and Secrets Manager call a request makes, and nothing else.
func TestWithAWSAPIOptionsSeesEveryStoreCall(t *testing.T) {
	ep := moto.Endpoint(t)
	t.Setenv("AWS_ENDPOINT_URL", ep)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(v, "")
	}
	prefix := strings.TrimSuffix(moto.Prefix(t), "-")
	env := map[string]string{"ENVIRONMENT": "test", "STORE": "aws", "TABLE_NAME": prefix + "-table", "SECRETS_PREFIX": prefix}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var calls awscount.Counter
	d, err := app.Build(t.Context(), cfg, app.WithAWSAPIOptions(calls.Middleware), app.WithAWSSetup(createStores))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	defer d.Close()
	// The setup (as the local server's) creates the table and token key at
	// Build.
	if calls.Calls("DynamoDB", "") == 0 || calls.Calls("Secrets Manager", "") == 0 {
		t.Fatalf("Build's own calls were not seen: %s", calls.String())
	}

	calls.Reset()
	if _, err := d.Store.GetIntegration(t.Context(), "org-1", "salesforce"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get integration: %v", err)
	}
	if err := d.Secrets.PutClientSecret(t.Context(), "org-1", "salesforce", "fake-client-secret-1"); err != nil {
		t.Fatal(err)
	}
	if got := calls.Calls("DynamoDB", "GetItem"); got != 1 || calls.Calls("DynamoDB", "") != 1 {
		t.Errorf("DynamoDB calls %s, want exactly one GetItem", calls.String())
	}
	if calls.Calls("Secrets Manager", "") == 0 {
		t.Errorf("the secret's put made no counted Secrets Manager call: %s", calls.String())
	}
}
