package refresh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/store"
)

// A failure of the org's OAuth client (oauthfail.ClientRefused:
// invalid_client and its provider variants) belongs to the integration, not
// to each connection: every grant the client holds is still good, and they
// all work again the moment the client does. So the refresh job
//
//   - rules out a stale cache first: it reads the client again past the
//     secrets cache (store.Uncached) and, when that reads another secret
//     (or default client), refreshes once more with it; a warm container
//     holding a secret rotated away since heals itself and records nothing;
//   - records the failure once on the integration (store.Health; the
//     store audits the start, client.failing, in the same write);
//   - pauses the connection: tokens, status, failure count and failure days
//     stay as they were (so it never reaches needs_reconnect or
//     refresh_exhausted because of the client), its last error names the
//     client's cause, owned by the admin, and it is due again ClientPause
//     later;
//   - asks the provider about the client once per integration per run (the
//     probe), and while the client is failing and nothing was saved since
//     (the integration's version is the one the failure was met under),
//     not at all before ClientPause has passed since the failure was last
//     seen: other connections of the integration coming due meanwhile are
//     paused again without a provider call, so ten thousand users never
//     hammer a token endpoint with a refused client;
//   - when a refresh succeeds again, records the client OK (audited
//     client.recovered) and asks for the paused connections to be made due
//     at once (store.JobResume, drained at the start of the next run as
//     jobs.go does). An admin's save of a client secret or client
//     configuration asks for the same job.

// ClientPause is how long a connection's refresh waits while its
// integration's OAuth client is refused. The fixes that matter most come
// with a save (a new secret, another client id), which resumes every
// paused connection at once, so the pause only bounds how long a fix made
// elsewhere goes unnoticed (an app re-enabled in the provider's console,
// the platform's default client repaired): an hour, the lifetime of the
// providers' access tokens. At one probe per integration an hour, a
// refused client costs the provider's token endpoint nothing, where
// refreshing every connection on its own schedule would be thousands of
// refused calls an hour (Entra throttles and may lock out such clients).
const ClientPause = time.Hour

// probeState is where one integration's client stands within a run.
type probeState int

const (
	probeUnread   probeState = iota // the client's health has not been read yet
	probeNeeded                     // the next caller asks the provider; the others wait for its answer
	probeRunning                    // a caller is asking the provider
	probeOpen                       // the client works (or is not known to fail): call freely
	probeShut                       // the client is refused: pause without calling
	probeDeferred                   // failing, and this run's probe learnt nothing: leave the rest for the next run
)

// clientGate coordinates the provider calls of one integration within a
// run (one per gateEntry; a fresh one per on-demand call).
type clientGate struct {
	mu    sync.Mutex
	state probeState
	// wasFailing: the health read at the start was failing, so a success
	// is a recovery to record; health is what was read.
	wasFailing bool
	health     store.ClientHealth
	// failure is the refusal while shut.
	failure oauthfail.Failure
	// seen is when the refusal was last met, while shut.
	seen time.Time
	// done is closed when the running probe ends.
	done chan struct{}
}

// turn is what a caller may do with the provider.
type turn int

const (
	turnOpen     turn = iota // call the provider
	turnProbe                // call the provider; then report what it said (probeResult)
	turnShut                 // do not call: the client is refused
	turnDeferred             // do not call, do not pause: the next run asks again
)

// probeResult is what a probe learnt about the client.
type probeResult int

const (
	probeWorked    probeResult = iota // a refresh succeeded
	probeRefused                      // the provider refused the client
	probeNothing                      // another failure: nothing about the client
	probeAbandoned                    // the provider was not asked after all
)

// initialState is where a run starts with a client whose health is h,
// under the integration's version `version`, at now.
func initialState(h store.ClientHealth, version int64, now time.Time) probeState {
	switch {
	case !h.Failing():
		// The first call of the run finds out; the others wait for it, so
		// that a client refused since the last run is asked once, not once
		// per worker.
		return probeNeeded
	case h.ConfigVersion != version:
		return probeNeeded // saved since: try what the admin saved
	case !now.Before(h.LastSeen.Add(ClientPause)):
		return probeNeeded // paused long enough: ask again
	}
	return probeShut
}

// refusal is the failure a failing health stands for, when the run has not
// met it itself.
func refusal(h store.ClientHealth) oauthfail.Failure {
	f := oauthfail.ClientFailure(h.Cause)
	f.Cause = "The provider refuses the integration's OAuth client (" + h.Cause + "). An admin must fix the client ID or secret in the integration settings."
	return f
}

