package refresh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/schedule"
	"github.com/sofie/integrations/shared/store"
)

// Outcomes of one due connection (metrics dimension Outcome, log field).
const (
	OutcomeRefreshed      = "refreshed"
	OutcomeNeedsReconnect = "needs_reconnect"
	OutcomeTransient      = "transient_failure"
	OutcomeBlocked        = "blocked"        // a policy of the provider's tenant or org refuses it: retried slowly
	OutcomeClientRefused  = "client_refused" // the provider refused the integration's OAuth client: recorded on the integration, paused
	OutcomeClientPaused   = "client_paused"  // the integration's client is refused: paused again without asking the provider
	OutcomeExhausted      = "refresh_exhausted"
	OutcomeOffIndex       = "off_index"     // not refreshable: taken off the due-index with its reason
	OutcomeNotDue         = "not_due"       // refreshed by someone else since it was listed: released untouched
	OutcomeSkipped        = "skipped"       // another holder has the lease, or the connection is gone
	OutcomeLeftForNext    = "left_for_next" // not claimed: the deadline was near, or the run was cancelled
	OutcomeLeaseLost      = "lease_lost"    // the final write was refused: someone else holds the record now
	OutcomeError          = "error"         // a store or key failure; the record is left for the next run
	OutcomeUsed           = "used"          // on demand: the token was valid; only the use was recorded
)

// minProviderTime is the least time an attempt needs left to ask the
// provider at all.
const minProviderTime = time.Second

// purpose says why a claimed connection is attempted.
type purpose struct {
	// onDemand: a caller wants a usable access token now. Otherwise the
	// scheduled run refreshes connections due at or before horizon.
	onDemand bool
	horizon  time.Time
	// force (on demand): refresh even though the stored access token has
	// not expired, because the provider refused it. rejected is the token
	// it refused ("": whatever is stored).
	force    bool
	rejected string
}

// replaced reports whether tok is no longer the token a forced refresh was
// asked to replace (someone refreshed meanwhile).
func (p purpose) replaced(tok *oauth2.Token) bool {
	return p.rejected != "" && tok.AccessToken != p.rejected
}

// result is the outcome of one attempt on a claimed connection.
type result struct {
	outcome string
	// conn is the record as written, or as claimed when nothing was written.
	conn store.Connection
	// token is the usable token after the attempt (on demand).
	token *oauth2.Token
	// refreshed: a new access token was obtained in this attempt.
	refreshed bool
	// failure is the classified provider failure, when there was one.
	failure *oauthfail.Failure
	// err is an internal failure (store, keys), for outcomes error and lease_lost.
	err error
}

// gateCache remembers, within one run, each integration and its resolved
// client, so a run reads each (org, provider) once rather than once per
// connection. Internal errors are not remembered. A nil cache looks up
// every time (on demand).
type gateCache struct {
	mu sync.Mutex
	m  map[string]*gateEntry
}

type gateEntry struct {
	mu      sync.Mutex
	inDone  bool
	in      store.Integration
	inFound bool
	clDone  bool
	cl      clients.Client
	clErr   error
	// gate coordinates the calls about the integration's client (client.go).
	gate clientGate
}

func newGateCache() *gateCache { return &gateCache{m: map[string]*gateEntry{}} }

