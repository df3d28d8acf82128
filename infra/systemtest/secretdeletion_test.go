package systemtest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awssecrets"
)

// withSettleBudget gives the functions a Secrets Manager store whose puts
// wait at most budget for an unfinished deletion (AdminFunction's own is
// awssecrets.DefaultSettleBudget).
func withSettleBudget(t testing.TB, budget time.Duration) localtest.Option {
	return localtest.WithDeps(func(d *app.Deps) {
		s, err := awssecrets.New(secretsmanager.NewFromConfig(moto.Config(t)), awssecrets.Options{
			Prefix: d.Config.SecretsPrefix, TokenKeySecretID: d.Config.TokenKeySecretID,
			CacheTTL: d.Config.SecretsCacheTTL, SettleBudget: budget,
		})
		if err != nil {
			t.Fatal(err)
		}
		d.Secrets, d.Tokens.Secrets, d.Clients.Secrets = s, s, s
	})
}

// TestClientSecretSetRightAfterRemoval: an admin removes the org's client
// secret and sets a new one at once. Secrets Manager finishes a forced
// deletion in the background and refuses to create the name until then
// (simulated at the wire, moto.SimulateSecretDeletionDelay;
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
// Within the put's budget the request waits it out and succeeds; beyond it
// the answer is 503 service_unavailable with Retry-After (never a 500 or an
// internal text), nothing is recorded, and the same request succeeds once
// the deletion is done.
func TestClientSecretSetRightAfterRemoval(t *testing.T) {
	cases := []struct {
		name   string
		delay  time.Duration
		budget time.Duration // 0: the default
	}{
		{name: "deletion finishes within the budget", delay: 800 * time.Millisecond},
		{name: "deletion outlasts the budget", delay: 2 * time.Second, budget: 300 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := []localtest.Option{localtest.WithAWS(), localtest.WithEnv("VERIFY_CREDENTIALS", "false")}
			if tc.budget > 0 {
				opts = append(opts, withSettleBudget(t, tc.budget))
			}
			w := newWorld(t, opts...)
			refused := moto.SimulateSecretDeletionDelay(t, w.env.Config.SecretsPrefix, tc.delay)
			const org, provider = "org-resecret", catalog.GoogleWorkspace
			path := integrationPath(org, provider) + "/client-secret"
			set := func(v string) *localtest.Response {
				return w.do(t, "PUT", path, w.admin(org), map[string]string{"clientSecret": v}, nil)
			}
			stored := func() (string, error) {
				return w.env.Deps.Secrets.GetClientSecret(context.Background(), org, provider)
			}

			want(t, set("fake-client-secret-first"), http.StatusOK, "")
			// The simulated deletion starts when the DeleteSecret call
			// lands, between these two instants: the first bounds when it
			// can end from below, the second from above.
			removing := time.Now()
			want(t, w.do(t, "DELETE", path, w.admin(org), nil, nil), http.StatusOK, "")
			removed := time.Now()
			resp := set("fake-client-secret-second")
			if refused.Hits() == 0 {
				t.Fatal("the put never met the unfinished deletion")
			}
			if tc.budget == 0 {
				want(t, resp, http.StatusOK, "")
				if time.Since(removing) < tc.delay {
					t.Fatalf("answered before the deletion finished")
				}
				var v admin.IntegrationView
				if err := resp.Decode(&v); err != nil || !v.ClientSecretConfigured {
					t.Fatalf("view after the put: %v %s", err, resp)
				}
				if got, err := stored(); err != nil || got != "fake-client-secret-second" {
					t.Fatalf("stored secret: %v", err)
				}
				if got := w.auditActions(t, org); !slices.Equal(got, []string{admin.ActionSecretSet, admin.ActionSecretRemoved, admin.ActionSecretSet}) {
					t.Fatalf("audit %v", got)
				}
				return
			}

			wantUnavailable(t, resp)
			if _, err := stored(); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a secret is stored after the refused put: %v", err)
			}
			if in, _ := w.integration(t, org, provider); !in.ClientSecretSetAt.IsZero() {
				t.Fatal("the integration records a secret the put did not store")
			}
			if got := w.auditActions(t, org); !slices.Equal(got, []string{admin.ActionSecretSet, admin.ActionSecretRemoved}) {
				t.Fatalf("audit %v after the refused put", got)
			}
			// Once the deletion is done, the same request succeeds.
			time.Sleep(time.Until(removed.Add(tc.delay)))
			want(t, set("fake-client-secret-second"), http.StatusOK, "")
			if got, err := stored(); err != nil || got != "fake-client-secret-second" {
				t.Fatalf("stored secret after the retry: %v", err)
			}
		})
	}
}
