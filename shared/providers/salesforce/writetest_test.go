package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/providertest"
	"github.com/sofie/integrations/shared/store"
)

func TestTestTask(t *testing.T) {
	w := providers.TestWrite{Account: store.Account{InstanceURL: "https://example-dev-ed.my.salesforce.com"}, Token: "fake-access"}
	const tasks = "https://example-dev-ed.my.salesforce.com/services/data/" + APIVersion + "/sobjects/Task/"
	tests := []struct {
		name   string
		status int
		answer string
		wantID string
	}{
		{"created", 201, `{"id":"00T000000000001AAA","success":true,"errors":[]}`, "00T000000000001AAA"},
		{"an id that is not a record id", 201, `{"id":"00T/../x","success":true}`, ""},
		{"refused", 400, `[{"errorCode":"INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY","message":"x"}]`, ""},
	}
	for _, tc := range tests {
		rec := &providertest.Recorder{Status: tc.status, Body: tc.answer}
		a, id, err := New().Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, providers.CRM, w)
		if err != nil || a.Status != tc.status || id != tc.wantID {
			t.Fatalf("%s: CreateTestItem = %d %q %v", tc.name, a.Status, id, err)
		}
		req := rec.Last(t)
		var body map[string]string
		_ = json.Unmarshal(req.Body, &body)
		if req.Method != "POST" || req.URL != tasks || req.ContentType != "application/json" || body["Subject"] != "Integration test" || len(body) != 2 {
			t.Errorf("%s: %s %s %s", tc.name, req.Method, req.URL, req.Body)
		}
	}

	rec := &providertest.Recorder{Status: 204}
	if a, err := New().Dialect.DeleteTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, providers.CRM, w, "00T000000000001AAA"); err != nil || a.Status != 204 {
		t.Fatalf("delete: %d %v", a.Status, err)
	}
	if req := rec.Last(t); req.Method != "DELETE" || req.URL != tasks+"00T000000000001AAA" {
		t.Errorf("delete: %s %s", req.Method, req.URL)
	}

	// The token goes only to a checked Salesforce instance, and only an id
	// of a record into the path.
	for _, tc := range []struct {
		name string
		w    providers.TestWrite
		id   string
	}{
		{"not a Salesforce host", providers.TestWrite{Account: store.Account{InstanceURL: "https://attacker.example"}}, "00T000000000001AAA"},
		{"not a record id", w, "../Account/001000000000001AAA"},
	} {
		rec := &providertest.Recorder{Status: 204}
		_, err := New().Dialect.DeleteTestItem(context.Background(), providers.Caller{HTTP: rec.Client()}, providers.CRM, tc.w, tc.id)
		if err == nil || len(rec.Requests) != 0 {
			t.Errorf("%s: %v, %d requests", tc.name, err, len(rec.Requests))
		}
	}
	if _, _, err := New().Dialect.CreateTestItem(context.Background(), providers.Caller{HTTP: (&providertest.Recorder{}).Client()},
		providers.CRM, providers.TestWrite{Account: store.Account{InstanceURL: "http://example-dev-ed.my.salesforce.com"}}); !errors.Is(err, providers.ErrNoInstance) {
		t.Errorf("http instance: %v", err)
	}
}
