package refresh

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// ResealRequest is RefreshFunction's maintenance payload
// {"action":"reseal","cursor":"..."}: seal every stored connection's tokens
// again under the token key's current version (and the current sealed
// format), so an older key version can be retired. Cursor continues a
// previous invocation's walk ("" starts from the beginning).
type ResealRequest struct {
	Action string `json:"action"`
	Cursor string `json:"cursor,omitempty"`
}

// ActionReseal is ResealRequest.Action.
const ActionReseal = "reseal"

// ResealResult is the outcome of one Reseal invocation. The walk is done
// when Cursor is empty; the old key can be retired once a whole walk (one
// or more invocations) ends with LeaseHeld and Failed both 0, since every
// connection it saw was then under KeyID.
type ResealResult struct {
	// KeyID is the key version every token was sealed under.
	KeyID string `json:"keyId"`
	// Scanned connections, of which Resealed were sealed again, Current
	// already were, LeaseHeld were skipped because a refresh (or an
	// on-demand use) held their lease (run the walk again: a refresh seals
	// under the current key anyway), and Failed could not be opened or
	// written (logged with their key, never a token).
	Scanned   int `json:"scanned"`
	Resealed  int `json:"resealed"`
	Current   int `json:"current"`
	LeaseHeld int `json:"leaseHeld"`
	Failed    int `json:"failed"`
	// Cursor continues the walk in the next invocation; "" when the whole
	// table has been walked.
	Cursor     string `json:"cursor,omitempty"`
	DurationMs int64  `json:"durationMs"`
}

// maxResealAttempts bounds the re-reads of one connection that changed
// between its read and its write.
const maxResealAttempts = 3

// Reseal walks every stored connection (store.ConnectionScan, not only the
// due ones: a connection off the refresh schedule holds tokens too) from
// cursor, and seals the tokens of each that is under another key version
// or an older format again, until the walk ends or the Lambda deadline is
// within DeadlineMargin; then it returns the cursor to continue from.
//
// Each re-seal is one write conditional on the version read, and is made
// only while nobody holds the refresh lease: a refresh that claims the
// connection meanwhile changes the version, so the write is refused and the
// connection read again, and a connection whose lease is held is skipped
// and counted (its holder seals under the current key if it refreshes).
// Nothing else of the record changes.
func (s *Service) Reseal(ctx context.Context, cursor string) (ResealResult, error) {
	start := time.Now()
	var res ResealResult
	defer func() { res.DurationMs = time.Since(start).Milliseconds() }()
	var mu sync.Mutex
	count := func(f func(*ResealResult)) {
		mu.Lock()
		f(&res)
		mu.Unlock()
	}
	for {
		if d, ok := ctx.Deadline(); ok && time.Until(d) < s.o.DeadlineMargin {
			res.Cursor = cursor
			break
		}
		if err := ctx.Err(); err != nil {
			res.Cursor = cursor
			break
		}
		page, next, err := s.o.Store.ScanConnections(ctx, store.Page{Cursor: cursor, Limit: s.o.PageSize})
		if err != nil {
			return res, fmt.Errorf("reseal: scan connections: %w", err)
		}
		// A page is worked on concurrently and finished before the next is
		// read, so the cursor never passes a connection not yet handled: a
		// cancellation (SIGTERM) lets the page in hand finish, at most
		// PageSize writes, well within DeadlineMargin.
		pctx := context.WithoutCancel(ctx)
		sem := make(chan struct{}, s.o.Concurrency)
		var wg sync.WaitGroup
		for _, c := range page {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				outcome := s.resealOne(pctx, c)
				count(func(r *ResealResult) {
					r.Scanned++
					switch outcome {
					case resealDone:
						r.Resealed++
					case resealCurrent:
						r.Current++
					case resealLeaseHeld:
						r.LeaseHeld++
					case resealGone:
					default:
						r.Failed++
					}
				})
			}()
		}
		wg.Wait()
		if next == "" {
			break
		}
		cursor = next
	}
	kid, err := s.currentKeyID(context.WithoutCancel(ctx))
	if err != nil {
		return res, err
	}
	res.KeyID = kid
	s.o.Logger.InfoContext(ctx, "reseal invocation done", "keyId", res.KeyID, "scanned", res.Scanned, "resealed", res.Resealed,
		"current", res.Current, "leaseHeld", res.LeaseHeld, "failed", res.Failed, "more", res.Cursor != "")
	return res, nil
}

type resealOutcome int

const (
	resealFailed resealOutcome = iota
	resealDone
	resealCurrent
	resealLeaseHeld
	resealGone // deleted while the walk ran
)

// resealOne seals c's tokens again if they are stale, re-reading c when it
// changed in between.
func (s *Service) resealOne(ctx context.Context, c store.Connection) resealOutcome {
	k := c.ConnKey
	fail := func(err error) resealOutcome {
		s.o.Logger.ErrorContext(ctx, "reseal failed", "orgId", k.OrgID, "userId", k.UserID, "provider", k.Provider,
			"tokenKeyId", c.TokenKeyID, "err", err.Error())
		return resealFailed
	}
	for attempt := 1; ; attempt++ {
		if len(c.SealedTokens) == 0 {
			return resealCurrent // nothing sealed
		}
		stale, err := s.o.Vault.NeedsReseal(ctx, c.SealedTokens)
		if err != nil {
			return fail(fmt.Errorf("read sealed tokens: %w", err))
		}
		if !stale {
			return resealCurrent
		}
		now := s.now()
		if c.LeaseOwner != "" && c.LeaseUntil.After(now) {
			return resealLeaseHeld
		}
		tok, err := s.o.Vault.OpenToken(ctx, k, c.SealedTokens)
		if err != nil {
			return fail(fmt.Errorf("open tokens: %w", err))
		}
		sealed, keyID, err := s.o.Vault.SealToken(ctx, k, tok)
		if err != nil {
			return fail(fmt.Errorf("seal tokens: %w", err))
		}
		next := c
		next.SealedTokens, next.TokenKeyID, next.UpdatedAt = sealed, keyID, now
		_, err = s.o.Store.PutConnection(ctx, next, c.Version)
		switch {
		case err == nil:
			return resealDone
		case errors.Is(err, store.ErrConflict) && attempt < maxResealAttempts:
			// Written meanwhile (a refresh claimed it, a user reconnected):
			// judge the record as it is now.
			if c, err = s.o.Store.GetConnection(ctx, k); errors.Is(err, store.ErrNotFound) {
				return resealGone
			} else if err != nil {
				return fail(fmt.Errorf("re-read: %w", err))
			}
		default:
			return fail(fmt.Errorf("write: %w", err))
		}
	}
}

// currentKeyID is the id of the key SealToken uses now.
func (s *Service) currentKeyID(ctx context.Context) (string, error) {
	id, err := s.o.Vault.CurrentKeyID(ctx)
	if err != nil {
		return "", fmt.Errorf("reseal: current token key: %w", err)
	}
	return id, nil
}
