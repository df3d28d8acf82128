// Package boltstore is the embedded, durable adapter of every storage port
// (store.Store and store.Secrets) for local runs: one bbolt file,
// <dir>/integrations.db, created with mode 0600 in a 0700 directory.
//
// It mirrors the DynamoDB and Secrets Manager adapters' semantics exactly
// (the contract suite in package storetest runs against both): optimistic
// versions, exactly-once state consumption, refresh-lease exclusivity, a
// due-index that is read in due order and never walks other connections.
// bbolt serialises writers, so every read-check-write below runs inside one
// write transaction and is atomic.
//
// Buckets and keys (components escaped so '#' separates them unambiguously):
//
//	integrations       org#provider                      → Integration (JSON)
//	audit              org#<at>#id                       → AuditEntry
//	states             id                                → OAuthState
//	connections        org#user#provider                 → Connection
//	conns_by_provider  org#provider#user                 → (index)
//	due                <nextRefreshAt>#org#user#provider → (index, sparse)
//	client_secrets     org#provider                      → secret value
//	default_clients    provider                          → DefaultClient
//	token_keys         key id                            → 32-byte AES key
//	meta               "token_key_current"               → key id
//	rate_limits        name#subject#<window start>       → count and expiry (limits.go; created on first use)
//	refresh_summaries  org#provider                      → RefreshSummary (rollout.go; created on first use)
//	connect_attempts   org#provider#user                 → ConnectAttempt (rollout.go; created on first use)
//	changes            seq (uint64, big-endian)          → Change: the connection or integration before and after a write (changes.go)
//
// Times in keys are fixed-width UTC (2006-01-02T15:04:05.000000000Z), so
// byte order is time order.
//
// A process may Open the same directory more than once (the local server
// builds one set of dependencies per function): the handles share one
// bbolt database, closed when the last handle is closed.
package boltstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sofie/integrations/shared/store"
)

// FileName is the database file inside the data directory.
const FileName = "integrations.db"

// Page limits, the same as the DynamoDB adapter's.
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

var (
	bIntegrations = []byte("integrations")
	bAudit        = []byte("audit")
	bStates       = []byte("states")
	bCompletions  = []byte("completions")
	bConnsByGrant = []byte("conns_by_grant")
	bConnsOff     = []byte("conns_off_index")
	bHealth       = []byte("client_health")
	bJobs         = []byte("jobs")
	bConns        = []byte("connections")
	bConnsByProv  = []byte("conns_by_provider")
	bDue          = []byte("due")
	bClientSecret = []byte("client_secrets")
	bDefaults     = []byte("default_clients")
	bTokenKeys    = []byte("token_keys")
	bMeta         = []byte("meta")

	allBuckets = [][]byte{bIntegrations, bAudit, bStates, bCompletions, bConns, bConnsByProv, bConnsByGrant, bConnsOff, bHealth, bJobs, bDue, bClientSecret, bDefaults, bTokenKeys, bMeta, bChanges}

	metaCurrentKey = []byte("token_key_current")
)

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string

	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Secrets = (*Store)(nil)
)

// Open handles share one database per file within a process: bbolt takes
// an exclusive file lock, so a second bolt.Open of the same file in the same
// process would wait for ever.
var registry = struct {
	sync.Mutex
	dbs map[string]*sharedDB
}{dbs: map[string]*sharedDB{}}

type sharedDB struct {
	db   *bolt.DB
	refs int
}

// Open opens (creating if needed) the store in dir. On first open it
// generates the token-encryption key. Close releases it.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("boltstore: empty data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("boltstore: create data directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("boltstore: resolve path: %w", err)
	}

	registry.Lock()
	defer registry.Unlock()
	if s, ok := registry.dbs[path]; ok {
		s.refs++
		return &Store{db: s.db, path: path}, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("boltstore: %s is locked by another process (is another local server running?)", path)
		}
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	// The file holds client secrets and the token key: keep it private even
	// if it was created by something with a looser umask.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: restrict %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if tx.Bucket(bMeta).Get(metaCurrentKey) == nil {
			if _, err := addTokenKey(tx); err != nil {
				return err
			}
		}
		if err := sweepExpired(tx.Bucket(bStates), time.Now()); err != nil {
			return err
		}
		if err := sweepExpired(tx.Bucket(bCompletions), time.Now()); err != nil {
			return err
		}
		if b := tx.Bucket(bAttempts); b != nil {
			if err := sweepExpired(b, time.Now()); err != nil {
				return err
			}
		}
		if err := indexGrants(tx); err != nil {
			return err
		}
		return indexOff(tx)
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: initialise %s: %w", path, err)
	}
	registry.dbs[path] = &sharedDB{db: db, refs: 1}
	return &Store{db: db, path: path}, nil
}

