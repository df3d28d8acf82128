package systemtest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
)

// TestCredentialCheckLimited: saving guessed client secrets cannot test more
// than 10 of them a minute per org at the provider. Over the limit the save
// still succeeds and the check answers rate_limited without a provider
// request; every check's outcome is in the audit trail, never a secret.
// Issue 11, finding 3 (credential-check limit).
func TestCredentialCheckLimited(t *testing.T) {
	t.Parallel()
	const checkLimit = 10 // a minute, per org: the documented limit
	eachStore(t, func(t *testing.T, w *world) {
		const org, provider = "o-guess", catalog.GoogleWorkspace
		client := orgClients[provider]
		real := "fake-client-secret-the-right-one"
		w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: provider, ClientID: client, Secret: real})
		want(t, w.do(t, "PUT", integrationPath(org, provider), w.admin(org), orgBody(provider), nil), 201, "")
		checks := func() int {
			return w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindExchange, ClientID: client})
		}

		var guesses []string
		var results []string
		for i := range checkLimit + 2 {
			guess := fmt.Sprintf("fake-client-secret-guess-%02d", i)
			if i == checkLimit {
				guess = real // the right guess, once over the limit
			}
			guesses = append(guesses, guess)
			resp := w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": guess}, nil)
			want(t, resp, 200, "")
			var v admin.IntegrationView
			if err := resp.Decode(&v); err != nil || v.CredentialCheck == nil {
				t.Fatalf("save %d: %s", i, resp)
			}
			results = append(results, v.CredentialCheck.Result)
		}
		for i, r := range results {
			wantResult := admin.CheckInvalidClient
			if i >= checkLimit {
				wantResult = "rate_limited"
			}
			if r != wantResult {
				t.Errorf("check %d: %s, want %s (all %v)", i+1, r, wantResult, results)
			}
		}
		if n := checks(); n != checkLimit {
			t.Errorf("%d checks reached the provider, want %d", n, checkLimit)
		}
		// Every save stood: the last secret is stored.
		if got, err := w.env.Deps.Secrets.GetClientSecret(t.Context(), org, provider); err != nil || got != guesses[len(guesses)-1] {
			t.Errorf("stored secret is not the last one saved (%v)", err)
		}

		// The trail: one credentials.checked entry per check, with its
		// result only, after its save's entry.
		entries := w.audit(t, org)
		var audited []string
		for i, e := range entries {
			for _, c := range e.Changes {
				for _, g := range guesses {
					if strings.Contains(c.Old+c.New+c.Field, g) {
						t.Fatalf("the audit trail holds a secret: %+v", e)
					}
				}
			}
			if e.Action != "credentials.checked" {
				continue
			}
			if len(e.Changes) != 1 || e.Changes[0].Field != "credentialCheck" || e.Actor != "u-admin-"+org {
				t.Fatalf("entry %+v", e)
			}
			if i+1 >= len(entries) || entries[i+1].Action != admin.ActionSecretSet {
				t.Errorf("a check's entry does not follow its save's")
			}
			audited = append([]string{e.Changes[0].New}, audited...)
		}
		if fmt.Sprint(audited) != fmt.Sprint(results) {
			t.Errorf("audited results %v, want %v", audited, results)
		}

		// Another org has its own allowance; this org's returns after a minute.
		w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: provider, ClientID: client, Secret: real})
		const other = "o-guess-other"
		want(t, w.do(t, "PUT", integrationPath(other, provider), w.admin(other), orgBody(provider), nil), 201, "")
		resp := w.do(t, "PUT", integrationPath(other, provider)+"/client-secret", w.admin(other), map[string]string{"clientSecret": real}, nil)
		if !strings.Contains(string(resp.Body), `"result":"valid"`) {
			t.Errorf("another org's check: %s", resp)
		}
		w.env.Clock.Advance(time.Minute)
		resp = w.do(t, "PUT", integrationPath(org, provider)+"/client-secret", w.admin(org), map[string]string{"clientSecret": real}, nil)
		if !strings.Contains(string(resp.Body), `"result":"valid"`) {
			t.Errorf("a minute later: %s", resp)
		}
	})
}
