package systemtest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
)

// Incremental consent (issue 16 §1), end to end on the fake provider with
// both stores: an admin enables more after users connected; the listing
// says who needs to consent and what is missing, against the integration's
// current settings; connecting again asks for it the provider's way
// without losing what was granted; the completed connection holds what the
// provider's token response names.

const (
	gauth = "https://www.googleapis.com/auth/"
	graph = "https://graph.microsoft.com/"
)

// consentView is a connection item of GET .../connections, as far as
// consent goes.
type consentView struct {
	Provider           string   `json:"provider"`
	Status             string   `json:"status"`
	RequestedScopes    []string `json:"requestedScopes"`
	GrantedScopes      []string `json:"grantedScopes"`
	MissingScopes      []string `json:"missingScopes"`
	NeedsConsent       bool     `json:"needsConsent"`
	UsableCapabilities []string `json:"usableCapabilities"`
}

// startView is the answer of POST .../connections/{provider}.
type startView struct {
	AuthorizationURL string   `json:"authorizationUrl"`
	Scopes           []string `json:"scopes"`
	Consent          *struct {
		Mode           string   `json:"mode"`
		AlreadyGranted []string `json:"alreadyGranted"`
		NewScopes      []string `json:"newScopes"`
		Message        string   `json:"message"`
	} `json:"consent"`
}

// settings saves provider's integration for org: integrationBody changed
// by mut, under etag ("" the first time); it returns the new ETag.
func (w *world) settings(t testing.TB, org, provider, etag string, mut func(map[string]any)) string {
	t.Helper()
	body := integrationBody(provider)
	mut(body)
	hdr := http.Header{}
	if etag != "" {
		hdr.Set("If-Match", etag)
	}
	resp := w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, hdr)
	if resp.Status != 200 && resp.Status != 201 {
		t.Fatalf("save %s of %s: %s", provider, org, resp)
	}
	return resp.Header.Get("ETag")
}

// listed is user's connection of provider as GET .../connections shows it.
func (w *world) listed(t testing.TB, org, user, provider string) consentView {
	t.Helper()
	resp := w.do(t, "GET", "/v1/orgs/"+org+"/connections", w.member(org, user), nil, nil)
	want(t, resp, 200, "")
	var body struct {
		Connections []consentView `json:"connections"`
	}
	if err := resp.Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, c := range body.Connections {
		if c.Provider == provider {
			return c
		}
	}
	t.Fatalf("%s has no %s connection listed", user, provider)
	return consentView{}
}

// startFull starts a connection and returns the whole answer.
func (w *world) startFull(t testing.TB, org, user, provider string) startView {
	t.Helper()
	resp := w.do(t, "POST", "/v1/orgs/"+org+"/connections/"+provider, w.member(org, user), map[string]any{"returnTo": localtest.ReturnURL + "apps"}, nil)
	want(t, resp, 201, "")
	var s startView
	if err := resp.Decode(&s); err != nil || s.AuthorizationURL == "" {
		t.Fatalf("start answer %s: %v", resp, err)
	}
	return s
}

// finish runs the rest of a started connection on an auto-approving fake
// and fails t unless it completed.
func (w *world) finish(t testing.TB, org, user string, s startView) {
	t.Helper()
	if resp := w.complete(t, org, user, pending(t, w.callback(t, w.toCallback(t, s.AuthorizationURL)))); resp.Status != 200 {
		t.Fatalf("complete: %s", resp)
	}
}

var requestID = regexp.MustCompile(`name="request_id" value="([^"]+)"`)

