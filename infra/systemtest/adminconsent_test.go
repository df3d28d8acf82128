package systemtest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/connections"
	"github.com/sofie/integrations/shared/store"
)

// startAdminConsent starts an admin consent as token and returns the
// answer's authorization URL (parsed) and the scopes it names.
func (w *world) startAdminConsent(t *testing.T, org, token string) (*url.URL, []string) {
	t.Helper()
	resp := w.do(t, "POST", integrationPath(org, catalog.Microsoft365)+"/admin-consent", token,
		map[string]any{"returnTo": localtest.ReturnURL + "settings/integrations"}, nil)
	want(t, resp, 201, "")
	var ans struct {
		AuthorizationURL string   `json:"authorizationUrl"`
		Tenant           string   `json:"tenant"`
		Scopes           []string `json:"scopes"`
	}
	if err := resp.Decode(&ans); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(ans.AuthorizationURL)
	if err != nil || ans.Tenant == "" || len(ans.Scopes) == 0 {
		t.Fatalf("admin consent start: %s", resp.Body)
	}
	return u, ans.Scopes
}

// TestAdminConsent (issue 15 §4), on the embedded store and on the AWS
// adapters, through the API with the fake provider: the catalog marks the
// providers; an admin (only) starts Microsoft's org-wide admin consent
// (only Microsoft's), the URL is Microsoft's v2.0 adminconsent endpoint of
// the integration's tenant with the client, the callback and the enabled
// capabilities' scopes; the callback records the administrator's answer on
// the integration (granted, then refused), audits it, redirects to
// returnTo, and takes each state once and only before it expires; a save of
// the settings keeps the record.
func TestAdminConsent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org = "org-admin-consent"
		admin, bob := w.admin(org), w.member(org, "u-bob")
		adminID := "u-admin-" + org

		// The catalog.
		var cat struct {
			Providers []struct {
				ID                     string `json:"id"`
				RequiresUserConnection bool   `json:"requiresUserConnection"`
				AdminConsent           bool   `json:"adminConsent"`
			} `json:"providers"`
		}
		if err := w.do(t, "GET", "/v1/providers", bob, nil, nil).Decode(&cat); err != nil || len(cat.Providers) != 3 {
			t.Fatalf("catalog: %+v %v", cat, err)
		}
		for _, p := range cat.Providers {
			if !p.RequiresUserConnection || p.AdminConsent != (p.ID == catalog.Microsoft365) {
				t.Errorf("catalog %s: %+v", p.ID, p)
			}
		}

		// Refusals: a member, another provider, no returnTo, not configured.
		body := map[string]any{"returnTo": localtest.ReturnURL}
		path := integrationPath(org, catalog.Microsoft365) + "/admin-consent"
		want(t, w.do(t, "POST", path, bob, body, nil), 403, "forbidden")
		want(t, w.do(t, "POST", integrationPath(org, catalog.Salesforce)+"/admin-consent", admin, body, nil), 409, "admin_consent_unsupported")
		want(t, w.do(t, "POST", integrationPath(org, "nosuch")+"/admin-consent", admin, body, nil), 404, "")
		want(t, w.do(t, "POST", path, admin, map[string]any{}, nil), 400, "validation_failed")
		want(t, w.do(t, "POST", path, admin, map[string]any{"returnTo": "https://evil.example/"}, nil), 400, "validation_failed")
		want(t, w.do(t, "POST", path, admin, body, nil), 409, "provider_disabled")

		w.enable(t, org, catalog.Microsoft365)
		u, scopes := w.startAdminConsent(t, org, admin)
		q := u.Query()
		p, _ := catalog.New().Get(catalog.Microsoft365)
		wantScopes := p.RequestedScopes([]catalog.Capability{catalog.Email, catalog.Calendar}, false)
		if !strings.HasSuffix(u.Path, "/login.microsoftonline.com/"+fakeprovider.DefaultMicrosoftTenantID+"/v2.0/adminconsent") ||
			q.Get("redirect_uri") != w.env.URL+connections.CallbackPath || q.Get("client_id") == "" || len(q.Get("state")) < 43 ||
			q.Get("scope") != strings.Join(wantScopes, " ") || !slices.Equal(scopes, wantScopes) || q.Has("client_secret") {
			t.Fatalf("admin consent URL: %s", u)
		}
		clientID := q.Get("client_id")

		// Approved.
		cb := w.toCallback(t, u.String())
		out := w.callback(t, cb)
		if out.Get("status") != connections.OutcomeAdminConsentGranted || out.Get("provider") != catalog.Microsoft365 || out.Has("completion") {
			t.Fatalf("callback outcome: %v", out)
		}
		in, _ := w.integration(t, org, catalog.Microsoft365)
		ac := in.AdminConsent
		if ac == nil || !ac.Granted || ac.Tenant != fakeprovider.DefaultMicrosoftTenantID || !slices.Equal(ac.Scopes, wantScopes) ||
			!ac.At.Equal(w.env.Clock.Now()) || ac.By != adminID || ac.Error != "" {
			t.Fatalf("stored admin consent: %+v", ac)
		}
		if got := w.env.Fake.AdminConsents(clientID, fakeprovider.DefaultMicrosoftTenantID); !slices.Equal(got, wantScopes) {
			t.Fatalf("the fake holds the consent %v", got)
		}
		var view struct {
			AdminConsent *struct {
				Granted bool     `json:"granted"`
				Tenant  string   `json:"tenant"`
				Scopes  []string `json:"scopes"`
				At      string   `json:"at"`
			} `json:"adminConsent"`
		}
		_ = w.do(t, "GET", integrationPath(org, catalog.Microsoft365), admin, nil, nil).Decode(&view)
		if view.AdminConsent == nil || !view.AdminConsent.Granted || view.AdminConsent.Tenant != ac.Tenant || view.AdminConsent.At == "" {
			t.Fatalf("admin view: %+v", view.AdminConsent)
		}
		if strings.Contains(string(w.do(t, "GET", "/v1/orgs/"+org+"/integrations", bob, nil, nil).Body), "adminConsent") {
			t.Fatal("a member's cards show the admin consent")
		}

		// The state is spent.
		wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))

		// A save of the settings keeps the record.
		b := integrationBody(catalog.Microsoft365)
		b["capabilities"] = []string{"email"}
		want(t, w.do(t, "PUT", integrationPath(org, catalog.Microsoft365), admin, b, http.Header{"If-Match": {"*"}}), 200, "")
		if in, _ := w.integration(t, org, catalog.Microsoft365); in.AdminConsent == nil || !in.AdminConsent.Granted {
			t.Fatalf("a save dropped the admin consent: %+v", in.AdminConsent)
		}

		// Refused: recorded as not granted, with Microsoft's error code.
		w.env.Clock.Advance(time.Minute)
		remove := w.env.Fake.Inject(fakeprovider.Fault{Provider: catalog.Microsoft365, Kind: fakeprovider.KindAdminConsent, Error: "access_denied", Times: 1})
		u, _ = w.startAdminConsent(t, org, admin)
		out = w.callback(t, w.toCallback(t, u.String()))
		remove()
		if out.Get("status") != "error" || out.Get("code") == "" || out.Get("provider") != catalog.Microsoft365 {
			t.Fatalf("refused consent outcome: %v", out)
		}
		in, _ = w.integration(t, org, catalog.Microsoft365)
		if ac := in.AdminConsent; ac == nil || ac.Granted || ac.Error != "access_denied" || !slices.Equal(ac.Scopes, p.RequestedScopes([]catalog.Capability{catalog.Email}, false)) ||
			!ac.At.Equal(w.env.Clock.Now()) {
			t.Fatalf("stored refusal: %+v", ac)
		}

		// Answers forged or mangled on the way: another directory is
		// recorded as not granted; an answer without a valid directory id
		// records nothing; a state is never taken twice.
		direct := func(extra url.Values) (url.Values, string) {
			u, _ := w.startAdminConsent(t, org, admin)
			q := url.Values{"state": {u.Query().Get("state")}}
			for k, v := range extra {
				q[k] = v
			}
			cb := w.env.URL + connections.CallbackPath + "?" + q.Encode()
			return w.callback(t, cb), cb
		}
		out, cb = direct(url.Values{"admin_consent": {"True"}, "tenant": {"33333333-4444-5555-6666-777777777777"}})
		if out.Get("status") != "error" || out.Get("code") != connections.CodeAdminConsentTenantMismatch {
			t.Fatalf("another directory: %v", out)
		}
		wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))
		in, _ = w.integration(t, org, catalog.Microsoft365)
		if ac := in.AdminConsent; ac == nil || ac.Granted || ac.Error != "tenant_mismatch" || ac.Tenant != "33333333-4444-5555-6666-777777777777" {
			t.Fatalf("stored mismatch: %+v", ac)
		}
		for _, bad := range []string{"<script>", "", strings.Repeat("a", 40)} {
			if out, _ := direct(url.Values{"admin_consent": {"True"}, "tenant": {bad}}); out.Get("code") != connections.CodeAdminConsentInvalid {
				t.Fatalf("tenant %q: %v", bad, out)
			}
		}
		if again, _ := w.integration(t, org, catalog.Microsoft365); again.Version != in.Version {
			t.Fatalf("an invalid answer changed the integration: %+v", again.AdminConsent)
		}

		// An expired state records nothing.
		u, _ = w.startAdminConsent(t, org, admin)
		cb = w.toCallback(t, u.String())
		w.env.Clock.Advance(connections.StateTTL + time.Second)
		wantStateInvalid(t, w.do(t, "GET", cb, "", nil, nil))
		if again, _ := w.integration(t, org, catalog.Microsoft365); again.Version != in.Version {
			t.Fatalf("an expired state changed the integration: %+v", again.AdminConsent)
		}

		// The audit trail: granted, refused, another directory, by the admin.
		var trail []string
		for _, e := range w.audit(t, org) {
			if e.Action == connections.ActionAdminConsent {
				if e.Actor != adminID || e.Provider != catalog.Microsoft365 || len(e.Changes) != 1 || e.Changes[0].Field != "adminConsent" {
					t.Fatalf("audit entry: %+v", e)
				}
				trail = append(trail, e.Changes[0].Old+" → "+e.Changes[0].New)
			}
		}
		granted := "granted for " + fakeprovider.DefaultMicrosoftTenantID + ": " + strconv.Itoa(len(wantScopes)) + " permissions"
		if len(trail) != 3 || trail[0] != "refused (access_denied) → refused (tenant_mismatch)" || trail[1] != granted+" → refused (access_denied)" || trail[2] != " → "+granted {
			t.Fatalf("audit trail: %q", trail)
		}
		if resp := w.do(t, "GET", "/v1/orgs/"+org+"/audit", admin, nil, nil); !strings.Contains(string(resp.Body), connections.ActionAdminConsent) {
			t.Fatalf("audit listing: %s", resp.Body)
		}

		// Diagnostics: Bob connected with email only; calendar, enabled
		// since, is missing. scopes_granted says it needs an administrator's
		// consent where users may not consent (the last one was refused),
		// then, once an admin consent covers it, that reconnecting grants it.
		w.connect(t, org, "u-bob", catalog.Microsoft365, "")
		want(t, w.do(t, "PUT", integrationPath(org, catalog.Microsoft365), admin, integrationBody(catalog.Microsoft365), http.Header{"If-Match": {"*"}}), 200, "")
		scopesGranted := func() string {
			var rep struct {
				Checks []struct{ ID, Status, Message string } `json:"checks"`
			}
			if err := w.do(t, "GET", "/v1/orgs/"+org+"/diagnostics/"+catalog.Microsoft365+"?capability=calendar", bob, nil, nil).Decode(&rep); err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Checks {
				if c.ID == "scopes_granted" {
					if c.Status != "fail" {
						t.Fatalf("scopes_granted: %+v", c)
					}
					return c.Message
				}
			}
			t.Fatalf("no scopes_granted: %+v", rep)
			return ""
		}
		if msg := scopesGranted(); !strings.Contains(msg, "Calendars.Read") || !strings.Contains(msg, "need an administrator's consent") || !strings.Contains(msg, "was not given (tenant_mismatch)") {
			t.Fatalf("scopes_granted before the admin consent: %q", msg)
		}
		u, _ = w.startAdminConsent(t, org, admin)
		if out := w.callback(t, w.toCallback(t, u.String())); out.Get("status") != connections.OutcomeAdminConsentGranted {
			t.Fatalf("callback outcome: %v", out)
		}
		if msg := scopesGranted(); !strings.Contains(msg, "granted these permissions for the whole organization") {
			t.Fatalf("scopes_granted after the admin consent: %q", msg)
		}
	})
}

