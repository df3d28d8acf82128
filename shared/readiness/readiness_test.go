package readiness_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

var cat = catalog.New()

func provider(t *testing.T, id string) catalog.Provider {
	t.Helper()
	p, ok := cat.Get(id)
	if !ok {
		t.Fatalf("no provider %s", id)
	}
	return p
}

func principal(_ *testing.T, groups ...string) auth.Principal {
	return auth.Principal{UserID: "u-1", OrgID: "o-1", Groups: groups}
}

// ready is a complete, enabled default-mode Microsoft 365 integration,
// rolled out to the pilot group.
func ready() store.Integration {
	return store.Integration{
		OrgID: "o-1", Provider: catalog.Microsoft365, Enabled: true, ConfigMode: store.ConfigModeDefault,
		Tenant: "contoso.onmicrosoft.com", Capabilities: []string{"email", "calendar"},
		Rollout: store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot"}}, Version: 3,
	}
}

// TestOf holds every combination of the rule: offered, configured,
// enabled, each thing that can be missing, and what each makes of the
// status, the missing list, a user's verdict in and out of the rollout, and
// a connection's verdict.
func TestOf(t *testing.T) {
	ms := provider(t, catalog.Microsoft365)
	sf := provider(t, catalog.Salesforce)
	with := func(mut func(*store.Integration)) *store.Integration {
		in := ready()
		mut(&in)
		return &in
	}
	tests := []struct {
		name         string
		p            catalog.Provider
		f            readiness.Facts
		status       string
		missing      []string
		pilot, other string // ForUser of a pilot member and of someone else
		conn         string // Connection of a healthy connection of the default client
	}{
		{"ready", ms, readiness.Facts{Offered: true, Integration: with(func(*store.Integration) {}), DefaultClient: true},
			readiness.StatusReady, []string{}, "", readiness.ReasonNotInRollout, ""},
		{"never configured", ms, readiness.Facts{Offered: true, DefaultClient: true},
			readiness.StatusDisabled, []string{"tenant", "capabilities"}, readiness.ReasonProviderDisabled, readiness.ReasonProviderDisabled, readiness.ReasonProviderDisabled},
		{"disabled", ms, readiness.Facts{Offered: true, Integration: with(func(in *store.Integration) { in.Enabled = false }), DefaultClient: true},
			readiness.StatusDisabled, []string{}, readiness.ReasonProviderDisabled, readiness.ReasonProviderDisabled, readiness.ReasonProviderDisabled},
		{"not offered", ms, readiness.Facts{Integration: with(func(*store.Integration) {}), DefaultClient: true},
			readiness.StatusIncomplete, []string{"provider_unavailable"}, readiness.ReasonProviderUnavailable, readiness.ReasonProviderUnavailable, readiness.ReasonProviderUnavailable},
		{"not offered and disabled", ms, readiness.Facts{Integration: with(func(in *store.Integration) { in.Enabled = false })},
			readiness.StatusDisabled, []string{"provider_unavailable", "default_client_unavailable"}, readiness.ReasonProviderUnavailable, readiness.ReasonProviderUnavailable, readiness.ReasonProviderUnavailable},
		{"no default client", ms, readiness.Facts{Offered: true, Integration: with(func(*store.Integration) {})},
			readiness.StatusIncomplete, []string{"default_client_unavailable"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, ""},
		{"organization client complete", ms, readiness.Facts{Offered: true, ClientSecret: true, Integration: with(func(in *store.Integration) {
			in.ConfigMode, in.ClientID = store.ConfigModeOrganization, "11111111-2222-3333-4444-555555555555"
		})}, readiness.StatusReady, []string{}, "", readiness.ReasonNotInRollout, readiness.ReasonClientChanged},
		{"organization client without id and secret", ms, readiness.Facts{Offered: true, Integration: with(func(in *store.Integration) {
			in.ConfigMode = store.ConfigModeOrganization
		})}, readiness.StatusIncomplete, []string{"client_id", "client_secret"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, readiness.ReasonClientChanged},
		{"required field missing", ms, readiness.Facts{Offered: true, DefaultClient: true, Integration: with(func(in *store.Integration) { in.Tenant = "" })},
			readiness.StatusIncomplete, []string{"tenant"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, ""},
		{"field invalid", ms, readiness.Facts{Offered: true, DefaultClient: true, Integration: with(func(in *store.Integration) { in.Tenant = "consumers" })},
			readiness.StatusIncomplete, []string{"tenant"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, ""},
		{"salesforce base URL missing", sf, readiness.Facts{Offered: true, DefaultClient: true, Integration: with(func(in *store.Integration) {
			in.Provider, in.Tenant, in.Capabilities = catalog.Salesforce, "", []string{"crm"}
		})}, readiness.StatusIncomplete, []string{"auth_base_url"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, ""},
		{"no capability", ms, readiness.Facts{Offered: true, DefaultClient: true, Integration: with(func(in *store.Integration) { in.Capabilities = nil })},
			readiness.StatusIncomplete, []string{"capabilities"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, ""},
		{"capabilities gone from the catalog", ms, readiness.Facts{Offered: true, DefaultClient: true, Integration: with(func(in *store.Integration) { in.Capabilities = []string{"crm"} })},
			readiness.StatusIncomplete, []string{"capabilities"}, readiness.ReasonIncomplete, readiness.ReasonNotInRollout, ""},
		{"everyone", ms, readiness.Facts{Offered: true, DefaultClient: true, Integration: with(func(in *store.Integration) { in.Rollout = store.Rollout{Mode: store.RolloutEveryone} })},
			readiness.StatusReady, []string{}, "", "", ""},
	}
	pilot, other := principal(t, "pilot", "sales"), principal(t, "Pilot Team")
	conn := store.Connection{Status: store.StatusConnected, ClientRef: store.ConfigModeDefault}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := readiness.Of(tc.p, tc.f)
			if v.Status() != tc.status || !slices.Equal(v.Missing(), tc.missing) {
				t.Errorf("status %s %v, want %s %v", v.Status(), v.Missing(), tc.status, tc.missing)
			}
			if got := v.ForUser(pilot); got != tc.pilot {
				t.Errorf("ForUser(pilot) = %q, want %q", got, tc.pilot)
			}
			if got := v.ForUser(other); got != tc.other {
				t.Errorf("ForUser(someone else) = %q, want %q", got, tc.other)
			}
			if got := v.Connection(conn); got != tc.conn {
				t.Errorf("Connection = %q, want %q", got, tc.conn)
			}
			if v.Ready() != (tc.status == readiness.StatusReady) {
				t.Errorf("Ready = %v with status %s", v.Ready(), tc.status)
			}
		})
	}
}

// TestConnection: a status someone must act on comes first, whatever the
// integration; then the integration's state; a missing setting never takes
// a working connection's tokens away.
func TestConnection(t *testing.T) {
	ms := provider(t, catalog.Microsoft365)
	in := ready()
	v := readiness.Of(ms, readiness.Facts{Offered: true, Integration: &in}) // no default client: incomplete
	for _, tc := range []struct {
		status, reason, want string
	}{
		{store.StatusConnected, "", ""},
		{store.StatusRefreshFailing, "", ""},
		{store.StatusNeedsReconnect, "", readiness.ReasonNeedsReconnect},
		{store.StatusNeedsReconnect, store.ReasonClientChanged, readiness.ReasonClientChanged},
		{store.StatusRefreshExhausted, "", readiness.ReasonRefreshExhausted},
	} {
		c := store.Connection{Status: tc.status, StatusReason: tc.reason, ClientRef: store.ConfigModeDefault}
		if got := v.Connection(c); got != tc.want {
			t.Errorf("%s/%s: %q, want %q", tc.status, tc.reason, got, tc.want)
		}
	}
}

// TestSettingsChanged: settings tightened after a connection was made
// exclude exactly the accounts they no longer admit, as a derived reason
// that comes after any stored status and goes when the settings do.
func TestSettingsChanged(t *testing.T) {
	const own, other = "11111111-2222-3333-4444-555555555555", "99999999-8888-7777-6666-555555555555"
	ms, g := provider(t, catalog.Microsoft365), provider(t, catalog.GoogleWorkspace)
	for _, tc := range []struct {
		name string
		p    catalog.Provider
		in   func(*store.Integration)
		acct store.Account
		st   string
		want string
	}{
		{"google, no hosted domain: a consumer account", g, func(in *store.Integration) {}, store.Account{}, store.StatusConnected, ""},
		{"google, domain set: a consumer account", g, func(in *store.Integration) { in.HostedDomain = "example.com" }, store.Account{}, store.StatusConnected, readiness.ReasonSettingsChanged},
		{"google, domain set: another domain", g, func(in *store.Integration) { in.HostedDomain = "example.com" }, store.Account{Domain: "other.example"}, store.StatusConnected, readiness.ReasonSettingsChanged},
		{"google, domain set: the domain in another case", g, func(in *store.Integration) { in.HostedDomain = "Example.COM" }, store.Account{Domain: "example.com"}, store.StatusConnected, ""},
		{"google, a stored status comes first", g, func(in *store.Integration) { in.HostedDomain = "example.com" }, store.Account{}, store.StatusNeedsReconnect, readiness.ReasonNeedsReconnect},
		{"microsoft, organizations: a work account", ms, func(in *store.Integration) { in.Tenant = "organizations" }, store.Account{Tenant: other}, store.StatusConnected, ""},
		{"microsoft, organizations: a personal account", ms, func(in *store.Integration) { in.Tenant = "organizations" }, store.Account{Tenant: "9188040d-6c67-4c5b-b112-36a304b66dad"}, store.StatusConnected, readiness.ReasonSettingsChanged},
		{"microsoft, common: a personal account", ms, func(in *store.Integration) { in.Tenant = "common" }, store.Account{Tenant: "9188040d-6c67-4c5b-b112-36a304b66dad"}, store.StatusConnected, ""},
		{"microsoft, GUID: its own tenant", ms, func(in *store.Integration) { in.Tenant = strings.ToUpper(own) }, store.Account{Tenant: own}, store.StatusConnected, ""},
		{"microsoft, GUID: another tenant", ms, func(in *store.Integration) { in.Tenant = own }, store.Account{Tenant: other}, store.StatusConnected, readiness.ReasonSettingsChanged},
		{"microsoft, domain resolved: its own tenant", ms, func(in *store.Integration) { in.TenantID = own }, store.Account{Tenant: own}, store.StatusConnected, ""},
		{"microsoft, domain resolved: another tenant", ms, func(in *store.Integration) { in.TenantID = own }, store.Account{Tenant: other}, store.StatusConnected, readiness.ReasonSettingsChanged},
		{"microsoft, domain unresolved: not broken on a guess", ms, func(in *store.Integration) {}, store.Account{Tenant: other}, store.StatusConnected, ""},
		{"microsoft, account stored without its tenant", ms, func(in *store.Integration) { in.Tenant = own }, store.Account{}, store.StatusConnected, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ready()
			in.Provider, in.Tenant = tc.p.ID, ""
			if tc.p.ID == catalog.Microsoft365 {
				in.Tenant = "contoso.onmicrosoft.com"
			}
			tc.in(&in)
			v := readiness.Of(tc.p, readiness.Facts{Offered: true, Integration: &in, DefaultClient: true})
			c := store.Connection{Status: tc.st, ClientRef: store.ConfigModeDefault, Account: tc.acct}
			if got := v.Connection(c); got != tc.want {
				t.Fatalf("Connection = %q, want %q", got, tc.want)
			}
			if tc.want == readiness.ReasonSettingsChanged {
				if caps := v.UsableCapabilities(tc.p, c, principal(t, "pilot")); len(caps) != 0 {
					t.Fatalf("usable %v for an account the settings exclude", caps)
				}
				if msg := v.SettingsChangedMessage(); !strings.Contains(msg, tc.p.DisplayName) {
					t.Fatalf("message %q", msg)
				}
			}
		})
	}
}

func TestUsableCapabilitiesAndActions(t *testing.T) {
	g := provider(t, catalog.GoogleWorkspace)
	gmailRead := "https://www.googleapis.com/auth/gmail.readonly"
	calRead := "https://www.googleapis.com/auth/calendar.readonly"
	in := store.Integration{Provider: g.ID, Enabled: true, ConfigMode: store.ConfigModeDefault, Capabilities: []string{"email", "calendar", "files"},
		Rollout: store.Rollout{Mode: store.RolloutGroups, Groups: []string{"Pilot Team"}}}
	conn := store.Connection{Status: store.StatusConnected, ClientRef: "default", GrantedScopes: []string{"openid", gmailRead, calRead, "https://www.googleapis.com/auth/contacts.readonly"}}
	pilot := principal(t, "Pilot Team")
	with := func(mut func(*store.Integration)) *store.Integration {
		x := in
		mut(&x)
		return &x
	}
	tests := []struct {
		name    string
		offered bool
		in      *store.Integration
		c       store.Connection
		who     auth.Principal
		want    []catalog.Capability
	}{
		{"granted and enabled only", true, &in, conn, pilot, []catalog.Capability{catalog.Email, catalog.Calendar}},
		{"not offered", false, &in, conn, pilot, []catalog.Capability{}},
		{"no integration", true, nil, conn, pilot, []catalog.Capability{}},
		{"disabled", true, with(func(x *store.Integration) { x.Enabled = false }), conn, pilot, []catalog.Capability{}},
		{"client changed", true, with(func(x *store.Integration) { x.ConfigMode, x.ClientID = store.ConfigModeOrganization, "other" }), conn, pilot, []catalog.Capability{}},
		{"needs reconnect", true, &in, func() store.Connection { x := conn; x.Status = store.StatusNeedsReconnect; return x }(), pilot, []catalog.Capability{}},
		{"refresh failing still usable", true, &in, func() store.Connection { x := conn; x.Status = store.StatusRefreshFailing; return x }(), pilot, []catalog.Capability{catalog.Email, catalog.Calendar}},
		// A rollout narrowed past the user: nothing usable, the grant kept.
		{"outside the rollout", true, &in, conn, principal(t, "Pilot", "Team"), []catalog.Capability{}},
		{"rollout widened again", true, with(func(x *store.Integration) { x.Rollout = store.Rollout{Mode: store.RolloutEveryone} }), conn, principal(t), []catalog.Capability{catalog.Email, catalog.Calendar}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := readiness.Of(g, readiness.Facts{Offered: tc.offered, Integration: tc.in})
			if got := v.UsableCapabilities(g, tc.c, tc.who); !slices.Equal(got, tc.want) {
				t.Fatalf("UsableCapabilities = %v, want %v", got, tc.want)
			}
		})
	}

	send := "https://www.googleapis.com/auth/gmail.send"
	v := readiness.Of(g, readiness.Facts{Offered: true, Integration: &in})
	if v.ActionUsable(g, []string{gmailRead, send}, catalog.Email, catalog.Send) {
		t.Error("send usable although the org does not allow write actions")
	}
	v = readiness.Of(g, readiness.Facts{Offered: true, Integration: with(func(x *store.Integration) { x.AllowWriteActions = true })})
	if !v.ActionUsable(g, []string{gmailRead, send}, catalog.Email, catalog.Send) {
		t.Error("send not usable with its scope granted and writes allowed")
	}
	if v.ActionUsable(g, []string{gmailRead}, catalog.Email, catalog.Send) {
		t.Error("send usable without its scope")
	}
	if v.ActionUsable(g, []string{calRead, "https://www.googleapis.com/auth/calendar.events"}, catalog.Calendar, catalog.Send) {
		t.Error("calendar send usable although the provider does not support it")
	}
	if v.ActionUsable(g, []string{"https://www.googleapis.com/auth/contacts.readonly"}, catalog.Contacts, catalog.Read) {
		t.Error("contacts usable although the org did not enable it")
	}
}

func TestFieldCode(t *testing.T) {
	for in, want := range map[string]string{"tenant": "tenant", "authBaseUrl": "auth_base_url", "hostedDomain": "hosted_domain"} {
		if got := readiness.FieldCode(in); got != want {
			t.Errorf("FieldCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNeedsConsent: the scopes a connection lacks are computed against the
// integration's current settings, not what was asked at connect time, and
// only a connection that can be used needs consent (anything else needs a
// reconnect or the admin first).
func TestNeedsConsent(t *testing.T) {
	g := provider(t, catalog.GoogleWorkspace)
	const auth = "https://www.googleapis.com/auth/"
	// Connected when the org had email only: that is all it asked for.
	conn := store.Connection{Status: store.StatusConnected, ClientRef: "default",
		RequestedScopes: []string{"openid", "email", "profile", auth + "gmail.readonly"},
		GrantedScopes:   []string{"openid", auth + "userinfo.email", auth + "userinfo.profile", auth + "gmail.readonly"}}
	in := store.Integration{Provider: g.ID, Enabled: true, ConfigMode: store.ConfigModeDefault, Capabilities: []string{"email"}, Rollout: store.Rollout{Mode: store.RolloutEveryone}}
	with := func(mut func(*store.Integration)) *store.Integration {
		x := in
		x.Capabilities = slices.Clone(in.Capabilities)
		mut(&x)
		return &x
	}
	tests := []struct {
		name    string
		offered bool
		in      *store.Integration
		c       store.Connection
		missing []string
		needs   bool
	}{
		{"settings unchanged", true, &in, conn, []string{}, false},
		{"a capability added", true, with(func(x *store.Integration) { x.Capabilities = append(x.Capabilities, "calendar") }), conn,
			[]string{auth + "calendar.readonly"}, true},
		{"write actions allowed", true, with(func(x *store.Integration) { x.AllowWriteActions = true }), conn,
			[]string{auth + "gmail.compose", auth + "gmail.modify", auth + "gmail.send"}, true},
		{"a capability removed", true, with(func(x *store.Integration) { x.Capabilities = []string{} }), conn, []string{}, false},
		{"needs reconnect anyway", true, with(func(x *store.Integration) { x.Capabilities = append(x.Capabilities, "calendar") }),
			func() store.Connection { x := conn; x.Status = store.StatusNeedsReconnect; return x }(), []string{auth + "calendar.readonly"}, false},
		{"refresh failing still usable", true, with(func(x *store.Integration) { x.Capabilities = append(x.Capabilities, "calendar") }),
			func() store.Connection { x := conn; x.Status = store.StatusRefreshFailing; return x }(), []string{auth + "calendar.readonly"}, true},
		{"integration disabled", true, with(func(x *store.Integration) { x.Enabled = false; x.Capabilities = append(x.Capabilities, "calendar") }), conn,
			[]string{auth + "calendar.readonly"}, false},
		{"not offered", false, with(func(x *store.Integration) { x.Capabilities = append(x.Capabilities, "calendar") }), conn,
			[]string{auth + "calendar.readonly"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := readiness.Of(g, readiness.Facts{Offered: tc.offered, Integration: tc.in})
			if got := v.MissingScopes(g, tc.c.GrantedScopes); !slices.Equal(got, tc.missing) {
				t.Errorf("MissingScopes = %v, want %v", got, tc.missing)
			}
			if got := v.NeedsConsent(g, tc.c); got != tc.needs {
				t.Errorf("NeedsConsent = %v, want %v", got, tc.needs)
			}
		})
	}
}