// consentPage plays the user at the fake provider's consent page (a world
// whose fake does not auto-approve): it opens the page of authURL, submits
// decision ("allow" or "deny") with the scopes ticked (Google's granular
// consent; other providers' pages have no tick boxes), and returns the
// callback URL the provider redirects to.
func (w *world) consentPage(t testing.TB, authURL, decision string, ticked []string) string {
	t.Helper()
	page := w.env.Do("GET", authURL, "", nil)
	m := requestID.FindStringSubmatch(string(page.Body))
	if page.Status != 200 || m == nil {
		t.Fatalf("no consent page at the provider: %s", page)
	}
	form := url.Values{"request_id": {m[1]}, "decision": {decision}, "scope": ticked}
	resp, err := w.env.Client.PostForm(authURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, w.env.URL+"/oauth/callback?") {
		t.Fatalf("the consent page answered %d %s, not a redirect to the callback", resp.StatusCode, loc)
	}
	return loc
}

// authScopes are the scope parameter of an authorization URL.
func authScopes(t testing.TB, authURL string) (scopes []string, q url.Values) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(u.Query().Get("scope")), u.Query()
}

// sameSet reports whether a and b hold the same strings.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// rolloutNeedsConsent is the rollout view's count of users who still need
// to consent.
func (w *world) rolloutNeedsConsent(t testing.TB, org, provider string) int {
	t.Helper()
	resp := w.do(t, "GET", integrationPath(org, provider)+"/rollout", w.admin(org), nil, nil)
	want(t, resp, 200, "")
	n, ok := resp.Object()["needsConsent"].(float64)
	if !ok {
		t.Fatalf("rollout view without needsConsent: %s", resp)
	}
	return int(n)
}

// diagnosticsNeedsConsent is an admin's diagnostics report of user:
// usersNeedingConsent and the scopes_granted check's status and owner.
func (w *world) diagnosticsNeedsConsent(t testing.TB, org, user, provider, capability string) (n int, status, owner, remediation string) {
	t.Helper()
	resp := w.do(t, "GET", "/v1/orgs/"+org+"/diagnostics/"+provider+"?user="+user+"&capability="+capability, w.admin(org), nil, nil)
	want(t, resp, 200, "")
	var rep struct {
		UsersNeedingConsent *int `json:"usersNeedingConsent"`
		Checks              []struct {
			ID, Status, Owner, Remediation string
		} `json:"checks"`
	}
	if err := resp.Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.UsersNeedingConsent == nil {
		t.Fatalf("an admin's report without usersNeedingConsent: %s", resp)
	}
	for _, c := range rep.Checks {
		if c.ID == "scopes_granted" {
			status, owner, remediation = c.Status, c.Owner, c.Remediation
		}
	}
	return *rep.UsersNeedingConsent, status, owner, remediation
}

