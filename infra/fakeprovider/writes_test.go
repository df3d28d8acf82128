package fakeprovider_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	prov "github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// itemsNamed lists the user's items of capability c named name.
func (e *env) itemsNamed(provider, user string, c catalog.Capability, name string) []fakeprovider.Item {
	e.t.Helper()
	u, ok := e.fake.User(provider, user)
	if !ok {
		e.t.Fatalf("no user %s", user)
	}
	var out []fakeprovider.Item
	for _, it := range u.Items {
		if it.Capability == c && (it.Name == name || name == "") {
			out = append(out, it)
		}
	}
	return out
}

// writeTest is what the service's write test works with, for the default
// user of provider holding tok.
func (e *env) writeTest(provider, token string) prov.TestWrite {
	acct := store.Account{Email: defaultUser[provider]}
	if provider == catalog.Salesforce {
		acct.InstanceURL = fakeprovider.DefaultSalesforceInstanceURL
	}
	return prov.TestWrite{Account: acct, Token: token, Now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Nonce: "n0nce"}
}

// TestWriteTestFromCatalog: every capability's write test, as each
// provider's dialect sends it (shared/providers/*/writetest.go), is served:
// the create answers the provider's success with an id, the fake holds the
// item (probes list and fetch it), and the delete removes exactly it. A
// second delete is refused as the provider refuses it.
func TestWriteTestFromCatalog(t *testing.T) {
	for _, p := range catalog.New().All() {
		t.Run(p.ID, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cfg := e.config(p.ID)
			cfg.Scopes = p.RequestedScopes(p.CapabilityIDs(), true)
			tok := e.connect(p.ID, cfg)
			call := prov.Caller{HTTP: e.hc}
			w := e.writeTest(p.ID, tok.AccessToken)
			ctx := context.Background()
			for _, cs := range p.Capabilities {
				a, id, err := p.Dialect.CreateTestItem(ctx, call, cs.ID, w)
				if err != nil || !a.OK() || id == "" {
					t.Fatalf("%s: create = %d %q %v: %s", cs.ID, a.Status, id, err, a.Body)
				}
				held := e.itemsNamed(p.ID, defaultUser[p.ID], cs.ID, prov.TestItemSubject)
				if cs.ID == catalog.Files {
					held = e.itemsNamed(p.ID, defaultUser[p.ID], cs.ID, "integration-test-n0nce.txt")
				}
				if len(held) != 1 || !idOf(p.ID, cs.ID, id, held[0].ID) {
					t.Fatalf("%s: created %q, the fake holds %+v", cs.ID, id, held)
				}
				if cs.ID == catalog.Files && string(held[0].Content) != prov.TestItemNote {
					t.Errorf("%s: content %q", cs.ID, held[0].Content)
				}
				if cs.Probe.ItemURL != "" && p.ID != catalog.GoogleWorkspace {
					// The item is there for the probes too (Gmail's
					// drafts are not messages by id, nor People's by
					// the resource name).
					u, err := p.ProbeURL(cs.Probe.ItemURL, w.Account, itemRef(p.ID, cs.ID, held[0].ID))
					if err != nil {
						t.Fatal(err)
					}
					if status, _, _ := e.getJSON(u, tok.AccessToken); status != 200 {
						t.Errorf("%s: the created item is not readable: %d", cs.ID, status)
					}
				}
				a, err = p.Dialect.DeleteTestItem(ctx, call, cs.ID, w, id)
				if err != nil || !a.OK() {
					t.Fatalf("%s: delete = %d %v: %s", cs.ID, a.Status, err, a.Body)
				}
				if left := e.itemsNamed(p.ID, defaultUser[p.ID], cs.ID, ""); slices.ContainsFunc(left, func(it fakeprovider.Item) bool { return idOf(p.ID, cs.ID, id, it.ID) }) {
					t.Fatalf("%s: the deleted item is still there", cs.ID)
				}
				if len(e.itemsNamed(p.ID, defaultUser[p.ID], cs.ID, "sample-"+string(cs.ID))) != 0 {
					t.Fatalf("%s: an item named like the sample was touched", cs.ID)
				}
				a, _ = p.Dialect.DeleteTestItem(ctx, call, cs.ID, w, id)
				if k := p.Dialect.ClassifyAPI(a.Status, a.Header, a.Body); k != oauthfail.APINotFound && k != oauthfail.APINotFoundOrHidden && a.Status != http.StatusGone {
					t.Errorf("%s: a second delete = %d (%s)", cs.ID, a.Status, k)
				}
			}
			// The sample items are untouched.
			for _, cs := range p.Capabilities {
				if n := len(e.itemsNamed(p.ID, defaultUser[p.ID], cs.ID, "")); n != 1 {
					t.Errorf("%s: the user holds %d items, want only the sample", cs.ID, n)
				}
			}
			if n := e.fake.Count(fakeprovider.Filter{Provider: p.ID, Kind: fakeprovider.KindCreate, Outcome: fakeprovider.OutcomeOK}); n != len(p.Capabilities) {
				t.Errorf("%d creates counted, want %d", n, len(p.Capabilities))
			}
		})
	}
}

