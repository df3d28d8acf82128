package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
)

// These tests drive the service on the real embedded store; the
// end-to-end tests (e2e_test.go) drive it through the local server and the
// fake provider.

type fixture struct {
	svc   *Service
	store *boltstore.Store
	now   time.Time
}

func newFixture(t *testing.T, mut func(*Options)) *fixture {
	t.Helper()
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{store: st, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	o := Options{
		Catalog: catalog.New(), Store: st, Secrets: st,
		Now:                func() time.Time { return f.now },
		AvailableProviders: []string{catalog.Microsoft365, catalog.GoogleWorkspace, catalog.Salesforce},
	}
	if mut != nil {
		mut(&o)
	}
	if f.svc, err = New(o); err != nil {
		t.Fatal(err)
	}
	return f
}

var admin1 = auth.Principal{UserID: "u-admin", OrgID: "o1", Roles: []string{"org_admin"}}

func msBody(mode, clientID string) IntegrationInput {
	return IntegrationInput{Enabled: enabled(true), ConfigMode: mode, ClientID: clientID, Tenant: "contoso.onmicrosoft.com", Capabilities: []string{"email", "calendar"}}
}

func ifMatch(v int64) Precondition { return Precondition{IfMatch: []string{ETag(v)}} }

func wantProblem(t *testing.T, err error, status int, code string) *problem.Problem {
	t.Helper()
	var p *problem.Problem
	if !errors.As(err, &p) || p.Status != status || p.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	return p
}

func TestPutIntegrationVersionsAndAudit(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	res, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), Precondition{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.View.Version != 1 || res.View.Status != StatusIncomplete || fmt.Sprint(res.View.Missing) != "[client_secret]" {
		t.Fatalf("first save: %+v", res)
	}
	// Unchanged body: no new version, no audit entry.
	res, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), ifMatch(1), "")
	if err != nil || res.View.Version != 1 || res.Created {
		t.Fatalf("no-op save: %+v %v", res, err)
	}
	// Without If-Match: 428; stale: 412 with the current version.
	_, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), Precondition{}, "")
	wantProblem(t, err, 428, problem.CodePreconditionReq)
	body := msBody("organization", msClientID)
	body.AllowWriteActions = true
	res, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, body, ifMatch(1), "")
	if err != nil || res.View.Version != 2 {
		t.Fatalf("second save: %+v %v", res, err)
	}
	p := wantProblem(t, func() error {
		_, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), ifMatch(1), "")
		return err
	}(), 412, problem.CodePreconditionFail)
	if v, _ := CurrentVersion(p); v != 2 {
		t.Fatalf("currentVersion = %d", v)
	}
	stored, err := f.store.GetIntegration(ctx, "o1", catalog.Microsoft365)
	if err != nil || stored.Version != 2 || !stored.AllowWriteActions || stored.UpdatedBy != "u-admin" {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	page, err := f.svc.Audit(ctx, "o1", store.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 2 || page.Entries[0].Action != ActionUpdated || page.Entries[1].Action != ActionCreated {
		t.Fatalf("audit: %+v", page.Entries)
	}
	if got := fmt.Sprint(page.Entries[0].Changes); got != "[{allowWriteActions false true}]" {
		t.Fatalf("update changes = %s", got)
	}
}

func TestUnknownProvider(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.svc.PutIntegration(context.Background(), admin1, "dropbox", msBody("default", ""), Precondition{}, "")
	wantProblem(t, err, 404, problem.CodeUnknownProvider)
	_, err = f.svc.Get(context.Background(), "o1", "dropbox", "")
	wantProblem(t, err, 404, problem.CodeUnknownProvider)
}

// conflictOnce makes the next PutIntegration lose a race: another admin's
// save lands between the service's read and its write.
type conflictOnce struct {
	store.Store
	once sync.Once
}

func (c *conflictOnce) PutIntegration(ctx context.Context, cfg store.Integration, v int64, audit ...store.AuditEntry) (store.Integration, error) {
	var err error
	c.once.Do(func() {
		other, gerr := c.Store.GetIntegration(ctx, cfg.OrgID, cfg.Provider)
		if gerr != nil {
			err = gerr
			return
		}
		other.Tenant = "fabrikam.onmicrosoft.com"
		_, err = c.Store.PutIntegration(ctx, other, v)
	})
	if err != nil {
		return store.Integration{}, err
	}
	return c.Store.PutIntegration(ctx, cfg, v, audit...)
}

func TestConcurrentSaveIsPreconditionFailed(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), Precondition{}, ""); err != nil {
		t.Fatal(err)
	}
	f.svc.o.Store = &conflictOnce{Store: f.store}
	body := msBody("organization", msClientID)
	body.Capabilities = []string{"files"}
	_, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, body, ifMatch(1), "")
	p := wantProblem(t, err, 412, problem.CodePreconditionFail)
	if v, _ := CurrentVersion(p); v != 2 {
		t.Fatalf("currentVersion = %d, want 2", v)
	}
	stored, _ := f.store.GetIntegration(ctx, "o1", catalog.Microsoft365)
	if stored.Tenant != "fabrikam.onmicrosoft.com" || fmt.Sprint(stored.Capabilities) != "[email calendar]" {
		t.Fatalf("the other admin's save must stand untouched: %+v", stored)
	}
}