// enter waits for the caller's turn. load reads the client's health (once
// per gate; an error is not remembered). A caller given turnProbe must end
// it with finish.
func (g *clientGate) enter(ctx context.Context, load func() (store.ClientHealth, error), version int64, now time.Time) (turn, oauthfail.Failure, time.Time, error) {
	for {
		g.mu.Lock()
		switch g.state {
		case probeUnread:
			h, err := load()
			if err != nil {
				g.mu.Unlock()
				return 0, oauthfail.Failure{}, time.Time{}, err
			}
			g.wasFailing, g.health = h.Failing(), h
			g.state = initialState(h, version, now)
			if g.state == probeShut {
				g.failure, g.seen = refusal(h), h.LastSeen
			}
			g.mu.Unlock()
		case probeNeeded:
			g.state, g.done = probeRunning, make(chan struct{})
			g.mu.Unlock()
			return turnProbe, oauthfail.Failure{}, time.Time{}, nil
		case probeRunning:
			done := g.done
			g.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				return 0, oauthfail.Failure{}, time.Time{}, ctx.Err()
			}
		case probeShut:
			f, seen := g.failure, g.seen
			g.mu.Unlock()
			return turnShut, f, seen, nil
		case probeDeferred:
			g.mu.Unlock()
			return turnDeferred, oauthfail.Failure{}, time.Time{}, nil
		default:
			g.mu.Unlock()
			return turnOpen, oauthfail.Failure{}, time.Time{}, nil
		}
	}
}

// finish ends a probe with what it learnt (f and at: the refusal and when
// it was met, for probeRefused).
func (g *clientGate) finish(r probeResult, f oauthfail.Failure, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch r {
	case probeWorked:
		g.state = probeOpen
	case probeRefused:
		g.state, g.failure, g.seen = probeShut, f, at
	case probeNothing:
		g.state = probeOpen
		if g.wasFailing {
			g.state = probeDeferred
		}
	default:
		g.state = probeNeeded // someone else asks
	}
	if g.done != nil {
		close(g.done)
		g.done = nil
	}
}

// refused records a refusal met outside a probe (the client changed under
// a run whose probe had succeeded).
func (g *clientGate) refused(f oauthfail.Failure, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.state, g.failure, g.seen = probeShut, f, at
}

// clientTurn is the caller's turn to ask the provider about the
// integration in's client.
func (s *Service) clientTurn(ctx context.Context, e *gateEntry, in store.Integration) (turn, oauthfail.Failure, time.Time, error) {
	load := func() (store.ClientHealth, error) {
		h, err := s.o.Store.GetClientHealth(ctx, in.OrgID, in.Provider)
		if err != nil {
			return h, fmt.Errorf("read client health of %s/%s: %w", in.OrgID, in.Provider, err)
		}
		return h, nil
	}
	return e.gate.enter(ctx, load, in.Version, s.now())
}

// freshClient resolves the integration's client again past the secrets
// cache, and reports whether that is another client than cl (a secret
// rotated since the cache read it). It then replaces what e remembers, so
// the rest of the run uses it too.
func (s *Service) freshClient(ctx context.Context, e *gateEntry, in store.Integration, cl clients.Client) (clients.Client, bool) {
	fresh, err := s.o.Clients.Resolve(store.Uncached(ctx), in)
	if err != nil {
		s.o.Logger.WarnContext(ctx, "client could not be read again past the cache", "orgId", in.OrgID, "provider", in.Provider, "err", err.Error())
		return cl, false
	}
	if fresh.OAuth2.ClientID == cl.OAuth2.ClientID && fresh.OAuth2.ClientSecret == cl.OAuth2.ClientSecret {
		return cl, false
	}
	e.mu.Lock()
	e.cl, e.clErr, e.clDone = fresh, nil, true
	e.mu.Unlock()
	return fresh, true
}

// clientRefused records that the provider refused in's client on c's
// refresh at now, and pauses c.
func (s *Service) clientRefused(ctx context.Context, c store.Connection, l lease, e *gateEntry, in store.Integration, f oauthfail.Failure, now time.Time) result {
	s.reportClientFailure(ctx, in, f.Code, now)
	e.gate.refused(f, now)
	c, outcome := failed(c, f, 0, now) // a refused client pauses c (bookkeeping.go)
	return s.finish(ctx, c, l, result{outcome: outcome, failure: &f})
}

// reportClientFailure records the failure on the integration, audited when
// it starts. A store failure is logged: the connection is paused anyway,
// and the next probe reports again.
func (s *Service) reportClientFailure(ctx context.Context, in store.Integration, cause string, now time.Time) {
	entry := auditEntry(in.OrgID, in.Provider, store.ActionClientFailing, now,
		store.FieldChange{Field: "clientHealth", Old: store.HealthOK, New: store.HealthFailing + " (" + cause + ")"})
	_, started, err := s.o.Store.ReportClientFailure(ctx, in.OrgID, in.Provider, cause, in.Version, now, entry)
	switch {
	case err != nil:
		s.o.Logger.ErrorContext(ctx, "client failure not recorded", "orgId", in.OrgID, "provider", in.Provider, "code", cause, "err", err.Error())
	case started:
		s.o.Logger.WarnContext(ctx, "the provider refuses the integration's OAuth client: refreshes paused until it works again",
			"orgId", in.OrgID, "provider", in.Provider, "code", cause, "owner", string(oauthfail.OwnerAdmin), "retryEvery", ClientPause.String())
	}
}

// recovering reports whether a success now is the recovery of the client
// (its health was failing when the gate read it, and no success of the
// run said so yet), and the health read.
func (g *clientGate) recovering() (store.ClientHealth, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := g.wasFailing
	g.wasFailing = false // recorded once
	return g.health, was
}

