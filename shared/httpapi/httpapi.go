// Package httpapi is the plumbing every HTTP function shares: a router built
// from an explicit route list (which the template test compares with
// template.yaml), request ids, access logs, panic recovery, problem+json for
// every error including 404/405, strict JSON decoding with a size limit, and
// the adapter that runs the router inside Lambda.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/hygiene"
	"github.com/sofie/integrations/shared/problem"
)

// MaxBodyBytes is the largest request body any route accepts.
const MaxBodyBytes = 64 << 10

// Route is one method and path a function serves. Path uses the syntax both
// API Gateway and net/http share: /v1/orgs/{orgId}/integrations/{provider}.
type Route struct {
	Method  string
	Path    string
	Handler http.HandlerFunc
	// Public routes have no authorizer (only the provider's OAuth redirect).
	Public bool
}

// Pattern is the route's ServeMux-style pattern, "METHOD /path" (see router).
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// NewRouter serves routes, with the authorizer's claims checked on every
// non-public route, and problem+json for unknown paths and methods.
func NewRouter(routes []Route, claims auth.ClaimNames) http.Handler {
	var rt *router
	rt = newRouter(routes, func(r Route) http.Handler {
		if r.Public {
			return r.Handler
		}
		return auth.Middleware(claims, r.Handler)
	}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed := rt.allowed(r); len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			problem.Write(w, r, problem.New(http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed, "This path does not accept "+r.Method+"."))
			return
		}
		problem.Write(w, r, problem.New(http.StatusNotFound, problem.CodeNotFound, "No such route."))
	}))
	return Middleware(rt)
}

// Middleware gives every request an id, recovers panics into a 500 problem
// (never a stack trace to the client), refuses oversized bodies, and writes
// one access log line.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := requestID(r)
		r = problem.WithRequestID(r, id)
		w.Header().Set(problem.RequestIDHeader, id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				slog.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !sw.wrote {
					problem.Write(sw, r, problem.New(http.StatusInternalServerError, problem.CodeInternal, "The request could not be completed. Quote the request id when reporting it."))
				}
			}
			slog.InfoContext(r.Context(), "request", "method", r.Method, "route", r.Pattern, "status", sw.status, "durationMs", time.Since(start).Milliseconds())
		}()
		if r.ContentLength > MaxBodyBytes {
			problem.Write(sw, r, problem.New(http.StatusRequestEntityTooLarge, problem.CodeBodyTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes)))
			return
		}
		next.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// requestID prefers API Gateway's id, so log lines match the gateway's.
func requestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.RequestID != "" {
		return rc.RequestID
	}
	if id := r.Header.Get(problem.RequestIDHeader); id != "" && len(id) <= 128 {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// DecodeJSON decodes the request body into v: a JSON object, at most
// MaxBodyBytes, unknown fields refused, Content-Type application/json. An
// empty body is allowed only when allowEmpty (v is left as it is).
func DecodeJSON(r *http.Request, v any, allowEmpty bool) *problem.Problem {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The request body could not be read.")
	}
	if len(body) > MaxBodyBytes {
		return problem.New(http.StatusRequestEntityTooLarge, problem.CodeBodyTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "A JSON request body is required.")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(http.StatusUnsupportedMediaType, problem.CodeUnsupportedMedia, "Send the body as application/json.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if dec.More() {
		return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The body must hold exactly one JSON object.")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The body must hold exactly one JSON object.")
	}
	return nil
}

// fieldNameRE is what an unknown field's name must look like to be named
// back in an error: a JSON property name of this API's kind, at most 64
// characters.
var fieldNameRE = sync.OnceValue(func() *regexp.Regexp {
	// Compiled on first use: {0,63} makes a large program, and this package
	// is in every function's cold start.
	return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$`)
})

// decodeProblem explains a decoding error without echoing the input (which
// may hold a credential pasted into the wrong field).
func decodeProblem(err error) *problem.Problem {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The body must be a JSON object.")
		}
		return problem.Validation("A field has the wrong type.", problem.FieldError{Field: field, Code: "wrong_type", Message: "Expected " + typeErr.Type.String() + "."})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The body is not valid JSON.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		switch {
		case !fieldNameRE().MatchString(field):
			return problem.Validation("The body has a field this route does not accept (its name is not repeated here).", problem.FieldError{Field: "body", Code: "unknown_field", Message: "Unknown field."})
		case !EchoableName(field):
			return problem.Validation("The body has a field this route does not accept (its name is not repeated here).", problem.FieldError{Field: "body", Code: "unknown_field", Message: "Unknown field; it looks like a credential, which belongs only in the clientSecret field of PUT .../client-secret."})
		}
		return problem.Validation("The body has a field this route does not accept.", problem.FieldError{Field: field, Code: "unknown_field", Message: "Unknown field."})
	default:
		return problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The body is not a valid JSON object.")
	}
}

// EchoableName reports whether a name taken from the input (an unknown JSON
// field, an unknown query parameter) may be named back in a problem: only
// when it reads like a field name, never when it could be a pasted
// credential.
func EchoableName(name string) bool {
	if !fieldNameRE().MatchString(name) {
		return false
	}
	_, secret := hygiene.Check(name)
	return !secret
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// LambdaHandler runs h inside Lambda for API Gateway HTTP API (v2) events,
// routing requests that came through a custom domain's API mapping key as
// the others (BasePath). The proxy library answers 504 with an empty body when an event cannot be
// converted; that is mapped to a 400 problem here instead.
//
// It implements lambda.Handler itself rather than going through
// lambda.NewHandler: that one returns bytes of a pooled buffer which the
// next invocation reuses, so callers that invoke concurrently (the local
// server, tests) would read each other's responses. Lambda wraps a
// lambda.Handler as it is.
func LambdaHandler(h http.Handler) lambda.Handler {
	return &v2Handler{adapter: httpadapter.NewV2(h)}
}

type v2Handler struct {
	adapter *httpadapter.HandlerAdapterV2
}

// Invoke implements lambda.Handler.
func (v *v2Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decode API Gateway v2 event: %w", err)
	}
	ctx = stripMappingKey(ctx, &ev) // a custom domain's API mapping key (basepath.go)
	resp, err := v.adapter.ProxyWithContext(ctx, ev)
	if err != nil {
		slog.ErrorContext(ctx, "cannot convert API Gateway event", "err", err.Error(), "apiRequestId", ev.RequestContext.RequestID)
		p := problem.New(http.StatusBadRequest, problem.CodeMalformedBody, "The request could not be read.")
		p.RequestID = ev.RequestContext.RequestID
		body, _ := json.Marshal(p)
		resp = events.APIGatewayV2HTTPResponse{
			StatusCode: p.Status,
			Headers:    map[string]string{"Content-Type": problem.ContentType},
			Body:       string(body),
		}
	}
	return json.Marshal(resp)
}
