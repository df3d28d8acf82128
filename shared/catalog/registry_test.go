package catalog

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/providertest"
	"github.com/sofie/integrations/shared/store"
)

// candidateSettings are tried in order for a provider's valid settings:
// the registry knows no provider's fields, so it asks the provider.
var candidateSettings = []Settings{
	{},
	{Tenant: "organizations"},
	{AuthBaseURL: "https://login.salesforce.com"},
}

// candidateItems are item ids of the shapes providers use.
var candidateItems = []string{"abc123", "Account/001000000000001AAA"}

// TestEveryProviderImplementsEveryPart walks the registry: every provider
// has its catalog data and answers every part of its dialect sensibly, so
// a provider added to New cannot be half-wired.
func TestEveryProviderImplementsEveryPart(t *testing.T) {
	for _, p := range New().All() {
		t.Run(p.ID, func(t *testing.T) {
			if p.Dialect == nil {
				t.Fatal("no dialect")
			}
			// Catalog data.
			if p.DisplayName == "" || p.Registers == "" || !strings.HasPrefix(p.DocsURL, "https://") || p.PKCEMethod != PKCES256 ||
				p.ClientIDLabel == "" || p.ClientIDExample == "" || len(p.BaseScopes) == 0 || len(p.Capabilities) == 0 {
				t.Errorf("incomplete catalog data: %+v", p)
			}
			if steps := p.SetupSteps(); len(steps) < 3 || !strings.Contains(strings.Join(steps, " "), "<redirect-uri>") {
				t.Errorf("setup steps %v", steps)
			}
			if (p.Revocation == providers.RevokeNone) != (p.NoRevocationHint != "") {
				t.Errorf("revocation %v with hint %q", p.Revocation, p.NoRevocationHint)
			}
			if p.Consent.String() == "" || (p.Consent == providers.ConsentPerApp) != (p.ConsentHint != "") || p.ConsentMessage() == "" {
				t.Errorf("consent %v with hint %q", p.Consent, p.ConsentHint)
			}

			// Settings, endpoints and authorization parameters.
			var s Settings
			found := false
			for _, c := range candidateSettings {
				if len(p.Validate(c)) == 0 {
					s, found = c, true
					break
				}
			}
			if !found {
				t.Fatal("none of the candidate settings is valid")
			}
			e := p.Endpoints(s)
			for _, u := range []string{e.OAuth2.AuthURL, e.OAuth2.TokenURL, e.UserInfoURL} {
				if !strings.HasPrefix(u, "https://") {
					t.Errorf("endpoint %q", u)
				}
			}
			if p.Revocation != providers.RevokeNone && e.RevokeURL == "" {
				t.Error("revocation without a revoke URL")
			}
			cfg := oauth2.Config{ClientID: "c", Endpoint: e.OAuth2}
			if _, err := url.Parse(cfg.AuthCodeURL("s", p.AuthCodeOptionsFor(s)...)); err != nil {
				t.Errorf("authorization URL: %v", err)
			}
			if errs := p.ValidateClientID("not a client id!"); len(errs) != 1 || errs[0].Code != "invalid_format" {
				t.Errorf("ValidateClientID accepted a sentence: %+v", errs)
			}
			if m := p.CredentialCheckFor(s).Method; m != CheckClientCredentials && m != CheckDummyCode {
				t.Errorf("credential check method %q", m)
			}
			if p.NormalizeScope(p.BaseScopes[0]) == "" {
				t.Error("NormalizeScope lost a base scope")
			}

			// Identity, extras, expiry, revocation: a provider that refuses
			// the token is an error, never a panic or an account.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) }))
			defer srv.Close()
			call := providers.Caller{HTTP: srv.Client()}
			sess := providers.Session{Settings: s, Endpoints: providers.Endpoints{UserInfoURL: srv.URL, IntrospectURL: srv.URL, RevokeURL: srv.URL},
				Token: &oauth2.Token{AccessToken: "a", RefreshToken: "r"}}
			if acct, err := p.Dialect.Identify(context.Background(), call, sess); err == nil {
				t.Errorf("Identify with a refused token: %+v", acct)
			}
			var acct store.Account
			if err := p.Dialect.TokenExtras(&oauth2.Token{}, &acct); err != nil || acct != (store.Account{}) {
				t.Errorf("TokenExtras of a plain token: %v %+v", err, acct)
			}
			if exp, cause := p.AccessExpiry(context.Background(), call, sess, time.Now(), time.Now()); exp.IsZero() == (cause == "") {
				t.Errorf("AccessExpiry = %v, %q", exp, cause)
			}
			err := p.Dialect.Revoke(context.Background(), call, sess.Endpoints, sess.Token)
			if (p.Revocation == providers.RevokeNone) != errors.Is(err, providers.ErrRevocationUnsupported) || err == nil {
				t.Errorf("Revoke with revocation %v: %v", p.Revocation, err)
			}

			// Token and authorization errors, in the one vocabulary.
			for _, tc := range []struct {
				status int
				body   string
				kind   oauthfail.Kind
			}{
				{401, `{"error":"invalid_client"}`, oauthfail.ClientRefused},
				{400, `{"error":"invalid_grant"}`, oauthfail.Reconnect},
				{503, ``, oauthfail.Transient},
			} {
				f := p.Dialect.ClassifyToken(providertest.TokenError(t, tc.status, nil, tc.body, 0), providers.TokenCall{Grant: providers.GrantRefresh})
				if f.Kind != tc.kind || f.Code == "" || f.Cause == "" || f.Owner == "" {
					t.Errorf("ClassifyToken(%d %s) = %+v, want kind %s", tc.status, tc.body, f, tc.kind)
				}
			}
			if f := p.Dialect.ClassifyAuthorize("access_denied", ""); f.Kind != oauthfail.Reconnect || f.Cause == "" {
				t.Errorf("ClassifyAuthorize(access_denied) = %+v", f)
			}

			// API answers, probes, items and files.
			for status, want := range map[int]oauthfail.API{200: oauthfail.APIOK, 401: oauthfail.APITokenRejected, 429: oauthfail.APIRateLimited, 503: oauthfail.APIUnavailable} {
				if got := p.Dialect.ClassifyAPI(status, http.Header{}, nil); got != want {
					t.Errorf("ClassifyAPI(%d) = %s, want %s", status, got, want)
				}
			}
			tokenURL, _ := url.Parse(e.OAuth2.TokenURL)
			own := store.Account{InstanceURL: "https://" + tokenURL.Host}
			for _, cs := range p.Capabilities {
				if cs.Label == "" || len(cs.ReadScopes) == 0 || !cs.Supports(Read) {
					t.Errorf("%s: label, read scopes and read are required", cs.ID)
				}
				if _, err := p.ProbeURL(cs.Probe.ReadURL, own, ""); err != nil {
					t.Errorf("%s: read probe: %v", cs.ID, err)
				}
				id := ""
				for _, c := range candidateItems {
					if got, err := p.ParseItem(cs, c); err == nil {
						id = got
						break
					}
				}
				if id == "" {
					t.Errorf("%s: none of %v is an item id (%s)", cs.ID, candidateItems, cs.Probe.ItemHint)
				} else if _, err := p.ProbeURL(cs.Probe.ItemURL, own, id); err != nil {
					t.Errorf("%s: item probe: %v", cs.ID, err)
				}
				if _, err := p.ParseItem(cs, "../x"); err == nil {
					t.Errorf("%s: ../x taken for an item id", cs.ID)
				}
				if cs.ID == Files {
					if _, ok := p.Dialect.FileMeta([]byte(`{"name":"a.txt","mimeType":"text/plain"}`)); !ok {
						t.Errorf("%s: FileMeta cannot read file metadata", cs.ID)
					}
				}

				// The write test: every capability with a write action has
				// one, and it sends a create and a delete with the token.
				writes := cs.Supports(Create) || cs.Supports(Update) || cs.Supports(Send) || cs.Supports(Delete)
				if writes != (cs.WriteTest != "") || (writes && len(cs.TestWriteScopes()) == 0) {
					t.Errorf("%s: write actions %v, write test %q, scopes %v", cs.ID, writes, cs.WriteTest, cs.TestWriteScopes())
				}
				rec := &providertest.Recorder{Status: 401, Body: `{}`}
				w := providers.TestWrite{Account: own, Token: "fake-access", Now: time.Now(), Nonce: "n1"}
				a, id, err := p.Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, cs.ID, w)
				switch {
				case !writes:
					if !errors.Is(err, providers.ErrNoTestItem) || len(rec.Requests) != 0 {
						t.Errorf("%s: a write test without write actions: %v", cs.ID, err)
					}
				case err != nil || a.Status != 401 || id != "" || rec.Last(t).Authorization != "Bearer fake-access" || rec.Last(t).Method == "GET":
					t.Errorf("%s: CreateTestItem refused = %d %q %v", cs.ID, a.Status, id, err)
				default:
					if a, err := p.Dialect.DeleteTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, cs.ID, w, "00T000000000001AAA"); err != nil || a.Status != 401 || rec.Last(t).Method != "DELETE" {
						t.Errorf("%s: DeleteTestItem = %d %v", cs.ID, a.Status, err)
					}
				}
			}
			if _, _, err := p.Dialect.CreateTestItem(context.Background(), call, "no-such-capability", providers.TestWrite{}); !errors.Is(err, providers.ErrNoTestItem) {
				t.Errorf("CreateTestItem of an unknown capability: %v", err)
			}
		})
	}
}