func (g *gateCache) entry(orgID, provider string) *gateEntry {
	if g == nil {
		return &gateEntry{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := orgID + "/" + provider
	e, ok := g.m[k]
	if !ok {
		e = &gateEntry{}
		g.m[k] = e
	}
	return e
}

// integration returns the org's integration of the provider (found false
// when the org never configured it).
func (s *Service) integration(ctx context.Context, e *gateEntry, orgID, provider string) (store.Integration, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inDone {
		return e.in, e.inFound, nil
	}
	in, err := s.o.Store.GetIntegration(ctx, orgID, provider)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return store.Integration{}, false, fmt.Errorf("read integration %s/%s: %w", orgID, provider, err)
	default:
		e.in, e.inFound = in, true
	}
	e.inDone = true
	return e.in, e.inFound, nil
}

// reread forgets what e remembers of the integration (and its client) and
// reads it again.
func (s *Service) reread(ctx context.Context, e *gateEntry, orgID, provider string) (store.Integration, bool, error) {
	e.mu.Lock()
	e.inDone, e.clDone = false, false
	e.mu.Unlock()
	return s.integration(ctx, e, orgID, provider)
}

// errNotReady marks a client that cannot be resolved because the
// integration is incomplete (as opposed to a secrets outage).
var errNotReady = errors.New("integration not ready")

// client resolves the integration's client.
func (s *Service) client(ctx context.Context, e *gateEntry, in store.Integration) (clients.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.clDone {
		return e.cl, e.clErr
	}
	cl, err := s.o.Clients.Resolve(ctx, in)
	switch {
	case errors.Is(err, clients.ErrNoDefaultClient), errors.Is(err, clients.ErrNoClientSecret), errors.Is(err, clients.ErrNoClientID):
		err = fmt.Errorf("%w: %w", errNotReady, err)
	case err != nil:
		return clients.Client{}, fmt.Errorf("resolve client: %w", err)
	}
	e.cl, e.clErr, e.clDone = cl, err, true
	return cl, err
}

// gate is why c may not be refreshed or used now under the integration
// (found false: the org has none), "" when it may: the one readiness rule
// (readiness.Value.Connection).
func (s *Service) gate(p catalog.Provider, in store.Integration, found bool, c store.Connection) string {
	f := readiness.Facts{Offered: s.offered(p.ID)}
	if found {
		f.Integration = &in
	}
	return readiness.Of(p, f).Connection(c)
}

// attemptContext bounds the work on one claimed connection (see the package
// doc): it survives the caller's cancellation, and ends WriteBudget before
// the lease, and WriteBudget before the caller's deadline (Lambda's) less
// returnReserve.
func (s *Service) attemptContext(parent context.Context, claimedAt time.Time) (context.Context, context.CancelFunc) {
	end := claimedAt.Add(s.o.Lease - s.o.WriteBudget)
	if by, ok := answerBy(parent); ok {
		if cut := by.Add(-s.o.WriteBudget); cut.Before(end) {
			end = cut
		}
	}
	return context.WithDeadline(context.WithoutCancel(parent), end)
}

// lease is this process's hold on one claimed connection.
type lease struct {
	owner string
	// writeBy is until when the final write is tried (wall clock): the
	// lease's end, or the Lambda deadline less returnReserve when that
	// comes first (atDeadline), which is a hard stop: at the deadline
	// Lambda kills the run and its answer is lost with it. Otherwise the
	// write gets at least WriteBudget from when it starts. (A flag, not a
	// second time: the lease is passed by value along every attempt's path,
	// and a larger one cost DiagnosticsFunction a 64 KiB size step.)
	writeBy    time.Time
	atDeadline bool
}

// newLease describes a claim made at claimedAt (wall clock) under parent.
func (s *Service) newLease(parent context.Context, owner string, claimedAt time.Time) lease {
	l := lease{owner: owner, writeBy: claimedAt.Add(s.o.Lease)}
	if by, ok := answerBy(parent); ok && by.Before(l.writeBy) {
		l.writeBy, l.atDeadline = by, true
	}
	return l
}

// write stores c and releases the lease in one conditional write. Giving up
// on it is what could lose a rotated refresh token, so it is not bound to
// the attempt's context: it is tried until the lease ends (at least
// WriteBudget), and a failure whose outcome is unknown (a timeout; or the
// SDK retrying a write that had landed, which its condition then refuses)
// is settled by reading the record back. The condition makes every retry
// safe: it can only succeed while this holder still holds the lease.
func (s *Service) write(ctx context.Context, c store.Connection, l lease) (store.Connection, error) {
	by := l.writeBy
	if floor := time.Now().Add(s.o.WriteBudget); !l.atDeadline && by.Before(floor) {
		by = floor
	}
	wctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), by)
	defer cancel()
	c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	pause := 50 * time.Millisecond
	for {
		stored, err := s.o.Store.CompleteLease(wctx, c, l.owner)
		if err == nil {
			return stored, nil
		}
		got, gerr := s.o.Store.GetConnection(wctx, c.ConnKey)
		switch {
		case gerr == nil && landed(got, c):
			return got, nil
		case errors.Is(err, store.ErrLeaseLost):
			return store.Connection{}, err
		case gerr == nil && (got.LeaseOwner != l.owner || got.Version != c.Version):
			// Neither ours nor held by us any more: someone else has it.
			return store.Connection{}, fmt.Errorf("%w (after: %w)", store.ErrLeaseLost, err)
		case wctx.Err() != nil:
			return store.Connection{}, err
		}
		if sleep(wctx, pause) != nil {
			return store.Connection{}, err
		}
		pause = min(2*pause, time.Second)
	}
}

