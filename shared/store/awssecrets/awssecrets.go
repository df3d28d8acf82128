// Package awssecrets is the Secrets Manager adapter of store.Secrets.
//
// # Secret names
//
// Every name starts with the deployment's SECRETS_PREFIX
// (integrations/<stack name> in template.yaml), which keeps deployments
// apart and lets IAM grant each function exactly the names it reads:
//
//	<prefix>/orgs/<org>/<provider>/client_secret   an org's own client secret (plain string)
//	<prefix>/default-clients/<provider>            the platform's client: {"clientId": "...", "clientSecret": "..."}
//	TOKEN_KEY_SECRET_ID                            the token-encryption key (template.yaml creates it)
//
// Org and provider ids are validated before they become part of a name
// (org: [A-Za-z0-9][A-Za-z0-9_.@+=-]{0,127}, provider: [a-z0-9][a-z0-9_-]{0,63}),
// so no id can reach another org's secrets ("/" and ".." are refused).
//
// No name ends in a hyphen followed by six characters: Secrets Manager
// appends "-" and six random characters to every secret's ARN, and a name
// that already ends that way is taken for a complete ARN when it is used as
// a partial one ("we recommend that you don't create secret names ending
// with a hyphen followed by six characters",
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
// and https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen).
// Hence client_secret, not client-secret, and a check on every name built
// here (CheckName).
//
// The service creates org client secrets on first put and deletes them
// without a recovery window (an admin removing a secret wants it gone); it
// only reads default clients, which an operator creates.
//
// # Setting a secret again right after deleting it
//
// DeleteSecret with ForceDeleteWithoutRecovery returns at once, but
// Secrets Manager removes the secret in the background: "there might be a
// short delay before the secret is permanently deleted. If you delete a
// secret and then immediately create a secret with the same name, use
// appropriate back off and retry logic"
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
// Until then CreateSecret answers InvalidRequestException ("already
// scheduled for deletion"). A put therefore retries with exponential
// backoff and full jitter (100 ms doubling to 2 s, as in
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/),
// within Options.SettleBudget and never closer than
// Options.DeadlineReserve to the request's deadline; past that it fails
// with store.ErrUnavailable, which the API answers 503 service_unavailable
// with Retry-After, having written nothing.
//
// The alternative, deleting with a recovery window and setting the secret
// again through RestoreSecret + PutSecretValue, never waits, but it keeps a
// removed (perhaps compromised) secret restorable for 7 days, and between
// the two calls the removed value is the current one again: readers would
// use it, and a failure of the second call would leave it live. Forced
// deletion plus a bounded wait keeps "removed" meaning gone. (RestoreSecret
// is still used for a secret someone else scheduled for deletion with a
// window.)
//
// # Token key
//
// The template generates the key secret with GenerateSecretString (a string
// of at least 32 characters). The AES-256 key is HKDF-SHA256 of that string
// (info "sofie-integrations/token-key/v1"); its key id is the secret's
// VersionId. The AWSCURRENT version seals; a token sealed under an older
// version opens by fetching that VersionId (AWSPREVIOUS or older), so
// rotating the secret (rotate-secret, put-secret-value) never strands a
// token.
//
// # Cache
//
// A warm function does not call Secrets Manager per request: values are
// cached in process for Options.CacheTTL (SECRETS_CACHE_TTL_SECONDS) with a
// bounded number of entries, and an instance's own Put or Delete drops its
// entry at once (other instances see the change within the TTL). Keys by
// version id never change and are cached regardless of the TTL.
//
// "Not found" answers are cached for the same TTL, like values: without it
// a deployment with no default client for a provider (or an org without its
// own secret) would call GetSecretValue on every request that asks, e.g.
// once per provider on every GET /v1/providers. A put or delete through
// this instance drops the entry, positive or negative, so an admin who sets
// a secret sees it at once; other instances within the TTL.
//
// Secret values never appear in an error or a log line: errors carry the
// secret's name and the SDK's error, which never echoes a value.
//
// IAM: secretsmanager:GetSecretValue on the names a function reads; the
// admin function also PutSecretValue, CreateSecret, DeleteSecret and
// RestoreSecret on <prefix>/orgs/*.
package awssecrets

