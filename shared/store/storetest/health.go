package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// TestHealth is the contract of store.Health: OK until a failure is
// reported; of concurrent reporters exactly one sees the failure start and
// exactly one sees it end, and only its audit entry is written; an OK
// health is never written.
func TestHealth(t *testing.T, newStore NewStore) {
	s := newStore(t)
	entry := func(action string, i int, at time.Time) store.AuditEntry {
		return store.AuditEntry{OrgID: "org-1", ID: fmt.Sprintf("%s-%d", action, i), At: at, Actor: store.AuditActorRefresh, Provider: provB, Action: action}
	}
	audited := func(action string) int {
		t.Helper()
		entries, _, err := s.ListAudit(ctx(t), "org-1", store.Page{Limit: 100})
		must(t, "list audit", err)
		n := 0
		for _, e := range entries {
			if e.Action == action {
				n++
			}
		}
		return n
	}
	get := func(org, p string) store.ClientHealth {
		t.Helper()
		h, err := s.GetClientHealth(ctx(t), org, p)
		must(t, "get health", err)
		return h
	}
	if h := get("org-1", provB); h.Status != store.HealthOK || h.Failing() {
		t.Fatalf("never reported: %+v", h)
	}
	// An OK report of an OK client writes nothing and recovers nothing.
	_, recovered, err := s.ReportClientOK(ctx(t), "org-1", provB, T0, entry(store.ActionClientRecovered, 99, T0))
	must(t, "report ok", err)
	if recovered || audited(store.ActionClientRecovered) != 0 {
		t.Fatal("an OK client recovered")
	}
	all, err := s.ListClientHealth(ctx(t), "org-1")
	must(t, "list", err)
	if len(all) != 0 {
		t.Fatalf("an OK report was stored: %+v", all)
	}

	// Eight reporters at once: one starts the failure.
	var wg sync.WaitGroup
	var mu sync.Mutex
	starts := 0
	for i := range 8 {
		wg.Go(func() {
			at := T0.Add(time.Duration(i) * time.Second)
			_, started, err := s.ReportClientFailure(context.Background(), "org-1", provB, "invalid_client", 7, at, entry(store.ActionClientFailing, i, at))
			if err != nil {
				t.Errorf("report failure: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if started {
				starts++
			}
		})
	}
	wg.Wait()
	if starts != 1 {
		t.Fatalf("%d reporters saw the failure start, want 1", starts)
	}
	if n := audited(store.ActionClientFailing); n != 1 {
		t.Fatalf("%d %s audit entries, want the starter's only", n, store.ActionClientFailing)
	}
	h := get("org-1", provB)
	if !h.Failing() || h.Cause != "invalid_client" || h.Since.IsZero() || h.LastSeen.Before(h.Since) || h.ConfigVersion != 7 {
		t.Fatalf("failing health %+v", h)
	}
	// A later failure moves LastSeen, the cause and the version, not Since,
	// and is not audited.
	h2, started, err := s.ReportClientFailure(ctx(t), "org-1", provB, "client_secret_expired", 8, T0.Add(time.Hour), entry(store.ActionClientFailing, 100, T0.Add(time.Hour)))
	must(t, "report again", err)
	if started || !h2.Since.Equal(h.Since) || !h2.LastSeen.Equal(T0.Add(time.Hour)) || h2.Cause != "client_secret_expired" || h2.ConfigVersion != 8 {
		t.Fatalf("second report: started %v, %+v (first %+v)", started, h2, h)
	}
	if n := audited(store.ActionClientFailing); n != 1 {
		t.Fatalf("a later sighting was audited (%d entries)", n)
	}
	// An earlier one (an overlapping run's, arriving late) moves nothing.
	if h3, started, err := s.ReportClientFailure(ctx(t), "org-1", provB, "invalid_client", 7, T0.Add(time.Minute)); err != nil || started || !h3.LastSeen.Equal(T0.Add(time.Hour)) || h3.ConfigVersion != 8 {
		t.Fatalf("late report: started %v, %+v, %v", started, h3, err)
	}
	// Other orgs and providers are apart.
	if get("org-2", provB).Failing() || get("org-1", provC).Failing() {
		t.Fatal("a failure leaked to another org or provider")
	}
	all, err = s.ListClientHealth(ctx(t), "org-1")
	must(t, "list", err)
	if len(all) != 1 || !all[provB].Failing() {
		t.Fatalf("listing %+v", all)
	}

	// Eight OK reports at once: one sees the recovery.
	recoveries := 0
	for i := range 8 {
		wg.Go(func() {
			_, r, err := s.ReportClientOK(context.Background(), "org-1", provB, T0.Add(2*time.Hour), entry(store.ActionClientRecovered, i, T0.Add(2*time.Hour)))
			if err != nil {
				t.Errorf("report ok: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if r {
				recoveries++
			}
		})
	}
	wg.Wait()
	if recoveries != 1 {
		t.Fatalf("%d reporters saw the recovery, want 1", recoveries)
	}
	if n := audited(store.ActionClientRecovered); n != 1 {
		t.Fatalf("%d %s audit entries, want the recoverer's only", n, store.ActionClientRecovered)
	}
	if h := get("org-1", provB); h.Failing() || h.Cause != "" || !h.Since.IsZero() || h.ConfigVersion != 0 || !h.RecoveredAt.Equal(T0.Add(2*time.Hour)) {
		t.Fatalf("recovered health %+v", h)
	}
	// And it can fail again, from OK.
	if _, started, err := s.ReportClientFailure(ctx(t), "org-1", provB, "invalid_client", 9, T0.Add(3*time.Hour), entry(store.ActionClientFailing, 200, T0.Add(3*time.Hour))); err != nil || !started {
		t.Fatalf("failing again: started %v, %v", started, err)
	}
	if n := audited(store.ActionClientFailing); n != 2 {
		t.Fatalf("%d %s audit entries after failing again, want 2", n, store.ActionClientFailing)
	}
	// A starter whose audit id exists writes nothing (both or neither).
	must(t, "recover", func() error { _, _, err := s.ReportClientOK(ctx(t), "org-1", provB, T0.Add(4*time.Hour)); return err }())
	dup := entry(store.ActionClientFailing, 200, T0.Add(3*time.Hour))
	_, _, err = s.ReportClientFailure(ctx(t), "org-1", provB, "invalid_client", 9, T0.Add(5*time.Hour), dup)
	mustErr(t, "start with an audit id that exists", err, store.ErrConflict)
	if h := get("org-1", provB); h.Failing() {
		t.Fatalf("the health turned failing without its audit entry: %+v", h)
	}
}

// TestJobs is the contract of store.Jobs.
func TestJobs(t *testing.T, newStore NewStore) {
	s := newStore(t)
	a := store.Job{ID: store.JobID(store.JobReinstate, "org-1", provA), Kind: store.JobReinstate, OrgID: "org-1", Provider: provA,
		Reasons: []string{store.ReasonProviderDisabled}, CreatedAt: T0, UpdatedAt: T0}
	b := store.Job{ID: store.JobID(store.JobReinstate, "", provC), Kind: store.JobReinstate, Provider: provC,
		Reasons: []string{store.ReasonProviderUnavailable}, CreatedAt: T0.Add(-time.Minute), UpdatedAt: T0.Add(-time.Minute)}
	must(t, "enqueue a", s.EnqueueJob(ctx(t), a))
	must(t, "enqueue b", s.EnqueueJob(ctx(t), b))
	jobs, err := s.ListJobs(ctx(t), 0)
	must(t, "list", err)
	mustEqual(t, "jobs, oldest first", jobs, []store.Job{b, a})

	// Progress is saved on the job as read.
	a.Cursor, a.UpdatedAt = "cursor-1", T0.Add(time.Second)
	must(t, "save progress", s.SaveJobProgress(ctx(t), a))
	jobs, err = s.ListJobs(ctx(t), 1)
	must(t, "list one", err)
	mustEqual(t, "limited listing", len(jobs), 1)

	// Enqueued again meanwhile: the old reader's progress and finish do not
	// touch the new job, which starts over.
	again := a
	again.Cursor, again.CreatedAt, again.UpdatedAt = "", T0.Add(time.Minute), T0.Add(time.Minute)
	must(t, "enqueue again", s.EnqueueJob(ctx(t), again))
	stale := a
	stale.Cursor = "cursor-2"
	mustErr(t, "stale progress", s.SaveJobProgress(ctx(t), stale), store.ErrConflict)
	must(t, "stale finish", s.FinishJob(ctx(t), stale))
	jobs, err = s.ListJobs(ctx(t), 0)
	must(t, "list", err)
	mustEqual(t, "after a stale finish", jobs, []store.Job{b, again})

	must(t, "finish", s.FinishJob(ctx(t), again))
	must(t, "finish b", s.FinishJob(ctx(t), b))
	must(t, "finish twice", s.FinishJob(ctx(t), b))
	jobs, err = s.ListJobs(ctx(t), 0)
	must(t, "list", err)
	if len(jobs) != 0 {
		t.Fatalf("jobs left: %+v", jobs)
	}
	if err := s.SaveJobProgress(ctx(t), b); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("progress of a finished job: %v", err)
	}
}

// TestOffIndex is the contract of store.OffIndex: the connections off the
// due-index for a reason, by provider and org, kept in step with every
// write.
func TestOffIndex(t *testing.T, newStore NewStore) {
	s := newStore(t)
	put := func(org, user, provider, reason string, onIndex bool) store.Connection {
		c := Connection(store.ConnKey{OrgID: org, UserID: user, Provider: provider})
		c.OffIndexReason = reason
		if onIndex {
			c.NextRefreshAt, c.OffIndexReason = T0.Add(time.Hour), ""
		}
		saved, err := s.PutConnection(ctx(t), c, 0)
		must(t, "put", err)
		return saved
	}
	for i, org := range []string{"org-a", "org-b", "org-b#x"} {
		for _, user := range []string{"u1", "u2", "u3"} {
			put(org, user, provA, store.ReasonProviderDisabled, false)
		}
		put(org, "u-on", provA, "", true)
		put(org, "u-other", provA, store.ReasonNeedsReconnect, false)
		put(org, "u-sf", provC, store.ReasonProviderDisabled, false)
		_ = i
	}
	list := func(org string, limit int) []string {
		t.Helper()
		var out []string
		page := store.Page{Limit: limit}
		for range 100 {
			refs, next, err := s.ListOffIndex(ctx(t), provA, store.ReasonProviderDisabled, org, page)
			must(t, "list off-index", err)
			for _, r := range refs {
				if r.Reason != store.ReasonProviderDisabled || r.Provider != provA {
					t.Fatalf("ref %+v", r)
				}
				out = append(out, r.OrgID+"/"+r.UserID)
			}
			if next == "" {
				return out
			}
			page.Cursor = next
		}
		t.Fatal("the listing never ended")
		return nil
	}
	// The AWS index is eventually consistent: allow it a moment.
	var all []string
	for range 50 {
		if all = list("", 2); len(all) == 9 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustEqual(t, "every org, paged by 2", all, []string{"org-a/u1", "org-a/u2", "org-a/u3", "org-b/u1", "org-b/u2", "org-b/u3", "org-b#x/u1", "org-b#x/u2", "org-b#x/u3"})
	mustEqual(t, "one org", list("org-b", 0), []string{"org-b/u1", "org-b/u2", "org-b/u3"})

	// Put back on the index: gone from the listing.
	c, err := s.GetConnection(ctx(t), store.ConnKey{OrgID: "org-b", UserID: "u2", Provider: provA})
	must(t, "get", err)
	c.NextRefreshAt, c.OffIndexReason = T0, ""
	_, err = s.PutConnection(ctx(t), c, c.Version)
	must(t, "reinstate", err)
	must(t, "delete", s.DeleteConnection(ctx(t), store.ConnKey{OrgID: "org-b", UserID: "u3", Provider: provA}))
	var one []string
	for range 50 {
		if one = list("org-b", 0); len(one) == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustEqual(t, "after a reinstatement and a delete", one, []string{"org-b/u1"})
}