// landed reports whether stored is the result of this holder's write of
// want: exactly one write after the claim, the lease released, and the
// fields the attempt set as it set them (sealed tokens carry a random
// nonce, so another writer's tokens never compare equal).
func landed(stored, want store.Connection) bool {
	return stored.Version == want.Version+1 && stored.LeaseOwner == "" &&
		bytes.Equal(stored.SealedTokens, want.SealedTokens) &&
		stored.Status == want.Status && stored.StatusReason == want.StatusReason &&
		stored.NextRefreshAt.Equal(want.NextRefreshAt) && stored.OffIndexReason == want.OffIndexReason &&
		stored.PausedReason == want.PausedReason && lastErrorCode(stored) == lastErrorCode(want) &&
		stored.LastAttemptAt.Equal(want.LastAttemptAt) && stored.LastUsedAt.Equal(want.LastUsedAt) &&
		stored.ConsecutiveFailures == want.ConsecutiveFailures
}

func lastErrorCode(c store.Connection) string {
	if c.LastError == nil {
		return ""
	}
	return c.LastError.Code
}

// finish writes c as the attempt's outcome.
func (s *Service) finish(ctx context.Context, c store.Connection, l lease, r result) result {
	stored, err := s.write(ctx, c, l)
	if err != nil {
		r.err = err
		if errors.Is(err, store.ErrLeaseLost) {
			r.outcome = OutcomeLeaseLost
		} else {
			r.outcome = OutcomeError
		}
		r.token = nil
		return r
	}
	r.conn = stored
	return r
}

// release gives the lease back without changing the record.
func (s *Service) release(ctx context.Context, c store.Connection, l lease, outcome string, cause error) result {
	r := s.finish(ctx, c, l, result{outcome: outcome, conn: c, err: cause})
	if r.err == nil {
		r.err = cause
	}
	return r
}

