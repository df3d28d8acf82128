package localserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

const streamTemplate = `
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {}
  StreamFunction:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 5
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref StreamFunction
      EventSourceArn: !GetAtt Table.StreamArn
      BatchSize: 3
      FunctionResponseTypes: [ReportBatchItemFailures]
      FilterCriteria:
        Filters:
          - Pattern: '{"dynamodb":{"NewImage":{"type":{"S":["connection"]}}}}'
          - Pattern: '{"dynamodb":{"OldImage":{"type":{"S":["connection"]}}}}'
`

// memSource is a stream of n records, "connection" items except every
// fifth ("state"), with acknowledgements recorded.
type memSource struct {
	mu      sync.Mutex
	records []events.DynamoDBEventRecord
	acked   int
	lastLen int
}

func newMemSource(n int) *memSource {
	s := &memSource{}
	for i := range n {
		typ := "connection"
		if i%5 == 4 {
			typ = "state"
		}
		s.records = append(s.records, events.DynamoDBEventRecord{
			EventID: fmt.Sprint("e", i), EventName: "MODIFY",
			Change: events.DynamoDBStreamRecord{
				SequenceNumber: fmt.Sprintf("%021d", i),
				NewImage:       map[string]events.DynamoDBAttributeValue{"type": events.NewStringAttribute(typ)},
			},
		})
	}
	return s
}

func (s *memSource) Read(_ context.Context, limit int) ([]events.DynamoDBEventRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.records[s.acked:min(s.acked+limit, len(s.records))]
	s.lastLen = len(out)
	return out, nil
}

func (s *memSource) Ack(_ context.Context, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.lastLen {
		return errors.New("acknowledged more than read")
	}
	s.acked += n
	return nil
}

func streamServer(t *testing.T, src StreamSource, h lambda.Handler) *Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(streamTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Template: path, JWTSecret: testSecret, Streams: src, Handlers: map[string]lambda.Handler{"StreamFunction": h}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDrainStreams plays the mapping as Lambda does: batches of BatchSize
// after filtering, the records before a reported failure acknowledged and
// the rest delivered again, a failed invocation's batch delivered again.
func TestDrainStreams(t *testing.T) {
	src := newMemSource(12) // records e4 and e9 are states: filtered out
	var mu sync.Mutex
	var delivered []string
	failOnce := map[string]bool{"e6": true} // the function fails e6 once
	crashOnce := true
	h := lambda.NewHandler(func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(ev.Records) > 3 {
			return events.DynamoDBEventResponse{}, fmt.Errorf("a batch of %d", len(ev.Records))
		}
		if crashOnce && ev.Records[0].EventID == "e10" {
			crashOnce = false
			return events.DynamoDBEventResponse{}, errors.New("crash")
		}
		resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
		for _, r := range ev.Records {
			if failOnce[r.EventID] {
				failOnce[r.EventID] = false
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
				break
			}
			delivered = append(delivered, r.EventID)
		}
		return resp, nil
	})
	s := streamServer(t, src, h)
	ctx := context.Background()
	var drains []StreamResult
	for range 5 {
		res, err := s.DrainStreams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		drains = append(drains, res)
		if !res.Retry {
			break
		}
	}
	if len(drains) != 3 || !drains[0].Retry || !drains[1].Retry || drains[2].Retry {
		t.Fatalf("drains %+v: want a retry after e6's failure, one after the crash, then done", drains)
	}
	want := "e0 e1 e2 e3 e5 e6 e7 e8 e10 e11"
	if got := strings.Join(delivered, " "); got != want {
		t.Errorf("processed %s, want %s (each once, in order, states filtered out)", got, want)
	}
	if src.acked != 12 {
		t.Errorf("acknowledged %d of 12", src.acked)
	}
	// Nothing left: a drain invokes nothing.
	if res, _ := s.DrainStreams(ctx); res.Invocations != 0 {
		t.Errorf("an empty stream invoked the function: %+v", res)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter(`{"dynamodb":{"NewImage":{"type":{"S":["connection","integration"]}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(typ string) map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(`{"dynamodb":{"NewImage":{"type":{"S":"`+typ+`"}}}}`), &m)
		return m
	}
	if !f.Matches(rec("integration")) || f.Matches(rec("state")) || f.Matches(map[string]any{"dynamodb": map[string]any{}}) {
		t.Error("matching is wrong")
	}
	for _, unsupported := range []string{
		`{"dynamodb":{"NewImage":{"type":{"S":[{"prefix":"conn"}]}}}}`,
		`{"dynamodb":{"NewImage":{"type":{"S":[{"exists":true}]}}}}`,
		`{"dynamodb":5}`,
		`not json`,
	} {
		if _, err := ParseFilter(unsupported); err == nil {
			t.Errorf("%s was accepted: the local server would not evaluate it as Lambda does", unsupported)
		}
	}
}