import (
	"container/list"
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/sofie/integrations/shared/store"
)

// API is the part of *secretsmanager.Client the store uses.
type API interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
	RestoreSecret(context.Context, *secretsmanager.RestoreSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RestoreSecretOutput, error)
}

// Options configure a Store.
type Options struct {
	// Prefix is SECRETS_PREFIX, e.g. "integrations/integrations-prod".
	Prefix string
	// TokenKeySecretID names the token-key secret (name or ARN); empty in
	// functions that never seal or open tokens.
	TokenKeySecretID string
	// CacheTTL is how long a value is reused; 0 disables caching (except of
	// keys by version id, which never change).
	CacheTTL time.Duration
	// CacheSize bounds the cached entries (default 1024).
	CacheSize int
	// Logger gets debug lines about fetches (never values); default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock of the cache (default time.Now). Waits use the wall
	// clock.
	Now func() time.Time
	// SettleBudget bounds the total wait of one put for a deletion of the
	// same secret that Secrets Manager is still finishing (default
	// DefaultSettleBudget).
	SettleBudget time.Duration
	// DeadlineReserve is the time a put leaves before its context's
	// deadline, for the rest of the request (default
	// DefaultDeadlineReserve).
	DeadlineReserve time.Duration
}

// Waits of a put behind an unfinished deletion (see the package
// documentation). AdminFunction has 15 s: after the put it still records
// the change (DynamoDB) and checks the credentials at the provider (up to
// 5 s), hence the reserve.
const (
	DefaultSettleBudget    = 6 * time.Second
	DefaultDeadlineReserve = 7 * time.Second
	settleBackoffBase      = 100 * time.Millisecond
	settleBackoffCap       = 2 * time.Second
)

// Store is the Secrets Manager store. It is safe for concurrent use.
type Store struct {
	sm   API
	o    Options
	log  *slog.Logger
	vals *lru // secret name → value, expiring
	keys *lru // token key version id → key (or a "no such version" marker)
}

var _ store.Secrets = (*Store)(nil)

// The name parts' rules, checked by hand rather than by regular
// expressions: these run in every function, and a pattern with bounded
// repetition ({0,127}) compiles to a large program at package init, on every
// cold start.

// validPrefix: one or more segments of [A-Za-z0-9_+=.@-], joined by "/".
func validPrefix(s string) bool {
	if s == "" {
		return false
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "" || !allIn(seg, isAlnum, "_+=.@-") {
			return false
		}
	}
	return true
}

// validOrgID: [A-Za-z0-9][A-Za-z0-9_.@+=-]{0,127}.
func validOrgID(s string) bool {
	return len(s) >= 1 && len(s) <= 128 && isAlnum(s[0]) && allIn(s, isAlnum, "_.@+=-")
}

// validProvider: [a-z0-9][a-z0-9_-]{0,63}.
func validProvider(s string) bool {
	lowerOrDigit := func(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }
	return len(s) >= 1 && len(s) <= 64 && lowerOrDigit(s[0]) && allIn(s, lowerOrDigit, "_-")
}

// validVersion: [A-Za-z0-9-]{32,64}, a secret version id.
func validVersion(s string) bool {
	return len(s) >= 32 && len(s) <= 64 && allIn(s, isAlnum, "-")
}

func isAlnum(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// allIn reports whether every byte of s is ok or one of extra.
func allIn(s string, ok func(byte) bool, extra string) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) && strings.IndexByte(extra, s[i]) < 0 {
			return false
		}
	}
	return true
}

