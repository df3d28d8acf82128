// Package localserver runs the service's functions the way API Gateway and
// Lambda run them, on a developer's machine or inside a test, without Docker
// or an AWS account.
//
// It reads template.yaml for every function's HttpApi routes, their
// authorizer and the schedule (so there is no second route list to keep in
// sync), and then:
//
//   - APIHandler turns each HTTP request into the API Gateway HTTP API (v2)
//     event the route would produce, with the JWT authorizer's claims as API
//     Gateway passes them (every value a string, lists as "[a b]"), invokes
//     that function's own lambda.Handler in-process with a Lambda context
//     (request id, deadline from the template's Timeout), the payload going
//     through JSON exactly as in Lambda, and writes back its response;
//   - InvokeHandler answers the Lambda Invoke API as `sam local start-lambda`
//     does, so `aws lambda invoke --endpoint-url ...` works;
//   - RunSchedule invokes scheduled functions on the template's rate with an
//     EventBridge Scheduled Event;
//   - DrainStreams and RunStreams play the template's event source mappings
//     of the table's stream: records from a StreamSource (the embedded
//     store's change feed, or moto_server's stream), filtered and batched
//     as the mapping says, with its partial batch responses honoured.
//
// cmd/localserver (make run) and package localtest both build on it, so tests
// go through the same path as local runs.
package localserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"

	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/shared/app"
)

// Fixed identifiers of the emulated account, as they appear in ARNs and
// events.
const (
	Region    = "us-east-1"
	AccountID = "000000000000"
	APIID     = "local"
)

// Options configure a Server.
type Options struct {
	// Template is the path of template.yaml.
	Template string
	// Deps builds each function's handler through localapp.Handler. May be nil
	// when Handlers covers every function of the template.
	Deps *app.Deps
	// Handlers replace the handler of some functions (tests).
	Handlers map[string]lambda.Handler
	// JWTSecret verifies bearer tokens (HS256) on routes with an authorizer.
	JWTSecret []byte
	// Issuer and Audiences accepted in tokens; default LocalIssuer and
	// LocalAudience.
	Issuer    string
	Audiences []string
	// Logger receives the server's own log lines (one per request and
	// invocation). Default slog.Default().
	Logger *slog.Logger
	// Now is the clock of token checks and event times. Default time.Now.
	Now func() time.Time
	// ScheduleInterval, when set, replaces the interval of every rate()
	// schedule (a quicker loop for local experiments).
	ScheduleInterval time.Duration
	// Parameters are template parameter values, as a deployment would set
	// them (ParametersFromEnv); the others keep their defaults. They are
	// checked against each parameter's AllowedPattern.
	Parameters map[string]string
	// Streams is the table's stream, for the functions an event source
	// mapping invokes (DrainStreams); nil: not emulated.
	Streams StreamSource
	// APIMappingKey serves the API as a custom domain with this API mapping
	// key does ("integrations", "apps/integrations"): under /<key>/ only,
	// routes matched without the key, events whose rawPath keeps it (see
	// shared/httpapi/basepath.go).
	APIMappingKey string
}

// Server emulates API Gateway and Lambda for the functions of a template.
type Server struct {
	tmpl      *Template
	functions map[string]*function
	verifier  *verifier
	log       *slog.Logger
	now       func() time.Time
	every     time.Duration
	api       *apiHandler
	// cors is the HttpApi's CORS configuration, nil when CORS is off.
	cors *CORS
	// mappingPrefix is "/" + Options.APIMappingKey, or "".
	mappingPrefix string
	// streams is Options.Streams; streamMu serialises its drains, as Lambda
	// processes a shard's batches one at a time.
	streams  StreamSource
	streamMu sync.Mutex
}

type function struct {
	def     *Function
	handler lambda.Handler
	arn     string
	// mu keeps a function's invocations from the schedule from overlapping
	// with each other, as a reserved-concurrency-1 Lambda would not; API
	// invocations run concurrently, as Lambda scales out.
	mu sync.Mutex
}

