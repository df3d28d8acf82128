//go:build moto

// This file runs against moto_server (make test passes -tags moto; see the
// README's Tests): the package's other tests need nothing but Go.

package awssecrets_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/sofie/integrations/infra/testenv/moto"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awscount"
	"github.com/sofie/integrations/shared/store/awssecrets"
	"github.com/sofie/integrations/shared/store/storetest"
)

func TestMain(m *testing.M) { moto.Main(m) }

type fixture struct {
	sm      *secretsmanager.Client
	calls   *awscount.Counter
	prefix  string
	tokenID string
	now     time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{calls: &awscount.Counter{}, now: storetest.T0}
	cfg := moto.Config(t)
	f.calls.Attach(&cfg)
	f.sm = secretsmanager.NewFromConfig(cfg)
	f.prefix = strings.TrimSuffix(moto.Prefix(t), "-") + "/env"
	f.tokenID = f.prefix + "/token-key"
	if err := awssecrets.EnsureTokenKey(t.Context(), f.sm, f.tokenID); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	return f
}

func (f *fixture) store(t *testing.T, log *slog.Logger, ttl time.Duration) *awssecrets.Store {
	t.Helper()
	s, err := awssecrets.New(f.sm, awssecrets.Options{
		Prefix: f.prefix, TokenKeySecretID: f.tokenID, CacheTTL: ttl, Logger: log,
		Now: func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecretsContract(t *testing.T) {
	storetest.TestSecrets(t, func(t *testing.T, log *slog.Logger) storetest.SecretsHarness {
		f := newFixture(t)
		s := f.store(t, log, 5*time.Minute)
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

// TestCache: a warm instance reads each secret once per TTL, its own writes
// are seen at once, and the cache is bounded.
func TestCache(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	s := f.store(t, nil, time.Minute)
	other := f.store(t, nil, time.Minute) // another warm instance

	if err := s.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-1"); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	for range 5 {
		if v, err := s.GetClientSecret(ctx, "org-1", "salesforce"); err != nil || v != "fake-client-secret-1" {
			t.Fatalf("get: %v", err)
		}
	}
	if n := f.calls.Calls("Secrets Manager", "GetSecretValue"); n != 1 {
		t.Fatalf("5 reads made %d GetSecretValue calls, want 1", n)
	}
	if _, err := other.GetClientSecret(ctx, "org-1", "salesforce"); err != nil {
		t.Fatal(err)
	}

	// Own write: seen at once. Another instance: within the TTL.
	if err := s.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-2"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetClientSecret(ctx, "org-1", "salesforce"); v != "fake-client-secret-2" {
		t.Fatal("own put not seen")
	}
	if v, _ := other.GetClientSecret(ctx, "org-1", "salesforce"); v != "fake-client-secret-1" {
		t.Fatal("the other instance did not use its cache")
	}
	f.now = f.now.Add(time.Minute)
	if v, _ := other.GetClientSecret(ctx, "org-1", "salesforce"); v != "fake-client-secret-2" {
		t.Fatal("the other instance still used its cache after the TTL")
	}

	// Own delete: seen at once.
	if err := s.DeleteClientSecret(ctx, "org-1", "salesforce"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClientSecret(ctx, "org-1", "salesforce"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get after own delete: %v", err)
	}

	// Token keys: one call per TTL.
	f.calls.Reset()
	for range 5 {
		if _, err := s.TokenKeys(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Calls("Secrets Manager", ""); n != 1 {
		t.Fatalf("5 keyring reads made %d calls, want 1", n)
	}
	// Garbage key ids are refused without a call; an unknown well-formed one
	// costs one call, then is remembered.
	f.calls.Reset()
	for range 3 {
		if _, err := s.TokenKey(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if _, err := s.TokenKey(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := f.calls.Calls("Secrets Manager", ""); n != 1 {
		t.Fatalf("unknown key lookups made %d calls, want 1", n)
	}

	// Bounded: with room for 2 entries, reading 3 secrets round-robin
	// always misses.
	small, err := awssecrets.New(f.sm, awssecrets.Options{Prefix: f.prefix, CacheTTL: time.Hour, CacheSize: 2, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"a", "b", "c"} {
		if err := small.PutClientSecret(ctx, org, "salesforce", "fake-client-secret-"+org); err != nil {
			t.Fatal(err)
		}
	}
	f.calls.Reset()
	for range 2 {
		for _, org := range []string{"a", "b", "c"} {
			if v, err := small.GetClientSecret(ctx, org, "salesforce"); err != nil || v != "fake-client-secret-"+org {
				t.Fatalf("get %s: %v", org, err)
			}
		}
	}
	if n := f.calls.Calls("Secrets Manager", "GetSecretValue"); n != 6 {
		t.Fatalf("LRU of 2 over 3 keys made %d calls, want 6", n)
	}
}

// TestNegativeCache: a secret that does not exist costs one call per TTL,
// not one per read (issue 13: GET /v1/providers asked for every missing
// default client on every request); this instance's own put or delete is
// seen at once, another instance's within the TTL; without a TTL nothing is
// cached.
func TestNegativeCache(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	s := f.store(t, nil, time.Minute)
	other := f.store(t, nil, time.Minute)
	gets := func() int { return f.calls.Calls("Secrets Manager", "GetSecretValue") }
	missing := func(st *awssecrets.Store, what string) {
		t.Helper()
		if _, err := st.GetClientSecret(ctx, "org-1", "salesforce"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: client secret: %v, want ErrNotFound", what, err)
		}
		if _, err := st.DefaultClient(ctx, "salesforce"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: default client: %v, want ErrNotFound", what, err)
		}
	}

	for _, st := range []*awssecrets.Store{s, other} {
		missing(st, "first read")
	}
	f.calls.Reset()
	for range 3 {
		missing(s, "warm read")
		missing(other, "warm read")
	}
	if n := gets(); n != 0 {
		t.Fatalf("warm reads of missing secrets made %d GetSecretValue calls, want 0", n)
	}

	// Own writes invalidate the negative entries at once.
	if err := s.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDefaultClient(ctx, "salesforce", store.DefaultClient{ClientID: "fake-id", ClientSecret: "fake-default-secret"}); err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetClientSecret(ctx, "org-1", "salesforce"); err != nil || v != "fake-client-secret-1" {
		t.Fatalf("own put not seen: %v", err)
	}
	if dc, err := s.DefaultClient(ctx, "salesforce"); err != nil || dc.ClientID != "fake-id" {
		t.Fatalf("own default client put not seen: %v", err)
	}
	// Another instance keeps its answer for the TTL, then asks again.
	missing(other, "other instance within the TTL")
	f.now = f.now.Add(time.Minute)
	if v, err := other.GetClientSecret(ctx, "org-1", "salesforce"); err != nil || v != "fake-client-secret-1" {
		t.Fatalf("other instance after the TTL: %v", err)
	}

	// Own delete: missing at once, and that answer is cached in turn.
	if err := s.DeleteClientSecret(ctx, "org-1", "salesforce"); err != nil {
		t.Fatal(err)
	}
	f.calls.Reset()
	for range 3 {
		if _, err := s.GetClientSecret(ctx, "org-1", "salesforce"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after own delete: %v", err)
		}
	}
	if n := gets(); n != 1 {
		t.Fatalf("3 reads after a delete made %d GetSecretValue calls, want 1", n)
	}

	// No TTL, no cache: every read asks.
	uncached := f.store(t, nil, 0)
	f.calls.Reset()
	for range 3 {
		if _, err := uncached.DefaultClient(ctx, "google_workspace"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := gets(); n != 3 {
		t.Fatalf("uncached: %d calls, want 3", n)
	}
}

// TestPutAfterForcedDeletion: setting a client secret right after removing
// it meets Secrets Manager's background deletion (CreateSecret refused with
// InvalidRequestException while it finishes, simulated at the wire by
// moto.SimulateSecretDeletionDelay; see
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
// The put waits it out with backoff within its budget and the request's
// deadline; when the deletion outlasts them it fails with
// store.ErrUnavailable, having stored nothing.
func TestPutAfterForcedDeletion(t *testing.T) {
	cases := []struct {
		name     string
		delay    time.Duration // how long the deletion takes
		budget   time.Duration
		reserve  time.Duration
		deadline time.Duration // of the request's context; 0: none
		stored   bool
		maxTook  time.Duration
	}{
		{name: "settles within the budget", delay: 700 * time.Millisecond, budget: 5 * time.Second, stored: true, maxTook: 4 * time.Second},
		{name: "outlasts the budget", delay: time.Minute, budget: 400 * time.Millisecond, maxTook: 3 * time.Second},
		{name: "outlasts the deadline's share", delay: time.Minute, budget: time.Minute, reserve: 800 * time.Millisecond, deadline: 1200 * time.Millisecond, maxTook: 1100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			f := newFixture(t)
			refused := moto.SimulateSecretDeletionDelay(t, f.prefix, tc.delay)
			s, err := awssecrets.New(f.sm, awssecrets.Options{
				Prefix: f.prefix, CacheTTL: time.Minute, SettleBudget: tc.budget, DeadlineReserve: tc.reserve,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-1"); err != nil {
				t.Fatal(err)
			}
			if err := s.DeleteClientSecret(ctx, "org-1", "salesforce"); err != nil {
				t.Fatal(err)
			}
			putCtx := ctx
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				putCtx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			start := time.Now()
			err = s.PutClientSecret(putCtx, "org-1", "salesforce", "fake-client-secret-2")
			took := time.Since(start)
			if took > tc.maxTook {
				t.Errorf("the put took %v, want at most %v", took, tc.maxTook)
			}
			if refused.Hits() == 0 {
				t.Fatal("no CreateSecret met the unfinished deletion: the simulation did not apply")
			}
			name, _ := awssecrets.ClientSecretName(f.prefix, "org-1", "salesforce")
			raw, getErr := f.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
			if tc.stored {
				if err != nil {
					t.Fatalf("put after the deletion: %v", err)
				}
				if took < tc.delay {
					t.Errorf("the put succeeded after %v, before the deletion finished (%v)", took, tc.delay)
				}
				if getErr != nil || aws.ToString(raw.SecretString) != "fake-client-secret-2" {
					t.Fatalf("stored value: %v", getErr)
				}
				if refused.Hits() < 2 {
					t.Errorf("%d refused creates: the put did not back off and retry", refused.Hits())
				}
				return
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("put: %v, want ErrUnavailable", err)
			}
			if strings.Contains(err.Error(), "fake-client-secret") {
				t.Fatalf("the error quotes the value: %v", err)
			}
			if !isNotFound(getErr) {
				t.Fatalf("after a failed put the secret exists (%v)", getErr)
			}
		})
	}
}

func isNotFound(err error) bool {
	var nf *smtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// TestTokenKeyFromTemplateSecret: a secret made the way template.yaml makes
// it (a generated string) yields a key whose id is the VersionId, and an
// AWSPREVIOUS version still opens after an outside rotation.
func TestTokenKeyFromTemplateSecret(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	id := f.prefix + "/generated"
	out, err := f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(id), SecretString: aws.String(strings.Repeat("Gen3rated", 8))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := awssecrets.New(f.sm, awssecrets.Options{Prefix: f.prefix, TokenKeySecretID: aws.ToString(out.ARN), CacheTTL: time.Minute, Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	kr, err := s.TokenKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Current != aws.ToString(out.VersionId) {
		t.Fatalf("key id %q, want the VersionId %q", kr.Current, aws.ToString(out.VersionId))
	}
	want, _ := awssecrets.DeriveTokenKey([]byte(strings.Repeat("Gen3rated", 8)))
	if string(kr.Keys[kr.Current]) != string(want) {
		t.Fatal("key is not derived from the secret string")
	}
	// Rotated by someone else: picked up after the TTL, old id still opens.
	put, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String(strings.Repeat("N3wMaterial", 4))})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := awssecrets.New(f.sm, awssecrets.Options{Prefix: f.prefix, TokenKeySecretID: aws.ToString(out.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	kr2, err := fresh.TokenKeys(ctx)
	if err != nil || kr2.Current != aws.ToString(put.VersionId) {
		t.Fatalf("after rotation current %q, want %q (%v)", kr2.Current, aws.ToString(put.VersionId), err)
	}
	old, err := fresh.TokenKey(ctx, kr.Current)
	if err != nil || string(old) != string(want) {
		t.Fatalf("previous version's key: %v", err)
	}

	// Too little key material is refused without echoing it.
	short := f.prefix + "/short"
	if _, err := f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(short), SecretString: aws.String("fake-too-short")}); err != nil {
		t.Fatal(err)
	}
	bad, _ := awssecrets.New(f.sm, awssecrets.Options{Prefix: f.prefix, TokenKeySecretID: short})
	if _, err := bad.TokenKeys(ctx); err == nil || strings.Contains(err.Error(), "fake-too-short") {
		t.Fatalf("short key material: %v", err)
	}
	// No key configured (the admin function): a clear error.
	none, _ := awssecrets.New(f.sm, awssecrets.Options{Prefix: f.prefix})
	if _, err := none.TokenKeys(ctx); err == nil || !strings.Contains(err.Error(), "TOKEN_KEY_SECRET_ID") {
		t.Fatalf("no key configured: %v", err)
	}
}

// TestMalformedDefaultClient: a default client that is not the documented
// JSON is an error that does not quote the value.
func TestMalformedDefaultClient(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	name, _ := awssecrets.DefaultClientName(f.prefix, "salesforce")
	planted := storetest.PlantedSecret()
	for i, v := range []string{planted, `{"clientId":"x","clientSecret":` + planted + `}`, `{"clientId":"x"}`} {
		if i == 0 {
			_, err := f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(v)})
			if err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
		s := f.store(t, nil, 0)
		_, err := s.DefaultClient(ctx, "salesforce")
		if err == nil || errors.Is(err, store.ErrNotFound) || strings.Contains(err.Error(), planted) {
			t.Fatalf("value %d: %v", i, err)
		}
	}
}

// Benchmarks against moto_server: calls/op shows what the cache saves.
func BenchmarkGetClientSecret(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"Cached", time.Hour}, {"Uncached", 0}} {
		b.Run(c.name, func(b *testing.B) {
			calls := &awscount.Counter{}
			cfg := moto.Config(b)
			calls.Attach(&cfg)
			s, err := awssecrets.New(secretsmanager.NewFromConfig(cfg), awssecrets.Options{Prefix: strings.TrimSuffix(moto.Prefix(b), "-"), CacheTTL: c.ttl, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.PutClientSecret(b.Context(), "org-1", "salesforce", "fake-client-secret-1"); err != nil {
				b.Fatal(err)
			}
			calls.Reset()
			for b.Loop() {
				if _, err := s.GetClientSecret(b.Context(), "org-1", "salesforce"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(calls.Total())/float64(b.N), "calls/op")
		})
	}
}

// TestUncachedRead: under store.Uncached a warm instance reads past its
// cache, sees another instance's rotation at once, and keeps the fresh
// value for its next cached reads (issue 14: a secret the provider refused
// is read again before the client is recorded as failing).
func TestUncachedRead(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	warm, rotator := f.store(t, nil, time.Hour), f.store(t, nil, time.Hour)
	if err := warm.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-old"); err != nil {
		t.Fatal(err)
	}
	if _, err := warm.GetClientSecret(ctx, "org-1", "salesforce"); err != nil {
		t.Fatal(err)
	}
	if err := rotator.PutClientSecret(ctx, "org-1", "salesforce", "fake-client-secret-new"); err != nil {
		t.Fatal(err)
	}
	if v, _ := warm.GetClientSecret(ctx, "org-1", "salesforce"); v != "fake-client-secret-old" {
		t.Fatal("the warm instance did not use its cache; the test proves nothing")
	}
	f.calls.Reset()
	if v, err := warm.GetClientSecret(store.Uncached(ctx), "org-1", "salesforce"); err != nil || v != "fake-client-secret-new" {
		t.Fatalf("uncached read = %v, want the rotated secret", err)
	}
	if n := f.calls.Calls("Secrets Manager", "GetSecretValue"); n != 1 {
		t.Fatalf("uncached read made %d GetSecretValue calls, want 1", n)
	}
	if v, _ := warm.GetClientSecret(ctx, "org-1", "salesforce"); v != "fake-client-secret-new" {
		t.Fatal("the next cached read did not keep the fresh value")
	}
	if n := f.calls.Calls("Secrets Manager", "GetSecretValue"); n != 1 {
		t.Fatalf("the next cached read called Secrets Manager (%d calls)", n)
	}
}
