package systemtest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	prov "github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// writeReport is the part of a test report the write test reads.
type writeReport struct {
	Account struct {
		Source string `json:"source"`
	} `json:"account"`
	Overall         string `json:"overall"`
	WritesPerformed bool   `json:"writesPerformed"`
	Steps           []struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Message string `json:"message"`
		Owner   string `json:"owner"`
		Write   *struct {
			Item      string     `json:"item"`
			Created   bool       `json:"created"`
			ID        string     `json:"id"`
			CreatedAt *time.Time `json:"createdAt"`
			Deleted   bool       `json:"deleted"`
			DeletedAt *time.Time `json:"deletedAt"`
		} `json:"write"`
	} `json:"steps"`
}

// writeBody is the body of a test with writes confirmed (or not).
func writeBody(confirm bool) map[string]any {
	return map[string]any{"writes": map[string]any{"confirm": confirm}}
}

// testItems lists what the write test left in the account at the fake:
// items named as the write test names them.
func testItems(t *testing.T, w *world, provider, email string) []fakeprovider.Item {
	t.Helper()
	u, ok := w.env.Fake.User(provider, email)
	if !ok {
		t.Fatalf("no account %s at %s", email, provider)
	}
	var out []fakeprovider.Item
	for _, it := range u.Items {
		if it.Name == prov.TestItemSubject || strings.HasPrefix(it.Name, "integration-test-") {
			out = append(out, it)
		}
	}
	return out
}

// writeCaps are the capabilities of provider the write test enables: every
// one the catalog gives a write test.
func writeCaps(provider string) []string {
	p, _ := catalog.New().Get(provider)
	var out []string
	for _, cs := range p.Capabilities {
		if cs.WriteTest != "" {
			out = append(out, string(cs.ID))
		}
	}
	return out
}

// TestWriteTest (issue 15 §3), for each provider on the embedded store and
// on the AWS adapters, through the API with the fake provider: a test with
// writes is refused unless the org allows write actions and the test runs
// as the org's test account; then each enabled capability creates one item
// in the test account and deletes it, each step carrying its
// confirmations, and the test is audited. A delete the provider keeps
// failing is a fail naming the id, and the item is really still there.
func TestWriteTest(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, w *world) {
		for _, provider := range providers {
			t.Run(provider, func(t *testing.T) { writeTestScenario(t, w, provider) })
		}
	}, localtest.WithClock(morning))
}

