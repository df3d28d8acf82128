// Package localevents is the event side of local runs: the table's stream
// as the local server reads it for EventsFunction's event source mapping
// (Bolt: the embedded store's change feed; DynamoDB: moto_server's
// stream), and, on the embedded store, the bus: a file of the events as a
// rule's target would receive them (File, LOCAL_DATA_DIR/events.jsonl).
// With STORE=aws, EventsFunction puts its events on moto_server's
// EventBridge instead, through the same client a deployment uses.
package localevents

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/events"
)

// Source is a table's stream as the local server reads it
// (localserver.StreamSource).
type Source interface {
	Read(ctx context.Context, limit int) ([]awsevents.DynamoDBEventRecord, error)
	Ack(ctx context.Context, n int) error
}

// FileName is the events file in the data directory.
const FileName = "events.jsonl"

// Region and Account name the emulated bus, as the local server's ARNs do.
const (
	Region  = "us-east-1"
	Account = "000000000000"
)

// File is an events.Publisher that appends each event to a file, one JSON
// line each, in the form EventBridge delivers it to a rule's target
// (version, id, detail-type, source, account, time, region, resources,
// detail).
type File struct {
	Path string

	mu sync.Mutex
}

var _ events.Publisher = (*File)(nil)

// Publish implements events.Publisher: every entry is written, or the call
// fails whole.
func (f *File) Publish(_ context.Context, entries []events.Entry) ([]error, error) {
	if len(entries) == 0 || len(entries) > events.MaxBatch {
		return nil, fmt.Errorf("localevents: %d entries in one call, 1 to %d allowed (as PutEvents)", len(entries), events.MaxBatch)
	}
	var buf bytes.Buffer
	for _, e := range entries {
		line, err := json.Marshal(awsevents.EventBridgeEvent{
			Version: "0", ID: rand.Text(), DetailType: e.DetailType, Source: events.Source,
			AccountID: Account, Time: e.Time.UTC(), Region: Region, Resources: []string{},
			Detail: json.RawMessage(e.Detail),
		})
		if err != nil {
			return nil, fmt.Errorf("localevents: encode event: %w", err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return nil, fmt.Errorf("localevents: %w", err)
	}
	out, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("localevents: %w", err)
	}
	if _, err := out.Write(buf.Bytes()); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("localevents: write %s: %w", f.Path, err)
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("localevents: write %s: %w", f.Path, err)
	}
	return make([]error, len(entries)), nil
}

// ReadFile returns the events of an events file, oldest first; none when
// there is no file yet.
func ReadFile(path string) ([]awsevents.EventBridgeEvent, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("localevents: %w", err)
	}
	var out []awsevents.EventBridgeEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var e awsevents.EventBridgeEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("localevents: %s: %w", path, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
