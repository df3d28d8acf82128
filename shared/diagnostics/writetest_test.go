package diagnostics

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

const graphMe = "graph.microsoft.com/v1.0/me/"

// writeHarness is the unit harness with the org's Microsoft 365 test
// account (every scope granted) and only the email capability enabled.
func writeHarness(t *testing.T, mutIn func(*store.Integration), mutConn func(*store.Connection)) *harness {
	t.Helper()
	h := newHarness(t)
	h.setup(func(in *store.Integration) {
		in.Capabilities = []string{"email"}
		if mutIn != nil {
			mutIn(in)
		}
	}, func(c *store.Connection) {
		c.ConnKey = store.TestAccountKey(orgID, catalog.Microsoft365)
		c.Account = store.Account{Email: "tester@contoso.example"}
		if mutConn != nil {
			mutConn(c)
		}
	})
	return h
}

func (h *harness) writeTest() (TestReport, error) {
	p, _ := h.cat.Get(catalog.Microsoft365)
	return h.svc.TestAfterChanges(context.Background(), TestRequest{Caller: admin("u-admin"), Provider: p, Writes: true})
}

func (h *harness) writes() []string {
	h.prov.mu.Lock()
	defer h.prov.mu.Unlock()
	var out []string
	for _, s := range h.prov.seen {
		if strings.HasPrefix(s, "POST ") || strings.HasPrefix(s, "DELETE ") {
			out = append(out, strings.Replace(s, "/graph.microsoft.com/v1.0/me/", "", 1))
		}
	}
	return out
}

