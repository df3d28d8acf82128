package diagnostics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// "Test write actions only when safe… use a test item and review every
// confirmation." On request only (writes.confirm), and only where it is
// safe: the organization allows write actions, and the test runs as the
// organization's test account (an account with representative but limited
// access), never as an admin's own account. Each enabled capability with a
// write action then creates one item in the test account's own space (what
// and how is the provider's: Dialect.CreateTestItem) and deletes it at
// once; its step reports each confirmation: the id the provider gave the
// item, when it was created, that it was deleted and when. A delete that
// fails is a fail naming the id, so a person can remove it; the delete
// runs even when the caller has gone (context.WithoutCancel), so a write
// is never left behind because an answer was not awaited. The whole test
// is audited (integration.write_test: which items, never their content or
// a token).

// Problem codes of a write test that is refused.
const (
	// CodeWritesNotAllowed: the organization does not allow write actions
	// (allowWriteActions), so nothing may be written, not even to test.
	CodeWritesNotAllowed = "writes_not_allowed"
	// CodeTestAccountRequired: writes are tested only with the
	// organization's test account, and there is none.
	CodeTestAccountRequired = "test_account_required"
)

// ActionWriteTest is the audit action of a test that wrote.
const ActionWriteTest = "integration.write_test"

// DefaultTestDeadline bounds a test with writes from its start: no create
// starts unless its create and delete both fit before it, so every delete
// ends inside DiagnosticsFunction's 28-second timeout.
const DefaultTestDeadline = 26 * time.Second

// maxDeleteRetryWait bounds the wait before retrying a delete the provider
// throttled or could not serve.
const maxDeleteRetryWait = 2 * time.Second

