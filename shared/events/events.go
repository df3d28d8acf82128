// Package events puts the lifecycle of connections and integrations on
// Amazon EventBridge, so a support team can route failures to a ticketing
// or chat tool with rules: source "integrations", one detail-type per kind
// of change (DetailTypes), and a detail (Detail) naming the org, provider,
// user, account, cause, owner and support contact, never a token or a
// secret.
//
// # The outbox is the table's stream
//
// Every write of a connection or an integration appears in the table's
// DynamoDB stream once, with the record before and after it
// (NEW_AND_OLD_IMAGES, template.yaml). EventsFunction reads the stream
// through a Lambda event source mapping, derives the events each change
// implies (Derive: a connection created or completed again is Connection
// Connected, its status becoming needs_reconnect is Connection Needs
// Reconnect, ...), puts them on the bus at most MaxBatch per PutEvents call
// with retries (Processor), and answers which records failed so that Lambda
// retries from the first of them. Locally, the embedded store keeps the
// same feed (boltstore.Change) and the local server plays the event source
// mapping.
//
// Three designs were weighed, with "each event exactly once per state
// change", a Lambda killed between its write and its put, and issue 13's
// size budget (each bootstrap within 1.10× bench/minimal, linux/arm64
// -s -w: 9,896,098 B, so 10,885,707 B) in mind:
//
//   - EventBridge from the API functions, after their writes. A function
//     killed (timeout, out of memory, a deployment) after its write loses
//     the event; a put retried after a timeout whose answer it never saw
//     sends it twice (PutEvents has no idempotency key); the retries wait on
//     the user's request. And linking
//     github.com/aws/aws-sdk-go-v2/service/eventbridge costs 393,216 B
//     (bench/minimal 9,896,098 → 10,289,314 B): OAuthFunction (10,879,138 B
//     when this was measured) would be at 1.14× the minimal function,
//     AdminFunction 1.13×, RefreshFunction 1.11×.
//   - A transactional outbox: event items written in the transaction of the
//     state change, drained by a function on a schedule. Built and measured
//     first. Exactly once, nothing lost; but a write with an event becomes a
//     TransactWriteItems, which OAuthFunction and DiagnosticsFunction never
//     called: linking that SDK operation and the outbox code grew both by
//     one 64 KiB segment page, to 10,944,674 B (1.106×). Every feature's
//     write path changed (completion, disconnect, the refresh lease's final
//     write, the admin's save and reconnect marking), and events waited up
//     to a schedule period.
//   - The table's stream (chosen). It has every change exactly once
//     (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html:
//     "Each stream record appears exactly once in the stream"), in order per
//     item; a writer that loses its conditional write (a stale version, a
//     refresh run that lost its lease: the eight concurrent runs of the
//     system tests) wrote nothing and so produces nothing; a function killed
//     after its write loses nothing; the API functions link and call nothing
//     new (their sizes do not change) and no feature's code knows about
//     events: whoever makes a change (the refresh run, diagnostics'
//     on-demand refresh, an admin's save marking connections for
//     reconnection) produces its event. Only EventsFunction links the
//     EventBridge client (package events/eventbridge).
//
// What the stream costs: it carries every write of the table, lease claims
// included; the event source mapping's filter passes only connection and
// integration items to the function, and Lambda reads streams at no charge.
// A record stays in the stream 24 hours: EventBridge failing for longer
// than that would lose events, and the iterator-age and failure alarms
// (template.yaml) fire within minutes.
//
// # Delivery
//
// At least once: Lambda retries a batch from the first record whose events
// were not put, and entries put after it in the same call are then put
// again; EventBridge itself delivers to targets at least once. Each
// event's eventId is its stream record's id, the same on every retry:
// consumers that must not act twice deduplicate on it. Order across items
// is not kept (EventBridge does not keep it either); each detail carries
// the time of the change.
package events

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/store"
)

// Source is every event's source.
const Source = "integrations"

// Detail types.
const (
	ConnectionConnected        = "Connection Connected"
	ConnectionDisconnected     = "Connection Disconnected"
	ConnectionNeedsReconnect   = "Connection Needs Reconnect"
	ConnectionRefreshExhausted = "Connection Refresh Exhausted"
	IntegrationClientFailing   = "Integration Client Failing"
	IntegrationClientRecovered = "Integration Client Recovered"
	IntegrationEnabled         = "Integration Enabled"
	IntegrationDisabled        = "Integration Disabled"
	IntegrationSettingsChanged = "Integration Settings Changed"
)

