//go:build moto

// This file runs against moto_server (make test passes -tags moto; see the
// README's Tests): the package's other tests need nothing but Go.

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awssecrets"
	"github.com/sofie/integrations/shared/store/dynamostore"
	"github.com/sofie/integrations/shared/store/storetest"
)

func buildWith(t *testing.T, env map[string]string) *app.Deps {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.Build(t.Context(), cfg, app.WithAWSSetup(createStores))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return d
}

// createStores creates the table and the token key, as the local server
// does before it builds on a local DynamoDB and Secrets Manager.
func createStores(ctx context.Context, ddb *dynamodb.Client, sm *secretsmanager.Client, table, tokenKeyID string) error {
	if err := dynamostore.EnsureTable(ctx, ddb, table); err != nil {
		return err
	}
	return awssecrets.EnsureTokenKey(ctx, sm, tokenKeyID)
}

// storeSomething writes a connection with sealed tokens and a client
// secret through d, and returns the plaintext values that must never be
// stored as such.
func storeSomething(t *testing.T, d *app.Deps) []string {
	t.Helper()
	ctx := t.Context()
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: "google_workspace"}
	tok := &oauth2.Token{AccessToken: "fake-access-token-" + strings.Repeat("a", 20), RefreshToken: "fake-refresh-token-" + strings.Repeat("r", 20)}
	sealed, keyID, err := d.Tokens.SealToken(ctx, k, tok)
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.Connection(k)
	c.SealedTokens, c.TokenKeyID = sealed, keyID
	if _, err := d.Store.PutConnection(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	secret := storetest.PlantedSecret()
	if err := d.Secrets.PutClientSecret(ctx, "org-1", "google_workspace", secret); err != nil {
		t.Fatal(err)
	}
	return []string{tok.AccessToken, tok.RefreshToken, secret}
}

// readBack opens what storeSomething wrote.
func readBack(t *testing.T, d *app.Deps, want []string) {
	t.Helper()
	ctx := t.Context()
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: "google_workspace"}
	c, err := d.Store.GetConnection(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := d.Tokens.OpenToken(ctx, k, c.SealedTokens)
	if err != nil || tok.AccessToken != want[0] || tok.RefreshToken != want[1] {
		t.Fatalf("open stored token: %v", err)
	}
	if v, err := d.Secrets.GetClientSecret(ctx, "org-1", "google_workspace"); err != nil || v != want[2] {
		t.Fatalf("client secret: %v", err)
	}
}

// TestAWSStoresOnMoto: STORE=aws with AWS_ENDPOINT_URL at a moto_server
// (the table and token key created by the local setup) works end to end,
// and a scan of the table shows no plaintext token or secret.
func TestAWSStoresOnMoto(t *testing.T) {
	ep := moto.Endpoint(t)
	t.Setenv("AWS_ENDPOINT_URL", ep)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(v, "")
	}
	prefix := strings.TrimSuffix(moto.Prefix(t), "-")
	env := map[string]string{"ENVIRONMENT": "test", "STORE": "aws", "TABLE_NAME": prefix + "-table", "SECRETS_PREFIX": prefix}
	d := buildWith(t, env)
	want := storeSomething(t, d)
	d.Close()

	// A second start finds the table and key and reads the data back.
	d2 := buildWith(t, env)
	defer d2.Close()
	readBack(t, d2, want)

	db := dynamodb.NewFromConfig(moto.Config(t))
	out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(prefix + "-table")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) == 0 {
		t.Fatal("the table is empty")
	}
	raw, _ := json.Marshal(out.Items)
	for _, v := range want {
		if bytes.Contains(raw, []byte(v)) {
			t.Fatal("a plaintext token or secret is stored in the table")
		}
	}
}