// WriteConfirmation is one write step's confirmations: what was written,
// the id the provider gave it and when, and that it was deleted and when.
type WriteConfirmation struct {
	// Item says what the step writes ("a draft message to the account
	// itself (never sent)").
	Item string `json:"item"`
	// Created: the provider confirmed the item's creation.
	Created   bool       `json:"created"`
	ID        string     `json:"id,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	// Deleted: the provider confirmed its deletion (or that it was already
	// gone). A created item that is not deleted is still in the test
	// account, under ID.
	Deleted   bool       `json:"deleted"`
	DeletedAt *time.Time `json:"deletedAt,omitempty"`
}

// writeRun is a test's writes: asked for and allowed.
type writeRun struct {
	// deadline is DefaultTestDeadline (or Options.TestDeadline) from the
	// test's start.
	deadline time.Time
}

// writesRefused says why a test with writes may not run, nil when it may:
// the org's policy first, then the test account.
func writesRefused(r *run) error {
	name := r.provider.DisplayName
	if r.integration == nil || !r.integration.AllowWriteActions {
		return problem.New(http.StatusConflict, CodeWritesNotAllowed,
			"The organization does not allow write actions through "+name+", so the test may not write either. An admin allows write actions in the integration settings first.")
	}
	if !r.testAccount {
		return problem.New(http.StatusConflict, CodeTestAccountRequired,
			"Write actions are tested only with the organization's "+name+" test account, never with an admin's own account. Connect a test account with representative but limited access first.")
	}
	return nil
}

// stepWriteLive is write_<capability> when writes were asked for: one
// reversible write and its undo.
func stepWriteLive(ctx context.Context, r *run, cs catalog.CapabilitySpec) outcome {
	if r.token == "" {
		return blockedBy(TestAccountConnected, "")
	}
	o, conf := writeOnce(ctx, r, cs)
	o.write = conf
	return o
}

// writeOnce creates capability cs's test item and deletes it, and says
// what happened, confirmation by confirmation.
func writeOnce(ctx context.Context, r *run, cs catalog.CapabilitySpec) (outcome, *WriteConfirmation) {
	p, what := r.provider, cs.WriteTest
	conf := &WriteConfirmation{Item: what}
	if missing := p.MissingScopes(cs.TestWriteScopes(), r.conn.GrantedScopes); len(missing) > 0 {
		return fail(OwnerUser, "The test account did not grant the permissions to create and delete "+cs.Label+" items: "+strings.Join(missing, ", ")+". Nothing was written.",
			"An admin reconnects the test account and approves every requested permission."), conf
	}
	now := r.svc.now()
	if now.Add(2 * r.svc.opts.ProbeTimeout).After(r.writes.deadline) {
		return warn(OwnerUser, "Not written: the test had no time left to create and delete "+what+" safely. Nothing was written.",
			"Run the test again."), conf
	}
	w := providers.TestWrite{Account: r.conn.Account, Token: r.token, Now: now, Nonce: nonce()}
	a, id, err := r.write(ctx, func(ctx context.Context, token string) (providers.Answer, string, error) {
		w.Token = token
		return p.Dialect.CreateTestItem(ctx, r.svc.probe.call, cs.ID, w)
	})
	if err != nil {
		// No answer: whether the provider created it is unknown.
		slog.WarnContext(ctx, "write test: create unanswered", "org", r.caller.OrgID, "provider", p.ID, "capability", string(cs.ID), "err", err.Error())
		return warn(OwnerUser, p.DisplayName+" did not answer while the test created "+what+"; it may or may not have been created.",
			"Look in the test account for an item named "+providers.TestItemSubject+" and delete it; then run the test again."), conf
	}
	if !a.OK() {
		return createRefused(p, cs, p.Dialect.ClassifyAPI(a.Status, a.Header, a.Body)), conf
	}
	at := r.svc.now()
	conf.Created, conf.ID, conf.CreatedAt = true, id, &at
	created, item := "Created "+what+" at "+stamp(at), "the item named "+providers.TestItemSubject
	da, kind := providers.Answer{}, oauthfail.APIUnexpected
	if id != "" {
		created, item = "Created "+what+" (id "+id+") at "+stamp(at), "the item with id "+id
		da, kind = r.deleteTestItem(ctx, cs, w, id)
	}
	if gone := kind == oauthfail.APINotFound || kind == oauthfail.APINotFoundOrHidden || da.Status == http.StatusGone; da.OK() || gone {
		done := r.svc.now()
		conf.Deleted, conf.DeletedAt = true, &done
		note := ""
		if gone {
			// Nothing is left, which is what the test wants; something
			// else removed it first.
			note = " (it was already gone)"
		}
		return pass(created + " and deleted it at " + stamp(done) + note + ": " + p.DisplayName + " lets the test account write " + cs.Label + "."), conf
	}
	owner := OwnerUser
	for _, x := range refusals {
		if x.kind == kind && x.owner == OwnerExternalAdmin {
			owner = x.owner
		}
	}
	why := "it gave no id to delete it by"
	if id != "" {
		why = deleteWhy(kind, da.Status)
	}
	return fail(owner, created+", but "+p.DisplayName+" did not delete it ("+why+"): it is still in the test account.",
		"Delete "+item+" from the test account by hand."), conf
}

// write runs a create with the test account's token; when the provider
// refuses the token (nothing was created), it forces a refresh once, as
// the probes do (fresh.go), and tries again.
func (r *run) write(ctx context.Context, create func(ctx context.Context, token string) (providers.Answer, string, error)) (providers.Answer, string, error) {
	cctx, cancel := context.WithTimeout(ctx, r.svc.opts.ProbeTimeout)
	a, id, err := create(cctx, r.token)
	cancel()
	if err != nil || r.fresh || r.provider.Dialect.ClassifyAPI(a.Status, a.Header, a.Body) != oauthfail.APITokenRejected {
		return a, id, err
	}
	if o := r.forceRefresh(ctx); o != nil {
		return a, "", nil
	}
	cctx, cancel = context.WithTimeout(ctx, r.svc.opts.ProbeTimeout)
	defer cancel()
	return create(cctx, r.token)
}

// deleteTestItem deletes the created item, past the caller's cancellation
// (an item must not stay because nobody waited for the answer): once, and
// again after a refreshed token or a throttled or unavailable answer when
// the deadline allows.
func (r *run) deleteTestItem(ctx context.Context, cs catalog.CapabilitySpec, w providers.TestWrite, id string) (providers.Answer, oauthfail.API) {
	ctx = context.WithoutCancel(ctx)
	p := r.provider
	del := func() (providers.Answer, oauthfail.API) {
		w.Token = r.token
		dctx, cancel := context.WithTimeout(ctx, r.svc.opts.ProbeTimeout)
		defer cancel()
		a, err := p.Dialect.DeleteTestItem(dctx, r.svc.probe.call, cs.ID, w, id)
		if err != nil {
			return providers.Answer{}, oauthfail.APIUnavailable
		}
		return a, p.Dialect.ClassifyAPI(a.Status, a.Header, a.Body)
	}
	a, kind := del()
	switch kind {
	case oauthfail.APITokenRejected:
		if r.fresh || r.forceRefresh(ctx) != nil {
			return a, kind
		}
	case oauthfail.APIRateLimited, oauthfail.APIUnavailable:
		wait := min(oauthfail.ParseRetryAfter(a.Header.Get("Retry-After"), r.svc.now()), maxDeleteRetryWait)
		if r.svc.now().Add(wait + r.svc.opts.ProbeTimeout).After(r.writes.deadline) {
			return a, kind
		}
		t := time.NewTimer(wait)
		<-t.C
	default:
		return a, kind
	}
	slog.InfoContext(ctx, "write test: retrying a delete", "org", r.caller.OrgID, "provider", p.ID, "capability", string(cs.ID), "first", string(kind))
	return del()
}

// refusal is what a refused create or delete means, by the provider's
// answer (a table: static data, not code).
type refusal struct {
	kind   oauthfail.API
	status Status
	owner  Owner
	why    string // in the message: the provider <why>
	fix    string
}

var refusals = []refusal{
	{oauthfail.APIScopeMissing, Fail, OwnerUser, "says the test account's consent does not include writing", "An admin reconnects the test account and approves every requested permission."},
	{oauthfail.APITokenRejected, Fail, OwnerUser, "rejected the test account's access token when writing", "An admin reconnects the test account in Organization Settings, Integrations."},
	{oauthfail.APIDisabledForClient, Fail, OwnerAdmin, "has the API turned off for the integration's OAuth client, for writing", "An admin enables the API in the project of the OAuth client (or switches to the default client)."},
	{oauthfail.APIForbidden, Fail, OwnerExternalAdmin, "does not let the test account write", "The provider's administrator grants the test account write access, or the test account is one that has it."},
	{oauthfail.APIDisabledForUser, Fail, OwnerExternalAdmin, "has API access turned off for the test account, for writing", "The provider's administrator grants the test account API access."},
	{oauthfail.APIUnlicensed, Fail, OwnerExternalAdmin, "has no service for the test account (no mailbox or license), for writing", "The provider's administrator assigns the test account a license that includes it."},
	{oauthfail.APIConditionalAccess, Fail, OwnerExternalAdmin, "requires a stronger sign-in (a Conditional Access policy) for writing", "The tenant's admin reviews the Conditional Access policy for the app."},
	{oauthfail.APIRateLimited, Warn, OwnerUser, "is throttling requests, so it could not be tested for writing", "Try again in a few minutes."},
	{oauthfail.APIUnavailable, Warn, OwnerUser, "is unavailable, so it could not be tested for writing", "Try again in a few minutes."},
}

// createRefused explains a create the provider refused: nothing was
// written.
func createRefused(p catalog.Provider, cs catalog.CapabilitySpec, kind oauthfail.API) outcome {
	rf := refusal{status: Warn, owner: OwnerUser, why: "gave an unexpected answer when the test wrote", fix: "Try again in a few minutes."}
	for _, x := range refusals {
		if x.kind == kind {
			rf = x
		}
	}
	return outcome{Status: rf.status, Owner: rf.owner, Message: p.DisplayName + " " + rf.why + " " + cs.Label + ". Nothing was written.", Remediation: rf.fix}
}

// deleteWhy says why a delete failed: the answer's status and its
// classification ("HTTP 429, rate_limited"; "no answer").
func deleteWhy(kind oauthfail.API, status int) string {
	if status == 0 {
		return "no answer"
	}
	return "HTTP " + strconv.Itoa(status) + ", " + string(kind)
}

// writesPerformed reports whether any step created an item at the
// provider.
func writesPerformed(steps []Check) bool {
	for _, c := range steps {
		if c.Write != nil && c.Write.Created {
			return true
		}
	}
	return false
}

// auditWrites records a test with writes: for each write step, what was
// created and whether it was deleted (ids and statuses, never content).
// The writes happened whatever the trail says, so a failure to record is
// logged, not answered.
func (s *Service) auditWrites(ctx context.Context, r *run, steps []Check) {
	var changes []store.FieldChange
	for _, c := range steps {
		if !strings.HasPrefix(string(c.ID), writeStepPrefix) {
			continue
		}
		var what string
		switch w := c.Write; {
		case w == nil || !w.Created:
			what = "nothing written (" + string(c.Status) + ")"
		case w.ID == "":
			what = "created without an id, not deleted"
		case w.Deleted:
			what = "created " + w.ID + ", deleted"
		default:
			what = "created " + w.ID + ", NOT deleted"
		}
		changes = append(changes, store.FieldChange{Field: string(c.ID), New: what})
	}
	at := s.now()
	id := fmt.Sprintf("%s-%012d-%s%s", at.Format("20060102T150405.000000000Z"), auditSeq.Add(1), nonce(), nonce())
	e := store.AuditEntry{OrgID: r.caller.OrgID, ID: id,
		At: at, Actor: r.caller.UserID, Provider: r.provider.ID, Action: ActionWriteTest, Changes: changes}
	if err := s.opts.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil && !errors.Is(err, context.Canceled) {
		slog.ErrorContext(ctx, "write test: audit entry not written", "org", e.OrgID, "provider", e.Provider, "err", err.Error())
	}
}

// auditSeq orders the entries one process writes within one clock reading
// (a coarse or frozen clock), as the admin service's: the trail is listed
// by time, then id.
var auditSeq atomic.Uint64

// nonce is 8 random hex digits: a file name the account cannot already
// hold.
func nonce() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// stamp is a time as confirmations say it.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
