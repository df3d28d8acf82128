package admin

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// The rollout view (GET .../integrations/{provider}/rollout) gives "save
// and test with a small user group before broad rollout" its numbers.
//
// What it reads, and nothing else: the integration (whose current settings
// say which scopes connections need: NeedsConsent); the org's connections
// of the provider through the ByProvider index, RolloutPageSize at a time
// (an org with N connections costs N items read, in about N/RolloutPageSize
// pages: see the README for the measured figure); the last refresh run's
// summary of the org and provider (one item, written by the refresh run);
// and the org's connect attempts of the provider (one partition, paged).
//
// What can be counted: group membership is known only from a user's own
// token, so a connection counts in the rollout by the groups its user's
// token carried when they connected (store.Connection.ConnectGroups), held
// against the rollout's current groups. A change in someone's groups since
// they connected is not seen, and users in a rollout group who never
// started connecting cannot be counted at all: the service never sees
// their tokens.

// RolloutPageSize is how many connections (and attempts) one listing call
// reads: the store's largest page.
const RolloutPageSize = 1000

// TopCauses is how many failure causes the view lists.
const TopCauses = 5

// Membership of a connection in the rollout, as far as it can be known.
const (
	membershipIn      = "in"
	membershipOut     = "out"
	membershipUnknown = "unknown"
)

// RolloutView is the answer of GET .../integrations/{provider}/rollout.
type RolloutView struct {
	Provider string        `json:"provider"`
	Enabled  bool          `json:"enabled"`
	Rollout  store.Rollout `json:"rollout"`
	// Connections counts the users' connections (not the test account).
	Connections int `json:"connections"`
	// ByStatus counts them by status; every status is present.
	ByStatus map[string]int `json:"byStatus"`
	// InRolloutConnected and InRolloutFailing count the users in the
	// rollout (by the groups they connected with) whose connection is
	// connected, or in any other status. OutsideRollout counts users whose
	// groups at connect time are in none of the current rollout groups;
	// RolloutUnknown those whose groups were not recorded (connected before
	// the service recorded them, or whose token had more groups than it
	// keeps, none of them a rollout group).
	InRolloutConnected int `json:"inRolloutConnected"`
	InRolloutFailing   int `json:"inRolloutFailing"`
	OutsideRollout     int `json:"outsideRollout"`
	RolloutUnknown     int `json:"rolloutUnknown"`
	// Counting says, for a person, what the rollout figures can and cannot
	// count.
	Counting string `json:"counting"`
	// TopCauses are the most frequent causes of failing connections, with
	// who fixes them.
	TopCauses []RolloutCause `json:"topCauses"`
	// LastRefreshRun is the last scheduled refresh run that had work for
	// the org's connections of the provider (null: none yet).
	LastRefreshRun *RefreshRunView `json:"lastRefreshRun"`
	// StartedNotCompleted counts users without a connection whose last
	// start (in the last 30 days) was never completed;
	// ReconnectsNotCompleted users with a connection whose reconnect was
	// not; Connecting the starts that can still be completed.
	StartedNotCompleted    int `json:"startedNotCompleted"`
	ReconnectsNotCompleted int `json:"reconnectsNotCompleted"`
	Connecting             int `json:"connecting"`
	// NeedsConsent counts the users whose connection works but lacks
	// scopes the integration's current settings request (an admin enabled
	// a capability, or write actions, after they connected; or they
	// unticked a scope): the stored granted scopes against the current
	// requested ones (readiness.Value.NeedsConsent). They keep the
	// capabilities they have until they connect again.
	NeedsConsent int `json:"needsConsent"`
	// TestAccount is the org's test account (null when none).
	TestAccount *TestAccountView `json:"testAccount"`
	AsOf        time.Time        `json:"asOf"`
}

// RolloutCause is one failure cause and how many connections it affects.
type RolloutCause struct {
	// Cause is the stable code of the connection's last error (e.g.
	// invalid_grant, client_changed), else its status reason or status.
	Cause string `json:"cause"`
	// Owner is who can fix it: user, admin, external_admin, or none (a
	// provider outage).
	Owner string `json:"owner"`
	Count int    `json:"count"`
}

// RefreshRunView is what the last refresh run did for the org's
// connections of the provider.
type RefreshRunView struct {
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Outcome: ok, failures, or partial (some left for the next run).
	Outcome string         `json:"outcome"`
	Counts  map[string]int `json:"counts"`
}

