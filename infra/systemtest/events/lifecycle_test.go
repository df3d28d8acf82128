// Package events_test proves issue 16's lifecycle events end to end: every
// state change through the API and the refresh run reaches the bus once,
// through the table's stream and EventsFunction, on the embedded store
// (LOCAL_DATA_DIR/events.jsonl) and on the AWS adapters (moto_server's
// DynamoDB stream and EventBridge).
package events_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/store"
)

func TestMain(m *testing.M) { moto.Main(m) }

const org = "o-acme"

var backends = []struct {
	name string
	opts []localtest.Option
}{
	{"embedded", nil},
	{"dynamodb", []localtest.Option{localtest.WithAWS()}},
}

func save(t *testing.T, env *localtest.Env, admin string, body map[string]any, version int) {
	t.Helper()
	h := map[string][]string{"If-None-Match": {"*"}}
	if version > 0 {
		h = map[string][]string{"If-Match": {`"` + string(rune('0'+version)) + `"`}}
	}
	resp := env.DoHeaders("PUT", "/v1/orgs/"+org+"/integrations/"+catalog.GoogleWorkspace, admin, body, h)
	if resp.Status/100 != 2 {
		t.Fatalf("save: %s", resp)
	}
}

// TestLifecycleEvents walks an integration's life through the API and the
// refresh run, and checks the bus got exactly one event per state change,
// in the form a rule's target receives, with nothing secret in it.
func TestLifecycleEvents(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := localtest.New(t, b.opts...)
			ctx := context.Background()
			admin := env.AdminToken("u-alice", org)
			bob := env.MemberToken("u-bob", org)
			body := map[string]any{"enabled": true, "configMode": "default", "capabilities": []string{"email"}, "rollout": map[string]any{"mode": "everyone"}}

			save(t, env, admin, body, 0) // Integration Enabled
			body["capabilities"] = []string{"email", "calendar"}
			save(t, env, admin, body, 1)                        // Integration Settings Changed
			save(t, env, admin, body, 2)                        // no change: no new version, no event
			env.Connect(bob, org, catalog.GoogleWorkspace, nil) // Connection Connected
			env.Clock.Advance(time.Minute)                      // a reconnect has a new connectedAt
			env.Connect(bob, org, catalog.GoogleWorkspace, nil) // Connection Connected, again
			env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrInvalidGrant})
			env.Clock.Advance(2 * time.Hour)                  // the access token is due
			if _, err := env.InvokeRefresh(ctx); err != nil { // Connection Needs Reconnect
				t.Fatal(err)
			}
			cause := env.Connection(org, "u-bob", catalog.GoogleWorkspace).StatusReason // as classified
			if _, err := env.InvokeRefresh(ctx); err != nil {                           // off the due-index: nothing
				t.Fatal(err)
			}
			env.Fake.ClearFaults()
			if resp := env.Do("DELETE", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, bob, nil); resp.Status != 200 { // Connection Disconnected
				t.Fatalf("disconnect: %s", resp)
			}
			if resp := env.Do("DELETE", "/v1/orgs/"+org+"/connections/"+catalog.GoogleWorkspace, bob, nil); resp.Status != 200 { // nothing to disconnect
				t.Fatalf("disconnect again: %s", resp)
			}
			body["enabled"] = false
			save(t, env, admin, body, 2) // Integration Disabled

			got := env.Events()
			want := []string{
				events.IntegrationEnabled, events.IntegrationSettingsChanged,
				events.ConnectionConnected, events.ConnectionConnected, events.ConnectionNeedsReconnect,
				events.ConnectionDisconnected, events.IntegrationDisabled,
			}
			var types []string
			for _, e := range got {
				types = append(types, e.DetailType)
			}
			// EventBridge keeps no order; this walk's changes are each
			// seconds of the test's clock apart, and the stream is in
			// write order per item, so compare as sets and by time.
			slices.SortStableFunc(got, func(a, b awsevents.EventBridgeEvent) int { return a.Time.Compare(b.Time) })
			if slices.Sort(types); !slices.Equal(types, sorted(want)) {
				t.Fatalf("events %v, want exactly %v", localtest.Summary(t, got), want)
			}
			ids := map[string]bool{}
			for _, e := range got {
				d := localtest.Detail(t, e)
				if e.Source != events.Source || d.EventID == "" || ids[d.EventID] || d.OrgID != org || d.Provider != catalog.GoogleWorkspace || d.Time.IsZero() {
					t.Errorf("event %s: source %s detail %+v", e.DetailType, e.Source, d)
				}
				ids[d.EventID] = true
				switch e.DetailType {
				case events.IntegrationEnabled, events.IntegrationSettingsChanged, events.IntegrationDisabled:
					if d.Actor != "u-alice" || d.Owner != events.OwnerAdmin || d.UserID != "" || len(d.Changes) == 0 {
						t.Errorf("%s: %+v", e.DetailType, d)
					}
				default:
					if d.UserID != "u-bob" || !strings.Contains(d.AccountName, "@") {
						t.Errorf("%s: %+v", e.DetailType, d)
					}
				}
			}
			if nr := localtest.EventsOf(t, got, events.ConnectionNeedsReconnect); len(nr) == 1 && (cause == "" || nr[0].Cause != cause || nr[0].Owner != events.OwnerUser) {
				t.Errorf("needs reconnect: %+v", nr[0])
			}
			if sc := localtest.EventsOf(t, got, events.IntegrationSettingsChanged); len(sc) == 1 && !slices.Equal(sc[0].Changes, []string{"capabilities"}) {
				t.Errorf("settings changed names %v, want [capabilities]", sc[0].Changes)
			}
			// Draining again publishes nothing twice.
			if again := env.Events(); len(again) != len(got) {
				t.Errorf("a second drain: %d events, want the same %d", len(again), len(got))
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestChangesOtherFunctionsMake: state changes reach the bus whichever
// function makes them: the refresh job finding connections issued by a
// client an admin replaced (their users must reconnect), diagnostics
// meeting a dead grant (its on-demand refresh marks it), and the org's
// client health (store.Health, written by the refresh job) starting and
// stopping to fail. Each carries the integration's support contact.
func TestChangesOtherFunctionsMake(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			env := localtest.New(t, b.opts...)
			ctx := context.Background()
			admin := env.AdminToken("u-alice", org)
			body := map[string]any{"enabled": true, "configMode": "default", "capabilities": []string{"email"}, "rollout": map[string]any{"mode": "everyone"},
				"supportContact": map[string]any{"name": "IT Help", "email": "it-help@acme.example"}}
			save(t, env, admin, body, 0)
			for _, u := range []string{"u-bob", "u-carol"} {
				env.Connect(env.MemberToken(u, org), org, catalog.GoogleWorkspace, nil)
			}
			before := len(env.Events())

			// The admin switches to an organization-owned client: the save
			// is one event; the connections, issued by the default client,
			// need their users to reconnect once the refresh job meets them.
			body["configMode"], body["clientId"] = "organization", "1234567890-orgclient.apps.googleusercontent.com"
			save(t, env, admin, body, 1)
			added := env.Events()[before:]
			if got := localtest.Summary(t, added); len(got) != 1 || added[0].DetailType != events.IntegrationSettingsChanged {
				t.Fatalf("after the client change: %v; want the save", got)
			}
			env.Clock.Advance(2 * time.Hour) // the connections are due
			if _, err := env.InvokeRefresh(ctx); err != nil {
				t.Fatal(err)
			}
			added = env.Events()[before+1:]
			nr := localtest.EventsOf(t, added, events.ConnectionNeedsReconnect)
			if len(nr) != 2 || len(added) != 2 {
				t.Fatalf("after the refresh run: %v; want one Needs Reconnect per connection", localtest.Summary(t, added))
			}
			for _, d := range nr {
				if d.Cause != "client_changed" || d.Owner != events.OwnerUser || d.SupportContact == nil || d.SupportContact.Email != "it-help@acme.example" {
					t.Errorf("needs reconnect after a client change: %+v", d)
				}
			}

			// Back to the default client; dave connects and his grant dies:
			// his own diagnostics find out.
			delete(body, "clientId")
			body["configMode"] = "default"
			save(t, env, admin, body, 2)
			dave := env.MemberToken("u-dave", org)
			env.Connect(dave, org, catalog.GoogleWorkspace, nil)
			before = len(env.Events())
			env.Fake.Inject(fakeprovider.Fault{Provider: catalog.GoogleWorkspace, Kind: fakeprovider.KindRefresh, Error: fakeprovider.ErrInvalidGrant, Times: 1})
			env.Clock.Advance(2 * time.Hour) // the access token has expired
			if resp := env.Do("GET", "/v1/orgs/"+org+"/diagnostics/"+catalog.GoogleWorkspace+"?capability=email", dave, nil); resp.Status != 200 {
				t.Fatalf("diagnostics: %s", resp)
			}
			added = env.Events()[before:]
			if nr := localtest.EventsOf(t, added, events.ConnectionNeedsReconnect); len(nr) != 1 || nr[0].UserID != "u-dave" {
				t.Fatalf("after diagnostics met a dead grant: %v; want dave's Needs Reconnect", localtest.Summary(t, added))
			}

			// The org's client fails and heals, as the refresh job records
			// it (store.Health; two runs overlapping report it twice).
			health := env.Deps.Store.(store.Health)
			before = len(env.Events())
			now := env.Clock.Now()
			for i := range 2 {
				if _, _, err := health.ReportClientFailure(ctx, org, catalog.GoogleWorkspace, "invalid_client", 1, now.Add(time.Duration(i)*time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := health.ReportClientOK(ctx, org, catalog.GoogleWorkspace, now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			added = env.Events()[before:]
			failing, recovered := localtest.EventsOf(t, added, events.IntegrationClientFailing), localtest.EventsOf(t, added, events.IntegrationClientRecovered)
			if len(added) != 2 || len(failing) != 1 || len(recovered) != 1 {
				t.Fatalf("client health: %v; want one Failing and one Recovered", localtest.Summary(t, added))
			}
			if failing[0].Cause != "invalid_client" || failing[0].Owner != events.OwnerAdmin || failing[0].SupportContact == nil || !failing[0].Time.Equal(now.UTC()) {
				t.Errorf("client failing: %+v", failing[0])
			}
		})
	}
}