// DetailTypes lists every detail type.
var DetailTypes = []string{
	ConnectionConnected, ConnectionDisconnected, ConnectionNeedsReconnect, ConnectionRefreshExhausted,
	IntegrationClientFailing, IntegrationClientRecovered,
	IntegrationEnabled, IntegrationDisabled, IntegrationSettingsChanged,
}

// Owners: who must act on an event (oauthfail's, as diagnostics and
// store.ConnError.Owner name them).
const (
	OwnerUser          = string(oauthfail.OwnerUser)
	OwnerAdmin         = string(oauthfail.OwnerAdmin)
	OwnerExternalAdmin = string(oauthfail.OwnerExternalAdmin)
)

// CauseUserDisconnected is the cause of a disconnection.
const CauseUserDisconnected = "user_disconnected"

// Event is one lifecycle event, before it is put.
type Event struct {
	// ID is the id of the stream record it comes from: the same on every
	// delivery of that record (Detail.EventID).
	ID          string
	Type        string
	OrgID       string
	Provider    string
	UserID      string
	AccountName string
	// TestAccount: the connection is the org's test account
	// (store.TestAccountUserID), which its admins own.
	TestAccount bool
	Cause       string
	Owner       string
	Actor       string
	Changes     []string
	At          time.Time
}

// Record is an item of the table as a change has it: a connection, an
// integration, a client's health, or (all nil) an item that is none of
// them, or no item.
type Record struct {
	Connection  *store.Connection
	Integration *store.Integration
	Health      *store.ClientHealth
}

// Change is one stream record: the item before (Old) and after (New) one
// write.
type Change struct {
	// ID is the stream record's id (eventID).
	ID string
	// At is when the change was written (the record's approximate creation
	// time): the time of events whose records carry none.
	At       time.Time
	Old, New Record
}

// Derive is the events change implies: for a connection,
//
//   - Connection Connected when it was created or completed again (a new
//     ConnectedAt: a reconnect replaces the record whole);
//   - Connection Disconnected when it was deleted (its user disconnected);
//   - Connection Needs Reconnect and Connection Refresh Exhausted when its
//     status became needs_reconnect or refresh_exhausted, with the status
//     reason as cause and the last error's owner (a connection that already
//     needed a reconnect and gets another reason is no new event);
//   - Connection Needs Reconnect, cause client_changed or settings_changed,
//     when the refresh job took it off the due-index because the
//     integration's client is no longer the one that issued its tokens, or
//     its settings no longer admit the account: its user must reconnect for
//     as long as that lasts (the status is derived, not stored: package
//     readiness);
//
// the org's test account's events naming no user, owned by its admins;
// for an integration (whose saves bump its version),
//
//   - Integration Enabled or Integration Disabled when a save turned it on
//     or off, else Integration Settings Changed when a save changed a
//     setting, naming the fields (never their values);
//
// and for an org client's health (store.ClientHealth, its own item),
//
//   - Integration Client Failing and Integration Client Recovered when it
//     starts or stops failing (store.Health records each transition once,
//     of concurrent reporters; LastSeen moving is no event).
//
// Anything else (a refresh, a lease claim, a transient failure, other
// items) implies none.
func Derive(ch Change) []Event {
	var out []Event
	switch {
	case ch.Old.Connection != nil || ch.New.Connection != nil:
		out = connectionEvents(ch.Old.Connection, ch.New.Connection, ch.At)
	case ch.Old.Integration != nil || ch.New.Integration != nil:
		out = integrationEvents(ch.Old.Integration, ch.New.Integration)
	case ch.New.Health != nil:
		out = healthEvents(ch.Old.Health, *ch.New.Health)
	}
	for i := range out {
		out[i].ID = ch.ID
		if len(out) > 1 {
			out[i].ID += "-" + strconv.Itoa(i)
		}
		if out[i].At.IsZero() {
			out[i].At = ch.At
		}
		out[i].At = out[i].At.UTC()
	}
	return out
}

func connectionEvents(before, after *store.Connection, at time.Time) []Event {
	switch {
	case after == nil:
		e := connEvent(ConnectionDisconnected, *before)
		e.Cause, e.Owner, e.At = CauseUserDisconnected, OwnerUser, at
		if !e.TestAccount {
			e.Actor = before.UserID
		}
		return []Event{owned(e)}
	case before == nil || !before.ConnectedAt.Equal(after.ConnectedAt):
		if after.Status != store.StatusConnected {
			return nil
		}
		e := connEvent(ConnectionConnected, *after)
		e.At = after.ConnectedAt
		return []Event{e}
	case after.Status == before.Status:
		if why := derivedReconnect(*after); why != "" && why != derivedReconnect(*before) && after.Status != store.StatusNeedsReconnect && after.Status != store.StatusRefreshExhausted {
			e := connEvent(ConnectionNeedsReconnect, *after)
			e.Cause, e.Owner = why, OwnerUser
			return []Event{owned(e)}
		}
		return nil
	case after.Status == store.StatusNeedsReconnect:
		return []Event{owned(statusEvent(ConnectionNeedsReconnect, *after))}
	case after.Status == store.StatusRefreshExhausted:
		return []Event{owned(statusEvent(ConnectionRefreshExhausted, *after))}
	}
	return nil
}