// Rollout computes the rollout view of the org's provider.
func (s *Service) Rollout(ctx context.Context, orgID, provider string) (RolloutView, error) {
	p, err := s.provider(provider)
	if err != nil {
		return RolloutView{}, err
	}
	in, err := s.current(ctx, orgID, provider)
	if err != nil {
		return RolloutView{}, err
	}
	ready := readiness.Of(p, readiness.Facts{Offered: s.offered(provider), Integration: &in})
	now := s.now()
	v := RolloutView{
		Provider: provider, Enabled: in.Enabled, Rollout: in.Rollout,
		ByStatus:  map[string]int{store.StatusConnected: 0, store.StatusNeedsReconnect: 0, store.StatusRefreshFailing: 0, store.StatusRefreshExhausted: 0},
		TopCauses: []RolloutCause{}, AsOf: now,
	}
	if v.Rollout.Mode == "" {
		v.Rollout.Mode = store.RolloutEveryone
	}
	v.Counting = counting(v.Rollout)

	connected := map[string]bool{} // users with a connection
	causes := map[[2]string]int{}  // (cause, owner) → count
	page := store.Page{Limit: RolloutPageSize}
	for {
		conns, next, err := s.o.Store.ListProviderConnections(ctx, orgID, provider, page)
		if err != nil {
			return RolloutView{}, fmt.Errorf("list %s connections of %s: %w", provider, orgID, err)
		}
		for _, c := range conns {
			if c.ConnKey.IsTestAccount() {
				v.TestAccount = testAccountView(c)
				continue
			}
			connected[c.UserID] = true
			v.Connections++
			v.ByStatus[c.Status]++
			failing := c.Status != store.StatusConnected
			switch membership(c, v.Rollout) {
			case membershipIn:
				if failing {
					v.InRolloutFailing++
				} else {
					v.InRolloutConnected++
				}
			case membershipOut:
				v.OutsideRollout++
			default:
				v.RolloutUnknown++
			}
			if failing || c.LastError != nil {
				causes[cause(c)]++
			}
			if ready.NeedsConsent(p, c) {
				v.NeedsConsent++
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	for k, n := range causes {
		v.TopCauses = append(v.TopCauses, RolloutCause{Cause: k[0], Owner: k[1], Count: n})
	}
	slices.SortFunc(v.TopCauses, func(a, b RolloutCause) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Cause, b.Cause), cmp.Compare(a.Owner, b.Owner))
	})
	v.TopCauses = v.TopCauses[:min(len(v.TopCauses), TopCauses)]

	switch sum, err := s.o.Store.GetRefreshSummary(ctx, orgID, provider); {
	case err == nil:
		v.LastRefreshRun = &RefreshRunView{StartedAt: sum.StartedAt, FinishedAt: sum.FinishedAt, Outcome: sum.Outcome, Counts: sum.Outcomes}
		if v.LastRefreshRun.Counts == nil {
			v.LastRefreshRun.Counts = map[string]int{}
		}
	case !errors.Is(err, store.ErrNotFound):
		return RolloutView{}, fmt.Errorf("read refresh summary of %s/%s: %w", orgID, provider, err)
	}

	page = store.Page{Limit: RolloutPageSize}
	for {
		attempts, next, err := s.o.Store.ListConnectAttempts(ctx, orgID, provider, page)
		if err != nil {
			return RolloutView{}, fmt.Errorf("list connect attempts of %s/%s: %w", orgID, provider, err)
		}
		for _, a := range attempts {
			switch {
			case !now.Before(a.ExpiresAt):
				// Forgotten; the TTL has not deleted it yet.
			case now.Before(a.StartedAt.Add(store.ConnectFlowLifetime)):
				v.Connecting++
			case connected[a.UserID]:
				v.ReconnectsNotCompleted++
			default:
				v.StartedNotCompleted++
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	return v, nil
}

// membership says whether c's user is in rollout r, as far as the groups
// they connected with tell.
func membership(c store.Connection, r store.Rollout) string {
	if r.Mode != store.RolloutGroups {
		return membershipIn
	}
	g := c.ConnectGroups
	switch {
	case g == nil:
		return membershipUnknown
	case slices.ContainsFunc(r.Groups, func(x string) bool { return slices.Contains(g.Groups, x) }):
		return membershipIn
	case g.Truncated:
		return membershipUnknown
	}
	return membershipOut
}

// cause names why c fails (or will: a connection without a refresh token)
// and who fixes it.
func cause(c store.Connection) [2]string {
	if e := c.LastError; e != nil {
		return [2]string{e.Code, cmp.Or(e.Owner, "user")}
	}
	return [2]string{cmp.Or(c.StatusReason, c.Status), "user"}
}

func counting(r store.Rollout) string {
	const never = " Users who never started connecting cannot be counted: group membership is known only from a user's own sign-in."
	if r.Mode != store.RolloutGroups {
		return "The integration is rolled out to everyone, so every connection is in the rollout." + never
	}
	return "A connection counts in the rollout when the groups its user's token carried at connect time include one of the current rollout groups; a change in someone's groups since they connected is not seen, and connections whose groups were not recorded are counted as unknown." + never
}

// testAccountView is the test account as the rollout view and the
// integration show it.
func testAccountView(c store.Connection) *TestAccountView {
	v := &TestAccountView{
		Account: TestAccountIdentity{Email: c.Account.Email, Name: c.Account.Name},
		Status:  c.Status, StatusReason: c.StatusReason,
		ConnectedAt: c.ConnectedAt, LastRefreshAt: timePtr(c.LastRefreshAt),
	}
	if e := c.LastError; e != nil {
		ce := *e
		v.LastError = &ce
	}
	return v
}

// rollout serves GET /v1/orgs/{orgId}/integrations/{provider}/rollout.
func (a *API) rollout(w http.ResponseWriter, r *http.Request) {
	who, ok := a.admin(w, r, true)
	if !ok {
		return
	}
	v, err := a.Service.Rollout(r.Context(), who.OrgID, r.PathValue("provider"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpapi.WriteJSON(w, http.StatusOK, v)
}