// New reads the template and builds the handler of every function.
func New(o Options) (*Server, error) {
	tmpl, err := LoadTemplate(o.Template)
	if err != nil {
		return nil, err
	}
	if len(o.JWTSecret) == 0 {
		return nil, errors.New("local server: JWTSecret is required (LOCAL_JWT_SECRET)")
	}
	s := &Server{
		tmpl:      tmpl,
		functions: map[string]*function{},
		log:       o.Logger,
		now:       o.Now,
		every:     o.ScheduleInterval,
		streams:   o.Streams,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.verifier = &verifier{
		secret:    o.JWTSecret,
		issuer:    cmpOr(o.Issuer, LocalIssuer),
		audiences: o.Audiences,
		now:       s.now,
	}
	if len(s.verifier.audiences) == 0 {
		s.verifier.audiences = []string{LocalAudience}
	}
	for _, name := range slices.Sorted(maps.Keys(o.Parameters)) {
		if err := tmpl.CheckParameter(name, o.Parameters[name]); err != nil {
			return nil, fmt.Errorf("local server: %w", err)
		}
	}
	if o.APIMappingKey != "" {
		if !mappingKeyRE.MatchString(o.APIMappingKey) {
			return nil, fmt.Errorf("local server: API mapping key %q: letters, digits and $-_.+!*'() in /-separated levels", o.APIMappingKey)
		}
		s.mappingPrefix = "/" + o.APIMappingKey
	}
	if s.cors, err = tmpl.cors(o.Parameters); err != nil {
		return nil, fmt.Errorf("local server: %w", err)
	}
	for _, id := range tmpl.FunctionIDs() {
		h := o.Handlers[id]
		if h == nil {
			if o.Deps == nil {
				return nil, fmt.Errorf("local server: no handler for %s (no Deps given)", id)
			}
			if h, err = localapp.Handler(o.Deps, id); err != nil {
				return nil, fmt.Errorf("local server: template function %s: %w", id, err)
			}
		}
		s.functions[id] = &function{
			def:     tmpl.Functions[id],
			handler: h,
			arn:     fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, AccountID, id),
		}
	}
	s.api, err = newAPIHandler(s)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Template returns the parsed template.
func (s *Server) Template() *Template { return s.tmpl }

// CORS returns the CORS configuration the API applies, nil when CORS is
// off.
func (s *Server) CORS() *CORS { return s.cors }

// FunctionError is a function's failed invocation, as Lambda reports it
// (the X-Amz-Function-Error payload).
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Invoke runs one function with a JSON payload, as Lambda would: a Lambda
// context with a fresh request id and the template's timeout as deadline.
// A handler error, panic or timeout is a *FunctionError; any other error
// means the function could not be invoked at all.
func (s *Server) Invoke(ctx context.Context, functionID string, payload []byte) ([]byte, error) {
	f, ok := s.functions[functionID]
	if !ok {
		return nil, fmt.Errorf("no function %q in the template", functionID)
	}
	out, _, err := s.invoke(ctx, f, payload)
	return out, err
}

// invoke returns the function's response payload, the Lambda request id,
// and a *FunctionError when the function failed.
func (s *Server) invoke(ctx context.Context, f *function, payload []byte) ([]byte, string, error) {
	reqID := uuid.NewString()
	// In Lambda, a caller going away does not stop the function: keep the
	// context's values, not its cancellation, and give it the function's
	// own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.def.Timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       reqID,
		InvokedFunctionArn: f.arn,
	})

	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		defer func() {
			if v := recover(); v != nil {
				s.log.ErrorContext(ctx, "function panicked", "function", f.def.LogicalID, "lambdaRequestId", reqID,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				done <- result{err: &FunctionError{Message: fmt.Sprint(v), Type: typeName(v)}}
			}
		}()
		out, err := f.handler.Invoke(ctx, payload)
		done <- result{out: out, err: err}
	}()

	select {
	case r := <-done:
		if r.err != nil {
			var fe *FunctionError
			if !errors.As(r.err, &fe) {
				fe = &FunctionError{Message: r.err.Error(), Type: typeName(r.err)}
			}
			s.log.WarnContext(ctx, "function returned an error", "function", f.def.LogicalID, "lambdaRequestId", reqID,
				"errorType", fe.Type, "durationMs", time.Since(start).Milliseconds())
			return nil, reqID, fe
		}
		return r.out, reqID, nil
	case <-ctx.Done():
		s.log.ErrorContext(ctx, "function timed out", "function", f.def.LogicalID, "lambdaRequestId", reqID,
			"timeout", f.def.Timeout.String())
		return nil, reqID, &FunctionError{
			Message: fmt.Sprintf("%s Task timed out after %.2f seconds", s.now().UTC().Format(time.RFC3339), f.def.Timeout.Seconds()),
			Type:    "Sandbox.Timedout",
		}
	}
}

// typeName names an error or panic value as aws-lambda-go does.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "error"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "error"
	}
	return t.Name()
}

// gatewayRequestID looks like API Gateway's request ids ("cZmPsgjboAMEJ6w=").
func gatewayRequestID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// marshalEvent encodes an event as Lambda delivers it.
func marshalEvent(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("localserver: event does not encode: " + err.Error()) // only typed events are encoded
	}
	return b
}

// functionName extracts the function name from what the Invoke API accepts:
// a name, "name:qualifier", or a (partial) ARN.
func functionName(s string) string {
	if i := strings.Index(s, ":function:"); i >= 0 {
		s = s[i+len(":function:"):]
	}
	name, _, _ := strings.Cut(s, ":")
	return name
}