// clientWorked records that in's client, whose health h was failing, works
// again (audited client.recovered), and asks for the connections it paused
// to be resumed.
func (s *Service) clientWorked(ctx context.Context, in store.Integration, h store.ClientHealth, now time.Time) {
	entry := auditEntry(in.OrgID, in.Provider, store.ActionClientRecovered, now,
		store.FieldChange{Field: "clientHealth", Old: store.HealthFailing + " (" + h.Cause + ")", New: store.HealthOK})
	_, recovered, err := s.o.Store.ReportClientOK(ctx, in.OrgID, in.Provider, now, entry)
	if err != nil {
		s.o.Logger.ErrorContext(ctx, "client recovery not recorded", "orgId", in.OrgID, "provider", in.Provider, "err", err.Error())
		return
	}
	if !recovered {
		return
	}
	s.o.Logger.InfoContext(ctx, "the integration's OAuth client works again: paused refreshes resume", "orgId", in.OrgID, "provider", in.Provider)
	if err := s.o.Store.EnqueueJob(ctx, store.ResumeJob(in.OrgID, in.Provider, now)); err != nil {
		// The paused connections come back at their next probe time instead.
		s.o.Logger.ErrorContext(ctx, "enqueue the resumption of paused connections", "orgId", in.OrgID, "provider", in.Provider, "err", err.Error())
	}
}

// auditEntry is an entry the refresh job writes, with a unique,
// time-ordered id (the time and random bits, as the admin service's).
func auditEntry(orgID, provider, action string, at time.Time, changes ...store.FieldChange) store.AuditEntry {
	var b [9]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return store.AuditEntry{
		OrgID: orgID, ID: at.Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:]),
		At: at, Actor: store.AuditActorRefresh, Provider: provider, Action: action, Changes: changes,
	}
}

// resumeJob works on a JobResume until it is done or the drain's time is
// up, and returns how many connections it made due. Its cursor is the
// provider listing's.
func (s *Service) resumeJob(ctx context.Context, j store.Job, until time.Time) int {
	cursor := j.Cursor
	n, held := 0, 0
	for {
		if time.Now().After(until) || ctx.Err() != nil {
			j.Cursor, j.UpdatedAt = cursor, s.now()
			s.saveProgress(ctx, j)
			return n
		}
		conns, next, err := s.o.Store.ListProviderConnections(ctx, j.OrgID, j.Provider, store.Page{Cursor: cursor, Limit: drainPage})
		if errors.Is(err, store.ErrInvalidCursor) {
			conns, next, err = nil, "", nil // the listing changed shape: the next run starts over
			held++
		}
		if err != nil {
			s.o.Logger.ErrorContext(ctx, "job: list connections", "job", j.ID, "err", err.Error())
			return n
		}
		for _, c := range conns {
			if c.PausedReason != store.ReasonClientFailing {
				continue
			}
			put, leased, err := s.resumeOne(ctx, c)
			if err != nil {
				s.o.Logger.ErrorContext(ctx, "job: resume a connection", "job", j.ID, "connection", c.ConnKey.String(), "err", err.Error())
				return n // left for the next run; the cursor has not moved past it
			}
			if put {
				n++
			}
			if leased {
				held++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if held > 0 {
		// A holder of some lease may pause its connection again after this
		// walked past, having read the old health: walk again next run.
		j.Cursor, j.UpdatedAt = "", s.now()
		s.saveProgress(ctx, j)
	} else if err := s.o.Store.FinishJob(ctx, j); err != nil {
		s.o.Logger.ErrorContext(ctx, "finish job", "job", j.ID, "err", err.Error())
	}
	if n > 0 {
		s.o.Logger.InfoContext(ctx, "paused connections resumed", "job", j.ID, "orgId", j.OrgID, "provider", j.Provider, "count", n)
	}
	return n
}

// resumeOne makes a paused connection due now. A connection whose lease is
// held is left alone (leased): writing under another holder's lease would
// void its write.
func (s *Service) resumeOne(ctx context.Context, c store.Connection) (put, leased bool, err error) {
	now := s.now()
	_, wrote, err := store.UpdateConnection(ctx, s.o.Store, c, func(c *store.Connection) bool {
		put, leased = false, false
		if c.PausedReason != store.ReasonClientFailing {
			return false
		}
		if c.LeaseOwner != "" && c.LeaseUntil.After(now) {
			leased = true
			return false
		}
		c.PausedReason, c.UpdatedAt = "", now
		if !c.NextRefreshAt.IsZero() && c.NextRefreshAt.After(now) {
			c.NextRefreshAt = now
			put = true
		}
		return true
	})
	return wrote && put, leased, err
}

// saveProgress stores a job's cursor; a job enqueued again or finished
// meanwhile is left as it is.
func (s *Service) saveProgress(ctx context.Context, j store.Job) {
	if err := s.o.Store.SaveJobProgress(ctx, j); err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		s.o.Logger.ErrorContext(ctx, "save job progress", "job", j.ID, "err", err.Error())
	}
}