// attempt works on connection c, claimed by owner, to its outcome, and
// writes the outcome under the lease. ctx is the attempt's context
// (attemptContext).
func (s *Service) attempt(ctx context.Context, c store.Connection, l lease, p purpose, gates *gateCache) result {
	k := c.ConnKey
	now := s.now()

	// Not refreshable whatever happens: someone must act first.
	if c.Status == store.StatusNeedsReconnect || c.Status == store.StatusRefreshExhausted {
		if !c.NextRefreshAt.IsZero() {
			reason := store.ReasonNeedsReconnect
			switch {
			case c.Status == store.StatusRefreshExhausted:
				reason = store.ReasonRefreshExhausted
			case c.StatusReason == store.ReasonClientChanged:
				reason = store.ReasonClientChanged
			}
			return s.finish(ctx, offIndex(c, reason), l, result{outcome: OutcomeOffIndex})
		}
		return s.release(ctx, c, l, OutcomeOffIndex, nil)
	}

	prov, known := s.o.Catalog.Get(k.Provider)
	if !known {
		return s.finish(ctx, offIndex(c, store.ReasonProviderUnavailable), l, result{outcome: OutcomeOffIndex})
	}
	e := gates.entry(k.OrgID, k.Provider)
	in, found, err := s.integration(ctx, e, k.OrgID, k.Provider)
	why := s.gate(prov, in, found, c)
	if err == nil && gates != nil && why != "" && why != readiness.ReasonProviderUnavailable {
		// A run's cached integration may predate an admin's save (the
		// provider enabled again, a user reconnected with a new client):
		// it is trusted to go ahead, never to take a connection off the
		// index. Read it again first.
		in, found, err = s.reread(ctx, e, k.OrgID, k.Provider)
		why = s.gate(prov, in, found, c)
	}
	if err != nil {
		return s.release(ctx, c, l, OutcomeError, err)
	}
	switch why {
	case readiness.ReasonProviderUnavailable, readiness.ReasonProviderDisabled:
		return s.finish(ctx, offIndex(c, why), l, result{outcome: OutcomeOffIndex})
	case readiness.ReasonClientChanged, readiness.ReasonSettingsChanged:
		// Derived, not stored: off the schedule for as long as it holds,
		// back (by a reinstatement job) when an admin undoes it.
		return s.finish(ctx, offIndex(c, why), l, result{outcome: OutcomeOffIndex})
	}

	if !p.onDemand && (c.NextRefreshAt.IsZero() || c.NextRefreshAt.After(p.horizon)) {
		return s.release(ctx, c, l, OutcomeNotDue, nil)
	}

	tok, err := s.o.Vault.OpenToken(ctx, k, c.SealedTokens)
	if err != nil {
		return s.release(ctx, c, l, OutcomeError, fmt.Errorf("open tokens: %w", err))
	}
	if p.onDemand && !p.force && usable(c, tok, now, s.o.Margin) {
		return s.used(ctx, prov, c, tok, l, now)
	}
	if p.force && p.replaced(tok) && usable(c, tok, now, 0) {
		// Refreshed by the holder we waited for: use that, do not refresh twice.
		return s.used(ctx, prov, c, tok, l, now)
	}
	if tok.RefreshToken == "" {
		return s.finish(ctx, offIndex(c, store.ReasonNoRefreshToken), l, result{outcome: OutcomeOffIndex})
	}

	cl, err := s.client(ctx, e, in)
	if errors.Is(err, errNotReady) {
		return s.fail(ctx, c, l, integrationNotReady, now)
	}
	if err != nil {
		return s.release(ctx, c, l, OutcomeError, err)
	}

	if d, ok := ctx.Deadline(); ok && time.Until(d) < min(s.o.ProviderTimeout, minProviderTime) {
		// Too late to ask the provider (an on-demand caller's own deadline):
		// a timeout now would be recorded as the provider's failure.
		return s.release(ctx, c, l, OutcomeLeftForNext, context.DeadlineExceeded)
	}
	// Whether the provider may be asked at all, while the integration's
	// client may be refused (client.go).
	tn, refusedBy, seen, err := s.clientTurn(ctx, e, in)
	switch {
	case err != nil && ctx.Err() != nil:
		return s.release(ctx, c, l, OutcomeLeftForNext, err)
	case err != nil:
		return s.release(ctx, c, l, OutcomeError, err)
	case tn == turnShut:
		r := s.finish(ctx, clientPaused(c, refusedBy, seen, now, false), l, result{outcome: OutcomeClientPaused, failure: &refusedBy})
		if p.onDemand && !p.force && r.err == nil {
			r.token = tok // may still work until it expires
		}
		return r
	case tn == turnDeferred:
		return s.release(ctx, c, l, OutcomeClientPaused, nil)
	}
	// The probe this call may have waited for can have found the cached
	// secret out of date (freshClient replaced e's client): use what it
	// found rather than ask the provider again with the stale one, once per
	// waiting worker.
	if cur, err := s.client(ctx, e, in); err == nil {
		cl = cur
	}
	probeEnded := false
	endProbe := func(r probeResult, f oauthfail.Failure, at time.Time) {
		if tn == turnProbe && !probeEnded {
			probeEnded = true
			e.gate.finish(r, f, at)
		}
	}
	defer endProbe(probeAbandoned, oauthfail.Failure{}, time.Time{})

	requestedAt := s.now()
	fresh, err := s.exchange(ctx, cl, tok.RefreshToken)
	var f oauthfail.Failure
	classify := func(err error) oauthfail.Failure {
		return prov.Dialect.ClassifyToken(err, providers.TokenCall{
			Grant: providers.GrantRefresh, GrantIssued: c.ConnectedAt, Now: s.now(),
			OrgClient: in.ConfigMode == store.ConfigModeOrganization,
		})
	}
	if err != nil {
		f = classify(err)
		if f.Kind == oauthfail.ClientRefused {
			// A cache may hold a secret rotated away since: read the
			// client again past it, and when that is another one, ask
			// once more with it before blaming the client.
			if other, changed := s.freshClient(ctx, e, in, cl); changed {
				cl = other
				requestedAt = s.now()
				if fresh, err = s.exchange(ctx, cl, tok.RefreshToken); err != nil {
					f = classify(err)
				} else {
					s.o.Logger.InfoContext(ctx, "a client secret read from the cache was out of date: refreshed with the current one",
						"orgId", k.OrgID, "provider", k.Provider)
				}
			}
		}
	}
	if err != nil {
		failedAt := s.now()
		var r result
		if f.Kind == oauthfail.ClientRefused {
			endProbe(probeRefused, f, failedAt)
			r = s.clientRefused(ctx, c, l, e, in, f, failedAt)
		} else {
			endProbe(probeNothing, oauthfail.Failure{}, time.Time{})
			r = s.fail(ctx, c, l, f, failedAt)
		}
		if p.onDemand && !p.force && (r.outcome == OutcomeTransient || r.outcome == OutcomeBlocked || r.outcome == OutcomeClientRefused) && r.err == nil {
			r.token = tok // may still work until it expires (a forced refresh's was refused)
		}
		return r
	}
	endProbe(probeWorked, oauthfail.Failure{}, time.Time{})
	if h, was := e.gate.recovering(); was {
		s.clientWorked(ctx, in, h, s.now())
	}
	now = s.now()
	ictx, cancel := context.WithTimeout(ctx, s.o.ProviderTimeout)
	expiry, assumedCause := prov.AccessExpiry(ictx, providers.Caller{HTTP: s.o.HTTPClient}, cl.Session(fresh), requestedAt, now)
	cancel()
	assumed := assumedCause != ""
	if assumed {
		expiry = schedule.AssumeExpiry(ctx, s.o.Logger, k, assumedCause, now)
	}
	next := &oauth2.Token{
		AccessToken:  fresh.AccessToken,
		TokenType:    fresh.TokenType,
		RefreshToken: tok.RefreshToken, // kept when the answer has none
		Expiry:       expiry,
	}
	if fresh.RefreshToken != "" {
		next.RefreshToken = fresh.RefreshToken // rotated: the old one may already be dead
	}
	sealed, keyID, err := s.o.Vault.SealToken(ctx, k, next)
	if err != nil {
		// The provider answered; if it rotated, the old refresh token may be
		// dead and the new one cannot be stored. Say so loudly.
		return s.release(ctx, c, l, OutcomeError, fmt.Errorf("seal refreshed tokens: %w", err))
	}
	c.SealedTokens, c.TokenKeyID = sealed, keyID
	if err := prov.Dialect.TokenExtras(fresh, &c.Account); err != nil {
		// The same check as the callback's (Salesforce's instance_url: the
		// user's token is sent to this host later). A refused extra is not
		// stored (what the callback checked stays), and the refreshed
		// tokens still are: a rotated refresh token must not be lost over it.
		s.o.Logger.WarnContext(ctx, "refresh response's extras refused; the stored account is kept",
			"org", k.OrgID, "user", k.UserID, "provider", k.Provider, "err", err.Error())
	}
	if p.onDemand {
		c.LastUsedAt = now
	}
	c = succeeded(prov, c, expiry, assumed, s.o.Margin, now)
	return s.finish(ctx, c, l, result{outcome: OutcomeRefreshed, token: next, refreshed: true})
}