func (h *harness) writeAudit() []store.AuditEntry {
	h.t.Helper()
	entries, _, err := h.st.ListAudit(context.Background(), orgID, store.Page{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.AuditEntry
	for _, e := range entries {
		if e.Action == ActionWriteTest {
			out = append(out, e)
		}
	}
	return out
}

// TestWriteTestOutcomes: what write_email reports, and what the stub
// provider received, for each answer of the create and the delete.
func TestWriteTestOutcomes(t *testing.T) {
	created := stubAnswer{201, "application/json", `{"id":"AAMk1="}`}
	deleted := stubAnswer{204, "application/json", ``}
	tests := []struct {
		name       string
		mutConn    func(*store.Connection)
		create     []stubAnswer
		del        []stubAnswer
		forceErr   error
		deadline   time.Duration
		status     Status
		owner      Owner
		msg        string
		writes     []string
		createdID  string
		deletedOK  bool
		performed  bool
		auditWrite string
	}{
		{name: "created and deleted", create: []stubAnswer{created}, del: []stubAnswer{deleted},
			status: Pass, msg: "(id AAMk1=)", writes: []string{"POST messages", "DELETE messages/AAMk1="},
			createdID: "AAMk1=", deletedOK: true, performed: true, auditWrite: "created AAMk1=, deleted"},
		{name: "delete fails, and again when retried: the id to clean up", create: []stubAnswer{created},
			del:    []stubAnswer{{500, "application/json", `{"error":{"code":"UnknownError"}}`}, {503, "application/json", `{"error":{"code":"ServiceNotAvailable"}}`}},
			status: Fail, owner: OwnerUser, msg: "still in the test account", writes: []string{"POST messages", "DELETE messages/AAMk1=", "DELETE messages/AAMk1="},
			createdID: "AAMk1=", performed: true, auditWrite: "created AAMk1=, NOT deleted"},
		{name: "delete throttled, retried", create: []stubAnswer{created}, del: []stubAnswer{{429, "application/json", `{"error":{"code":"TooManyRequests"}}`}, deleted},
			status: Pass, writes: []string{"POST messages", "DELETE messages/AAMk1=", "DELETE messages/AAMk1="},
			createdID: "AAMk1=", deletedOK: true, performed: true, auditWrite: "created AAMk1=, deleted"},
		{name: "delete forbidden: not retried, the tenant's admin", create: []stubAnswer{created}, del: []stubAnswer{{403, "application/json", `{"error":{"code":"ErrorAccessDenied"}}`}},
			status: Fail, owner: OwnerExternalAdmin, msg: "HTTP 403", writes: []string{"POST messages", "DELETE messages/AAMk1="},
			createdID: "AAMk1=", performed: true, auditWrite: "created AAMk1=, NOT deleted"},
		{name: "already gone", create: []stubAnswer{created}, del: []stubAnswer{{404, "application/json", `{"error":{"code":"ErrorItemNotFound"}}`}},
			status: Pass, msg: "already gone", writes: []string{"POST messages", "DELETE messages/AAMk1="},
			createdID: "AAMk1=", deletedOK: true, performed: true, auditWrite: "created AAMk1=, deleted"},
		{name: "created without an id", create: []stubAnswer{{201, "application/json", `{}`}},
			status: Fail, msg: "gave no id", writes: []string{"POST messages"}, performed: true, auditWrite: "created without an id, not deleted"},
		{name: "create forbidden: nothing written", create: []stubAnswer{{403, "application/json", `{"error":{"code":"ErrorAccessDenied"}}`}},
			status: Fail, owner: OwnerExternalAdmin, msg: "Nothing was written", writes: []string{"POST messages"}, auditWrite: "nothing written (fail)"},
		{name: "create throttled: nothing written", create: []stubAnswer{{429, "application/json", `{"error":{"code":"TooManyRequests"}}`}},
			status: Warn, msg: "Nothing was written", writes: []string{"POST messages"}, auditWrite: "nothing written (warn)"},
		{name: "token refused once: refreshed, written", create: []stubAnswer{{401, "application/json", `{"error":{"code":"InvalidAuthenticationToken"}}`}, created}, del: []stubAnswer{deleted},
			status: Pass, writes: []string{"POST messages", "POST messages", "DELETE messages/AAMk1="}, createdID: "AAMk1=", deletedOK: true, performed: true, auditWrite: "created AAMk1=, deleted"},
		{name: "write scopes not granted: nothing sent", mutConn: func(c *store.Connection) {
			c.GrantedScopes = slices.DeleteFunc(slices.Clone(c.GrantedScopes), func(s string) bool { return strings.HasSuffix(s, "Mail.ReadWrite") })
		}, status: Fail, msg: "Mail.ReadWrite", auditWrite: "nothing written (fail)"},
		{name: "no time left: nothing sent", deadline: time.Millisecond, status: Warn, msg: "no time left", auditWrite: "nothing written (warn)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := writeHarness(t, nil, tc.mutConn)
			if tc.deadline > 0 {
				h.svc.opts.TestDeadline = tc.deadline
			}
			h.prov.queue("POST "+graphMe+"messages", tc.create...)
			h.prov.queue("DELETE "+graphMe+"messages/AAMk1=", tc.del...)
			rep, err := h.writeTest()
			if err != nil {
				t.Fatal(err)
			}
			s := find(rep.Steps, "write_email")
			if s.Status != tc.status || (tc.owner != "" && s.Owner != tc.owner) || !strings.Contains(s.Message, tc.msg) {
				t.Fatalf("write_email = %s/%s %q (%s)", s.Status, s.Owner, s.Message, s.Remediation)
			}
			if got := h.writes(); !slices.Equal(got, tc.writes) {
				t.Errorf("provider received %v, want %v", got, tc.writes)
			}
			w := s.Write
			if w == nil || w.Item != "a draft message to the account itself (never sent)" || w.ID != tc.createdID || w.Created != tc.performed ||
				w.Deleted != tc.deletedOK || (w.CreatedAt != nil) != tc.performed || (w.DeletedAt != nil) != tc.deletedOK {
				t.Errorf("confirmations %+v", w)
			}
			if tc.status == Fail && tc.createdID != "" && !tc.deletedOK && !strings.Contains(s.Remediation, tc.createdID) {
				t.Errorf("a failed delete's remediation does not name the id: %q", s.Remediation)
			}
			if rep.WritesPerformed != tc.performed {
				t.Errorf("writesPerformed = %v", rep.WritesPerformed)
			}
			audit := h.writeAudit()
			if len(audit) != 1 || audit[0].Actor != "u-admin" || audit[0].Provider != catalog.Microsoft365 || len(audit[0].Changes) != 1 ||
				audit[0].Changes[0] != (store.FieldChange{Field: "write_email", New: tc.auditWrite}) {
				t.Errorf("audit %+v", audit)
			}
		})
	}
}

// TestWriteTestRefused: writes are refused, before anything is read from
// the provider, unless the org allows them and the test account exists;
// without writes asked for, nothing is written and nothing audited.
func TestWriteTestRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutIn   func(*store.Integration)
		mutConn func(*store.Connection)
		code    string
	}{
		{"writes not allowed", func(in *store.Integration) { in.AllowWriteActions = false }, nil, CodeWritesNotAllowed},
		{"no test account: only the admin's own connection", nil, func(c *store.Connection) { c.UserID = "u-admin" }, CodeTestAccountRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := writeHarness(t, tc.mutIn, tc.mutConn)
			_, err := h.writeTest()
			var p *problem.Problem
			if !errors.As(err, &p) || p.Code != tc.code || p.Status != 409 {
				t.Fatalf("err = %v, want 409 %s", err, tc.code)
			}
			if len(h.prov.seen) != 0 || len(h.writeAudit()) != 0 {
				t.Errorf("a refused test called %v, audited %v", h.prov.seen, h.writeAudit())
			}
		})
	}

	h := writeHarness(t, nil, nil)
	p, _ := h.cat.Get(catalog.Microsoft365)
	rep, err := h.svc.TestAfterChanges(context.Background(), TestRequest{Caller: admin("u-admin"), Provider: p})
	if err != nil || rep.WritesPerformed || len(h.writes()) != 0 || len(h.writeAudit()) != 0 {
		t.Fatalf("without writes: %v %+v, writes %v", err, rep, h.writes())
	}
	if s := find(rep.Steps, "write_email"); s.Status != Pass || s.Write != nil || !strings.Contains(s.Message, "No write was performed") {
		t.Errorf("write_email without writes = %+v", s)
	}
}

// The write test's item lines up with what the provider's item says it
// is (a table of its own would drift).
func TestWriteTestDescribesTheItem(t *testing.T) {
	for _, p := range catalog.New().All() {
		for _, cs := range p.Capabilities {
			if cs.WriteTest != "" && !strings.Contains(cs.WriteTest, "a ") {
				t.Errorf("%s/%s: write test %q", p.ID, cs.ID, cs.WriteTest)
			}
		}
	}
	if providers.TestItemSubject != "Integration test" {
		t.Error("the brief names the Salesforce Task's subject: Integration test")
	}
}
