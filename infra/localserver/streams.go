package localserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Stream is an event source mapping of a DynamoDB stream to a function.
type Stream struct {
	// Mapping is the mapping's logical id.
	Mapping string
	// Source is the logical id of the table whose stream it reads.
	Source    string
	BatchSize int
	// Window is MaximumBatchingWindowInSeconds.
	Window time.Duration
	// PartialBatch: the function answers which record failed
	// (FunctionResponseTypes ReportBatchItemFailures).
	PartialBatch bool
	// Filters are the FilterCriteria patterns; a record passes when it
	// matches one (none: every record passes).
	Filters []Filter
}

func (t *Template) stream(id string, p map[string]any) (Stream, string, error) {
	s := Stream{Mapping: id, BatchSize: 100}
	fn := ""
	if ref, ok := p["FunctionName"].(map[string]any); ok {
		fn, _ = ref["Ref"].(string)
	}
	att, _ := p["EventSourceArn"].(map[string]any)
	ga, _ := att["Fn::GetAtt"].([]any)
	if len(ga) != 2 || ga[1] != "StreamArn" {
		return s, "", errors.New("EventSourceArn must be !GetAtt <Table>.StreamArn (the local server emulates DynamoDB streams only)")
	}
	s.Source, _ = ga[0].(string)
	if r, ok := t.Resources[s.Source]; !ok || r.Type != "AWS::DynamoDB::Table" {
		return s, "", fmt.Errorf("%s is not a table of the template", s.Source)
	}
	num := func(name string) (int, bool, error) {
		v, ok := p[name]
		if !ok {
			return 0, false, nil
		}
		str, err := t.resolveString(v)
		if err != nil {
			return 0, false, err
		}
		n, err := strconv.Atoi(str)
		if err != nil {
			return 0, false, fmt.Errorf("%s %q is not a number", name, str)
		}
		return n, true, nil
	}
	if n, ok, err := num("BatchSize"); err != nil {
		return s, "", err
	} else if ok {
		s.BatchSize = n
	}
	if n, ok, err := num("MaximumBatchingWindowInSeconds"); err != nil {
		return s, "", err
	} else if ok {
		s.Window = time.Duration(n) * time.Second
	}
	if types, ok := p["FunctionResponseTypes"].([]any); ok {
		s.PartialBatch = slices.Contains(types, any("ReportBatchItemFailures"))
	}
	fc, _ := p["FilterCriteria"].(map[string]any)
	filters, _ := fc["Filters"].([]any)
	for _, f := range filters {
		m, _ := f.(map[string]any)
		pat, _ := m["Pattern"].(string)
		parsed, err := ParseFilter(pat)
		if err != nil {
			return s, "", err
		}
		s.Filters = append(s.Filters, parsed)
	}
	return s, fn, nil
}

// Filter is a Lambda event filter pattern, of the one form the local
// server evaluates: nested objects whose leaves are lists of exact string
// values ({"dynamodb":{"NewImage":{"type":{"S":["connection"]}}}}). A key
// of the pattern must be in the record, and a leaf's value one of the
// list's (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html#filtering-syntax).
type Filter map[string]any

// ParseFilter parses a pattern, refusing what the local server cannot
// evaluate (prefix, exists, numeric and other operators).
func ParseFilter(pattern string) (Filter, error) {
	var f Filter
	if err := json.Unmarshal([]byte(pattern), &f); err != nil {
		return nil, fmt.Errorf("filter pattern %q: %w", pattern, err)
	}
	var check func(m map[string]any) error
	check = func(m map[string]any) error {
		for k, v := range m {
			switch x := v.(type) {
			case map[string]any:
				if err := check(x); err != nil {
					return err
				}
			case []any:
				for _, e := range x {
					if _, ok := e.(string); !ok {
						return fmt.Errorf("filter pattern %q: %s: only lists of exact strings are emulated", pattern, k)
					}
				}
			default:
				return fmt.Errorf("filter pattern %q: %s is neither an object nor a list", pattern, k)
			}
		}
		return nil
	}
	return f, check(f)
}

// Matches reports whether the record (as JSON, the way Lambda filters it)
// matches the pattern.
func (f Filter) Matches(record map[string]any) bool {
	var match func(p map[string]any, r any) bool
	match = func(p map[string]any, r any) bool {
		rm, ok := r.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range p {
			rv, ok := rm[k]
			if !ok {
				return false
			}
			switch x := v.(type) {
			case map[string]any:
				if !match(x, rv) {
					return false
				}
			case []any:
				if !slices.Contains(x, rv) {
					return false
				}
			}
		}
		return true
	}
	return match(f, record)
}

