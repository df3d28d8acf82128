package events_test

import (
	"slices"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/store"
)

var t0 = time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)

func conn(status, reason string, connectedAt time.Time, lastErr *store.ConnError) *store.Connection {
	return &store.Connection{
		ConnKey:       store.ConnKey{OrgID: "o1", UserID: "u-bob", Provider: "google_workspace"},
		Status:        status,
		StatusReason:  reason,
		Account:       store.Account{ID: "123", Email: "bob@example.com", Name: "Bob"},
		SealedTokens:  []byte("sealed-secret-bytes"),
		ConnectedAt:   connectedAt,
		LastAttemptAt: t0.Add(-time.Minute),
		LastError:     lastErr,
	}
}

func change(before, after *store.Connection) events.Change {
	return events.Change{ID: "rec-1", At: t0, Old: events.Record{Connection: before}, New: events.Record{Connection: after}}
}

func TestDeriveConnections(t *testing.T) {
	day1, day2 := t0.Add(-48*time.Hour), t0.Add(-time.Hour)
	failedAt := t0.Add(-30 * time.Second)
	grant := &store.ConnError{Code: "invalid_grant", Owner: "user", At: failedAt}
	tenant := &store.ConnError{Code: "consent_revoked", Owner: "external_admin", At: failedAt}
	cases := []struct {
		name          string
		before, after *store.Connection
		want          string // detail type, "" for none
		cause, owner  string
		at            time.Time
	}{
		{"first connection", nil, conn("connected", "", day1, nil), events.ConnectionConnected, "", "", day1},
		{"reconnect replaces the record", conn("needs_reconnect", "invalid_grant", day1, grant), conn("connected", "", day2, nil), events.ConnectionConnected, "", "", day2},
		{"disconnect", conn("connected", "", day1, nil), nil, events.ConnectionDisconnected, events.CauseUserDisconnected, "user", t0},
		{"refresh succeeded", conn("connected", "", day1, nil), conn("connected", "", day1, nil), "", "", "", time.Time{}},
		{"lease claimed", conn("needs_reconnect", "invalid_grant", day1, grant), conn("needs_reconnect", "invalid_grant", day1, grant), "", "", "", time.Time{}},
		{"first transient failure", conn("connected", "", day1, nil), conn("connected", "", day1, &store.ConnError{Code: "provider_unavailable", Owner: "none"}), "", "", "", time.Time{}},
		{"refresh failing", conn("connected", "", day1, nil), conn("refresh_failing", "provider_unavailable", day1, nil), "", "", "", time.Time{}},
		{"needs reconnect", conn("connected", "", day1, nil), conn("needs_reconnect", "invalid_grant", day1, grant), events.ConnectionNeedsReconnect, "invalid_grant", "user", failedAt},
		{"needs reconnect, tenant's cause", conn("refresh_failing", "x", day1, nil), conn("needs_reconnect", "consent_revoked", day1, tenant), events.ConnectionNeedsReconnect, "consent_revoked", "external_admin", failedAt},
		{"client changed by an admin", conn("connected", "", day1, nil), conn("needs_reconnect", "client_changed", day1, &store.ConnError{Code: "client_changed", Owner: "user", At: failedAt}), events.ConnectionNeedsReconnect, "client_changed", "user", failedAt},
		{"already needs reconnect, new reason", conn("needs_reconnect", "invalid_grant", day1, grant), conn("needs_reconnect", "client_changed", day1, grant), "", "", "", time.Time{}},
		{"exhausted", conn("refresh_failing", "provider_unavailable", day1, nil), conn("refresh_exhausted", "refresh_exhausted", day1, &store.ConnError{Code: "refresh_exhausted", Owner: "user", At: failedAt}), events.ConnectionRefreshExhausted, "refresh_exhausted", "user", failedAt},
		{"completed but without a refresh token", nil, conn("connected", "", day1, &store.ConnError{Code: "no_refresh_token", Owner: "user"}), events.ConnectionConnected, "", "", day1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := events.Derive(change(c.before, c.after))
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("events %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d events %+v, want one %s", len(got), got, c.want)
			}
			e := got[0]
			if e.Type != c.want || e.Cause != c.cause || e.Owner != c.owner || !e.At.Equal(c.at) {
				t.Errorf("event %s cause %q owner %q at %v, want %s %q %q at %v", e.Type, e.Cause, e.Owner, e.At, c.want, c.cause, c.owner, c.at)
			}
			if e.ID != "rec-1" || e.OrgID != "o1" || e.Provider != "google_workspace" || e.UserID != "u-bob" || e.AccountName != "bob@example.com" {
				t.Errorf("event names %+v", e)
			}
		})
	}
	if got := events.Derive(events.Change{ID: "x", At: t0}); len(got) != 0 {
		t.Errorf("an item that is neither a connection nor an integration: %+v", got)
	}
}

