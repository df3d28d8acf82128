package microsoft

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/providertest"
	"github.com/sofie/integrations/shared/store"
)

func TestCreateTestItem(t *testing.T) {
	w := providers.TestWrite{Account: store.Account{Email: "tester@contoso.example"}, Token: "fake-access", Nonce: "n0nce",
		Now: time.Date(2030, 3, 12, 8, 20, 0, 0, time.UTC)}
	tests := []struct {
		c           providers.Capability
		status      int
		answer      string
		method, url string
		contentType string
		body        map[string]any // top-level fields the request must carry ("" value: any)
		rawBody     string         // or the raw body
		wantID      string
	}{
		{providers.Email, 201, `{"id":"AAMkAGI2-draft=","isDraft":true}`, "POST", graphAPI + "/me/messages", "application/json",
			map[string]any{"subject": "Integration test", "toRecipients": []any{map[string]any{"emailAddress": map[string]any{"address": "tester@contoso.example"}}}}, "", "AAMkAGI2-draft="},
		{providers.Calendar, 201, `{"id":"AAMkEvent1"}`, "POST", graphAPI + "/me/events", "application/json",
			map[string]any{"showAs": "tentative", "isReminderOn": false,
				"start": map[string]any{"dateTime": "2030-03-13T08:00:00", "timeZone": "UTC"},
				"end":   map[string]any{"dateTime": "2030-03-13T08:15:00", "timeZone": "UTC"}}, "", "AAMkEvent1"},
		{providers.Files, 201, `{"id":"01BYE5RZ6QN3ZW","name":"integration-test-n0nce.txt"}`, "PUT",
			graphAPI + "/me/drive/special/approot:/integration-test-n0nce.txt:/content?@microsoft.graph.conflictBehavior=fail", "text/plain",
			nil, providers.TestItemNote, "01BYE5RZ6QN3ZW"},
		{providers.Contacts, 201, `{"id":"AAMkContact1"}`, "POST", graphAPI + "/me/contacts", "application/json",
			map[string]any{"givenName": "Integration test"}, "", "AAMkContact1"},
		// An answer whose id is not a Graph id gives none: it is never put
		// into a delete URL.
		{providers.Email, 201, `{"id":"../../me/drive"}`, "POST", graphAPI + "/me/messages", "application/json", nil, "", ""},
		{providers.Email, 403, `{"error":{"code":"ErrorAccessDenied"}}`, "POST", graphAPI + "/me/messages", "application/json", nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(string(tc.c)+"/"+tc.answer, func(t *testing.T) {
			rec := &providertest.Recorder{Status: tc.status, Body: tc.answer}
			a, id, err := New().Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, tc.c, w)
			if err != nil || a.Status != tc.status || id != tc.wantID {
				t.Fatalf("CreateTestItem = %d, %q, %v; want %d, %q", a.Status, id, err, tc.status, tc.wantID)
			}
			req := rec.Last(t)
			if req.Method != tc.method || req.URL != tc.url || req.ContentType != tc.contentType || req.Authorization != "Bearer fake-access" {
				t.Fatalf("request %s %s (%s, %s)", req.Method, req.URL, req.ContentType, req.Authorization)
			}
			if tc.rawBody != "" && string(req.Body) != tc.rawBody {
				t.Errorf("body %q", req.Body)
			}
			var got map[string]any
			if tc.body != nil {
				if err := json.Unmarshal(req.Body, &got); err != nil {
					t.Fatalf("body is not JSON: %s", req.Body)
				}
				for k, v := range tc.body {
					if g, _ := json.Marshal(got[k]); string(g) != string(mustJSON(v)) {
						t.Errorf("%s = %s, want %s", k, g, mustJSON(v))
					}
				}
			}
		})
	}
	if _, _, err := New().Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: (&providertest.Recorder{}).Client()}, providers.CRM, w); !errors.Is(err, providers.ErrNoTestItem) {
		t.Errorf("CRM: %v, want ErrNoTestItem", err)
	}
}

func TestDeleteTestItem(t *testing.T) {
	w := providers.TestWrite{Token: "fake-access"}
	for c, want := range map[providers.Capability]string{
		providers.Email:    graphAPI + "/me/messages/AAMk=",
		providers.Calendar: graphAPI + "/me/events/AAMk=",
		providers.Files:    graphAPI + "/me/drive/items/AAMk=",
		providers.Contacts: graphAPI + "/me/contacts/AAMk=",
	} {
		rec := &providertest.Recorder{Status: 204}
		a, err := New().Dialect.DeleteTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, c, w, "AAMk=")
		if err != nil || a.Status != 204 {
			t.Fatalf("%s: %d %v", c, a.Status, err)
		}
		if req := rec.Last(t); req.Method != "DELETE" || req.URL != want || req.Body != nil {
			t.Errorf("%s: %s %s %q, want DELETE %s", c, req.Method, req.URL, req.Body, want)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
