package google

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/providertest"
	"github.com/sofie/integrations/shared/store"
)

func TestCreateTestItem(t *testing.T) {
	w := providers.TestWrite{Account: store.Account{Email: "tester@example.com"}, Token: "fake-access", Nonce: "n0nce",
		Now: time.Date(2030, 3, 12, 8, 20, 0, 0, time.UTC)}
	tests := []struct {
		c           providers.Capability
		status      int
		answer      string
		url         string
		contentType string
		check       func(t *testing.T, body []byte)
		wantID      string
	}{
		{providers.Email, 200, `{"id":"r-5512","message":{"id":"18c1","threadId":"18c1"}}`, gmailAPI + "/drafts", "application/json",
			func(t *testing.T, body []byte) {
				var d struct{ Message struct{ Raw string } }
				_ = json.Unmarshal(body, &d)
				raw, err := base64.RawURLEncoding.DecodeString(d.Message.Raw)
				if err != nil || !strings.HasPrefix(string(raw), "To: tester@example.com\r\nSubject: Integration test\r\n") || !strings.Contains(string(raw), "\r\n\r\n"+providers.TestItemNote) {
					t.Errorf("raw message %q (%v)", raw, err)
				}
			}, "r-5512"},
		{providers.Calendar, 200, `{"id":"abc123def","status":"tentative"}`, calendarAPI + "?sendUpdates=none", "application/json",
			func(t *testing.T, body []byte) {
				var e map[string]any
				_ = json.Unmarshal(body, &e)
				if e["status"] != "tentative" || e["transparency"] != "transparent" || e["summary"] != "Integration test" ||
					e["start"].(map[string]any)["dateTime"] != "2030-03-13T08:00:00Z" || e["end"].(map[string]any)["dateTime"] != "2030-03-13T08:15:00Z" ||
					e["attendees"] != nil {
					t.Errorf("event %v", e)
				}
			}, "abc123def"},
		{providers.Files, 200, `{"id":"1AbC_dEf-2"}`, "https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart&fields=id", "multipart/related; boundary=" + multipartBoundary,
			func(t *testing.T, body []byte) {
				parts := strings.Split(string(body), "--"+multipartBoundary)
				if len(parts) != 4 || parts[3] != "--\r\n" || !strings.Contains(parts[1], `"name":"integration-test-n0nce.txt"`) ||
					!strings.Contains(parts[1], "Content-Type: application/json") || !strings.Contains(parts[2], "Content-Type: text/plain\r\n\r\n"+providers.TestItemNote) {
					t.Errorf("multipart body %q", body)
				}
			}, "1AbC_dEf-2"},
		{providers.Contacts, 200, `{"resourceName":"people/c7315","etag":"%Eg"}`, peopleAPI + "people:createContact?personFields=names", "application/json",
			func(t *testing.T, body []byte) {
				if !strings.Contains(string(body), `"givenName":"Integration test"`) {
					t.Errorf("contact %s", body)
				}
			}, "people/c7315"},
		{providers.Email, 200, `{"message":{}}`, gmailAPI + "/drafts", "application/json", nil, ""},
		{providers.Calendar, 403, `{"error":{"code":403,"errors":[{"reason":"insufficientPermissions"}]}}`, calendarAPI + "?sendUpdates=none", "application/json", nil, ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.c)+"/"+tc.answer, func(t *testing.T) {
			rec := &providertest.Recorder{Status: tc.status, Body: tc.answer}
			a, id, err := New().Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, tc.c, w)
			if err != nil || a.Status != tc.status || id != tc.wantID {
				t.Fatalf("CreateTestItem = %d, %q, %v; want %d, %q", a.Status, id, err, tc.status, tc.wantID)
			}
			req := rec.Last(t)
			if req.Method != "POST" || req.URL != tc.url || req.ContentType != tc.contentType || req.Authorization != "Bearer fake-access" {
				t.Fatalf("request %s %s (%s)", req.Method, req.URL, req.ContentType)
			}
			if tc.check != nil {
				tc.check(t, req.Body)
			}
		})
	}
	if _, _, err := New().Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: (&providertest.Recorder{}).Client()}, providers.CRM, w); !errors.Is(err, providers.ErrNoTestItem) {
		t.Errorf("CRM: %v, want ErrNoTestItem", err)
	}
}

func TestDeleteTestItem(t *testing.T) {
	w := providers.TestWrite{Token: "fake-access"}
	for _, tc := range []struct {
		c      providers.Capability
		id     string
		status int
		want   string
	}{
		{providers.Email, "r-5512", 204, gmailAPI + "/drafts/r-5512"},
		{providers.Calendar, "abc123def", 204, calendarAPI + "/abc123def?sendUpdates=none"},
		{providers.Files, "1AbC_dEf-2", 204, "https://www.googleapis.com/drive/v3/files/1AbC_dEf-2"},
		{providers.Contacts, "people/c7315", 200, peopleAPI + "people/c7315:deleteContact"},
	} {
		rec := &providertest.Recorder{Status: tc.status, Body: "{}"}
		a, err := New().Dialect.DeleteTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, tc.c, w, tc.id)
		if err != nil || a.Status != tc.status {
			t.Fatalf("%s: %d %v", tc.c, a.Status, err)
		}
		if req := rec.Last(t); req.Method != "DELETE" || req.URL != tc.want {
			t.Errorf("%s: %s %s, want DELETE %s", tc.c, req.Method, req.URL, tc.want)
		}
	}
}