// New returns the store.
func New(sm API, o Options) (*Store, error) {
	o.Prefix = strings.Trim(o.Prefix, "/")
	if !validPrefix(o.Prefix) {
		return nil, fmt.Errorf("awssecrets: SECRETS_PREFIX %q is not a valid secret name prefix", o.Prefix)
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SettleBudget <= 0 {
		o.SettleBudget = DefaultSettleBudget
	}
	if o.DeadlineReserve <= 0 {
		o.DeadlineReserve = DefaultDeadlineReserve
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Store{sm: sm, o: o, log: log.With("component", "awssecrets"), vals: newLRU(o.CacheSize), keys: newLRU(64)}, nil
}

// ClientSecretName is the name of an org's client secret for provider.
func ClientSecretName(prefix, orgID, provider string) (string, error) {
	if !validOrgID(orgID) {
		return "", fmt.Errorf("awssecrets: invalid org id %q for a secret name", orgID)
	}
	if !validProvider(provider) {
		return "", fmt.Errorf("awssecrets: invalid provider id %q for a secret name", provider)
	}
	return CheckName(strings.Trim(prefix, "/") + "/orgs/" + orgID + "/" + provider + "/client_secret")
}

// DefaultClientName is the name of the platform's client for provider.
func DefaultClientName(prefix, provider string) (string, error) {
	if !validProvider(provider) {
		return "", fmt.Errorf("awssecrets: invalid provider id %q for a secret name", provider)
	}
	return CheckName(strings.Trim(prefix, "/") + "/default-clients/" + provider)
}

// TokenKeyName is the token key secret's name under prefix: what the
// template names it, and what local runs create.
func TokenKeyName(prefix string) (string, error) {
	return CheckName(strings.Trim(prefix, "/") + "/token-key")
}

// arnSuffixLike reports whether name ends like the random suffix Secrets
// Manager appends to a complete ARN: a hyphen and six characters.
func arnSuffixLike(name string) bool {
	r := []rune(name)
	return len(r) >= 7 && r[len(r)-7] == '-'
}

// CheckName returns name, or an error when it ends in a hyphen followed by
// six characters (see the package documentation).
func CheckName(name string) (string, error) {
	if arnSuffixLike(name) {
		return "", fmt.Errorf("awssecrets: secret name %q ends in a hyphen and six characters, which Secrets Manager takes for an ARN suffix", name)
	}
	return name, nil
}

// --- errors ------------------------------------------------------------------

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// isMarkedForDeletion: Secrets Manager answers InvalidRequestException for
// a secret scheduled for deletion (the only InvalidRequest a get or put of
// our own names can meet).
func isMarkedForDeletion(err error) bool {
	var ir *types.InvalidRequestException
	return errors.As(err, &ir)
}

func isThrottle(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "ThrottlingException" || api.ErrorCode() == "Throttling" || api.ErrorCode() == "RequestLimitExceeded")
}

func wrap(op string, err error) error {
	if isThrottle(err) {
		return fmt.Errorf("awssecrets: %s: %w: %w", op, store.ErrThrottled, err)
	}
	return fmt.Errorf("awssecrets: %s: %w", op, err)
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("awssecrets: %w", err)
	}
	return nil
}

// --- reads -------------------------------------------------------------------

// notFound is the cache's entry for a secret that does not exist (or is
// scheduled for deletion).
type notFound struct{}

