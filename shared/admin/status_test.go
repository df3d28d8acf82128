package admin

import (
	"fmt"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

func TestComputeStatus(t *testing.T) {
	c := catalog.New()
	ms, _ := c.Get(catalog.Microsoft365)
	gw, _ := c.Get(catalog.GoogleWorkspace)
	sf, _ := c.Get(catalog.Salesforce)
	set := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	org := func(mut func(*store.Integration)) store.Integration {
		in := store.Integration{Enabled: true, ConfigMode: "organization", ClientID: msClientID, Tenant: "contoso.onmicrosoft.com", Capabilities: []string{"email"}, ClientSecretSetAt: set}
		if mut != nil {
			mut(&in)
		}
		return in
	}
	tests := []struct {
		name          string
		p             catalog.Provider
		in            store.Integration
		offered, dflt bool
		state         string
		missing       []string
	}{
		{"ready organization", ms, org(nil), true, false, StatusReady, []string{}},
		{"secret missing", ms, org(func(in *store.Integration) { in.ClientSecretSetAt = time.Time{} }), true, true, StatusIncomplete, []string{MissingClientSecret}},
		{"tenant missing", ms, org(func(in *store.Integration) { in.Tenant = "" }), true, true, StatusIncomplete, []string{MissingTenant}},
		{"client id missing", ms, org(func(in *store.Integration) { in.ClientID = "" }), true, true, StatusIncomplete, []string{MissingClientID}},
		{"disabled still lists what is missing", ms, org(func(in *store.Integration) { in.Enabled, in.ClientSecretSetAt = false, time.Time{} }), true, true, StatusDisabled, []string{MissingClientSecret}},
		{"not offered", ms, org(nil), false, false, StatusIncomplete, []string{MissingProviderUnavailable}},
		{"default ready", gw, store.Integration{Enabled: true, ConfigMode: "default", Capabilities: []string{"files"}}, true, true, StatusReady, []string{}},
		{"default without default client", gw, store.Integration{Enabled: true, ConfigMode: "default", Capabilities: []string{"files"}}, true, false, StatusIncomplete, []string{MissingDefaultClient}},
		{"default not offered", gw, store.Integration{Enabled: true, ConfigMode: "default", Capabilities: []string{"files"}}, false, false, StatusIncomplete, []string{MissingProviderUnavailable, MissingDefaultClient}},
		{"capabilities gone from the catalog", gw, store.Integration{Enabled: true, ConfigMode: "default", Capabilities: []string{"fax"}}, true, true, StatusIncomplete, []string{MissingCapabilities}},
		{"salesforce base URL missing", sf, store.Integration{Enabled: true, ConfigMode: "default", Capabilities: []string{"crm"}}, true, true, StatusIncomplete, []string{MissingAuthBaseURL}},
		{"salesforce ready", sf, store.Integration{Enabled: true, ConfigMode: "default", Capabilities: []string{"crm"}, AuthBaseURL: "https://login.salesforce.com"}, true, true, StatusReady, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := computeStatus(tt.p, tt.in, tt.offered, tt.dflt)
			if st.State != tt.state || fmt.Sprint(st.Missing) != fmt.Sprint(tt.missing) {
				t.Fatalf("status = %s %v, want %s %v", st.State, st.Missing, tt.state, tt.missing)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	old := store.Integration{Version: 2, Enabled: true, ConfigMode: "default", Capabilities: []string{"email"}, Rollout: store.Rollout{Mode: "everyone"}}
	next := old
	next.ConfigMode, next.ClientID, next.Tenant = "organization", msClientID, "contoso.onmicrosoft.com"
	next.Capabilities = []string{"email", "files"}
	next.Rollout = store.Rollout{Mode: "groups", Groups: []string{"pilot", "it"}}
	next.AllowWriteActions = true
	got := diff(old, next)
	want := []store.FieldChange{
		{Field: "configMode", Old: "default", New: "organization"},
		{Field: "clientId", Old: "", New: msClientID},
		{Field: "tenant", Old: "", New: "contoso.onmicrosoft.com"},
		{Field: "capabilities", Old: "email", New: "email,files"},
		{Field: "allowWriteActions", Old: "false", New: "true"},
		{Field: "rollout", Old: "everyone", New: "groups: pilot, it"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("diff =\n%v\nwant\n%v", got, want)
	}
	if d := diff(old, old); len(d) != 0 {
		t.Fatalf("no change, diff %v", d)
	}
	// A first save records every field, from nothing.
	first := diff(store.Integration{}, store.Integration{Enabled: false, ConfigMode: "default", Capabilities: []string{}, Rollout: store.Rollout{Mode: "everyone"}})
	wantFirst := []store.FieldChange{{Field: "enabled", New: "false"}, {Field: "configMode", New: "default"}, {Field: "allowWriteActions", New: "false"}, {Field: "rollout", New: "everyone"}}
	if fmt.Sprint(first) != fmt.Sprint(wantFirst) {
		t.Fatalf("first diff = %v", first)
	}
}