// derivedReconnect is the reason the refresh job took c off the due-index
// that means its user must reconnect for as long as it holds (a derived
// status: package readiness), "" for any other.
func derivedReconnect(c store.Connection) string {
	switch c.OffIndexReason {
	case store.ReasonClientChanged, store.ReasonSettingsChanged:
		return c.OffIndexReason
	}
	return ""
}

func connEvent(typ string, c store.Connection) Event {
	e := Event{Type: typ, OrgID: c.OrgID, Provider: c.Provider, UserID: c.UserID, AccountName: AccountName(c.Account)}
	if c.IsTestAccount() {
		e.UserID, e.TestAccount = "", true
	}
	return e
}

// owned is e with the test account's owner: its admins reconnect it.
func owned(e Event) Event {
	if e.TestAccount && e.Owner == OwnerUser {
		e.Owner = OwnerAdmin
	}
	return e
}

func statusEvent(typ string, c store.Connection) Event {
	e := connEvent(typ, c)
	e.Cause, e.Owner, e.At = c.StatusReason, OwnerUser, c.LastAttemptAt
	if le := c.LastError; le != nil {
		if e.Cause == "" {
			e.Cause = le.Code
		}
		if le.Owner != "" && le.Owner != string(oauthfail.OwnerNone) {
			e.Owner = le.Owner
		}
		e.At = le.At
	}
	return e
}

// AccountName is how the user knows the connected account: its email or
// username, else its display name.
func AccountName(a store.Account) string {
	if a.Email != "" {
		return a.Email
	}
	return a.Name
}

// notSettings are an integration's fields that a save sets or that are not
// the admin's settings: left out of Integration Settings Changed.
var notSettings = map[string]bool{
	"orgId": true, "provider": true, "version": true, "updatedAt": true, "updatedBy": true,
}

// fieldNames renames stored fields to the API's names where they differ.
var fieldNames = map[string]string{"clientSecretSetAt": "clientSecret"}

func integrationEvents(before, after *store.Integration) []Event {
	if after == nil {
		return nil // integrations are never deleted
	}
	if before == nil {
		before = &store.Integration{} // a creation changes what it sets
	}
	if before.Version == after.Version {
		return nil // not an admin's save
	}
	old, cur := fields(before), fields(after)
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		if !notSettings[k] && !bytes.Equal(old[k], cur[k]) {
			changed = append(changed, cmpName(k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(old)) {
		if _, still := cur[k]; !still && !notSettings[k] {
			changed = append(changed, cmpName(k))
		}
	}
	wasOn := before.Enabled
	typ := IntegrationSettingsChanged
	switch {
	case after.Enabled && !wasOn:
		typ = IntegrationEnabled
	case !after.Enabled && wasOn:
		typ = IntegrationDisabled
	case len(changed) == 0:
		return nil
	}
	return []Event{{
		Type: typ, OrgID: after.OrgID, Provider: after.Provider,
		Actor: after.UpdatedBy, Owner: OwnerAdmin, Changes: changed, At: after.UpdatedAt,
	}}
}

func cmpName(k string) string {
	if n, ok := fieldNames[k]; ok {
		return n
	}
	return k
}

// fields are the integration's stored fields, as JSON values by name, so
// that a field another change adds is named without this package knowing
// it.
func fields(in *store.Integration) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	if in == nil {
		return out
	}
	b, err := json.Marshal(in)
	if err != nil {
		return out
	}
	_ = json.Unmarshal(b, &out)
	return out
}

// healthEvents are the events of a client's health going from before (nil:
// never recorded, OK) to after.
func healthEvents(before *store.ClientHealth, after store.ClientHealth) []Event {
	was := before != nil && before.Failing()
	switch {
	case after.Failing() && !was:
		return []Event{{Type: IntegrationClientFailing, OrgID: after.OrgID, Provider: after.Provider, Cause: after.Cause, Owner: OwnerAdmin, At: after.Since}}
	case !after.Failing() && was:
		return []Event{{Type: IntegrationClientRecovered, OrgID: after.OrgID, Provider: after.Provider, Cause: before.Cause, Owner: OwnerAdmin, At: after.RecoveredAt}}
	}
	return nil
}
