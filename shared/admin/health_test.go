package admin

import (
	"context"
	"testing"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// TestSavesResumeConnectionsPausedForTheClient: while the integration's
// client is failing, saving a client secret or a change of the client's
// configuration (mode, id, tenant, authentication host) asks for the
// paused connections to be resumed (one job, whatever the org's size);
// other saves, and any save while the client is OK, do not. The
// integration shows the client's health.
func TestSavesResumeConnectionsPausedForTheClient(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		failing bool
		save    func(f *fixture) error
		want    bool
	}{
		{"a new secret while failing", true, func(f *fixture) error {
			_, err := f.svc.PutClientSecret(ctx, admin1, catalog.Microsoft365, SecretInput{ClientSecret: "another-secret-value-1"}, Precondition{}, "")
			return err
		}, true},
		{"another client id while failing", true, func(f *fixture) error {
			_, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", "11111111-2222-3333-4444-555555555555"), ifMatch(2), "")
			return err
		}, true},
		{"another tenant while failing", true, func(f *fixture) error {
			b := msBody("organization", msClientID)
			b.Tenant = "fabrikam.onmicrosoft.com"
			_, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, b, ifMatch(2), "")
			return err
		}, true},
		{"the default client while failing", true, func(f *fixture) error {
			_, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("default", ""), ifMatch(2), "")
			return err
		}, true},
		{"capabilities only while failing", true, func(f *fixture) error {
			b := msBody("organization", msClientID)
			b.Capabilities = []string{"email"}
			_, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, b, ifMatch(2), "")
			return err
		}, false},
		{"a secret removed while failing", true, func(f *fixture) error {
			_, err := f.svc.DeleteClientSecret(ctx, admin1, catalog.Microsoft365, Precondition{}, "")
			return err
		}, false},
		{"a new secret while OK", false, func(f *fixture) error {
			_, err := f.svc.PutClientSecret(ctx, admin1, catalog.Microsoft365, SecretInput{ClientSecret: "another-secret-value-1"}, Precondition{}, "")
			return err
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			if _, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), Precondition{}, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.PutClientSecret(ctx, admin1, catalog.Microsoft365, SecretInput{ClientSecret: "the-first-secret-value"}, Precondition{}, ""); err != nil {
				t.Fatal(err)
			}
			if tc.failing {
				if _, _, err := f.store.ReportClientFailure(ctx, "o1", catalog.Microsoft365, "invalid_client_secret", 2, f.now); err != nil {
					t.Fatal(err)
				}
			}
			v, err := f.svc.Get(ctx, "o1", catalog.Microsoft365, "")
			if err != nil {
				t.Fatal(err)
			}
			if wantStatus := map[bool]string{true: "failing", false: "ok"}[tc.failing]; v.ClientHealth.Status != wantStatus ||
				tc.failing && (v.ClientHealth.Cause != "invalid_client_secret" || v.ClientHealth.Since == nil || v.ClientHealth.LastSeen == nil) {
				t.Fatalf("clientHealth %+v, want %s", v.ClientHealth, wantStatus)
			}
			if err := tc.save(f); err != nil {
				t.Fatal(err)
			}
			jobs, err := f.store.ListJobs(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			resumes := 0
			for _, j := range jobs {
				if j.Kind == store.JobResume && j.OrgID == "o1" && j.Provider == catalog.Microsoft365 {
					resumes++
				}
			}
			if got := resumes == 1; got != tc.want || resumes > 1 {
				t.Fatalf("%d resume jobs, want %v", resumes, tc.want)
			}
		})
	}
}

// TestCardsShowClientHealthToAdmins: the admin's list shows each
// integration's client health from one listing of the org's.
func TestCardsShowClientHealthToAdmins(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	if _, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), Precondition{}, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.ReportClientFailure(ctx, "o1", catalog.Microsoft365, "client_secret_expired", 1, f.now); err != nil {
		t.Fatal(err)
	}
	who, ok := auth.FromClaims(map[string]string{"sub": "u-admin", "org_id": "o1", "roles": "org_admin"}, auth.DefaultClaimNames())
	if !ok || !who.IsAdmin() {
		t.Fatal("no admin principal")
	}
	cards, err := f.svc.Cards(ctx, who, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		want := "ok"
		if c.Provider == catalog.Microsoft365 {
			want = "failing"
		}
		if c.Configuration == nil || c.Configuration.ClientHealth.Status != want {
			t.Errorf("%s: configuration %+v, want clientHealth %s", c.Provider, c.Configuration, want)
		}
	}
}