// fail records failure f on c.
func (s *Service) fail(ctx context.Context, c store.Connection, l lease, f oauthfail.Failure, now time.Time) result {
	n := c.ConsecutiveFailures + 1
	delay := s.withRand(func(r *mrand.Rand) time.Duration { return oauthfail.NextDelay(n, f.RetryAfter, r) })
	c, outcome := failed(c, f, delay, now)
	return s.finish(ctx, c, l, result{outcome: outcome, failure: &f})
}

// usable reports whether the stored access token is good beyond the margin.
func usable(c store.Connection, tok *oauth2.Token, now time.Time, margin time.Duration) bool {
	if tok.AccessToken == "" {
		return false
	}
	exp := c.AccessExpiresAt
	if exp.IsZero() {
		exp = tok.Expiry
	}
	return !exp.IsZero() && exp.After(now.Add(margin))
}

// used records an on-demand use of a valid token: LastUsedAt, and, since
// a used connection is refreshed ahead of expiry rather than on the idle
// keepalive, its next due time (unless it is backing off after failures
// or paused for its integration's refused client).
// A connection taken off the due-index because its provider was disabled
// or not offered goes back on it: the attempt's checks just passed.
func (s *Service) used(ctx context.Context, p catalog.Provider, c store.Connection, tok *oauth2.Token, l lease, now time.Time) result {
	c.LastUsedAt = now
	reinstate := c.OffIndexReason == store.ReasonProviderDisabled || c.OffIndexReason == store.ReasonProviderUnavailable
	if c.ConsecutiveFailures == 0 && c.PausedReason == "" && (!c.NextRefreshAt.IsZero() || reinstate) && tok.RefreshToken != "" {
		c.NextRefreshAt = nextDue(p, c, s.o.Margin, now)
		c.OffIndexReason = ""
	}
	return s.finish(ctx, c, l, result{outcome: OutcomeUsed, token: tok})
}

// exchange refreshes with golang.org/x/oauth2 under the provider timeout.
// The token handed to the TokenSource carries only the refresh token and a
// past expiry, so oauth2 cannot answer with the stored access token.
func (s *Service) exchange(ctx context.Context, cl clients.Client, refreshToken string) (*oauth2.Token, error) {
	cctx, cancel := context.WithTimeout(ctx, s.o.ProviderTimeout)
	defer cancel()
	cctx = context.WithValue(cctx, oauth2.HTTPClient, s.o.HTTPClient)
	cfg := cl.OAuth2
	old := &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}
	tok, err := cfg.TokenSource(cctx, old).Token()
	if err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, errors.New("oauth2: server response missing access_token")
	}
	return tok, nil
}