// TestAdminConsentLetsUsersConnect (issue 15 §4): in a Microsoft tenant
// that does not let users consent to apps, a user's connection is refused
// (AADSTS65001, consent_required) and nothing is stored; once an admin
// of the organization has had the tenant's administrator grant admin
// consent through the service, the same user connects.
func TestAdminConsentLetsUsersConnect(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org = "org-consent-blocked"
		carol := "carol@" + fakeprovider.DefaultMicrosoftTenantDomain
		w.env.Fake.AddUser(fakeprovider.User{Provider: catalog.Microsoft365, Email: carol, UserConsentBlocked: true})
		w.enable(t, org, catalog.Microsoft365)
		token := w.member(org, "u-carol")

		out := w.callback(t, w.toCallback(t, w.start(t, org, token, catalog.Microsoft365, carol)))
		if out.Get("status") != "error" || out.Get("code") != "consent_required" {
			t.Fatalf("a user's consent in a tenant that blocks it: %v", out)
		}
		if w.conn(org, "u-carol", catalog.Microsoft365) != nil {
			t.Fatal("a refused consent stored a connection")
		}

		u, _ := w.startAdminConsent(t, org, w.admin(org))
		if out := w.callback(t, w.toCallback(t, u.String())); out.Get("status") != connections.OutcomeAdminConsentGranted {
			t.Fatalf("admin consent: %v", out)
		}
		w.connect(t, org, "u-carol", catalog.Microsoft365, carol)
		if c := w.conn(org, "u-carol", catalog.Microsoft365); c == nil || c.Account.Email != carol || c.Status != store.StatusConnected {
			t.Fatalf("carol's connection after the admin consent: %+v", c)
		}
	})
}