// getString reads a secret's current string through the cache; missing is
// store.ErrNotFound.
func (s *Store) getString(ctx context.Context, name string) (string, error) {
	if store.IsUncached(ctx) {
		s.log.DebugContext(ctx, "secret read past the cache", "secret", name)
	} else if v, ok := s.vals.get(name, s.o.Now()); ok {
		if _, missing := v.(notFound); missing {
			return "", store.ErrNotFound
		}
		return v.(string), nil
	}
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if isNotFound(err) || isMarkedForDeletion(err) {
		s.log.DebugContext(ctx, "secret not found", "secret", name)
		if s.o.CacheTTL > 0 {
			s.vals.put(name, notFound{}, s.o.Now().Add(s.o.CacheTTL))
		}
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	v := aws.ToString(out.SecretString)
	if v == "" && len(out.SecretBinary) > 0 {
		v = string(out.SecretBinary)
	}
	s.log.DebugContext(ctx, "secret fetched", "secret", name)
	if s.o.CacheTTL > 0 {
		s.vals.put(name, v, s.o.Now().Add(s.o.CacheTTL))
	}
	return v, nil
}

// GetClientSecret implements store.Secrets.
func (s *Store) GetClientSecret(ctx context.Context, orgID, provider string) (string, error) {
	if err := checkCtx(ctx); err != nil {
		return "", err
	}
	name, err := ClientSecretName(s.o.Prefix, orgID, provider)
	if err != nil {
		return "", err
	}
	v, err := s.getString(ctx, name)
	if err != nil {
		return "", wrap("get "+name, err)
	}
	return v, nil
}

// DefaultClient implements store.Secrets.
func (s *Store) DefaultClient(ctx context.Context, provider string) (store.DefaultClient, error) {
	if err := checkCtx(ctx); err != nil {
		return store.DefaultClient{}, err
	}
	name, err := DefaultClientName(s.o.Prefix, provider)
	if err != nil {
		return store.DefaultClient{}, err
	}
	v, err := s.getString(ctx, name)
	if err != nil {
		return store.DefaultClient{}, wrap("get "+name, err)
	}
	var dc store.DefaultClient
	// The decoder's error could quote the value: report only the shape.
	if json.Unmarshal([]byte(v), &dc) != nil || dc.ClientID == "" || dc.ClientSecret == "" {
		return store.DefaultClient{}, fmt.Errorf("awssecrets: %s is not JSON with clientId and clientSecret", name)
	}
	return dc, nil
}

// --- writes ------------------------------------------------------------------

// PutClientSecret implements store.Secrets: a new version of the secret,
// created on first put (and restored if it was scheduled for deletion).
func (s *Store) PutClientSecret(ctx context.Context, orgID, provider, value string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	name, err := ClientSecretName(s.o.Prefix, orgID, provider)
	if err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("awssecrets: empty client secret for %s", name)
	}
	defer s.vals.drop(name)
	if err := s.put(ctx, name, value, "Client secret of org "+orgID+" for "+provider); err != nil {
		return wrap("put "+name, err)
	}
	s.log.InfoContext(ctx, "client secret stored", "secret", name)
	return nil
}

// errRetry: the secret changed state under a put (a deletion still being
// finished, a concurrent create, a restore just made); the put is tried
// again after a backoff.
var errRetry = errors.New("the secret is changing state")

// put stores value as the secret's current version, creating it (or
// restoring it from scheduled deletion) as needed, and waiting with backoff
// for a deletion Secrets Manager is still finishing.
func (s *Store) put(ctx context.Context, name, value, description string) error {
	start := time.Now()
	stop := start.Add(s.o.SettleBudget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-s.o.DeadlineReserve).Before(stop) {
		stop = dl.Add(-s.o.DeadlineReserve)
	}
	for attempt := 0; ; attempt++ {
		err := s.putOnce(ctx, name, value, description)
		if !errors.Is(err, errRetry) {
			return err
		}
		left := time.Until(stop)
		if left <= 0 {
			s.log.WarnContext(ctx, "secret not stored: its deletion is still in progress", "secret", name,
				"attempts", attempt+1, "waitedMs", time.Since(start).Milliseconds())
			return fmt.Errorf("%w: gave up after %d attempts in %v: %w", store.ErrUnavailable, attempt+1, time.Since(start).Round(time.Millisecond), err)
		}
		// Full jitter: a uniform delay up to the exponential step.
		delay := min(time.Duration(mrand.Int64N(int64(min(settleBackoffCap, settleBackoffBase<<min(attempt, 5)))+1)), left)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// putOnce makes one attempt at put: PutSecretValue, else CreateSecret, else
// RestoreSecret; errRetry when the secret's state is changing.
//
// No tags: tagging on create would need secretsmanager:TagResource too.
func (s *Store) putOnce(ctx context.Context, name, value, description string) error {
	_, err := s.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	switch {
	case err == nil:
		return nil
	case isNotFound(err):
		_, err = s.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
			Name: aws.String(name), SecretString: aws.String(value), Description: aws.String(description),
		})
		var exists *types.ResourceExistsException
		switch {
		case err == nil:
			return nil
		case errors.As(err, &exists):
			return fmt.Errorf("%w: created meanwhile: %w", errRetry, err) // put a version instead
		case isMarkedForDeletion(err):
			return fmt.Errorf("%w: create: %w", errRetry, err) // a forced deletion is still settling
		}
		return err
	case isMarkedForDeletion(err):
		// Scheduled for deletion with a recovery window (by someone else:
		// the service deletes without one): cancel it, then put again.
		if _, rerr := s.sm.RestoreSecret(ctx, &secretsmanager.RestoreSecretInput{SecretId: aws.String(name)}); rerr != nil && !isNotFound(rerr) && !isMarkedForDeletion(rerr) {
			return rerr
		}
		return fmt.Errorf("%w: put: %w", errRetry, err)
	}
	return err
}

