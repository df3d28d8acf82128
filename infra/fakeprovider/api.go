package fakeprovider

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
)

// need is what an API route requires of the access token.
type need struct {
	kind       Kind
	capability catalog.Capability // permission and scopes from the catalog
	scopes     []string           // identity routes: any one of these
}

// write is a write route's need (KindCreate or KindDelete): a scope of the
// capability's create or delete actions.
func write(kind Kind, c catalog.Capability) need { return need{kind: kind, capability: c} }

// writes reports whether the route changes the account.
func (n need) writes() bool { return n.kind == KindCreate || n.kind == KindDelete }

// problemKind is a refusal of an API call, answered in the dialect's shape.
type problemKind int

const (
	probNoToken problemKind = iota
	probBadToken
	probExpired
	probInsufficientScope
	probDenied
	probNotFound
	probItemForbidden
	probAppOnly
	probClaimsChallenge // Conditional Access asks for a stronger sign-in (Graph's claims challenge)
	probBadRequest      // a malformed write request (400; id carries what is wrong)
	probConflict        // a write that would replace an item (409)
	probGone            // an item deleted before (410, Google Calendar)
	probFault
)

type apiProblem struct {
	kind       problemKind
	status     int // probFault only
	capability catalog.Capability
	id         string
	identity   bool // an identity endpoint (Graph /me)
	now        time.Time
}

// apiCall is an authorized API call.
type apiCall struct {
	s    *Server
	d    dialect
	w    http.ResponseWriter
	r    *http.Request
	user User
	at   accessToken
	need need
}

// api wraps an API handler: it attributes and counts the call, applies
// faults, and checks the token, its scopes and the user's permission.
func (s *Server) api(d dialect, n need, h func(*apiCall)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := s.begin(w, d.id(), n.kind)
		defer s.record(c)
		token := bearer(r)
		now := s.now()

		s.mu.Lock()
		at := s.access[token]
		if at != nil && at.provider != d.id() {
			at = nil
		}
		var tok accessToken
		var user *User
		active, onlyExpired, instanceHost := false, false, ""
		if at != nil {
			tok, active = *at, at.active(now)
			onlyExpired = !at.revoked && (at.fam == nil || !at.fam.revoked())
			if at.fam != nil {
				instanceHost = at.fam.instanceHost
			}
			c.clientID, c.user = at.clientID, at.email
			if u := s.lookupUser(d.id(), at.email); u != nil && at.email != "" {
				cp := cloneUser(*u)
				user = &cp
			}
		}
		s.mu.Unlock()

		prob := apiProblem{capability: n.capability, identity: n.kind == KindUserInfo, now: now}
		refuse := func(k problemKind) {
			prob.kind = k
			d.writeAPIError(w, prob)
		}
		if f, ok := s.applyFault(r.Context(), c); ok {
			retryAfter(w, f)
			switch {
			case f.Malformed:
				malformed(w)
			case f.Error != "":
				refuse(probBadToken)
			default:
				prob.status = f.Status
				refuse(probFault)
			}
			return
		}
		switch {
		case token == "":
			refuse(probNoToken)
			return
		case at == nil:
			refuse(probBadToken)
			return
		case !active:
			if onlyExpired {
				refuse(probExpired)
			} else {
				refuse(probBadToken)
			}
			return
		case tok.email == "":
			refuse(probAppOnly)
			return
		case user == nil:
			refuse(probBadToken)
			return
		}
		if !d.servesAPI(r, n, instanceHost) {
			refuse(probBadToken)
			return
		}
		if !s.hasScope(d.id(), n, tok.scopes) {
			refuse(probInsufficientScope)
			return
		}
		if k, refused := d.apiRefusal(user); refused {
			refuse(k)
			return
		}
		if n.capability != "" && slices.Contains(user.Denied, n.capability) {
			refuse(probDenied)
			return
		}
		h(&apiCall{s: s, d: d, w: w, r: r, user: *user, at: tok, need: n})
	}
}

// hasScope reports whether granted includes a scope that allows the route:
// for a capability, any of its read or write scopes in the catalog (write
// scopes include reading), and for a write route one of its create or
// delete scopes; compared in the provider's normalized form.
func (s *Server) hasScope(provider string, n need, granted []string) bool {
	p := s.provider(provider)
	allowed := slices.Clone(n.scopes)
	if n.capability != "" {
		cs, ok := p.Capability(n.capability)
		if !ok {
			return false
		}
		if n.writes() {
			// Writing needs a write scope: a read-only grant is refused,
			// as the providers refuse it.
			allowed = append(allowed, cs.TestWriteScopes()...)
		} else {
			allowed = append(allowed, cs.ReadScopes...)
			for _, w := range cs.WriteScopes {
				allowed = append(allowed, w.Scopes...)
			}
		}
		allowed = append(allowed, extraScopes[n.capability]...)
	}
	for _, g := range granted {
		for _, a := range allowed {
			if p.NormalizeScope(g) == p.NormalizeScope(a) {
				return true
			}
		}
	}
	return false
}

// extraScopes also allow reading a capability, beyond the catalog's.
var extraScopes = map[catalog.Capability][]string{
	catalog.Email: {"https://mail.google.com/"},
	catalog.CRM:   {"full"},
}

// bearer reads the access token: Authorization: Bearer (Salesforce also
// takes its older OAuth scheme), or Google's access_token query parameter.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, token, ok := strings.Cut(h, " "); ok && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth")) {
		return strings.TrimSpace(token)
	}
	return r.URL.Query().Get("access_token")
}

// item finds one of the user's items of the route's capability.
func (a *apiCall) item(id string) (Item, bool) {
	for _, it := range a.user.Items {
		if it.Capability == a.need.capability && it.ID == id {
			return it, true
		}
	}
	return Item{}, false
}

// visible lists the user's readable items of the route's capability.
func (a *apiCall) visible() []Item {
	var out []Item
	for _, it := range a.user.Items {
		if it.Capability == a.need.capability && !it.Forbidden {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(x, y Item) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// lookup returns the item, or answers 404 or 403 and reports false.
func (a *apiCall) lookup(id string) (Item, bool) {
	it, ok := a.item(id)
	switch {
	case !ok:
		a.problem(probNotFound, id)
		return Item{}, false
	case it.Forbidden:
		a.problem(probItemForbidden, id)
		return Item{}, false
	}
	return it, true
}

func (a *apiCall) problem(k problemKind, id string) {
	a.d.writeAPIError(a.w, apiProblem{kind: k, capability: a.need.capability, id: id, now: a.s.now()})
}

// fields keeps the named top-level fields of obj (Graph $select, Google
// fields), plus the protocol's own annotations; empty keeps everything.
func fields(obj map[string]any, list string) map[string]any {
	if strings.TrimSpace(list) == "" {
		return obj
	}
	keep := map[string]bool{}
	for _, f := range strings.Split(list, ",") {
		f, _, _ = strings.Cut(strings.TrimSpace(f), "(")
		f, _, _ = strings.Cut(f, "/")
		keep[f] = true
	}
	out := map[string]any{}
	for k, v := range obj {
		if keep[k] || strings.HasPrefix(k, "@") || k == "kind" {
			out[k] = v
		}
	}
	return out
}