func writeTestScenario(t *testing.T, w *world, provider string) {
	org := "org-writes-" + strings.ReplaceAll(provider, "_", "-")
	admin, bob := w.admin(org), w.member(org, "u-bob")
	adminID := "u-admin-" + org
	tester := w.account(provider, "writer")
	caps := writeCaps(provider)
	testPath := integrationPath(org, provider) + "/test"

	body := integrationBody(provider)
	body["capabilities"] = caps
	want(t, w.do(t, "PUT", integrationPath(org, provider), admin, body, nil), 201, "")

	// Members may not test at all; writes.confirm false is a field error.
	want(t, w.do(t, "POST", testPath, bob, writeBody(true), nil), 403, "forbidden")
	resp := w.do(t, "POST", testPath, admin, writeBody(false), nil)
	want(t, resp, 400, "validation_failed")
	if !strings.Contains(string(resp.Body), "writes.confirm") {
		t.Fatalf("field error: %s", resp.Body)
	}

	// Writes off by policy: refused, whatever account there is.
	w.connect(t, org, adminID, provider, "")
	want(t, w.do(t, "POST", testPath, admin, writeBody(true), nil), 409, "writes_not_allowed")

	// Writes allowed, but only the admin's own connection: refused.
	body["allowWriteActions"] = true
	want(t, w.do(t, "PUT", integrationPath(org, provider), admin, body, http.Header{"If-Match": {`"1"`}}), 200, "")
	want(t, w.do(t, "POST", testPath, admin, writeBody(true), nil), 409, "test_account_required")
	if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindCreate}); n != 0 {
		t.Fatalf("a refused test created %d items", n)
	}
	if got := writeAudits(t, w, org); len(got) != 0 {
		t.Fatalf("a refused test was audited: %+v", got)
	}

	// With the test account (connected after writes were allowed, so it
	// granted the write scopes): one item per capability, created and
	// deleted.
	want(t, w.completeWith(t, org, admin, w.startTestAccount(t, org, admin, provider, tester)), 200, "")
	var rep writeReport
	if err := w.do(t, "POST", testPath, admin, writeBody(true), nil).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if rep.Account.Source != "test_account" || !rep.WritesPerformed || rep.Overall != "ok" {
		t.Fatalf("report: %+v", rep)
	}
	ids := map[string]string{}
	for _, s := range rep.Steps {
		if !strings.HasPrefix(s.ID, "write_") {
			if s.Write != nil {
				t.Errorf("%s carries write confirmations", s.ID)
			}
			continue
		}
		c := s.Write
		if s.Status != "pass" || c == nil || !c.Created || c.ID == "" || c.CreatedAt == nil || !c.Deleted || c.DeletedAt == nil || c.Item == "" ||
			!c.CreatedAt.Equal(w.env.Clock.Now()) || !strings.Contains(s.Message, c.ID) {
			t.Fatalf("%s: %s %q %+v", s.ID, s.Status, s.Message, c)
		}
		ids[s.ID] = c.ID
	}
	if len(ids) != len(caps) {
		t.Fatalf("write steps %v, want one per capability %v", ids, caps)
	}
	if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindCreate, User: tester, Outcome: fakeprovider.OutcomeOK}); n != len(caps) {
		t.Fatalf("the fake served %d creates, want %d", n, len(caps))
	}
	if n := w.env.Fake.Count(fakeprovider.Filter{Provider: provider, Kind: fakeprovider.KindCreate}); n != len(caps) {
		t.Fatalf("the fake received %d creates in all (another account was written to?), want %d", n, len(caps))
	}
	if left := testItems(t, w, provider, tester); len(left) != 0 {
		t.Fatalf("the test left items behind: %+v", left)
	}
	audits := writeAudits(t, w, org)
	if len(audits) != 1 || audits[0].Actor != adminID || audits[0].Provider != provider || len(audits[0].Changes) != len(caps) {
		t.Fatalf("audit: %+v", audits)
	}
	for _, ch := range audits[0].Changes {
		if ch.New != "created "+ids[ch.Field]+", deleted" {
			t.Errorf("audit change %s = %q", ch.Field, ch.New)
		}
	}
	// The audit trail, as admins read it, holds it too.
	if resp := w.do(t, "GET", "/v1/orgs/"+org+"/audit", admin, nil, nil); !strings.Contains(string(resp.Body), "integration.write_test") {
		t.Fatalf("audit listing: %s", resp.Body)
	}

	// The provider keeps failing the first capability's delete (the first
	// answer and the retry): that step is a fail naming the id, the item
	// is still in the test account, the other capabilities are deleted.
	w.env.Clock.Advance(time.Minute)
	remove := w.env.Fake.Inject(fakeprovider.Fault{Provider: provider, Kind: fakeprovider.KindDelete, User: tester, Status: 503, RetryAfter: time.Second, Times: 2})
	defer remove()
	rep = writeReport{}
	if err := w.do(t, "POST", testPath, admin, writeBody(true), nil).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if !rep.WritesPerformed || rep.Overall == "ok" {
		t.Fatalf("report with a failed delete: %+v", rep)
	}
	kept := ""
	for _, s := range rep.Steps {
		if !strings.HasPrefix(s.ID, "write_") {
			continue
		}
		c := s.Write
		if s.ID == "write_"+caps[0] {
			if s.Status != "fail" || c == nil || !c.Created || c.ID == "" || c.Deleted || c.DeletedAt != nil || !strings.Contains(s.Message, c.ID) {
				t.Fatalf("%s with a failed delete: %s %q %+v", s.ID, s.Status, s.Message, c)
			}
			kept = c.ID
		} else if s.Status != "pass" || c == nil || !c.Deleted {
			t.Fatalf("%s: %s %q %+v", s.ID, s.Status, s.Message, c)
		}
	}
	left := testItems(t, w, provider, tester)
	if len(left) != 1 || !strings.HasSuffix(left[0].ID, strings.TrimPrefix(kept, "people/")) || string(left[0].Capability) != caps[0] {
		t.Fatalf("the fake holds %+v, want only %s", left, kept)
	}
	audits = writeAudits(t, w, org)
	if len(audits) != 2 || !containsChange(audits[0].Changes, "write_"+caps[0], "created "+kept+", NOT deleted") {
		t.Fatalf("audit of the failed delete: %+v", audits)
	}

	// Nothing of the tokens reached the answers or the trail.
	ta := w.conn(org, store.TestAccountUserID, provider)
	tok := w.tokens(t, ta)
	for _, e := range audits {
		for _, ch := range e.Changes {
			if strings.Contains(ch.New, tok.AccessToken) || strings.Contains(ch.New, tok.RefreshToken) {
				t.Fatal("a token in the audit trail")
			}
		}
	}
}

// writeAudits are org's integration.write_test entries, newest first.
func writeAudits(t *testing.T, w *world, org string) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	for _, e := range w.audit(t, org) {
		if e.Action == "integration.write_test" {
			out = append(out, e)
		}
	}
	return out
}

func containsChange(cs []store.FieldChange, field, newValue string) bool {
	for _, c := range cs {
		if c.Field == field && c.New == newValue {
			return true
		}
	}
	return false
}