// DeleteClientSecret implements store.Secrets. The secret is deleted without
// a recovery window.
func (s *Store) DeleteClientSecret(ctx context.Context, orgID, provider string) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	name, err := ClientSecretName(s.o.Prefix, orgID, provider)
	if err != nil {
		return err
	}
	defer s.vals.drop(name)
	_, err = s.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(name), ForceDeleteWithoutRecovery: aws.Bool(true)})
	if err != nil && !isNotFound(err) {
		return wrap("delete "+name, err)
	}
	s.log.InfoContext(ctx, "client secret deleted", "secret", name)
	return nil
}

// PutDefaultClient stores the platform's client for provider. For local
// runs, tests and operators; the functions only read default clients.
func (s *Store) PutDefaultClient(ctx context.Context, provider string, c store.DefaultClient) error {
	if err := checkCtx(ctx); err != nil {
		return err
	}
	name, err := DefaultClientName(s.o.Prefix, provider)
	if err != nil {
		return err
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return fmt.Errorf("awssecrets: default client for %s needs a client id and secret", provider)
	}
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("awssecrets: encode default client for %s", provider)
	}
	defer s.vals.drop(name)
	if err := s.put(ctx, name, string(v), "Platform OAuth client for "+provider); err != nil {
		return wrap("put "+name, err)
	}
	return nil
}

// --- token keys ----------------------------------------------------------------

const keyInfo = "sofie-integrations/token-key/v1"

// minKeyMaterial is the shortest secret string accepted as key material.
const minKeyMaterial = 32

// DeriveTokenKey turns the token-key secret's string into the AES-256 key.
func DeriveTokenKey(material []byte) ([]byte, error) {
	if len(material) < minKeyMaterial {
		return nil, fmt.Errorf("awssecrets: the token key secret holds %d bytes, need at least %d", len(material), minKeyMaterial)
	}
	return hkdf.Key(sha256.New, material, nil, keyInfo, 32)
}

type keyringEntry struct {
	current string
}

var missingKey = struct{}{}

// fetchKey reads one version of the token key (VersionStage AWSCURRENT when
// id is "").
func (s *Store) fetchKey(ctx context.Context, id string) (string, []byte, error) {
	if s.o.TokenKeySecretID == "" {
		return "", nil, errors.New("awssecrets: TOKEN_KEY_SECRET_ID is not configured for this function")
	}
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.o.TokenKeySecretID)}
	if id == "" {
		in.VersionStage = aws.String("AWSCURRENT")
	} else {
		in.VersionId = aws.String(id)
	}
	out, err := s.sm.GetSecretValue(ctx, in)
	if err != nil {
		return "", nil, err
	}
	material := out.SecretBinary
	if out.SecretString != nil {
		material = []byte(*out.SecretString)
	}
	key, err := DeriveTokenKey(material)
	clear(material)
	if err != nil {
		return "", nil, err
	}
	s.log.DebugContext(ctx, "token key fetched", "keyId", aws.ToString(out.VersionId))
	return aws.ToString(out.VersionId), key, nil
}

