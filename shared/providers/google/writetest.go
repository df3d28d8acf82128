package google

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/providers"
)

// The write test's items, each in the account's own space and each deleted
// for good (none of these deletions goes through a trash):
//
//	email     Gmail users.drafts.create: a draft (an RFC 2822 message, base64url in
//	          message.raw) to the account itself, never sent; users.drafts.delete
//	          "immediately and permanently deletes" it
//	          Docs: https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/create
//	          Docs: https://developers.google.com/gmail/api/reference/rest/v1/users.drafts/delete
//	calendar  Calendar events.insert on primary: status tentative, transparent (it
//	          does not block time), no attendees and sendUpdates=none, default
//	          reminders off, a day ahead; events.delete with sendUpdates=none
//	          Docs: https://developers.google.com/calendar/api/v3/reference/events/insert
//	          Docs: https://developers.google.com/calendar/api/v3/reference/events/delete
//	files     Drive files.create as a multipart upload (metadata and a small text
//	          file in one multipart/related request) to My Drive; files.delete
//	          deletes a file the user owns without moving it to the trash
//	          Docs: https://developers.google.com/workspace/drive/api/guides/manage-uploads#multipart
//	          Docs: https://developers.google.com/drive/api/reference/rest/v3/files/delete
//	contacts  People people.createContact; people.deleteContact
//	          Docs: https://developers.google.com/people/api/rest/v1/people/createContact
//	          Docs: https://developers.google.com/people/api/rest/v1/people/deleteContact

const (
	gmailAPI    = "https://gmail.googleapis.com/gmail/v1/users/me"
	calendarAPI = "https://www.googleapis.com/calendar/v3/calendars/primary/events"
	peopleAPI   = "https://people.googleapis.com/v1/"
	// multipartBoundary separates the parts of the Drive upload; it can
	// occur in neither part (both are the service's own text).
	multipartBoundary = "integration-test-part"
)

// CreateTestItem implements providers.Dialect.
func (d *dialect) CreateTestItem(ctx context.Context, call providers.Caller, c providers.Capability, w providers.TestWrite) (providers.Answer, string, error) {
	u, ct, idField := "", "application/json", "id"
	var body string
	switch c {
	case providers.Email:
		u = gmailAPI + "/drafts"
		raw := "To: " + providers.HeaderSafe(w.Account.Email) + "\r\nSubject: " + providers.TestItemSubject +
			"\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + providers.TestItemNote + "\r\n"
		body = `{"message":{"raw":"` + base64.RawURLEncoding.EncodeToString([]byte(raw)) + `"}}`
	case providers.Calendar:
		start := providers.TestEventStart(w.Now)
		u = calendarAPI + "?sendUpdates=none"
		body = `{"summary":` + providers.TestItemSubjectJSON + `,"description":` + providers.TestItemNoteJSON +
			`,"status":"tentative","transparency":"transparent","reminders":{"useDefault":false}` +
			`,"start":{"dateTime":"` + start.Format(time.RFC3339) + `"},"end":{"dateTime":"` + start.Add(providers.TestEventLength).Format(time.RFC3339) + `"}}`
	case providers.Files:
		u, ct = "https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart&fields=id", "multipart/related; boundary="+multipartBoundary
		body = "--" + multipartBoundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
			`{"name":"integration-test-` + w.Nonce + `.txt","mimeType":"text/plain","description":` + providers.TestItemNoteJSON + `}` +
			"\r\n--" + multipartBoundary + "\r\nContent-Type: text/plain\r\n\r\n" + providers.TestItemNote + "\r\n--" + multipartBoundary + "--\r\n"
	case providers.Contacts:
		u, idField = peopleAPI+"people:createContact?personFields=names", "resourceName"
		body = `{"names":[{"givenName":` + providers.TestItemSubjectJSON + `}],"biographies":[{"value":` + providers.TestItemNoteJSON + `}]}`
	default:
		return providers.Answer{}, "", providers.ErrNoTestItem
	}
	a, err := call.Send(ctx, http.MethodPost, u, w.Token, ct, []byte(body))
	if err != nil || !a.OK() {
		return a, "", err
	}
	// A contact is named by its resource name, people/c123…; ItemID takes
	// it in that form too.
	return a, providers.CreatedID(a.Body, idField, func(id string) bool { _, ok := d.ItemID(c, id); return ok }), nil
}

// DeleteTestItem implements providers.Dialect: 204 No Content (People:
// 200 with an empty object) when deleted.
func (*dialect) DeleteTestItem(ctx context.Context, call providers.Caller, c providers.Capability, w providers.TestWrite, id string) (providers.Answer, error) {
	var u string
	switch c {
	case providers.Email:
		u = gmailAPI + "/drafts/" + url.PathEscape(id)
	case providers.Calendar:
		u = calendarAPI + "/" + url.PathEscape(id) + "?sendUpdates=none"
	case providers.Files:
		u = "https://www.googleapis.com/drive/v3/files/" + url.PathEscape(id)
	case providers.Contacts:
		u = peopleAPI + "people/" + url.PathEscape(strings.TrimPrefix(id, "people/")) + ":deleteContact"
	default:
		return providers.Answer{}, providers.ErrNoTestItem
	}
	return call.Send(ctx, http.MethodDelete, u, w.Token, "", nil)
}