// TestIncrementalConsent: Google and Microsoft. Bob and Carol connect while
// the org has email only; the admin adds calendar. Both then need consent
// and still read mail; Bob connects again, asked for calendar the
// provider's way, and needs nothing more; the rollout view and an admin's
// diagnostics count Carol alone. Then the admin allows write actions, Bob
// grants them, and the admin turns them off and adds contacts: connecting
// again keeps the write scopes Bob granted (Google through
// include_granted_scopes, Microsoft by asking for them again).
func TestIncrementalConsent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		for _, tc := range []struct {
			provider, mode    string
			mailRead, calRead string
			writes            []string // of email and calendar
			contactsRead      string
		}{
			{catalog.GoogleWorkspace, "incremental", gauth + "gmail.readonly", gauth + "calendar.readonly",
				[]string{gauth + "gmail.compose", gauth + "gmail.modify", gauth + "gmail.send", gauth + "calendar.events"}, gauth + "contacts.readonly"},
			{catalog.Microsoft365, "dynamic", graph + "Mail.Read", graph + "Calendars.Read",
				[]string{graph + "Mail.ReadWrite", graph + "Mail.Send", graph + "Calendars.ReadWrite"}, graph + "Contacts.Read"},
		} {
			t.Run(tc.provider, func(t *testing.T) {
				org := "o-consent-" + tc.mode
				p, _ := w.env.Deps.Catalog.Get(tc.provider)
				norm := func(ss []string) []string {
					out := make([]string, len(ss))
					for i, s := range ss {
						out[i] = p.NormalizeScope(s)
					}
					return out
				}
				has := func(granted []string, scope string) bool {
					return slices.Contains(norm(granted), p.NormalizeScope(scope))
				}

				etag := w.settings(t, org, tc.provider, "", func(b map[string]any) { b["capabilities"] = []string{"email"} })
				w.connect(t, org, "u-bob", tc.provider, "")
				carol := w.account(tc.provider, "carol")
				w.connect(t, org, "u-carol", tc.provider, carol)
				if c := w.listed(t, org, "u-bob", tc.provider); c.NeedsConsent || len(c.MissingScopes) != 0 {
					t.Fatalf("connected under the settings of the day: needsConsent %v, missing %v", c.NeedsConsent, c.MissingScopes)
				}
				if s := w.startFull(t, org, "u-dan", tc.provider); s.Consent != nil {
					t.Errorf("a first connection's start has consent %+v", s.Consent)
				}
				oldTokens := w.tokens(t, w.conn(org, "u-bob", tc.provider))

				etag = w.settings(t, org, tc.provider, etag, func(b map[string]any) { b["capabilities"] = []string{"email", "calendar"} })
				for _, u := range []string{"u-bob", "u-carol"} {
					c := w.listed(t, org, u, tc.provider)
					if !c.NeedsConsent || !slices.Equal(c.MissingScopes, []string{tc.calRead}) || !slices.Equal(c.UsableCapabilities, []string{"email"}) ||
						!slices.Contains(c.RequestedScopes, tc.calRead) {
						t.Fatalf("%s after calendar was added: %+v; want needsConsent, calendar missing, email usable", u, c)
					}
				}
				if n := w.rolloutNeedsConsent(t, org, tc.provider); n != 2 {
					t.Errorf("rollout view: %d users need consent, want 2", n)
				}

				s := w.startFull(t, org, "u-bob", tc.provider)
				if s.Consent == nil || s.Consent.Mode != tc.mode || !slices.Equal(s.Consent.NewScopes, []string{tc.calRead}) ||
					!has(s.Consent.AlreadyGranted, tc.mailRead) || s.Consent.Message == "" {
					t.Fatalf("connecting again: consent %+v", s.Consent)
				}
				asked, q := authScopes(t, s.AuthorizationURL)
				if !slices.Contains(asked, tc.calRead) || !slices.Contains(asked, tc.mailRead) {
					t.Errorf("asked for %v, want the full set for email and calendar", asked)
				}
				if tc.provider == catalog.GoogleWorkspace && q.Get("include_granted_scopes") != "true" {
					t.Errorf("Google asked without include_granted_scopes: %v", q)
				}
				w.finish(t, org, "u-bob", s)
				c := w.listed(t, org, "u-bob", tc.provider)
				if c.NeedsConsent || len(c.MissingScopes) != 0 || !slices.Equal(c.UsableCapabilities, []string{"email", "calendar"}) ||
					!has(c.GrantedScopes, tc.calRead) || !has(c.GrantedScopes, tc.mailRead) {
					t.Fatalf("after granting calendar: %+v", c)
				}
				if tc.provider == catalog.GoogleWorkspace && !w.live(oldTokens.RefreshToken) {
					t.Error("connecting the same Google account again ended the grant the new connection lives on")
				}
				if n := w.rolloutNeedsConsent(t, org, tc.provider); n != 1 {
					t.Errorf("rollout view after Bob granted: %d, want 1 (Carol)", n)
				}
				n, status, owner, _ := w.diagnosticsNeedsConsent(t, org, "u-carol", tc.provider, "calendar")
				if n != 1 || status != "fail" || owner != "user" {
					t.Errorf("admin's diagnosis of Carol's calendar: %d need consent, scopes_granted %s (%s); want 1, fail (user)", n, status, owner)
				}

				// Write actions: granted, then no longer asked for; the grant
				// is kept when Bob connects again for contacts.
				etag = w.settings(t, org, tc.provider, etag, func(b map[string]any) {
					b["capabilities"], b["allowWriteActions"] = []string{"email", "calendar"}, true
				})
				if c := w.listed(t, org, "u-bob", tc.provider); !c.NeedsConsent || !sameSet(c.MissingScopes, tc.writes) {
					t.Fatalf("after write actions were allowed: %+v", c)
				}
				w.finish(t, org, "u-bob", w.startFull(t, org, "u-bob", tc.provider))
				w.settings(t, org, tc.provider, etag, func(b map[string]any) { b["capabilities"] = []string{"email", "calendar", "contacts"} })
				s = w.startFull(t, org, "u-bob", tc.provider)
				asked, _ = authScopes(t, s.AuthorizationURL)
				for _, ws := range tc.writes {
					if got := slices.Contains(asked, ws); got != (tc.provider == catalog.Microsoft365) {
						t.Errorf("%s: asked for the granted %s: %v (Microsoft asks again for what was granted; Google's include_granted_scopes keeps it)", tc.provider, ws, got)
					}
				}
				w.finish(t, org, "u-bob", s)
				c = w.listed(t, org, "u-bob", tc.provider)
				if c.NeedsConsent || !has(c.GrantedScopes, tc.contactsRead) {
					t.Fatalf("after granting contacts: %+v", c)
				}
				for _, ws := range tc.writes {
					if !has(c.GrantedScopes, ws) {
						t.Errorf("the write scope %s granted before was lost: %v", ws, c.GrantedScopes)
					}
				}
			})
		}
	})
}

