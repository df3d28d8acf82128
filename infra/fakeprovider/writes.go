package fakeprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
)

// The write endpoints the admin's write test uses (create an item in the
// account's own space, then delete it), one set per dialect in its own
// file. They need a scope of the capability's create or delete actions
// (need.write), are counted and faulted under KindCreate and KindDelete,
// and keep what they create among the user's Items, where probes list and
// fetch it and a test finds what was left behind (User).

// maxWriteBody bounds a write request's body; the write test's are small.
const maxWriteBody = 1 << 20

// readBody reads a write request's body; false (after answering 400 in the
// dialect's shape) when it cannot.
func (a *apiCall) readBody() ([]byte, bool) {
	b, err := io.ReadAll(io.LimitReader(a.r.Body, maxWriteBody+1))
	if err != nil || len(b) > maxWriteBody {
		a.badRequest("The request body could not be read.")
		return nil, false
	}
	return b, true
}

// readJSON decodes a write request's JSON object body into v.
func (a *apiCall) readJSON(v any) bool {
	b, ok := a.readBody()
	if !ok {
		return false
	}
	if json.Unmarshal(b, v) != nil {
		a.badRequest("The request body is not valid JSON.")
		return false
	}
	return true
}

// badRequest answers a malformed write request (400) in the dialect's
// shape.
func (a *apiCall) badRequest(msg string) {
	a.d.writeAPIError(a.w, apiProblem{kind: probBadRequest, capability: a.need.capability, id: msg, now: a.s.now()})
}

// addItem keeps an item the call created in the user's account (the
// route's capability).
func (a *apiCall) addItem(it Item) {
	it.Capability = a.need.capability
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if u := a.s.lookupUser(a.d.id(), a.user.Email); u != nil {
		u.Items = append(u.Items, it)
	}
}

// removeItem deletes the user's item of the route's capability with id, or
// answers 404 (none) or 403 (Forbidden) in the dialect's shape and reports
// false.
func (a *apiCall) removeItem(id string) bool {
	a.s.mu.Lock()
	u := a.s.lookupUser(a.d.id(), a.user.Email)
	i := -1
	if u != nil {
		i = slices.IndexFunc(u.Items, func(it Item) bool { return it.Capability == a.need.capability && it.ID == id })
	}
	forbidden := i >= 0 && u.Items[i].Forbidden
	if i >= 0 && !forbidden {
		u.Items = slices.Delete(u.Items, i, i+1)
	}
	a.s.mu.Unlock()
	switch {
	case i < 0:
		a.problem(probNotFound, id)
		return false
	case forbidden:
		a.problem(probItemForbidden, id)
		return false
	}
	return true
}

// hasItemNamed reports whether the user has an item of the route's
// capability named name (a file name taken, say).
func (a *apiCall) hasItemNamed(name string) bool {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	u := a.s.lookupUser(a.d.id(), a.user.Email)
	return u != nil && slices.ContainsFunc(u.Items, func(it Item) bool {
		return it.Capability == a.need.capability && strings.EqualFold(it.Name, name)
	})
}

// newID is a random id of n letters and digits after prefix.
func newID(prefix string, n int) string { return prefix + alnumFrom(randToken(""), n) }

// newDigits is a random id of n digits after prefix.
func newDigits(prefix string, n int) string { return prefix + digitsFrom(randToken(""), n) }

// noContent answers a successful delete.
func noContent(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }
