package moto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is a failure injected at the wire, in the proxy between the SDK and
// moto_server, so that the SDK's own retry path runs exactly as it does
// against AWS: the SDK sees an error answer (or moto's own answer after
// Before has run) for the requests the fault matches.
//
//	// Throttle every attempt of the next TransactWriteItems on this test's
//	// table: the SDK retries 4 times, then the store sees ErrThrottled.
//	moto.Inject(t, moto.Fault{Table: table, Operation: "TransactWriteItems",
//		Code: moto.Throttling, Calls: 1})
//
// Matching fields are ANDed; their zero values match anything.
type Fault struct {
	// Operation is the API operation (the X-Amz-Target suffix): PutItem,
	// TransactWriteItems, GetSecretValue, ...
	Operation string
	// Table is a DynamoDB table the request names (TableName, or the
	// TableName of any of a transaction's items). Tests name tables with
	// Prefix, so this keeps a fault to its test.
	Table string
	// Contains are substrings that must all appear in the request body,
	// e.g. a key ("CONN#salesforce") or a secret name.
	Contains []string
	// Match, when set, must also accept the request body.
	Match func(body []byte) bool

	// Times is how many requests (SDK attempts) the fault applies to. Calls
	// is how many operations it applies to, every attempt of each (the SDK
	// marks the attempts of one operation with one amz-sdk-invocation-id):
	// a Calls fault with a throttling Code outlasts the SDK's retries. With
	// both zero the fault applies until removed.
	Times int
	Calls int

	// Code is the error answered instead of moto's answer (the API's error
	// type, e.g. Throttling, ProvisionedThroughputExceeded,
	// ConditionalCheckFailed, TransactionCanceled). Empty: the request goes
	// on to moto (after Before).
	Code string
	// Status is the HTTP status of the error answer (default 400; 500 for
	// InternalServerError).
	Status int
	// Message is the error answer's message.
	Message string
	// Reasons are a TransactionCanceled answer's cancellation reason codes,
	// one per transaction item ("None", "ConditionalCheckFailed",
	// "ThrottlingError", "TransactionConflict").
	Reasons []string
	// Before runs before a matched request is answered or passed on, outside
	// the proxy's one-at-a-time section, so it may itself call moto: this
	// is how a test lands a concurrent writer's change between the service's
	// read and its conditional write. It runs once per matched request.
	Before func()
	// Observe, when set, is given the body of each matched request (before
	// Before): a fault with Observe and no Code watches the traffic.
	Observe func(body []byte)
}

// Error codes a Fault can answer with.
const (
	// Throttling is DynamoDB's request-rate throttling.
	Throttling = "ThrottlingException"
	// ProvisionedThroughputExceeded is DynamoDB's capacity throttling.
	ProvisionedThroughputExceeded = "ProvisionedThroughputExceededException"
	// ConditionalCheckFailed is a failed write condition.
	ConditionalCheckFailed = "ConditionalCheckFailedException"
	// TransactionCanceled is a cancelled TransactWriteItems; Reasons say why.
	TransactionCanceled = "TransactionCanceledException"
	// InternalServerError is a 500 from the service.
	InternalServerError = "InternalServerError"
	// InvalidRequest is Secrets Manager's answer to an operation the
	// secret's state does not allow (e.g. scheduled for deletion).
	InvalidRequest = "InvalidRequestException"
)

// SDKAttemptsDynamoDB is how many attempts the SDK's standard retryer makes
// on a DynamoDB operation (its DynamoDB default); a fault with Times below
// it is absorbed by the retries.
const SDKAttemptsDynamoDB = 4

// Injected is a fault in place.
type Injected struct {
	f Fault

	mu          sync.Mutex
	hits        int
	invocations []string // Calls: the operations it has taken
	removed     bool
}

// Hits returns how many requests the fault has answered (or, with no
// Code, acted on).
func (in *Injected) Hits() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.hits
}

// Remove takes the fault out; safe to call more than once.
func (in *Injected) Remove() {
	faults.mu.Lock()
	faults.list = slices.DeleteFunc(faults.list, func(x *Injected) bool { return x == in })
	faults.mu.Unlock()
	in.mu.Lock()
	in.removed = true
	in.mu.Unlock()
}

var faults struct {
	mu   sync.Mutex
	list []*Injected
}

// Inject adds a fault to this test binary's proxy; it is removed when t
// ends. Faults are tried in the order added; the first that matches a
// request (and has uses left) applies.
func Inject(t testing.TB, f Fault) *Injected {
	t.Helper()
	in := &Injected{f: f}
	faults.mu.Lock()
	faults.list = append(faults.list, in)
	faults.mu.Unlock()
	t.Cleanup(in.Remove)
	return in
}

// request is what a fault is matched on.
type request struct {
	operation  string
	invocation string
	body       []byte
	tables     []string
}

func parseRequest(r *http.Request, body []byte) request {
	req := request{body: body, invocation: r.Header.Get("Amz-Sdk-Invocation-Id")}
	target := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndexByte(target, '.'); i >= 0 {
		req.operation = target[i+1:]
	}
	var shape struct {
		TableName     string
		TransactItems []map[string]struct{ TableName string }
		RequestItems  map[string]json.RawMessage
	}
	if json.Unmarshal(body, &shape) == nil {
		if shape.TableName != "" {
			req.tables = append(req.tables, shape.TableName)
		}
		for _, it := range shape.TransactItems {
			for _, op := range it {
				req.tables = append(req.tables, op.TableName)
			}
		}
		for name := range shape.RequestItems {
			req.tables = append(req.tables, name)
		}
	}
	return req
}

func (f Fault) matches(r request) bool {
	if f.Operation != "" && f.Operation != r.operation {
		return false
	}
	if f.Table != "" && !slices.Contains(r.tables, f.Table) {
		return false
	}
	for _, s := range f.Contains {
		if !bytes.Contains(r.body, []byte(s)) {
			return false
		}
	}
	return f.Match == nil || f.Match(r.body)
}

// take reports whether in applies to r, counting the use.
func (in *Injected) take(r request) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.removed || !in.f.matches(r) {
		return false
	}
	switch {
	case in.f.Calls > 0:
		if !slices.Contains(in.invocations, r.invocation) || r.invocation == "" {
			if len(in.invocations) >= in.f.Calls {
				return false
			}
			in.invocations = append(in.invocations, r.invocation)
		}
	case in.f.Times > 0:
		if in.hits >= in.f.Times {
			return false
		}
	}
	in.hits++
	return true
}

// faultFor returns the fault that applies to the request, if any.
func faultFor(r request) (Fault, bool) {
	faults.mu.Lock()
	list := slices.Clone(faults.list)
	faults.mu.Unlock()
	for _, in := range list {
		if in.take(r) {
			return in.f, true
		}
	}
	return Fault{}, false
}

// intercept applies a matching fault to the request: it runs the fault's
// Before, and writes its error answer (true) or leaves the request to be
// passed on (false). The request's body is restored for passing on.
func intercept(w http.ResponseWriter, r *http.Request) bool {
	faults.mu.Lock()
	none := len(faults.list) == 0
	faults.mu.Unlock()
	if none || r.Body == nil {
		return false
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	f, ok := faultFor(parseRequest(r, body))
	if !ok {
		return false
	}
	if f.Observe != nil {
		f.Observe(body)
	}
	if f.Before != nil {
		f.Before()
	}
	if f.Code == "" {
		return false
	}
	writeError(w, f)
	return true
}

// writeError answers as the AWS JSON protocols (DynamoDB's 1.0, Secrets
// Manager's 1.1) do: the error type in X-Amzn-ErrorType and __type.
func writeError(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
		if f.Code == InternalServerError {
			status = http.StatusInternalServerError
		}
	}
	msg := f.Message
	if msg == "" {
		msg = fmt.Sprintf("injected %s", f.Code)
	}
	body := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + f.Code, "message": msg}
	if len(f.Reasons) > 0 {
		var reasons []map[string]string
		for _, c := range f.Reasons {
			reason := map[string]string{"Code": c}
			if c != "None" {
				reason["Message"] = "injected " + c
			}
			reasons = append(reasons, reason)
		}
		body["CancellationReasons"] = reasons
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", f.Code)
	// DynamoDB signs every answer with a CRC32 of its body; the SDK checks it.
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// DeletionPendingMessage is what Secrets Manager answers a CreateSecret of a
// name whose deletion is not finished.
const DeletionPendingMessage = "You can't create this secret because a secret with this name is already scheduled for deletion."

// SimulateSecretDeletionDelay makes the proxy behave as Secrets Manager does
// after DeleteSecret with ForceDeleteWithoutRecovery, for secrets whose
// names start with namePrefix: the deletion is finished in the background,
// so for delay after the DeleteSecret a CreateSecret of the same name
// answers InvalidRequestException "already scheduled for deletion"
// (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html:
// "there might be a short delay before the secret is permanently deleted.
// If you delete a secret and then immediately create a secret with the
// same name, use appropriate back off and retry logic"). moto deletes at
// once; everything else still goes to it. The returned fault counts the
// refused creates. Both faults are removed when t ends.
func SimulateSecretDeletionDelay(t testing.TB, namePrefix string, delay time.Duration) *Injected {
	t.Helper()
	var mu sync.Mutex
	deleted := map[string]time.Time{}
	secretID := func(body []byte) string {
		var in struct{ SecretId, Name string }
		_ = json.Unmarshal(body, &in)
		return in.SecretId + in.Name
	}
	Inject(t, Fault{
		Operation: "DeleteSecret",
		Match: func(body []byte) bool {
			var in struct{ ForceDeleteWithoutRecovery bool }
			_ = json.Unmarshal(body, &in)
			return in.ForceDeleteWithoutRecovery && strings.HasPrefix(secretID(body), namePrefix)
		},
		Observe: func(body []byte) {
			mu.Lock()
			defer mu.Unlock()
			deleted[secretID(body)] = time.Now()
		},
	})
	return Inject(t, Fault{
		Operation: "CreateSecret",
		Code:      InvalidRequest,
		Message:   DeletionPendingMessage,
		Match: func(body []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			at, ok := deleted[secretID(body)]
			return ok && time.Since(at) < delay
		},
	})
}