// TestUntickedScopeNeedsConsentAgain: a user who does not grant what is
// asked keeps needing consent for it. Google's consent page lets Bob untick
// the new calendar scope: the completed connection names what Google
// granted (the email scope kept by include_granted_scopes, calendar not),
// so he needs consent again with calendar missing, until he ticks it.
// Microsoft's prompt has no tick boxes: Bob cancelling it leaves his
// connection as it was, still needing consent; and a consent that covers
// less than was asked (the fake's GrantScopes) completes with the scope
// missing.
func TestUntickedScopeNeedsConsentAgain(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		t.Run("google unticks", func(t *testing.T) {
			const org, provider = "o-untick-g", catalog.GoogleWorkspace
			etag := w.settings(t, org, provider, "", func(b map[string]any) { b["capabilities"] = []string{"email"} })
			all := []string{gauth + "gmail.readonly"}
			w.complete(t, org, "u-bob", pending(t, w.callback(t, w.consentPage(t, w.start(t, org, w.member(org, "u-bob"), provider, ""), "allow", all))))
			w.settings(t, org, provider, etag, func(b map[string]any) { b["capabilities"] = []string{"email", "calendar"} })

			// Calendar unticked.
			resp := w.complete(t, org, "u-bob", pending(t, w.callback(t, w.consentPage(t, w.start(t, org, w.member(org, "u-bob"), provider, ""), "allow", nil))))
			want(t, resp, 200, "")
			c := w.listed(t, org, "u-bob", provider)
			if !c.NeedsConsent || !slices.Equal(c.MissingScopes, []string{gauth + "calendar.readonly"}) || !slices.Equal(c.UsableCapabilities, []string{"email"}) ||
				!slices.Contains(c.GrantedScopes, gauth+"gmail.readonly") {
				t.Fatalf("after unticking calendar: %+v; want calendar missing, email kept", c)
			}
			if stored := w.conn(org, "u-bob", provider); slices.Contains(stored.GrantedScopes, gauth+"calendar.readonly") {
				t.Fatalf("stored granted scopes %v name what was not granted", stored.GrantedScopes)
			}

			// Ticked this time.
			w.complete(t, org, "u-bob", pending(t, w.callback(t, w.consentPage(t, w.start(t, org, w.member(org, "u-bob"), provider, ""), "allow", []string{gauth + "calendar.readonly"}))))
			if c := w.listed(t, org, "u-bob", provider); c.NeedsConsent || len(c.MissingScopes) != 0 {
				t.Fatalf("after ticking calendar: %+v", c)
			}
		})

		t.Run("microsoft cancels, then consents to less", func(t *testing.T) {
			const org, provider = "o-untick-m", catalog.Microsoft365
			etag := w.settings(t, org, provider, "", func(b map[string]any) { b["capabilities"] = []string{"email"} })
			w.complete(t, org, "u-bob", pending(t, w.callback(t, w.consentPage(t, w.start(t, org, w.member(org, "u-bob"), provider, ""), "allow", nil))))
			before := w.conn(org, "u-bob", provider)
			w.settings(t, org, provider, etag, func(b map[string]any) { b["capabilities"] = []string{"email", "calendar"} })

			out := w.callback(t, w.consentPage(t, w.start(t, org, w.member(org, "u-bob"), provider, ""), "deny", nil))
			if out.Get("status") != "error" || out.Get("code") == "" {
				t.Fatalf("cancelled consent: outcome %v", out)
			}
			if after := w.conn(org, "u-bob", provider); after.Version != before.Version {
				t.Fatal("a cancelled consent changed the connection")
			}
			if c := w.listed(t, org, "u-bob", provider); !c.NeedsConsent || !slices.Equal(c.MissingScopes, []string{graph + "Calendars.Read"}) {
				t.Fatalf("after cancelling: %+v", c)
			}

			if err := w.env.Fake.UpdateUser(provider, fakeprovider.DefaultMicrosoftUser, func(u *fakeprovider.User) {
				u.GrantScopes = []string{graph + "Mail.Read"}
			}); err != nil {
				t.Fatal(err)
			}
			w.complete(t, org, "u-bob", pending(t, w.callback(t, w.consentPage(t, w.start(t, org, w.member(org, "u-bob"), provider, ""), "allow", nil))))
			c := w.listed(t, org, "u-bob", provider)
			if !c.NeedsConsent || !slices.Equal(c.MissingScopes, []string{graph + "Calendars.Read"}) || !slices.Equal(c.UsableCapabilities, []string{"email"}) {
				t.Fatalf("after a consent without Calendars.Read: %+v", c)
			}
		})
	}, localtest.WithFakeOptions(fakeprovider.Options{}))
}

