// Package problem writes RFC 9457 problem details (application/problem+json)
// with a stable machine-readable code. Every error answer of the API goes
// through it, so no handler ever writes an internal error text or a stack
// trace to a client.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/sofie/integrations/shared/store"
)

// ContentType is the media type of every error response.
const ContentType = "application/problem+json"

// Stable codes shared by every function. Feature packages add their own.
const (
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeValidation       = "validation_failed"
	CodeMalformedBody    = "malformed_body"
	CodeBodyTooLarge     = "body_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodePreconditionFail = "precondition_failed"
	CodePreconditionReq  = "precondition_required"
	CodeConflict         = "conflict"
	CodeInternal         = "internal_error"
	CodeUnavailable      = "service_unavailable"
	CodeNotImplemented   = "not_implemented"
	CodeUnknownProvider  = "unknown_provider"
	CodeSecretInField    = "credential_in_field"
)

// FieldError is one invalid field of a request body or query.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem details object. It is also an error, so
// services can return one and handlers can write it unchanged.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Code     string       `json:"code"`
	Errors   []FieldError `json:"errors,omitempty"`
	// RequestID lets support correlate a report with the logs.
	RequestID string `json:"requestId,omitempty"`
	// Extra members (RFC 9457 extension members), e.g. a current version.
	Extra map[string]any `json:"-"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%s (%d): %s", p.Code, p.Status, p.Detail)
	}
	return fmt.Sprintf("%s (%d)", p.Code, p.Status)
}

// New builds a problem with the given status, code and detail.
func New(status int, code, detail string) *Problem {
	return &Problem{
		Type:   "urn:problem:" + code,
		Title:  http.StatusText(status),
		Status: status,
		Code:   code,
		Detail: detail,
	}
}

// Validation builds a 400 with per-field errors.
func Validation(detail string, errs ...FieldError) *Problem {
	p := New(http.StatusBadRequest, CodeValidation, detail)
	p.Errors = errs
	return p
}

// With adds an extension member and returns p.
func (p *Problem) With(key string, value any) *Problem {
	if p.Extra == nil {
		p.Extra = map[string]any{}
	}
	p.Extra[key] = value
	return p
}

// MarshalJSON flattens extension members beside the standard ones.
func (p *Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal((*plain)(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// Write sends p. Headers already set on w (ETag, Retry-After) are kept.
func Write(w http.ResponseWriter, r *http.Request, p *Problem) {
	if r != nil {
		if p.Instance == "" {
			p.Instance = r.URL.Path
		}
		if p.RequestID == "" {
			p.RequestID = RequestIDFrom(r)
		}
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// RetryAfterSeconds is the Retry-After of a 503 for a throttled store.
const RetryAfterSeconds = "5"

// WriteError writes err: a *Problem as it is; store throttling that outlasted
// the SDK's retries (store.ErrThrottled), or a store that cannot do it yet
// (store.ErrUnavailable: a secret's deletion still in progress), as a 503
// service_unavailable with Retry-After, since the same request will succeed
// once the burst passes or the deletion is done;
// anything else as a 500 whose body says nothing about the cause. The cause
// is logged (callers must not put secrets in error texts; see package store
// and tokenseal).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	if errors.As(err, &p) {
		Write(w, r, p)
		return
	}
	ctx := r.Context()
	if errors.Is(err, store.ErrThrottled) {
		slog.WarnContext(ctx, "request throttled by the store", "err", err.Error(), "path", r.URL.Path, "method", r.Method)
		w.Header().Set("Retry-After", RetryAfterSeconds)
		Write(w, r, New(http.StatusServiceUnavailable, CodeUnavailable, "The service is busy. Try again in a few seconds."))
		return
	}
	if errors.Is(err, store.ErrUnavailable) {
		slog.WarnContext(ctx, "the store cannot complete the request yet", "err", err.Error(), "path", r.URL.Path, "method", r.Method)
		w.Header().Set("Retry-After", RetryAfterSeconds)
		Write(w, r, New(http.StatusServiceUnavailable, CodeUnavailable, "A previous change is still being applied. Try again in a few seconds."))
		return
	}
	slog.ErrorContext(ctx, "request failed", "err", err.Error(), "path", r.URL.Path, "method", r.Method)
	Write(w, r, New(http.StatusInternalServerError, CodeInternal, "The request could not be completed. Quote the request id when reporting it."))
}

type requestIDKey struct{}

// RequestIDHeader carries the request id back to the caller.
const RequestIDHeader = "X-Request-Id"

// RequestIDFrom returns the id the httpapi middleware put on the request.
func RequestIDFrom(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	return ""
}

// WithRequestID returns r carrying id, for RequestIDFrom.
func WithRequestID(r *http.Request, id string) *http.Request {
	return r.WithContext(contextWithRequestID(r.Context(), id))
}
