package boltstore_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
	"github.com/sofie/integrations/shared/store/storetest"
)

func open(t *testing.T, dir string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(dir)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.TestStore(t, func(t *testing.T) store.Store { return open(t, t.TempDir()) })
}

func TestSecretsContract(t *testing.T) {
	storetest.TestSecrets(t, func(t *testing.T, _ *slog.Logger) storetest.SecretsHarness {
		s := open(t, t.TempDir())
		return storetest.SecretsHarness{
			Secrets:          s,
			PutDefaultClient: s.PutDefaultClient,
			RotateTokenKey: func(ctx context.Context) error {
				_, err := s.RotateTokenKey(ctx)
				return err
			},
		}
	})
}

// TestDurable shows that everything, the token key included, survives a
// close and reopen, and that the file is private.
func TestDurable(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := boltstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k := store.ConnKey{OrgID: "org-1", UserID: "user-1", Provider: "salesforce"}
	c := storetest.Connection(k)
	c.NextRefreshAt = storetest.T0
	if _, err := s.PutConnection(ctx, c, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutIntegration(ctx, storetest.Integration("org-1", "salesforce"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-1"); err != nil {
		t.Fatal(err)
	}
	kr, err := s.TokenKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := s.GetConnection(ctx, k); err == nil {
		t.Fatal("a closed store still answers")
	}

	fi, err := os.Stat(filepath.Join(dir, boltstore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("database mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode %v, want 0700", di.Mode().Perm())
	}

	s2 := open(t, dir)
	got, err := s2.GetConnection(ctx, k)
	if err != nil || got.Version != 1 {
		t.Fatalf("connection after reopen: %+v, %v", got, err)
	}
	due, _, err := s2.ListDue(ctx, storetest.T0, store.Page{})
	if err != nil || len(due) != 1 || due[0].ConnKey != k {
		t.Fatalf("due after reopen: %v, %v", due, err)
	}
	if v, err := s2.GetClientSecret(ctx, "org-1", "salesforce"); err != nil || v != "fake-client-secret-1" {
		t.Fatalf("client secret after reopen: %v", err)
	}
	kr2, err := s2.TokenKeys(ctx)
	if err != nil || kr2.Current != kr.Current || string(kr2.Keys[kr2.Current]) != string(kr.Keys[kr.Current]) {
		t.Fatalf("token key changed across reopen (%v)", err)
	}
}

// TestSharedHandles: the local server opens the directory once per
// function; the handles share one database and close it with the last.
func TestSharedHandles(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir)
	done := make(chan *boltstore.Store, 1)
	go func() {
		b, err := boltstore.Open(dir)
		if err != nil {
			t.Error(err)
		}
		done <- b
	}()
	var b *boltstore.Store
	select {
	case b = <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("second open in the same process blocked on the file lock")
	}
	ctx := t.Context()
	if err := a.CreateState(ctx, storetest.State("s1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConsumeState(ctx, "s1", storetest.T0); err != nil {
		t.Fatalf("the other handle stopped working when one closed: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Everything closed: a fresh open works again.
	c := open(t, dir)
	if _, err := c.ConsumeState(ctx, "s1", storetest.T0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("consumed state came back: %v", err)
	}
}

// TestExpiredStatesSwept: Open removes states expired for over a day, as
// DynamoDB's TTL deletion eventually does.
func TestExpiredStatesSwept(t *testing.T) {
	dir := t.TempDir()
	s, err := boltstore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	old := storetest.State("old")
	old.ExpiresAt = time.Now().Add(-25 * time.Hour)
	fresh := storetest.State("fresh")
	fresh.ExpiresAt = time.Now().Add(time.Hour)
	for _, st := range []store.OAuthState{old, fresh} {
		if err := s.CreateState(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(t, dir)
	if _, err := s.ConsumeState(ctx, "old", old.ExpiresAt.Add(-time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old state not swept: %v", err)
	}
	if _, err := s.ConsumeState(ctx, "fresh", time.Now()); err != nil {
		t.Fatalf("fresh state swept: %v", err)
	}
}
