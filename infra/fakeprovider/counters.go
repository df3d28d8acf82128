package fakeprovider

import (
	"net/http"
	"strconv"
	"strings"
)

// Outcome is how the fake answered a call.
type Outcome string

// Outcomes.
const (
	// OutcomeOK: served (tokens issued, a code redirect, data returned).
	OutcomeOK Outcome = "ok"
	// OutcomeRefused: answered with an error of the provider's own (bad
	// code, PKCE mismatch, revoked token, 403, 404, an error redirect, ...).
	OutcomeRefused Outcome = "refused"
	// OutcomeFaulted: answered by an injected fault.
	OutcomeFaulted Outcome = "faulted"
)

// Filter selects calls; zero fields match anything. User is an email,
// matched without regard to case.
type Filter struct {
	Provider string
	Kind     Kind
	ClientID string
	User     string
	Outcome  Outcome
}

func (f Filter) match(provider string, kind Kind, clientID, user string, o Outcome) bool {
	return (f.Provider == "" || f.Provider == provider) && (f.Kind == "" || f.Kind == kind) &&
		(f.ClientID == "" || f.ClientID == clientID) && (f.User == "" || strings.EqualFold(f.User, user)) &&
		(f.Outcome == "" || f.Outcome == o)
}

type countKey struct {
	provider string
	kind     Kind
	clientID string
	user     string
	outcome  Outcome
}

// RefreshUse is one refresh call: the refresh token it presented.
type RefreshUse struct {
	Provider string
	ClientID string
	User     string
	Token    string
	// Reused: the token had already been redeemed by an earlier successful
	// refresh. Normal for Google (no rotation); for Microsoft, and Salesforce
	// with rotation, it means a client kept an old refresh token.
	Reused  bool
	Outcome Outcome
}

// Count returns how many calls matching f the fake received. Calls the fake
// could not attribute (an unknown code or token) have an empty User.
func (s *Server) Count(f Filter) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.counts {
		if f.match(k.provider, k.kind, k.clientID, k.user, k.outcome) {
			n += v
		}
	}
	return n
}

// RefreshTokensUsed lists the refresh calls matching f (Kind is ignored), in
// the order they arrived.
func (s *Server) RefreshTokensUsed(f Filter) []RefreshUse {
	f.Kind = ""
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RefreshUse
	for _, u := range s.rtLog {
		if f.match(u.Provider, "", u.ClientID, u.User, u.Outcome) {
			out = append(out, u)
		}
	}
	return out
}

// ResetCounts forgets the calls counted so far (not the tokens issued).
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[countKey]int{}
	s.rtLog = nil
}

// call is one request being served, recorded when it ends.
type call struct {
	provider string
	kind     Kind
	clientID string
	user     string // lower-case email
	w        *statusWriter
	faulted  bool
	refused  bool // an error redirect (the status alone says 302)

	refreshToken string
	reused       bool
}

// begin starts the record of a call; end it with defer s.record(c).
func (s *Server) begin(w http.ResponseWriter, provider string, kind Kind) *call {
	sw, _ := w.(*statusWriter)
	return &call{provider: provider, kind: kind, w: sw}
}

func (c *call) outcome() Outcome {
	switch {
	case c.faulted:
		return OutcomeFaulted
	case c.refused || (c.w != nil && c.w.status >= 400):
		return OutcomeRefused
	}
	return OutcomeOK
}

func (s *Server) record(c *call) {
	o := c.outcome()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[countKey{c.provider, c.kind, c.clientID, strings.ToLower(c.user), o}]++
	if c.kind == KindRefresh && c.refreshToken != "" {
		s.rtLog = append(s.rtLog, RefreshUse{Provider: c.provider, ClientID: c.clientID, User: strings.ToLower(c.user),
			Token: c.refreshToken, Reused: c.reused, Outcome: o})
	}
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func itoa(n int) string { return strconv.Itoa(n) }
