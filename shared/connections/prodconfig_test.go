package connections

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/tokenseal"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// Provider endpoints can be overridden only in local or test
// configurations: a production configuration that tries does not load, so
// no function can be built from it (each main exits on the error).
func TestProductionRefusesEndpointOverride(t *testing.T) {
	for _, environment := range []string{"prod", "staging", "dev", ""} {
		t.Run("ENVIRONMENT="+environment, func(t *testing.T) {
			_, err := config.FromEnv(env(map[string]string{
				"ENVIRONMENT":                environment,
				"TABLE_NAME":                 "integrations",
				"PROVIDER_ENDPOINT_OVERRIDE": "http://127.0.0.1:3002",
			}))
			if err == nil {
				t.Fatal("a production configuration with PROVIDER_ENDPOINT_OVERRIDE loaded")
			}
			if !strings.Contains(err.Error(), "PROVIDER_ENDPOINT_OVERRIDE") || !strings.Contains(err.Error(), "only in local or test") {
				t.Fatalf("error does not say why: %v", err)
			}
		})
	}
	for _, environment := range []string{"local", "test"} {
		cfg, err := config.FromEnv(env(map[string]string{
			"ENVIRONMENT": environment, "STORE": "embedded",
			"PROVIDER_ENDPOINT_OVERRIDE": "http://127.0.0.1:3002",
		}))
		if err != nil || cfg.ProviderEndpointOverride != "http://127.0.0.1:3002" {
			t.Fatalf("%s configuration with an override refused: %v", environment, err)
		}
	}
}

// Without an override, the authorization URLs a production service hands
// out, and the URLs its HTTP client calls, are the providers' real hosts.
func TestProductionUsesRealProviderHosts(t *testing.T) {
	cfg, err := config.FromEnv(env(map[string]string{
		"ENVIRONMENT": "prod", "TABLE_NAME": "integrations",
		"PUBLIC_BASE_URL": "https://api.example.com", "ALLOWED_RETURN_URLS": "https://app.example.com/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	rw, err := outbound.NewRewriter(cfg.ProviderEndpointOverride)
	if err != nil || rw.Active() {
		t.Fatalf("rewriter active in production: %v", err)
	}
	hc := outbound.NewClient(rw, cfg.ProviderTimeout)
	if _, plain := hc.Transport.(*http.Transport); !plain {
		t.Fatalf("production HTTP client transport is %T, want a plain *http.Transport", hc.Transport)
	}

	ctx := context.Background()
	db, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat := catalog.New()
	svc, err := New(Options{
		Catalog: cat, Store: db, Clients: &clients.Resolver{Catalog: cat, Secrets: db, Rewriter: rw},
		Vault: &tokenseal.Vault{Secrets: db}, HTTPClient: hc,
		AvailableProviders: cfg.AvailableProviders, AllowedReturnURLs: cfg.AllowedReturnURLs,
	})
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]store.Integration{
		catalog.Microsoft365:    {Tenant: "contoso.onmicrosoft.com"},
		catalog.GoogleWorkspace: {},
		catalog.Salesforce:      {AuthBaseURL: "https://login.salesforce.com"},
	}
	wantHost := map[string]string{
		catalog.Microsoft365:    "login.microsoftonline.com",
		catalog.GoogleWorkspace: "accounts.google.com",
		catalog.Salesforce:      "login.salesforce.com",
	}
	who := auth.Principal{OrgID: "org-1", UserID: "user-1"}
	for id, in := range settings {
		in.OrgID, in.Provider, in.Enabled, in.ConfigMode = who.OrgID, id, true, store.ConfigModeDefault
		in.Capabilities = []string{"email"}
		if id == catalog.Salesforce {
			in.Capabilities = []string{"crm"}
		}
		in.Rollout = store.Rollout{Mode: store.RolloutEveryone}
		if _, err := db.PutIntegration(ctx, in, 0); err != nil {
			t.Fatal(err)
		}
		if err := db.PutDefaultClient(ctx, id, store.DefaultClient{ClientID: "fake-client-" + id, ClientSecret: "fake-client-secret-1"}); err != nil {
			t.Fatal(err)
		}
		res, err := svc.Start(ctx, who, id, StartRequest{ReturnTo: "https://app.example.com/apps"}, "https://api.example.com"+CallbackPath)
		if err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		u, err := url.Parse(res.AuthorizationURL)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "https" || u.Host != wantHost[id] {
			t.Errorf("%s authorization URL host = %s://%s, want https://%s", id, u.Scheme, u.Host, wantHost[id])
		}
		if got := u.Query().Get("redirect_uri"); got != "https://api.example.com/oauth/callback" {
			t.Errorf("%s redirect_uri = %q", id, got)
		}
	}
}