// StreamSource is a table's stream as the local server reads it for an
// event source mapping: the embedded store's change feed, or a DynamoDB
// stream on moto_server (package localevents).
type StreamSource interface {
	// Read returns up to limit records after the acknowledged ones,
	// oldest first.
	Read(ctx context.Context, limit int) ([]events.DynamoDBEventRecord, error)
	// Ack marks the first n records of the last Read processed.
	Ack(ctx context.Context, n int) error
}

// StreamResult is what one DrainStreams did.
type StreamResult struct {
	Records     int // delivered to the function
	Filtered    int // passed over by the mapping's filters
	Invocations int
	// Retry: the function reported a failed record (or failed); what
	// follows it waits for the next drain, as Lambda retries it.
	Retry bool
}

// DrainStreams plays each stream event source mapping once, as Lambda
// does: it reads the source's records in batches of the mapping's
// BatchSize, passes over those no filter matches, invokes the function
// with the rest as a DynamoDB event, and acknowledges what the function
// processed: everything, or with a partial batch response the records
// before the first failed one (the rest come again next time; so does a
// whole batch whose invocation failed). It returns when the source is
// exhausted or a batch must be retried. Without a source (Options.Streams)
// it does nothing.
func (s *Server) DrainStreams(ctx context.Context) (StreamResult, error) {
	var res StreamResult
	if s.streams == nil {
		return res, nil
	}
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	for _, id := range s.tmpl.FunctionIDs() {
		f := s.functions[id]
		for _, st := range f.def.Streams {
			for {
				records, err := s.streams.Read(ctx, st.BatchSize)
				if err != nil || len(records) == 0 {
					return res, err
				}
				batch := make([]events.DynamoDBEventRecord, 0, len(records))
				for _, r := range records {
					if st.Passes(r) {
						batch = append(batch, r)
					} else {
						res.Filtered++
					}
				}
				done := len(records)
				if len(batch) > 0 {
					res.Invocations++
					res.Records += len(batch)
					failed, err := s.invokeStream(ctx, f, st, batch)
					if err != nil {
						res.Retry = true
						s.log.Warn("stream batch failed; it is retried", "function", id, "mapping", st.Mapping, "err", err.Error())
						return res, nil
					}
					if failed != "" {
						done = slices.IndexFunc(records, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == failed })
						if done < 0 {
							return res, fmt.Errorf("%s answered a failed record %q that was not in its batch", id, failed)
						}
						res.Retry = true
					}
				}
				if err := s.streams.Ack(ctx, done); err != nil {
					return res, err
				}
				if res.Retry {
					return res, nil
				}
			}
		}
	}
	return res, nil
}

// Passes applies the mapping's filters to a record, as Lambda does before
// it batches records for the function.
func (st Stream) Passes(r events.DynamoDBEventRecord) bool {
	if len(st.Filters) == 0 {
		return true
	}
	b, err := json.Marshal(r)
	if err != nil {
		return false
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return false
	}
	for _, f := range st.Filters {
		if f.Matches(m) {
			return true
		}
	}
	return false
}

// invokeStream invokes f with one batch and returns the sequence number of
// the first failed record it reported ("" for none).
func (s *Server) invokeStream(ctx context.Context, f *function, st Stream, batch []events.DynamoDBEventRecord) (string, error) {
	out, _, err := s.invoke(ctx, f, marshalEvent(events.DynamoDBEvent{Records: batch}))
	if err != nil {
		return "", err
	}
	if !st.PartialBatch {
		return "", nil
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return "", fmt.Errorf("partial batch response %.200s: %w", out, err)
	}
	first := -1
	for _, failure := range resp.BatchItemFailures {
		// Lambda retries from the lowest sequence number reported.
		i := slices.IndexFunc(batch, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == failure.ItemIdentifier })
		if i < 0 {
			return "", fmt.Errorf("reported failed record %q is not in the batch", failure.ItemIdentifier)
		}
		if first < 0 || i < first {
			first = i
		}
	}
	if first < 0 {
		return "", nil
	}
	return batch[first].Change.SequenceNumber, nil
}

// RunStreams drains the streams every interval (default: one second; a
// deployment batches for up to the mapping's MaximumBatchingWindowInSeconds)
// until ctx ends.
func (s *Server) RunStreams(ctx context.Context, every time.Duration) {
	if s.streams == nil {
		return
	}
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := s.DrainStreams(ctx)
		if err != nil {
			s.log.Error("reading the table's stream failed", "err", err.Error())
			continue
		}
		if res.Invocations > 0 {
			s.log.Debug("stream drained", "records", res.Records, "invocations", res.Invocations, "retry", res.Retry)
		}
	}
}
