package boltstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/storetest"
)

// TestChangeFeed: every write of a connection or an integration, and only
// a write that landed, is in the feed once, in order, with the record
// before and after, as the table's DynamoDB stream has it.
func TestChangeFeed(t *testing.T) {
	ctx := t.Context()
	s := open(t, t.TempDir())
	k := store.ConnKey{OrgID: "o1", UserID: "u1", Provider: "salesforce"}

	in, err := s.PutIntegration(ctx, storetest.Integration("o1", "salesforce"), 0)
	if err != nil {
		t.Fatal(err)
	}
	in.Enabled = false
	if _, err := s.PutIntegration(ctx, in, in.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIntegration(ctx, in, 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale integration write: %v", err)
	}
	c, err := s.PutConnection(ctx, storetest.Connection(k), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutConnection(ctx, c, 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale connection write: %v", err)
	}
	claimed, err := s.ClaimLease(ctx, k, "run-1", storetest.T0, storetest.T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	out := claimed
	out.Status = store.StatusNeedsReconnect
	if _, err := s.CompleteLease(ctx, out, "run-2"); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("complete under another's lease: %v", err)
	}
	if _, err := s.CompleteLease(ctx, out, "run-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, k); err != nil { // nothing to delete: no change
		t.Fatal(err)
	}

	got, err := s.ReadChanges(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	type shape struct {
		conn, integ   string // "", "create", "update", "delete"
		before, after string // connection statuses, or enabled
	}
	kind := func(old, new bool) string {
		switch {
		case !old && new:
			return "create"
		case old && new:
			return "update"
		case old && !new:
			return "delete"
		}
		return ""
	}
	var shapes []shape
	for i, ch := range got {
		if i > 0 && ch.Seq <= got[i-1].Seq {
			t.Fatalf("change %d seq %d after %d", i, ch.Seq, got[i-1].Seq)
		}
		sh := shape{conn: kind(ch.OldConnection != nil, ch.NewConnection != nil), integ: kind(ch.OldIntegration != nil, ch.NewIntegration != nil)}
		if ch.OldConnection != nil {
			sh.before = ch.OldConnection.Status
		}
		if ch.NewConnection != nil {
			sh.after = ch.NewConnection.Status
		}
		if ch.NewIntegration != nil {
			sh.after = map[bool]string{true: "on", false: "off"}[ch.NewIntegration.Enabled]
		}
		shapes = append(shapes, sh)
	}
	want := []shape{
		{integ: "create", after: "on"},
		{integ: "update", after: "off"},
		{conn: "create", after: "connected"},
		{conn: "update", before: "connected", after: "connected"},       // the claim
		{conn: "update", before: "connected", after: "needs_reconnect"}, // the outcome
		{conn: "delete", before: "needs_reconnect"},
	}
	if len(shapes) != len(want) {
		t.Fatalf("feed %+v, want %+v", shapes, want)
	}
	for i := range want {
		if shapes[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, shapes[i], want[i])
		}
	}
	if got[5].OldConnection.Account != c.Account || string(got[5].OldConnection.SealedTokens) != string(c.SealedTokens) {
		t.Errorf("a deletion's change holds the record as it was: %+v", got[5].OldConnection)
	}

	// Acknowledged changes go; later ones stay.
	if err := s.DeleteChanges(ctx, got[3].Seq); err != nil {
		t.Fatal(err)
	}
	left, err := s.ReadChanges(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 2 || left[0].Seq != got[4].Seq {
		t.Fatalf("after acknowledging through %d: %d changes left starting at %d", got[3].Seq, len(left), left[0].Seq)
	}
	// The feed survives a reopen, and numbering goes on.
	dir := s.Path()[:len(s.Path())-len("/integrations.db")]
	s.Close()
	s2 := open(t, dir)
	if _, err := s2.PutIntegration(ctx, in, in.Version+1); err != nil {
		t.Fatal(err)
	}
	again, err := s2.ReadChanges(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 3 || again[2].Seq <= got[5].Seq {
		t.Fatalf("after reopening: %d changes, last seq %d (before %d)", len(again), again[len(again)-1].Seq, got[5].Seq)
	}
}

// TestChangeFeedHealth: a client health write is in the feed with the
// health before and after; a report that writes nothing (OK while OK) is
// not.
func TestChangeFeedHealth(t *testing.T) {
	ctx := t.Context()
	s := open(t, t.TempDir())
	at := storetest.T0
	if _, _, err := s.ReportClientOK(ctx, "o1", "microsoft365", at); err != nil { // OK while OK: no write
		t.Fatal(err)
	}
	for i := range 2 {
		if _, _, err := s.ReportClientFailure(ctx, "o1", "microsoft365", "invalid_client", 1, at.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.ReportClientOK(ctx, "o1", "microsoft365", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadChanges(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d changes, want the failure, its second sighting, the recovery", len(got))
	}
	first, again, healed := got[0], got[1], got[2]
	if first.OldHealth != nil || first.NewHealth == nil || !first.NewHealth.Failing() ||
		again.OldHealth == nil || !again.OldHealth.Failing() || !again.NewHealth.LastSeen.Equal(at.Add(time.Minute)) ||
		healed.OldHealth == nil || !healed.OldHealth.Failing() || healed.NewHealth.Failing() || !healed.NewHealth.RecoveredAt.Equal(at.Add(time.Hour)) {
		t.Errorf("changes %+v / %+v / %+v", first, again, healed)
	}
}
