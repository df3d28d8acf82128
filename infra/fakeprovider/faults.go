package fakeprovider

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Kind is a kind of provider endpoint, for faults and counters.
type Kind string

// Endpoint kinds.
const (
	KindAuthorize         Kind = "authorize"          // the browser's authorization request
	KindExchange          Kind = "token_exchange"     // token endpoint, grant_type=authorization_code
	KindRefresh           Kind = "refresh"            // token endpoint, grant_type=refresh_token
	KindClientCredentials Kind = "client_credentials" // token endpoint, grant_type=client_credentials (Microsoft)
	KindRevoke            Kind = "revoke"             // Google and Salesforce revocation
	KindUserInfo          Kind = "userinfo"           // identity: Google and Salesforce userinfo, Salesforce id URL, Graph /me
	KindIntrospect        Kind = "introspect"         // Salesforce token introspection
	KindAPI               Kind = "api"                // every probe API call
	KindCreate            Kind = "create"             // an API call that creates an item (the write test's)
	KindDelete            Kind = "delete"             // an API call that deletes an item (the write test's undo)
	KindAdminConsent      Kind = "admin_consent"      // Microsoft's /{tenant}/v2.0/adminconsent (an Error fault is the administrator's refusal)
)

// OAuth error presets for Fault.Error. Any other value is sent as the error
// code as is, with Fault.Description.
const (
	// ErrInvalidGrant: the grant is dead, in the provider's words: Microsoft
	// AADSTS50173 (or Fault.AADSTS: 700082, 70043, 65001, 53003, ...), Google
	// "Token has been expired or revoked.", Salesforce "expired access/refresh
	// token" (for a code exchange: the provider's bad-code wording).
	ErrInvalidGrant = "invalid_grant"
	// ErrInvalidRAPT: Google's invalid_grant with error_subtype invalid_rapt
	// (a Workspace reauthentication policy); plain invalid_grant elsewhere.
	ErrInvalidRAPT = "invalid_rapt"
	// ErrInvalidClient: the client secret is wrong (Microsoft AADSTS7000215).
	ErrInvalidClient = "invalid_client"
	// ErrUnauthorizedClient: the client may not use this grant or tenant
	// (Microsoft AADSTS700016).
	ErrUnauthorizedClient = "unauthorized_client"
	// ErrExpiredSecret: Microsoft's invalid_client AADSTS7000222, the client
	// secret has expired; invalid_client elsewhere.
	ErrExpiredSecret = "expired_client_secret"
)

// Fault is an injected failure. The zero values of Provider, Kind, ClientID
// and User match anything. Times is how many matching calls it answers (0:
// every one until removed). It does one of: Status (an HTTP error, in the
// dialect's shape; 429 and 503 carry Retry-After), Malformed (200 with
// truncated JSON), Error (an OAuth error; at the authorization endpoint a
// redirect with error=). Delay, alone or with one of those, holds the answer
// back first; a Delay-only fault then answers normally.
type Fault struct {
	Provider string
	Kind     Kind
	ClientID string
	User     string // email
	Times    int

	Status     int
	RetryAfter time.Duration // default 1s with 429 and 503
	Delay      time.Duration
	Malformed  bool
	Error      string
	// AADSTS picks the Microsoft error code (and its wording) of an Error.
	AADSTS int
	// Description replaces the provider's wording.
	Description string
}

// replaces reports whether the fault answers instead of the endpoint.
func (f Fault) replaces() bool { return f.Status != 0 || f.Malformed || f.Error != "" }

type faultEntry struct {
	f    Fault
	left int // -1: until removed
}

// Inject adds a fault; faults are tried in the order added and the first
// match applies. remove takes it out (safe to call more than once).
func (s *Server) Inject(f Fault) (remove func()) {
	e := &faultEntry{f: f, left: f.Times}
	if f.Times <= 0 {
		e.left = -1
	}
	s.mu.Lock()
	s.faults = append(s.faults, e)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.faults = slices.DeleteFunc(s.faults, func(x *faultEntry) bool { return x == e })
	}
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault for this call, if any, counting it down.
func (s *Server) takeFault(c *call) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, e := range s.faults {
		f := e.f
		if (f.Provider != "" && f.Provider != c.provider) || (f.Kind != "" && f.Kind != c.kind) ||
			(f.ClientID != "" && f.ClientID != c.clientID) || (f.User != "" && !strings.EqualFold(f.User, c.user)) {
			continue
		}
		if e.left > 0 {
			e.left--
			if e.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return f, true
	}
	return Fault{}, false
}

// applyFault delays as the fault says and reports whether it also answers
// the call itself; then the caller writes that answer.
func (s *Server) applyFault(ctx context.Context, c *call) (Fault, bool) {
	f, ok := s.takeFault(c)
	if !ok {
		return Fault{}, false
	}
	if f.Delay > 0 {
		sleep(ctx, f.Delay)
	}
	if !f.replaces() {
		return Fault{}, false
	}
	c.faulted = true
	return f, true
}

// retryAfter sets Retry-After for throttling and unavailability answers.
func retryAfter(w http.ResponseWriter, f Fault) {
	if f.Status != http.StatusTooManyRequests && f.Status != http.StatusServiceUnavailable && f.RetryAfter <= 0 {
		return
	}
	d := f.RetryAfter
	if d <= 0 {
		d = time.Second
	}
	secs := int((d + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", itoa(secs))
}

// malformed writes a 200 answer whose JSON body is cut short.
func malformed(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"access_token": "trunc`))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