// Close releases this handle; the database closes with the last one.
// Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		registry.Lock()
		defer registry.Unlock()
		sh, ok := registry.dbs[s.path]
		if !ok || sh.db != s.db {
			return
		}
		if sh.refs--; sh.refs == 0 {
			delete(registry.dbs, s.path)
			s.closeErr = sh.db.Close()
		}
	})
	return s.closeErr
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// stateGrace is how long after expiry an unconsumed state or pending
// completion is kept before Open sweeps it: like DynamoDB's TTL deletion,
// removal is lazy, and consuming an expired one is refused whether or not
// it was swept.
const stateGrace = 24 * time.Hour

// sweepExpired deletes the records of b (states, pending completions) that
// expired more than stateGrace ago.
func sweepExpired(b *bolt.Bucket, now time.Time) error {
	var dead [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		var st struct {
			ExpiresAt time.Time `json:"expiresAt"`
		}
		if json.Unmarshal(v, &st) != nil || st.ExpiresAt.Add(stateGrace).Before(now) {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// --- encoding helpers -------------------------------------------------------

var (
	escaper   = strings.NewReplacer("%", "%25", "#", "%23")
	unescaper = strings.NewReplacer("%23", "#", "%25", "%")
)

// key joins escaped components with '#'. Escaping keeps a prefix such as
// "org#user#" from matching the keys of a user named "user#x".
func key(parts ...string) []byte {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('#')
		}
		b.WriteString(escaper.Replace(p))
	}
	return []byte(b.String())
}

// prefix is key(parts...) + "#": every key that extends parts.
func prefix(parts ...string) []byte { return append(key(parts...), '#') }

func splitKey(k []byte) []string {
	parts := strings.Split(string(k), "#")
	for i, p := range parts {
		parts[i] = unescaper.Replace(p)
	}
	return parts
}

// timeLayout is fixed width so that keys sort in time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func timeKey(t time.Time) string { return t.UTC().Format(timeLayout) }

func encodeCursor(k []byte) string { return base64.RawURLEncoding.EncodeToString(k) }

// decodeCursor returns the key a cursor names, which must start with want.
func decodeCursor(c string, want []byte) ([]byte, error) {
	k, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !bytes.HasPrefix(k, want) || len(k) == len(want) {
		return nil, store.ErrInvalidCursor
	}
	return k, nil
}

// pageForward walks bucket b in key order from start (the first key when
// nil), or from just past after when a cursor named one, while within(k)
// holds, handing each entry to take until limit are taken. It returns the
// cursor of the last entry taken when more remain, else "". The listings
// that page forward share it; a missing bucket is an empty one.
func pageForward(b *bolt.Bucket, start, after []byte, within func(k []byte) bool, limit int, take func(k, v []byte) error) (string, error) {
	if b == nil {
		return "", nil
	}
	c := b.Cursor()
	var k, v []byte
	switch {
	case after != nil:
		if k, v = c.Seek(after); bytes.Equal(k, after) {
			k, v = c.Next()
		}
	case start != nil:
		k, v = c.Seek(start)
	default:
		k, v = c.First()
	}
	var last []byte
	for taken := 0; k != nil && within(k); k, v = c.Next() {
		if taken == limit {
			return encodeCursor(last), nil
		}
		if err := take(k, v); err != nil {
			return "", err
		}
		taken++
		last = k
	}
	return "", nil
}

// hasPrefix is pageForward's bound for a listing of the keys under p.
func hasPrefix(p []byte) func(k []byte) bool {
	return func(k []byte) bool { return bytes.HasPrefix(k, p) }
}

func pageLimit(p store.Page) int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	normalizeTimes(reflect.ValueOf(v))
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	return b.Put(k, data)
}

func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode record: %w", err)
	}
	return true, nil
}

var timeType = reflect.TypeFor[time.Time]()

// normalizeTimes sets every time.Time reachable from v (a pointer) to UTC
// without a monotonic reading, as the DynamoDB adapter stores them, so both
// adapters return identical records.
func normalizeTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			normalizeTimes(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				t := v.Interface().(time.Time)
				v.Set(reflect.ValueOf(t.UTC().Round(0)))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalizeTimes(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			normalizeTimes(v.Index(i))
		}
	}
}

func checkCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	return nil
}

func required(what ...string) error {
	for i := 0; i+1 < len(what); i += 2 {
		if what[i+1] == "" {
			return fmt.Errorf("boltstore: empty %s", what[i])
		}
	}
	return nil
}

func newKeyID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "local-" + hex.EncodeToString(b), nil
}
