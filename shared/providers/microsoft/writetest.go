package microsoft

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sofie/integrations/shared/providers"
)

// The write test's items, in Microsoft Graph (v1.0), each in the account's
// own space and each deleted by DELETE on the item:
//
//	email     POST /me/messages: a draft to the account itself, saved in Drafts, never sent
//	          Docs: https://learn.microsoft.com/graph/api/user-post-messages
//	          Docs: https://learn.microsoft.com/graph/api/message-delete
//	calendar  POST /me/events: showAs tentative, no attendees (so no invitation or
//	          cancellation is sent), no reminder, a day ahead
//	          Docs: https://learn.microsoft.com/graph/api/user-post-events
//	          Docs: https://learn.microsoft.com/graph/api/event-delete
//	files     PUT /me/drive/special/approot:/<name>:/content: a small text file in the
//	          app's own folder, with @microsoft.graph.conflictBehavior=fail in the URL
//	          (where Graph reads it) so that it can never replace a file
//	          Docs: https://learn.microsoft.com/graph/api/driveitem-put-content
//	          Docs: https://learn.microsoft.com/graph/api/resources/driveitem (the parameter goes in the URL)
//	          Docs: https://learn.microsoft.com/graph/api/driveitem-delete
//	contacts  POST /me/contacts
//	          Docs: https://learn.microsoft.com/graph/api/user-post-contacts
//	          Docs: https://learn.microsoft.com/graph/api/contact-delete
//
// A DELETE moves a message, event or contact to Deleted Items and a file to
// the recycle bin, as deleting it in Outlook or OneDrive would.

// CreateTestItem implements providers.Dialect.
func (d *dialect) CreateTestItem(ctx context.Context, call providers.Caller, c providers.Capability, w providers.TestWrite) (providers.Answer, string, error) {
	method, u, ct := http.MethodPost, "", "application/json"
	var body string
	const text = `{"contentType":"Text","content":` + providers.TestItemNoteJSON + `}`
	switch c {
	case providers.Email:
		u = graphAPI + "/me/messages"
		body = `{"subject":` + providers.TestItemSubjectJSON + `,"body":` + text +
			`,"toRecipients":[{"emailAddress":{"address":` + providers.JSONString(w.Account.Email) + `}}]}`
	case providers.Calendar:
		start := providers.TestEventStart(w.Now)
		u = graphAPI + "/me/events"
		body = `{"subject":` + providers.TestItemSubjectJSON + `,"body":` + text + `,"showAs":"tentative","isReminderOn":false` +
			`,"start":{"dateTime":"` + start.Format(graphDateTime) + `","timeZone":"UTC"}` +
			`,"end":{"dateTime":"` + start.Add(providers.TestEventLength).Format(graphDateTime) + `","timeZone":"UTC"}}`
	case providers.Files:
		method, ct = http.MethodPut, "text/plain"
		u = graphAPI + "/me/drive/special/approot:/" + url.PathEscape(testFileName(w.Nonce)) + ":/content?@microsoft.graph.conflictBehavior=fail"
		body = providers.TestItemNote
	case providers.Contacts:
		u = graphAPI + "/me/contacts"
		body = `{"givenName":` + providers.TestItemSubjectJSON + `,"personalNotes":` + providers.TestItemNoteJSON + `}`
	default:
		return providers.Answer{}, "", providers.ErrNoTestItem
	}
	a, err := call.Send(ctx, method, u, w.Token, ct, []byte(body))
	if err != nil || !a.OK() {
		return a, "", err
	}
	return a, providers.CreatedID(a.Body, "id", func(id string) bool { _, ok := d.ItemID(c, id); return ok }), nil
}

// DeleteTestItem implements providers.Dialect: 204 No Content when deleted.
func (*dialect) DeleteTestItem(ctx context.Context, call providers.Caller, c providers.Capability, w providers.TestWrite, id string) (providers.Answer, error) {
	var u string
	switch c {
	case providers.Email:
		u = graphAPI + "/me/messages/"
	case providers.Calendar:
		u = graphAPI + "/me/events/"
	case providers.Files:
		u = graphAPI + "/me/drive/items/"
	case providers.Contacts:
		u = graphAPI + "/me/contacts/"
	default:
		return providers.Answer{}, providers.ErrNoTestItem
	}
	return call.Send(ctx, http.MethodDelete, u+url.PathEscape(id), w.Token, "", nil)
}

// graphDateTime is a dateTimeTimeZone's dateTime, the zone given apart.
const graphDateTime = "2006-01-02T15:04:05"

// testFileName is the write test's file: unique, and saying what it is.
func testFileName(nonce string) string { return "integration-test-" + nonce + ".txt" }
