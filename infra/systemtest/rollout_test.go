package systemtest_test

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/catalog"
)

// TestRolloutView (issue 15 §5), on the embedded store and on the AWS
// adapters, with the fake provider: a pilot rollout's figures come from
// what really happened: connections made in and out of the pilot, one
// revoked at the provider (the refresh run marks it), a start never
// completed, the org's test account apart, and the refresh run's summary
// for the org.
func TestRolloutView(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, append([]localtest.Option{localtest.WithClock(morning)}, s.opts...)...)
			const org, provider = "org-rollout", catalog.GoogleWorkspace
			adminTok := w.admin(org)
			path := integrationPath(org, provider) + "/rollout"

			// Before anything: zeros, no run.
			var v admin.RolloutView
			resp := w.do(t, "GET", path, adminTok, nil, nil)
			want(t, resp, 200, "")
			if err := resp.Decode(&v); err != nil || v.Connections != 0 || v.LastRefreshRun != nil || v.Enabled {
				t.Fatalf("before: %+v %v", v, err)
			}
			want(t, w.do(t, "GET", path, w.member(org, "u-bob"), nil, nil), 403, "forbidden")

			// Dave connects while the integration is for everyone; then the
			// admin rolls it out to the pilot group only.
			connectAs := func(user string, groups ...string) string {
				t.Helper()
				email := w.account(provider, user)
				tok := w.env.Token("u-"+user, org, nil, groups)
				want(t, w.completeWith(t, org, tok, pending(t, w.callback(t, w.toCallback(t, w.start(t, org, tok, provider, email))))), 200, "")
				return email
			}
			resp = w.do(t, "PUT", integrationPath(org, provider), adminTok, integrationBody(provider), nil)
			want(t, resp, 201, "")
			connectAs("dave", "sales")
			pilot := integrationBody(provider)
			pilot["rollout"] = map[string]any{"mode": "groups", "groups": []string{"pilot"}}
			want(t, w.do(t, "PUT", integrationPath(org, provider), adminTok, pilot, http.Header{"If-Match": {resp.Header.Get("ETag")}}), 200, "")
			connectAs("bob", "pilot")
			connectAs("carol", "staff", "pilot")
			frank := connectAs("frank", "pilot")
			// Erin starts and never comes back.
			erin := w.account(provider, "erin")
			w.start(t, org, w.env.Token("u-erin", org, nil, []string{"pilot"}), provider, erin)
			// The org's test account is counted apart.
			want(t, w.completeWith(t, org, adminTok, w.startTestAccount(t, org, adminTok, provider, w.account(provider, "tester"))), 200, "")

			// Right away Erin is still connecting.
			if err := w.do(t, "GET", path, adminTok, nil, nil).Decode(&v); err != nil || v.Connecting != 1 || v.StartedNotCompleted != 0 {
				t.Fatalf("while Erin connects: %+v %v", v, err)
			}

			// Frank's grant was revoked at Google: the next refresh finds out.
			w.env.Clock.Advance(55 * time.Minute)
			w.env.Fake.Inject(fakeprovider.Fault{Provider: provider, Kind: fakeprovider.KindRefresh, User: frank, Error: fakeprovider.ErrInvalidGrant, Times: 1})
			run := w.refresh(t)
			if run.Refreshed != 4 || run.NeedsReconnect != 1 {
				t.Fatalf("refresh run: %+v", run)
			}

			resp = w.do(t, "GET", path, adminTok, nil, nil)
			want(t, resp, 200, "")
			if err := resp.Decode(&v); err != nil {
				t.Fatal(err)
			}
			type figures struct {
				Connections, InConnected, InFailing, Outside, Unknown, NotCompleted, Reconnects, Connecting int
				ByStatus                                                                                    map[string]int
				Causes                                                                                      []admin.RolloutCause
			}
			got := figures{v.Connections, v.InRolloutConnected, v.InRolloutFailing, v.OutsideRollout, v.RolloutUnknown, v.StartedNotCompleted, v.ReconnectsNotCompleted, v.Connecting, v.ByStatus, v.TopCauses}
			wantFigures := figures{
				Connections: 4, InConnected: 2, InFailing: 1, Outside: 1, Unknown: 0, NotCompleted: 1, Reconnects: 0, Connecting: 0,
				ByStatus: map[string]int{"connected": 3, "needs_reconnect": 1, "refresh_failing": 0, "refresh_exhausted": 0},
				Causes:   []admin.RolloutCause{{Cause: "token_revoked", Owner: "user", Count: 1}},
			}
			if !reflect.DeepEqual(got, wantFigures) {
				t.Fatalf("figures\n got  %+v\n want %+v", got, wantFigures)
			}
			r := v.LastRefreshRun
			if r == nil || r.Outcome != "failures" || r.Counts["refreshed"] != 4 || r.Counts["needs_reconnect"] != 1 || r.StartedAt.Before(morning) || r.FinishedAt.Before(r.StartedAt) {
				t.Fatalf("last refresh run: %+v", r)
			}
			if v.TestAccount == nil || v.TestAccount.Status != "connected" || v.Rollout.Mode != "groups" || v.Counting == "" {
				t.Fatalf("view: %+v", v)
			}

			// A run with nothing due for the org leaves its last run as it
			// was; another org's run is not this org's.
			w.enable(t, "org-other", provider)
			w.connect(t, "org-other", "u-zoe", provider, "")
			w.env.Clock.Advance(55 * time.Minute)
			want(t, w.do(t, "DELETE", "/v1/orgs/"+org+"/connections/"+provider, w.member(org, "u-bob"), nil, nil), 200, "")
			before := *r
			run = w.refresh(t) // org-rollout's connections are due again too
			if err := w.do(t, "GET", path, adminTok, nil, nil).Decode(&v); err != nil {
				t.Fatal(err)
			}
			if v.LastRefreshRun == nil || !v.LastRefreshRun.StartedAt.After(before.StartedAt) || v.LastRefreshRun.Counts["refreshed"] != 3 || v.LastRefreshRun.Outcome != "ok" {
				t.Fatalf("second run: %+v (run %+v)", v.LastRefreshRun, run)
			}
			if v.Connections != 3 || v.InRolloutConnected != 1 {
				t.Fatalf("after Bob disconnected: %+v", v)
			}
		})
	}
}
