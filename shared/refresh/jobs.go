package refresh

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// Org-wide work. An admin's save changes what many connections may do at
// once (the provider enabled again, the org's previous client restored),
// and a deployment can offer a provider again. None of it is written
// connection by connection in the request that caused it: a save answers
// at once whatever the org's size (issue 18). What no write is needed for
// is derived when a connection is read (package readiness: a connection
// whose client is not the integration's current one *is* client_changed).
// What needs writes (putting connections the refresh job took off the
// due-index back on it) is a job (store.Jobs) that runs drain, page by
// page, at the start of each run, within its share of the run's time; what
// a page puts back is due at once, so the same run refreshes it.

// drainShare is the share of a run's remaining time (before the deadline
// margin) the jobs may take; the rest is for refreshing.
const drainShare = 3

// maxDrainTime bounds the jobs' share whatever the deadline.
const maxDrainTime = time.Minute

// drainPage is how many connections a job reads at a time.
const drainPage = 100

// drain does the pending jobs and returns how many connections it put back
// on the due-index or made due (resumed, client.go).
func (s *Service) drain(ctx context.Context) int {
	until := time.Now().Add(maxDrainTime)
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d) - s.o.DeadlineMargin; left > 0 && time.Now().Add(left/drainShare).Before(until) {
			until = time.Now().Add(left / drainShare)
		}
	}
	jobs, err := s.o.Store.ListJobs(ctx, 20)
	if err != nil {
		s.o.Logger.ErrorContext(ctx, "refresh run could not list its jobs", "err", err.Error())
		return 0
	}
	jobs = append(jobs, s.enqueueOffered(ctx, jobs)...)
	gates := newGateCache()
	n := 0
	for _, j := range jobs {
		if time.Now().After(until) || ctx.Err() != nil {
			break
		}
		switch j.Kind {
		case store.JobReinstate:
			n += s.reinstateJob(ctx, j, gates, until)
		case store.JobResume:
			n += s.resumeJob(ctx, j, until)
		default:
			s.o.Logger.WarnContext(ctx, "unknown job kind dropped", "job", j.ID, "kind", j.Kind)
			_ = s.o.Store.FinishJob(ctx, j)
		}
	}
	return n
}

// enqueueOffered asks for the connections a provider's absence took off the
// due-index to be put back, for each provider the deployment offers now
// (AVAILABLE_PROVIDERS changed since), unless such a job is pending: one
// keys-only read per provider. It returns the jobs it enqueued.
func (s *Service) enqueueOffered(ctx context.Context, pending []store.Job) []store.Job {
	var out []store.Job
	for _, p := range s.o.AvailableProviders {
		j := store.ReinstateJob("", p, s.now(), store.ReasonProviderUnavailable)
		if slices.ContainsFunc(pending, func(x store.Job) bool { return x.ID == j.ID }) {
			continue
		}
		refs, _, err := s.o.Store.ListOffIndex(ctx, p, store.ReasonProviderUnavailable, "", store.Page{Limit: 1})
		if err != nil || len(refs) == 0 {
			continue
		}
		if err := s.o.Store.EnqueueJob(ctx, j); err != nil {
			s.o.Logger.ErrorContext(ctx, "enqueue reinstatement", "provider", p, "err", err.Error())
			continue
		}
		out = append(out, j)
	}
	return out
}