// TokenKeys implements store.Secrets: the current version seals; the
// keyring also holds every older version this instance has fetched.
func (s *Store) TokenKeys(ctx context.Context) (store.Keyring, error) {
	if err := checkCtx(ctx); err != nil {
		return store.Keyring{}, err
	}
	now := s.o.Now()
	var current string
	if e, ok := s.vals.get("\x00keyring", now); ok {
		current = e.(keyringEntry).current
	}
	if _, ok := s.keys.get(current, now); current == "" || !ok {
		id, key, err := s.fetchKey(ctx, "")
		if err != nil {
			return store.Keyring{}, wrap("token key", err)
		}
		current = id
		s.keys.put(id, key, time.Time{})
		if s.o.CacheTTL > 0 {
			s.vals.put("\x00keyring", keyringEntry{current: id}, now.Add(s.o.CacheTTL))
		}
	}
	kr := store.Keyring{Current: current, Keys: map[string][]byte{}}
	s.keys.each(func(id string, v any) {
		if k, ok := v.([]byte); ok {
			kr.Keys[id] = k
		}
	})
	if _, ok := kr.Keys[current]; !ok { // evicted between the two steps
		k, err := s.TokenKey(ctx, current)
		if err != nil {
			return store.Keyring{}, err
		}
		kr.Keys[current] = k
	}
	return kr, nil
}

// TokenKey implements store.Secrets: the key of one version of the token
// key secret.
func (s *Store) TokenKey(ctx context.Context, id string) ([]byte, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	if !validVersion(id) {
		return nil, fmt.Errorf("awssecrets: token key %q: %w", id, store.ErrNotFound)
	}
	if v, ok := s.keys.get(id, s.o.Now()); ok {
		if k, ok := v.([]byte); ok {
			return k, nil
		}
		return nil, fmt.Errorf("awssecrets: token key %q: %w", id, store.ErrNotFound)
	}
	_, key, err := s.fetchKey(ctx, id)
	if isNotFound(err) {
		// Version ids are never reused: remember the miss so that garbage
		// key ids cannot make every open call Secrets Manager.
		s.keys.put(id, missingKey, time.Time{})
		return nil, fmt.Errorf("awssecrets: token key %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, wrap("token key "+id, err)
	}
	s.keys.put(id, key, time.Time{})
	return key, nil
}

// RotateTokenKey puts a new random version of the token key secret (it
// becomes AWSCURRENT) and returns its id. For operators and tests; the
// functions never rotate.
func (s *Store) RotateTokenKey(ctx context.Context) (string, error) {
	if s.o.TokenKeySecretID == "" {
		return "", errors.New("awssecrets: TOKEN_KEY_SECRET_ID is not configured")
	}
	v, err := randomKeyMaterial()
	if err != nil {
		return "", err
	}
	out, err := s.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.o.TokenKeySecretID), SecretString: aws.String(v)})
	if err != nil {
		return "", wrap("rotate token key", err)
	}
	s.vals.drop("\x00keyring")
	s.log.InfoContext(ctx, "token key rotated", "keyId", aws.ToString(out.VersionId))
	return aws.ToString(out.VersionId), nil
}

func randomKeyMaterial() (string, error) {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("awssecrets: random key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// EnsureTokenKey creates the token key secret with random material unless
// it exists. Local runs only: deployed stacks create it in template.yaml.
func EnsureTokenKey(ctx context.Context, sm API, id string) error {
	_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return wrap("read token key "+id, err)
	}
	v, err := randomKeyMaterial()
	if err != nil {
		return err
	}
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(id), SecretString: aws.String(v), Description: aws.String("Token-encryption key (local)"),
	})
	var exists *types.ResourceExistsException
	if err != nil && !errors.As(err, &exists) {
		return wrap("create token key "+id, err)
	}
	return nil
}

// --- cache ---------------------------------------------------------------------

// lru is a bounded, expiring cache; the least recently used entry goes
// first when it is full. A zero expiry never expires.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recent
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val any
	exp time.Time
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(k string, now time.Time) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		return nil, false
	}
	e := el.Value.(*lruEntry)
	if !e.exp.IsZero() && !now.Before(e.exp) {
		c.order.Remove(el)
		delete(c.items, k)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

func (c *lru) put(k string, v any, exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		el.Value = &lruEntry{key: k, val: v, exp: exp}
		c.order.MoveToFront(el)
		return
	}
	c.items[k] = c.order.PushFront(&lruEntry{key: k, val: v, exp: exp})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruEntry).key)
	}
}

func (c *lru) drop(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.order.Remove(el)
		delete(c.items, k)
	}
}

func (c *lru) each(f func(k string, v any)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, el := range c.items {
		f(k, el.Value.(*lruEntry).val)
	}
}
