package events

import (
	"encoding/json"
	"testing"
)

// Client health is issue 14's integration field; until it lands the
// integration record has none, so the rule is tested on its JSON form.
func TestClientHealthEvents(t *testing.T) {
	cases := []struct {
		name     string
		old, cur string
		want     string
		cause    string
	}{
		{"starts failing", ``, `{"status":"failing","cause":"invalid_client"}`, IntegrationClientFailing, "invalid_client"},
		{"from ok", `{"status":"ok"}`, `{"status":"failing","cause":"AADSTS7000215"}`, IntegrationClientFailing, "AADSTS7000215"},
		{"still failing (lastSeen moves)", `{"status":"failing","cause":"invalid_client","lastSeen":"a"}`, `{"status":"failing","cause":"invalid_client","lastSeen":"b"}`, "", ""},
		{"recovers", `{"status":"failing","cause":"invalid_client"}`, `{"status":"ok"}`, IntegrationClientRecovered, "invalid_client"},
		{"stays ok", `{"status":"ok"}`, `{"status":"ok"}`, "", ""},
		{"never recorded", ``, ``, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := healthEvent(json.RawMessage(c.old), json.RawMessage(c.cur))
			switch {
			case c.want == "" && e != nil:
				t.Fatalf("event %+v, want none", e)
			case c.want != "" && (e == nil || e.Type != c.want || e.Cause != c.cause || e.Owner != OwnerAdmin):
				t.Fatalf("event %+v, want %s caused by %s", e, c.want, c.cause)
			}
		})
	}
	if notSettings["clientHealth"] != true {
		t.Error("a client health change must not read as a settings change")
	}
}

// The support contact is issue 15's integration field, read by its JSON
// name: tested on that form until the field lands.
func TestSupportContactFrom(t *testing.T) {
	for raw, want := range map[string]*SupportContact{
		``:     nil,
		`null`: nil,
		`{}`:   nil,
		`{"name":"IT Help","email":"it-help@example.com"}`:         {Name: "IT Help", Email: "it-help@example.com"},
		`{"name":"Service desk","url":"https://help.example.com"}`: {Name: "Service desk", URL: "https://help.example.com"},
	} {
		got := supportContactFrom(json.RawMessage(raw))
		if (got == nil) != (want == nil) || (got != nil && *got != *want) {
			t.Errorf("%s: %+v, want %+v", raw, got, want)
		}
	}
}