// reinstateJob works on j until it is done or the drain's time is up, and
// returns how many connections it put back. Its cursor is the index of the
// reason it is at and the off-index listing's cursor for it.
func (s *Service) reinstateJob(ctx context.Context, j store.Job, gates *gateCache, until time.Time) int {
	reason, cursor := 0, ""
	if j.Cursor != "" {
		if i, c, ok := strings.Cut(j.Cursor, "|"); ok {
			if n, err := strconv.Atoi(i); err == nil && n >= 0 {
				reason, cursor = n, c
			}
		}
	}
	n, held := 0, 0
	for reason < len(j.Reasons) {
		if time.Now().After(until) || ctx.Err() != nil {
			j.Cursor, j.UpdatedAt = strconv.Itoa(reason)+"|"+cursor, s.now()
			s.saveProgress(ctx, j)
			return n
		}
		refs, next, err := s.o.Store.ListOffIndex(ctx, j.Provider, j.Reasons[reason], j.OrgID, store.Page{Cursor: cursor, Limit: drainPage})
		if errors.Is(err, store.ErrInvalidCursor) {
			refs, next, err = nil, "", nil // the listing changed shape: start the reason over next time
		}
		if err != nil {
			s.o.Logger.ErrorContext(ctx, "job: list connections off the due-index", "job", j.ID, "err", err.Error())
			return n
		}
		for _, ref := range refs {
			ok, leased, err := s.reinstateOne(ctx, ref.ConnKey, gates)
			if err != nil {
				s.o.Logger.ErrorContext(ctx, "job: reinstate a connection", "job", j.ID, "connection", ref.ConnKey.String(), "err", err.Error())
				return n // left for the next run; the cursor has not moved past it
			}
			if ok {
				n++
			}
			if leased {
				held++
			}
		}
		if next == "" {
			reason, cursor = reason+1, ""
		} else {
			cursor = next
		}
	}
	if held > 0 {
		// Someone held the lease of some: an attempt that read the old
		// state may take them off again after this walked past. The next
		// run walks the job again (what it put back is no longer listed).
		j.Cursor, j.UpdatedAt = "", s.now()
		s.saveProgress(ctx, j)
	} else if err := s.o.Store.FinishJob(ctx, j); err != nil {
		s.o.Logger.ErrorContext(ctx, "finish job", "job", j.ID, "err", err.Error())
	}
	if n > 0 {
		s.o.Logger.InfoContext(ctx, "connections put back on the refresh schedule", "job", j.ID, "orgId", j.OrgID, "provider", j.Provider, "count", n)
	}
	return n
}

// reinstateOne puts one connection back on the due-index, due now, when
// nothing keeps it off any more: the one readiness rule says it may be used
// (offered, enabled, issued by the current client), nobody must act on it
// first, and it has a refresh token to refresh with. A connection whose
// lease is held is left alone (leased): its holder is using it, and the job
// walks it again at the next run.
func (s *Service) reinstateOne(ctx context.Context, k store.ConnKey, gates *gateCache) (put, leased bool, err error) {
	c, err := s.o.Store.GetConnection(ctx, k)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	p, known := s.o.Catalog.Get(k.Provider)
	if !known {
		return false, false, nil
	}
	in, found, err := s.integration(ctx, gates.entry(k.OrgID, k.Provider), k.OrgID, k.Provider)
	if err != nil {
		return false, false, err
	}
	now := s.now()
	_, wrote, err := store.UpdateConnection(ctx, s.o.Store, c, func(c *store.Connection) bool {
		put, leased = false, false
		if !c.NextRefreshAt.IsZero() || c.OffIndexReason == "" || c.OffIndexReason == store.ReasonNoRefreshToken {
			return false
		}
		if c.LeaseOwner != "" && c.LeaseUntil.After(now) {
			leased = true
			return false
		}
		restored := *c
		if restored.Status == store.StatusNeedsReconnect && restored.StatusReason == store.ReasonClientChanged {
			// Marked by an earlier version of the service, which wrote a
			// client change onto every connection: the client that issued
			// these tokens is the integration's again.
			restored.Status, restored.StatusReason, restored.LastError = store.StatusConnected, "", nil
		}
		switch why := s.gate(p, in, found, restored); why {
		case "":
		case store.ReasonProviderDisabled, store.ReasonProviderUnavailable, store.ReasonClientChanged, store.ReasonSettingsChanged:
			// Still kept off, for what holds now: filed under that reason,
			// it comes back with the job that change asks for, and is not
			// read again by this one's next run.
			if c.OffIndexReason == why {
				return false
			}
			c.OffIndexReason, c.UpdatedAt = why, now
			return true
		default:
			return false
		}
		*c = restored
		c.NextRefreshAt, c.OffIndexReason, c.UpdatedAt = now, "", now
		put = true
		return true
	})
	return wrote && put, leased, err
}
