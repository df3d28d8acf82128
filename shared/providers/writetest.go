package providers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// The admin's "Test after changes" tests write actions only when an admin
// asks for it ("test write actions only when safe… use a test item and
// review every confirmation"): for each enabled capability with a write
// action, one reversible write in the test account's own space (a draft to
// itself, a tentative event in its own calendar, a small text file, a
// contact, a CRM Task) and its undo. What is written and how is each
// provider's (Dialect.CreateTestItem, Dialect.DeleteTestItem); what the
// test reports is package diagnostics'.

// TestItemSubject is the subject, name or title of every item a write test
// creates, so a person can recognise one left behind.
const TestItemSubject = "Integration test"

// TestItemNote is the body or description of every item a write test
// creates: what it is and that it goes away by itself. It never carries
// anything of the account or the organization.
const TestItemNote = "Created by Test after changes in the organization's integration settings to check write access. It is deleted at once; if you find it, delete it."

// TestWrite is what one write test works with.
type TestWrite struct {
	// Account is the connected account; a draft goes to its own address.
	Account store.Account
	// Token is its access token, valid now.
	Token string
	// Now places a tentative event (a day ahead, out of working hours'
	// way as far as one can be).
	Now time.Time
	// Nonce makes a file name unique (letters and digits), so that a write
	// never replaces a file of the account.
	Nonce string
}

// ErrNoTestItem: the capability has no write test (CapabilitySpec.WriteTest
// is empty).
var ErrNoTestItem = errors.New("the capability has no write test")

// TestEventStart is when a write test's tentative event starts: the next
// full hour a day after now, 15 minutes long.
func TestEventStart(now time.Time) time.Time {
	return now.UTC().Add(24 * time.Hour).Truncate(time.Hour)
}

// TestEventLength is how long a write test's tentative event lasts.
const TestEventLength = 15 * time.Minute

// Send sends method to rawURL with the bearer access token and body (of
// contentType; none when body is nil), and reads the answer (at most
// MaxAnswer): the write test's calls.
func (c Caller) Send(ctx context.Context, method, rawURL, accessToken, contentType string, body []byte) (Answer, error) {
	return c.send(ctx, method, rawURL, accessToken, "application/json", contentType, body)
}

// JSONString is s as a JSON string. The write tests' bodies are JSON
// written out, their only variable parts (an address, a time, a name)
// through JSONString: map literals marshalled at run time would cost the
// bootstrap that links them kilobytes of code (issue 13).
func JSONString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestItemSubjectJSON and TestItemNoteJSON are the subject and the note as
// JSON strings (neither holds a character JSON escapes; a test holds them
// to JSONString).
const (
	TestItemSubjectJSON = `"` + TestItemSubject + `"`
	TestItemNoteJSON    = `"` + TestItemNote + `"`
)

// CreatedID reads the id of a created item from its JSON answer: the field
// name, validated by ok (the provider's item id rules); "" when the answer
// has none that passes.
func CreatedID(body []byte, name string, ok func(string) bool) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	id, _ := m[name].(string)
	if id == "" || !ok(id) {
		return ""
	}
	return id
}

// HeaderSafe is s for an RFC 5322 header (an account's address in a
// draft's To: header): "" when it holds a line break, which would start
// another header.
func HeaderSafe(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return ""
	}
	return s
}