func TestDeriveIntegrations(t *testing.T) {
	saved := t0.Add(-time.Second)
	base := store.Integration{
		OrgID: "o1", Provider: "salesforce", ConfigMode: "organization", ClientID: "3MVG9-client",
		AuthBaseURL: "https://login.salesforce.com", Capabilities: []string{"crm"},
		Rollout: store.Rollout{Mode: "everyone"}, Version: 3, UpdatedAt: saved, UpdatedBy: "u-alice",
	}
	with := func(f func(*store.Integration)) *store.Integration {
		in := base
		in.Version++
		in.UpdatedBy = "u-carol"
		f(&in)
		return &in
	}
	on := base
	on.Enabled = true
	cases := []struct {
		name          string
		before, after *store.Integration
		want          string
		changes       []string
	}{
		{"created enabled", nil, &on, events.IntegrationEnabled, []string{"authBaseUrl", "capabilities", "clientId", "configMode", "enabled", "rollout"}},
		{"created disabled, secret first", nil, &store.Integration{OrgID: "o1", Provider: "salesforce", ConfigMode: "default", ClientSecretSetAt: saved, Version: 1, UpdatedAt: saved, UpdatedBy: "u-alice"}, events.IntegrationSettingsChanged, []string{"clientSecret", "configMode"}},
		{"enabled", &base, with(func(in *store.Integration) { in.Enabled = true }), events.IntegrationEnabled, []string{"enabled"}},
		{"disabled", &on, with(func(in *store.Integration) {
			in.Enabled = false
			in.Rollout = store.Rollout{Mode: "groups", Groups: []string{"pilot"}}
		}), events.IntegrationDisabled, []string{"enabled", "rollout"}},
		{"settings", &on, with(func(in *store.Integration) { in.Enabled = true; in.Capabilities = nil; in.AllowWriteActions = true }), events.IntegrationSettingsChanged, []string{"allowWriteActions", "capabilities"}},
		{"field cleared", &on, with(func(in *store.Integration) { in.Enabled = true; in.AuthBaseURL = "" }), events.IntegrationSettingsChanged, []string{"authBaseUrl"}},
		{"secret set", &on, with(func(in *store.Integration) { in.Enabled = true; in.ClientSecretSetAt = t0 }), events.IntegrationSettingsChanged, []string{"clientSecret"}},
		{"same version: no save", &on, &on, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := events.Derive(events.Change{ID: "rec-9", At: t0, Old: events.Record{Integration: c.before}, New: events.Record{Integration: c.after}})
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("events %+v, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Type != c.want {
				t.Fatalf("events %+v, want one %s", got, c.want)
			}
			e := got[0]
			if e.ID != "rec-9" || e.OrgID != "o1" || e.Provider != "salesforce" || e.Owner != events.OwnerAdmin || e.UserID != "" || e.Actor != c.after.UpdatedBy || !e.At.Equal(c.after.UpdatedAt) {
				t.Errorf("event %+v: the saving admin is the actor, the owner admin, at the save's time", e)
			}
			if !slices.Equal(e.Changes, c.changes) {
				t.Errorf("changes %v, want %v", e.Changes, c.changes)
			}
		})
	}
}

