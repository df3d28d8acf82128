package localapp_test

import (
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/storetest"
)

// TestEmbeddedStoresAreDurable: a local run on STORE=embedded seals tokens
// and keeps a client secret, and a restarted local server reads the same
// data with the same key.
func TestEmbeddedStoresAreDurable(t *testing.T) {
	env := map[string]string{"ENVIRONMENT": "local", "STORE": "embedded", "LOCAL_DATA_DIR": t.TempDir()}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: "google_workspace"}
	tok := &oauth2.Token{AccessToken: "fake-access-token-" + strings.Repeat("a", 20), RefreshToken: "fake-refresh-token-" + strings.Repeat("r", 20)}
	secret := storetest.PlantedSecret()

	d, err := localapp.Build(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sealed, keyID, err := d.Tokens.SealToken(ctx, k, tok)
	if err != nil {
		t.Fatal(err)
	}
	c := storetest.Connection(k)
	c.SealedTokens, c.TokenKeyID = sealed, keyID
	if _, err := d.Store.PutConnection(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if err := d.Secrets.PutClientSecret(ctx, "org-1", "google_workspace", secret); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d2, err := localapp.Build(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got, err := d2.Store.GetConnection(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := d2.Tokens.OpenToken(ctx, k, got.SealedTokens)
	if err != nil || opened.AccessToken != tok.AccessToken || opened.RefreshToken != tok.RefreshToken {
		t.Fatalf("open stored token after a restart: %v", err)
	}
	if v, err := d2.Secrets.GetClientSecret(ctx, "org-1", "google_workspace"); err != nil || v != secret {
		t.Fatalf("client secret after a restart: %v", err)
	}
}