func conn(user, ref string, version int64) store.Connection {
	return store.Connection{
		ConnKey: store.ConnKey{OrgID: "o1", UserID: user, Provider: catalog.Microsoft365},
		Status:  store.StatusConnected, ClientRef: ref, Version: version,
		NextRefreshAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
}

// TestSavesWriteNoConnection: a save that changes the client, disables or
// enables the provider again writes no connection, whatever the org's size
// (the consequences are derived when each is read); what must be written
// back is one job for the refresh runs.
func TestSavesWriteNoConnection(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	res, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("default", ""), Precondition{}, "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 130
	for i := range n {
		if _, err := f.store.PutConnection(ctx, conn(fmt.Sprintf("u%03d", i), store.ConfigModeDefault, 0), 0); err != nil {
			t.Fatal(err)
		}
	}
	unchanged := func(stage string) {
		t.Helper()
		for i := range n {
			c, err := f.store.GetConnection(ctx, store.ConnKey{OrgID: "o1", UserID: fmt.Sprintf("u%03d", i), Provider: catalog.Microsoft365})
			if err != nil || c.Version != 1 || c.Status != store.StatusConnected {
				t.Fatalf("%s: connection %d written: %+v %v", stage, i, c, err)
			}
		}
	}
	jobs := func() []store.Job {
		t.Helper()
		js, err := f.store.ListJobs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}

	// Another client.
	res, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), ifMatch(res.View.Version), "")
	if err != nil {
		t.Fatal(err)
	}
	unchanged("client changed")
	if js := jobs(); len(js) != 1 || js[0].OrgID != "o1" || js[0].Provider != catalog.Microsoft365 || !slices.Equal(js[0].Reasons, []string{store.ReasonClientChanged}) {
		t.Fatalf("jobs after a client change: %+v", js)
	}
	// Disabled, then enabled again with the default client.
	body := msBody("default", "")
	body.Enabled = enabled(false)
	if res, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, body, ifMatch(res.View.Version), ""); err != nil {
		t.Fatal(err)
	}
	if res, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("default", ""), ifMatch(res.View.Version), ""); err != nil {
		t.Fatal(err)
	}
	unchanged("disabled and enabled again")
	var reasons [][]string
	for _, j := range jobs() {
		reasons = append(reasons, j.Reasons)
	}
	// (The disabling save also went back to the default client: its
	// client_changed job replaced the first one.)
	if len(reasons) != 2 || !slices.ContainsFunc(reasons, func(r []string) bool { return slices.Equal(r, []string{store.ReasonProviderDisabled}) }) {
		t.Fatalf("jobs after disable and enable: %v", reasons)
	}
	// Saving again without a change asks for nothing more.
	before := len(jobs())
	if _, err = f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("default", ""), ifMatch(res.View.Version), ""); err != nil {
		t.Fatal(err)
	}
	if len(jobs()) != before {
		t.Fatal("an unchanged save enqueued work")
	}
}

func TestSecretLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	const secret = "fake-client-secret-1"
	// Setting a secret before the integration exists creates a disabled one.
	res, err := f.svc.PutClientSecret(ctx, admin1, catalog.Microsoft365, SecretInput{ClientSecret: secret}, Precondition{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.View.ClientSecretConfigured || res.View.Enabled || res.View.Version != 1 || res.View.ClientSecretSetAt == nil || !res.View.ClientSecretSetAt.Equal(f.now) {
		t.Fatalf("view: %+v", res.View)
	}
	if got, err := f.store.GetClientSecret(ctx, "o1", catalog.Microsoft365); err != nil || got != secret {
		t.Fatalf("stored secret: %v", err)
	}
	// A stale If-Match is refused before anything is written.
	_, err = f.svc.PutClientSecret(ctx, admin1, catalog.Microsoft365, SecretInput{ClientSecret: "fake-client-secret-2"}, ifMatch(7), "")
	wantProblem(t, err, 412, problem.CodePreconditionFail)
	if got, _ := f.store.GetClientSecret(ctx, "o1", catalog.Microsoft365); got != secret {
		t.Fatal("a refused request must not replace the secret")
	}
	v, err := f.svc.DeleteClientSecret(ctx, admin1, catalog.Microsoft365, Precondition{}, "")
	if err != nil || v.ClientSecretConfigured || v.Version != 2 {
		t.Fatalf("delete: %+v %v", v, err)
	}
	if _, err := f.store.GetClientSecret(ctx, "o1", catalog.Microsoft365); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("secret after delete: %v", err)
	}
	// Deleting again changes nothing and audits nothing.
	if v, err = f.svc.DeleteClientSecret(ctx, admin1, catalog.Microsoft365, Precondition{}, ""); err != nil || v.Version != 2 {
		t.Fatalf("second delete: %+v %v", v, err)
	}
	page, _ := f.svc.Audit(ctx, "o1", store.Page{})
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Action+fmt.Sprint(e.Changes))
	}
	want := []string{"client_secret.removed[{clientSecret set removed}]", "client_secret.set[{clientSecret not set set}]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit = %v, want %v", got, want)
	}
}