// idOf reports whether the fake's item id is the one the create answered
// (Salesforce items are "<Object>/<id>", People's answer is people/<id>).
func idOf(provider string, c catalog.Capability, answered, held string) bool {
	return held == itemRef(provider, c, answered) || held == "Task/"+answered || "people/"+held == answered
}

func itemRef(provider string, c catalog.Capability, id string) string {
	if provider == catalog.Salesforce && c == catalog.CRM && len(id) == 18 {
		return "Task/" + id
	}
	return id
}

// TestWriteTestRefusals: what the write endpoints answer besides success,
// in each provider's shape: a read-only grant, injected faults on the
// create and on the delete (the item then stays, as it would at the
// provider), and a file name taken (Graph never replaces it when told to
// fail).
func TestWriteTestRefusals(t *testing.T) {
	for _, p := range catalog.New().All() {
		t.Run(p.ID, func(t *testing.T) {
			e := newEnv(t, fakeprovider.Options{AutoApprove: true})
			cs := p.Capabilities[0]
			readCfg := e.config(p.ID) // read scopes only
			readOnly := e.connect(p.ID, readCfg)
			cfg := e.config(p.ID)
			cfg.Scopes = p.RequestedScopes(p.CapabilityIDs(), true)
			tok := e.connect(p.ID, cfg)
			call := prov.Caller{HTTP: e.hc}
			ctx := context.Background()
			user := defaultUser[p.ID]

			// Salesforce has no narrower scope than api for writing: its
			// read-only users are a profile's matter, not a scope's.
			if p.ID != catalog.Salesforce {
				a, id, err := p.Dialect.CreateTestItem(ctx, call, cs.ID, e.writeTest(p.ID, readOnly.AccessToken))
				if err != nil || id != "" || p.Dialect.ClassifyAPI(a.Status, a.Header, a.Body) != oauthfail.APIScopeMissing && a.Status != 403 {
					t.Errorf("read-only create = %d %q %v: %s", a.Status, id, err, a.Body)
				}
			}

			for _, status := range []int{403, 429, 503} {
				remove := e.fake.Inject(fakeprovider.Fault{Provider: p.ID, Kind: fakeprovider.KindCreate, Status: status, Times: 1})
				a, id, _ := p.Dialect.CreateTestItem(ctx, call, cs.ID, e.writeTest(p.ID, tok.AccessToken))
				remove()
				if a.Status != status || id != "" {
					t.Errorf("create under a %d fault = %d %q", status, a.Status, id)
				}
				if status == 429 && a.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
			if n := len(e.itemsNamed(p.ID, user, cs.ID, prov.TestItemSubject)); n != 0 {
				t.Fatalf("refused creates left %d items", n)
			}

			a, id, err := p.Dialect.CreateTestItem(ctx, call, cs.ID, e.writeTest(p.ID, tok.AccessToken))
			if err != nil || id == "" {
				t.Fatalf("create = %d %v", a.Status, err)
			}
			e.fake.Inject(fakeprovider.Fault{Provider: p.ID, Kind: fakeprovider.KindDelete, Status: 500, Times: 1})
			if a, _ := p.Dialect.DeleteTestItem(ctx, call, cs.ID, e.writeTest(p.ID, tok.AccessToken), id); a.Status != 500 {
				t.Errorf("delete under a fault = %d", a.Status)
			}
			if held := e.itemsNamed(p.ID, user, cs.ID, prov.TestItemSubject); len(held) != 1 || !idOf(p.ID, cs.ID, id, held[0].ID) {
				t.Fatalf("after a failed delete the fake holds %+v, want the created %s", held, id)
			}
			if a, _ := p.Dialect.DeleteTestItem(ctx, call, cs.ID, e.writeTest(p.ID, tok.AccessToken), id); !a.OK() {
				t.Errorf("delete after the fault = %d", a.Status)
			}
		})
	}

	// Graph's conflictBehavior=fail: a file of the same name is never
	// replaced.
	e := newEnv(t, fakeprovider.Options{AutoApprove: true})
	p := e.provider(catalog.Microsoft365)
	cfg := e.config(p.ID)
	cfg.Scopes = p.RequestedScopes(p.CapabilityIDs(), true)
	tok := e.connect(p.ID, cfg)
	if err := e.fake.UpdateUser(p.ID, defaultUser[p.ID], func(u *fakeprovider.User) {
		u.Items = append(u.Items, fakeprovider.Item{Capability: catalog.Files, ID: "01MINE", Name: "integration-test-n0nce.txt", Content: []byte("mine")})
	}); err != nil {
		t.Fatal(err)
	}
	a, id, _ := p.Dialect.CreateTestItem(context.Background(), prov.Caller{HTTP: e.hc}, catalog.Files, e.writeTest(p.ID, tok.AccessToken))
	if a.Status != http.StatusConflict || id != "" {
		t.Errorf("upload over a file of the same name = %d %q", a.Status, id)
	}
	if held := e.itemsNamed(p.ID, defaultUser[p.ID], catalog.Files, "integration-test-n0nce.txt"); len(held) != 1 || string(held[0].Content) != "mine" {
		t.Errorf("the account's file was replaced: %+v", held)
	}
}