func TestDeriveClientChangedAndTestAccount(t *testing.T) {
	day1 := t0.Add(-48 * time.Hour)
	// The refresh job takes a connection off the due-index because the
	// integration's client is another one: its user must reconnect.
	before := conn("connected", "", day1, nil)
	before.NextRefreshAt = t0
	after := *before
	after.NextRefreshAt, after.OffIndexReason = time.Time{}, store.ReasonClientChanged
	got := events.Derive(change(before, &after))
	if len(got) != 1 || got[0].Type != events.ConnectionNeedsReconnect || got[0].Cause != "client_changed" || got[0].Owner != events.OwnerUser || !got[0].At.Equal(t0) {
		t.Fatalf("client changed: %+v", got)
	}
	// Already off for that reason, or off for another reason: nothing.
	if got := events.Derive(change(&after, &after)); len(got) != 0 {
		t.Errorf("still client changed: %+v", got)
	}
	// Settings that no longer admit the account: the same, with its cause;
	// refiled from one derived reason to the other it is a new cause.
	narrowed := *before
	narrowed.NextRefreshAt, narrowed.OffIndexReason = time.Time{}, store.ReasonSettingsChanged
	for _, from := range []*store.Connection{before, &after} {
		if got := events.Derive(change(from, &narrowed)); len(got) != 1 || got[0].Type != events.ConnectionNeedsReconnect || got[0].Cause != "settings_changed" || got[0].Owner != events.OwnerUser {
			t.Errorf("settings changed from %q: %+v", from.OffIndexReason, got)
		}
	}
	disabled := *before
	disabled.NextRefreshAt, disabled.OffIndexReason = time.Time{}, store.ReasonProviderDisabled
	if got := events.Derive(change(before, &disabled)); len(got) != 0 {
		t.Errorf("provider disabled: %+v", got)
	}

	// The org's test account: no user named, its admins own it.
	ta := conn("connected", "", day1, nil)
	ta.UserID = store.TestAccountUserID
	dead := *ta
	dead.Status, dead.StatusReason = store.StatusNeedsReconnect, "invalid_grant"
	dead.LastError = &store.ConnError{Code: "invalid_grant", Owner: "user", At: t0}
	for _, c := range []struct {
		name          string
		before, after *store.Connection
		typ, owner    string
	}{
		{"connected", nil, ta, events.ConnectionConnected, ""},
		{"needs reconnect", ta, &dead, events.ConnectionNeedsReconnect, events.OwnerAdmin},
		{"disconnected", ta, nil, events.ConnectionDisconnected, events.OwnerAdmin},
	} {
		got := events.Derive(change(c.before, c.after))
		if len(got) != 1 || got[0].Type != c.typ || !got[0].TestAccount || got[0].UserID != "" || got[0].Actor != "" || got[0].Owner != c.owner {
			t.Errorf("test account %s: %+v", c.name, got)
		}
	}
}

func TestDeriveClientHealth(t *testing.T) {
	ok := store.ClientHealth{OrgID: "o1", Provider: "microsoft365", Status: store.HealthOK, RecoveredAt: t0.Add(-time.Hour)}
	failing := store.ClientHealth{OrgID: "o1", Provider: "microsoft365", Status: store.HealthFailing, Cause: "invalid_client", Since: t0.Add(-time.Minute), LastSeen: t0.Add(-time.Minute)}
	seenAgain := failing
	seenAgain.LastSeen = t0
	healed := store.ClientHealth{OrgID: "o1", Provider: "microsoft365", Status: store.HealthOK, RecoveredAt: t0}
	health := func(before, after *store.ClientHealth) []events.Event {
		return events.Derive(events.Change{ID: "h-1", At: t0, Old: events.Record{Health: before}, New: events.Record{Health: after}})
	}
	for _, c := range []struct {
		name          string
		before, after *store.ClientHealth
		want, cause   string
		at            time.Time
	}{
		{"first failure ever", nil, &failing, events.IntegrationClientFailing, "invalid_client", failing.Since},
		{"failing after ok", &ok, &failing, events.IntegrationClientFailing, "invalid_client", failing.Since},
		{"seen failing again", &failing, &seenAgain, "", "", time.Time{}},
		{"recovered", &seenAgain, &healed, events.IntegrationClientRecovered, "invalid_client", t0},
	} {
		got := health(c.before, c.after)
		if c.want == "" {
			if len(got) != 0 {
				t.Errorf("%s: %+v, want none", c.name, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Type != c.want || got[0].Cause != c.cause || got[0].Owner != events.OwnerAdmin ||
			got[0].OrgID != "o1" || got[0].Provider != "microsoft365" || got[0].ID != "h-1" || !got[0].At.Equal(c.at) {
			t.Errorf("%s: %+v, want %s caused by %s at %v", c.name, got, c.want, c.cause, c.at)
		}
	}
}

func TestSupportContactAndGuidance(t *testing.T) {
	in := store.Integration{OrgID: "o1", Provider: "salesforce"}
	if events.SupportContactOf(in) != nil {
		t.Error("a contact where none is set")
	}
	in.SupportContact = &store.SupportContact{Name: "IT Help", Email: "it-help@example.com"}
	if c := events.SupportContactOf(in); c == nil || *c != (events.SupportContact{Name: "IT Help", Email: "it-help@example.com"}) {
		t.Errorf("contact %+v", c)
	}
	// A save of the contact or the guidance names the field, never its value.
	before := store.Integration{OrgID: "o1", Provider: "salesforce", Enabled: true, Version: 1}
	after := before
	after.Version, after.SupportContact, after.UserGuidance = 2, in.SupportContact, "Use it for CRM notes."
	got := events.Derive(events.Change{ID: "x", At: t0, Old: events.Record{Integration: &before}, New: events.Record{Integration: &after}})
	if len(got) != 1 || got[0].Type != events.IntegrationSettingsChanged || !slices.Equal(got[0].Changes, []string{"supportContact", "userGuidance"}) {
		t.Errorf("events %+v", got)
	}
}