// TestSalesforceScopesArePerApp: connecting Salesforce again says that its
// scopes are set per connected app and asks for the same set; a connection
// whose grant lacks a scope (the connected app does not allow it) is
// diagnosed as the admin's to fix at the app.
func TestSalesforceScopesArePerApp(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		const org, provider = "o-sf-consent", catalog.Salesforce
		w.enable(t, org, provider)
		if err := w.env.Fake.UpdateUser(provider, fakeprovider.DefaultSalesforceUser, func(u *fakeprovider.User) { u.GrantScopes = []string{} }); err != nil {
			t.Fatal(err)
		}
		w.connect(t, org, "u-bob", provider, "")
		c := w.listed(t, org, "u-bob", provider)
		if !c.NeedsConsent || !slices.Equal(c.MissingScopes, []string{"api"}) {
			t.Fatalf("a grant without api: %+v", c)
		}
		s := w.startFull(t, org, "u-bob", provider)
		if s.Consent == nil || s.Consent.Mode != "per_app" || !strings.Contains(s.Consent.Message, "per connected app") ||
			!slices.Equal(s.Consent.NewScopes, []string{"api"}) {
			t.Fatalf("connecting Salesforce again: consent %+v", s.Consent)
		}
		if asked, _ := authScopes(t, s.AuthorizationURL); !sameSet(asked, c.RequestedScopes) {
			t.Errorf("asked for %v, want the settings' set %v", asked, c.RequestedScopes)
		}
		n, status, owner, remediation := w.diagnosticsNeedsConsent(t, org, "u-bob", provider, "crm")
		if n != 1 || status != "fail" || owner != "admin" || !strings.Contains(remediation, "Selected OAuth Scopes") {
			t.Errorf("diagnosis: %d need consent, scopes_granted %s (%s) %q; want 1, fail (admin) at the connected app", n, status, owner, remediation)
		}
	})
}