// tokenEndpoint answers every request with status and body, after delay.
func tokenEndpoint(t *testing.T, status int, body string, delay time.Duration) (*http.Client, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var grants []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		grants = append(grants, r.URL.Path+" "+r.PostForm.Get("grant_type")+" "+r.PostForm.Get("scope"))
		mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	rw, err := outbound.NewRewriter(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return outbound.NewClient(rw, 0), &grants
}

func TestCredentialCheckClassification(t *testing.T) {
	tests := []struct {
		name     string
		provider string
		tenant   string
		status   int
		body     string
		delay    time.Duration
		result   string
		grant    string // path, grant type and scope of the request sent
	}{
		{"microsoft valid", catalog.Microsoft365, "contoso.onmicrosoft.com", 200, `{"access_token":"at","token_type":"Bearer","expires_in":3599}`, 0, CheckValid,
			"/login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token client_credentials https://graph.microsoft.com/.default"},
		{"microsoft bad secret", catalog.Microsoft365, "contoso.onmicrosoft.com", 401, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`, 0, CheckInvalidClient, ""},
		{"microsoft unknown app", catalog.Microsoft365, "contoso.onmicrosoft.com", 400, `{"error":"unauthorized_client","error_description":"AADSTS700016"}`, 0, CheckInvalidClient, ""},
		{"microsoft single-tenant app under organizations", catalog.Microsoft365, "organizations", 400, `{"error":"invalid_request","error_description":"AADSTS50194: Application 'x' is not configured as a multi-tenant application."}`, 0, CheckSettingsMismatch, ""},
		{"microsoft organizations uses a dummy code", catalog.Microsoft365, "organizations", 400, `{"error":"invalid_grant","error_description":"AADSTS9002313"}`, 0, CheckValid,
			"/login.microsoftonline.com/organizations/oauth2/v2.0/token authorization_code "},
		{"google valid", catalog.GoogleWorkspace, "", 400, `{"error":"invalid_grant","error_description":"Malformed auth code."}`, 0, CheckValid,
			"/oauth2.googleapis.com/token authorization_code "},
		{"google bad client", catalog.GoogleWorkspace, "", 401, `{"error":"invalid_client","error_description":"The OAuth client was not found."}`, 0, CheckInvalidClient, ""},
		{"salesforce unknown key", catalog.Salesforce, "", 400, `{"error":"invalid_client_id","error_description":"client identifier invalid"}`, 0, CheckInvalidClient, ""},
		{"salesforce bad secret", catalog.Salesforce, "", 400, `{"error":"invalid_client","error_description":"invalid client credentials"}`, 0, CheckInvalidClient, ""},
		{"salesforce bad secret, its own code", catalog.Salesforce, "", 400, `{"error":"invalid_client_credentials","error_description":"client secret invalid"}`, 0, CheckInvalidClient, ""},
		{"server error", catalog.GoogleWorkspace, "", 503, `{"error":"temporarily_unavailable"}`, 0, CheckUnreachable, ""},
		{"throttled", catalog.GoogleWorkspace, "", 429, `{}`, 0, CheckUnreachable, ""},
		{"timeout", catalog.GoogleWorkspace, "", 400, `{"error":"invalid_grant"}`, 2 * time.Second, CheckUnreachable, ""},
		{"html error page", catalog.Salesforce, "", 400, `<html>nope</html>`, 0, CheckUnverified, ""},
		{"unexpected code", catalog.Microsoft365, "contoso.onmicrosoft.com", 400, `{"error":"invalid_request","error_description":"AADSTS90002: Tenant not found."}`, 0, CheckUnverified, ""},
		{"dummy code accepted", catalog.GoogleWorkspace, "", 200, `{"access_token":"at","token_type":"Bearer"}`, 0, CheckUnverified, ""},
	}
	clientIDs := map[string]string{
		catalog.Microsoft365:    msClientID,
		catalog.GoogleWorkspace: "1234567890-abcdefghij0123456789.apps.googleusercontent.com",
		catalog.Salesforce:      "3MVG9" + strings.Repeat("Qx7.Lm2_", 10),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, grants := tokenEndpoint(t, tt.status, tt.body, tt.delay)
			f := newFixture(t, func(o *Options) {
				o.HTTPClient, o.VerifyCredentials, o.CheckTimeout = hc, true, 300*time.Millisecond
			})
			ctx := context.Background()
			in := store.Integration{
				OrgID: "o1", Provider: tt.provider, ConfigMode: store.ConfigModeOrganization, ClientID: clientIDs[tt.provider],
				Tenant: tt.tenant, ClientSecretSetAt: f.now,
			}
			if tt.provider == catalog.Salesforce {
				in.AuthBaseURL = "https://login.salesforce.com"
			}
			if err := f.store.PutClientSecret(ctx, "o1", tt.provider, "fake-client-secret-1"); err != nil {
				t.Fatal(err)
			}
			f.svc.o.Clients = &clients.Resolver{Catalog: f.svc.o.Catalog, Secrets: f.store}
			start := time.Now()
			got := f.svc.checkCredentials(ctx, admin1, in, "https://api.example.test/oauth/callback")
			if got == nil || got.Result != tt.result {
				t.Fatalf("result = %+v, want %s", got, tt.result)
			}
			if time.Since(start) > time.Second {
				t.Errorf("the check took %s: the timeout does not hold", time.Since(start))
			}
			if strings.Contains(got.Message, "fake-client-secret-1") {
				t.Error("the message holds the secret")
			}
			if tt.grant != "" && (len(*grants) != 1 || (*grants)[0] != tt.grant) {
				t.Errorf("requests = %q, want %q", *grants, tt.grant)
			}
		})
	}
}

// TestConcurrentSavesOnTheStore: saves racing from the same version on the
// real embedded store, with no HTTP layer in between: exactly one wins and
// every other is told 412; the audit trail holds the winner's change only.
func TestConcurrentSavesOnTheStore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if _, err := f.svc.PutIntegration(ctx, admin1, catalog.Microsoft365, msBody("organization", msClientID), Precondition{}, ""); err != nil {
		t.Fatal(err)
	}
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := msBody("organization", msClientID)
			body.Rollout = &RolloutInput{Mode: "groups", Groups: []string{fmt.Sprintf("g%d", i)}}
			who := auth.Principal{UserID: fmt.Sprintf("u%d", i), OrgID: "o1"}
			_, errs[i] = f.svc.PutIntegration(ctx, who, catalog.Microsoft365, body, ifMatch(1), "")
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			if winner >= 0 {
				t.Fatalf("saves %d and %d both won", winner, i)
			}
			winner = i
			continue
		}
		wantProblem(t, err, 412, problem.CodePreconditionFail)
	}
	if winner < 0 {
		t.Fatal("no save won")
	}
	stored, _ := f.store.GetIntegration(ctx, "o1", catalog.Microsoft365)
	if stored.Version != 2 || stored.UpdatedBy != fmt.Sprintf("u%d", winner) || stored.Rollout.Groups[0] != fmt.Sprintf("g%d", winner) {
		t.Fatalf("stored %+v, winner %d", stored, winner)
	}
	page, _ := f.svc.Audit(ctx, "o1", store.Page{Limit: 100})
	if len(page.Entries) != 2 || page.Entries[0].Actor != stored.UpdatedBy {
		t.Fatalf("audit: %+v", page.Entries)
	}
}

// TestCredentialCheckRateLimited: at most CredentialCheckLimit checks per
// org a minute reach the provider; the rest answer rate_limited without a
// request, every outcome is audited (result only), and the next minute
// checks again.
func TestCredentialCheckRateLimited(t *testing.T) {
	hc, grants := tokenEndpoint(t, 400, `{"error":"invalid_grant","error_description":"Malformed auth code."}`, 0)
	f := newFixture(t, func(o *Options) { o.HTTPClient, o.VerifyCredentials = hc, true })
	ctx := context.Background()
	if err := f.store.PutClientSecret(ctx, "o1", catalog.GoogleWorkspace, "fake-client-secret-1"); err != nil {
		t.Fatal(err)
	}
	f.svc.o.Clients = &clients.Resolver{Catalog: f.svc.o.Catalog, Secrets: f.store}
	in := store.Integration{OrgID: "o1", Provider: catalog.GoogleWorkspace, ConfigMode: store.ConfigModeOrganization,
		ClientID: "1234567890-abcdefghij0123456789.apps.googleusercontent.com", ClientSecretSetAt: f.now}
	f.now = f.now.Add(5 * time.Second)
	var results []string
	for range CredentialCheckLimit + 2 {
		results = append(results, f.svc.checkCredentials(ctx, admin1, in, "https://api.example.test/oauth/callback").Result)
	}
	for i, r := range results {
		if want := map[bool]string{true: CheckValid, false: CheckRateLimited}[i < CredentialCheckLimit]; r != want {
			t.Fatalf("check %d: %s, want %s (all: %v)", i+1, r, want, results)
		}
	}
	if len(*grants) != CredentialCheckLimit {
		t.Fatalf("%d requests reached the provider, want %d", len(*grants), CredentialCheckLimit)
	}
	// Another org has its own allowance.
	other := in
	other.OrgID = "o2"
	if err := f.store.PutClientSecret(ctx, "o2", catalog.GoogleWorkspace, "fake-client-secret-2"); err != nil {
		t.Fatal(err)
	}
	if r := f.svc.checkCredentials(ctx, auth.Principal{UserID: "u-admin", OrgID: "o2"}, other, "https://api.example.test/oauth/callback"); r.Result != CheckValid {
		t.Fatalf("another org: %s", r.Result)
	}
	entries, _, err := f.store.ListAudit(ctx, "o1", store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range entries {
		if e.Action != ActionCredentialsChecked || e.Actor != admin1.UserID || len(e.Changes) != 1 || e.Changes[0].Field != "credentialCheck" {
			t.Fatalf("audit entry %+v", e)
		}
		counts[e.Changes[0].New]++
	}
	if counts[CheckValid] != CredentialCheckLimit || counts[CheckRateLimited] != 2 {
		t.Fatalf("audited outcomes %v", counts)
	}
	f.now = f.now.Add(time.Minute)
	if r := f.svc.checkCredentials(ctx, admin1, in, "https://api.example.test/oauth/callback"); r.Result != CheckValid {
		t.Fatalf("next minute: %s", r.Result)
	}
}
