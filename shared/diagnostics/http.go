package diagnostics

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/httpapi"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
)

// API is the HTTP side of DiagnosticsFunction.
type API struct {
	svc *Service
}

// NewAPI returns the handlers of svc.
func NewAPI(svc *Service) *API { return &API{svc: svc} }

// diagnoseParams are the query parameters GET .../diagnostics/{provider}
// accepts.
var diagnoseParams = []string{"user", "capability", "action", "item"}

// maxUserID bounds the user query parameter (a JWT sub).
const maxUserID = 256

// Diagnose serves GET /v1/orgs/{orgId}/diagnostics/{provider}. Members may
// diagnose themselves; admins anyone in their org. A member asking about
// another user gets 404, as if the user did not exist.
func (a *API) Diagnose(w http.ResponseWriter, r *http.Request) {
	caller, prob := auth.OrgMember(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	p, ok := a.svc.opts.Catalog.Get(r.PathValue("provider"))
	if !ok {
		problem.Write(w, r, unknownProvider())
		return
	}
	q := r.URL.Query()
	var errs []problem.FieldError
	for name, vs := range q {
		switch {
		case !slices.Contains(diagnoseParams, name):
			field := "query" // a name that could be a pasted credential is not repeated
			if httpapi.EchoableName(name) {
				field = name
			}
			errs = append(errs, problem.FieldError{Field: field, Code: "unknown_parameter", Message: "Unknown query parameter; use user, capability, action or item."})
		case len(vs) > 1:
			errs = append(errs, problem.FieldError{Field: name, Code: "repeated_parameter", Message: "Give this parameter at most once."})
		}
	}
	if len(errs) > 0 {
		problem.Write(w, r, problem.Validation("The query has parameters this route does not accept.", sortFieldErrors(errs)...))
		return
	}

	user := q.Get("user")
	if user != "" && !validUserID(user) {
		problem.Write(w, r, problem.Validation("The user is not a valid user id.", problem.FieldError{Field: "user", Code: "invalid_format", Message: "A user id is the user's sign-in subject: at most 256 printable characters."}))
		return
	}
	if user != "" && user != caller.UserID && !caller.IsAdmin() {
		problem.Write(w, r, problem.New(http.StatusNotFound, problem.CodeNotFound, "No such user in this organization."))
		return
	}

	cs, fe := parseCapability(p, q.Get("capability"), true)
	if fe != nil {
		errs = append(errs, *fe)
	}
	action := catalog.Read
	if v := q.Get("action"); v != "" {
		action = catalog.Action(v)
		if !slices.Contains(catalog.AllActions, action) {
			errs = append(errs, problem.FieldError{Field: "action", Code: "invalid_value", Message: "Use one of: " + joinActions(catalog.AllActions) + "."})
		}
	}
	var item string
	if v := q.Get("item"); v != "" && fe == nil {
		id, err := p.ParseItem(cs, v)
		if err != nil {
			errs = append(errs, problem.FieldError{Field: "item", Code: "invalid_format", Message: sentence(err.Error())})
		}
		item = id
	}
	if len(errs) > 0 {
		problem.Write(w, r, problem.Validation("The diagnostics request is not valid.", errs...))
		return
	}

	rep, err := a.svc.Diagnose(r.Context(), Request{Caller: caller, Provider: p, UserID: user, Capability: cs, Action: action, Item: item})
	if err != nil {
		writeServiceError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, rep)
}

// TestBody is the optional body of POST .../integrations/{provider}/test.
type TestBody struct {
	// Item is fetched by id in the read step of ItemCapability (which
	// defaults to the provider's only capability).
	Item           string `json:"item,omitempty"`
	ItemCapability string `json:"itemCapability,omitempty"`
	// ImportItem is a file downloaded (metadata and content) in the
	// workspace-import step.
	ImportItem string `json:"importItem,omitempty"`
	// Writes, with confirm true, asks for the reversible write test
	// (writetest.go).
	Writes *WritesBody `json:"writes,omitempty"`
}

// WritesBody confirms the write test: confirm must be true, so that no
// client writes by accident (a default, a typo, a copied body).
type WritesBody struct {
	Confirm bool `json:"confirm"`
}

// Test serves POST /v1/orgs/{orgId}/integrations/{provider}/test, the
// admin's "Test after changes" with the org's test account (else their own
// connection). It writes to the provider only when the body confirms it
// (writes.confirm), and then only as the test account (writetest.go).
func (a *API) Test(w http.ResponseWriter, r *http.Request) {
	caller, prob := auth.OrgAdmin(r)
	if prob != nil {
		problem.Write(w, r, prob)
		return
	}
	p, ok := a.svc.opts.Catalog.Get(r.PathValue("provider"))
	if !ok {
		problem.Write(w, r, unknownProvider())
		return
	}
	var body TestBody
	if prob := httpapi.DecodeJSON(r, &body, true); prob != nil {
		problem.Write(w, r, prob)
		return
	}
	req := TestRequest{Caller: caller, Provider: p}
	var errs []problem.FieldError
	if body.Item != "" || body.ItemCapability != "" {
		cs, fe := parseCapability(p, body.ItemCapability, body.Item != "")
		switch {
		case fe != nil:
			fe.Field = "itemCapability"
			errs = append(errs, *fe)
		case body.Item == "":
			errs = append(errs, problem.FieldError{Field: "item", Code: "required", Message: "Give the item to fetch with itemCapability."})
		default:
			id, err := p.ParseItem(cs, body.Item)
			if err != nil {
				errs = append(errs, problem.FieldError{Field: "item", Code: "invalid_format", Message: sentence(err.Error())})
			}
			req.Item, req.ItemCapability = id, cs.ID
		}
	}
	if body.ImportItem != "" {
		files, ok := p.Capability(catalog.Files)
		if !ok {
			errs = append(errs, problem.FieldError{Field: "importItem", Code: "not_applicable", Message: p.DisplayName + " has no files capability to import from."})
		} else if id, err := p.ParseItem(files, body.ImportItem); err != nil {
			errs = append(errs, problem.FieldError{Field: "importItem", Code: "invalid_format", Message: sentence(err.Error())})
		} else {
			req.ImportItem = id
		}
	}
	if body.Writes != nil {
		if !body.Writes.Confirm {
			errs = append(errs, problem.FieldError{Field: "writes.confirm", Code: "confirmation_required",
				Message: "Set confirm to true to create and delete one test item per capability in the test account; leave writes out to test without writing."})
		}
		req.Writes = true
	}
	if len(errs) > 0 {
		problem.Write(w, r, problem.Validation("The test request is not valid.", errs...))
		return
	}
	rep, err := a.svc.TestAfterChanges(r.Context(), req)
	if err != nil {
		writeServiceError(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, rep)
}

// parseCapability resolves the capability parameter: required when the
// provider has more than one, defaulting to the only one otherwise.
func parseCapability(p catalog.Provider, v string, required bool) (catalog.CapabilitySpec, *problem.FieldError) {
	if v == "" {
		if len(p.Capabilities) == 1 {
			return p.Capabilities[0], nil
		}
		if !required {
			return catalog.CapabilitySpec{}, nil
		}
		return catalog.CapabilitySpec{}, &problem.FieldError{Field: "capability", Code: "required",
			Message: p.DisplayName + " has several capabilities; name one of: " + joinCaps(p) + "."}
	}
	cs, ok := p.Capability(catalog.Capability(v))
	if !ok {
		return catalog.CapabilitySpec{}, &problem.FieldError{Field: "capability", Code: "invalid_value",
			Message: p.DisplayName + " has these capabilities: " + joinCaps(p) + "."}
	}
	return cs, nil
}

func joinCaps(p catalog.Provider) string {
	ids := p.CapabilityIDs()
	out := make([]string, len(ids))
	for i, c := range ids {
		out[i] = string(c)
	}
	return strings.Join(out, ", ")
}

// validUserID: a user id as package auth reads one from a token, bounded,
// printable, and without surrounding spaces (so never the org's test
// account, store.TestAccountUserID, which "Test after changes" diagnoses).
func validUserID(s string) bool {
	if len(s) > maxUserID || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func unknownProvider() *problem.Problem {
	return problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider.")
}

// writeServiceError maps store failures: throttling is worth a retry, the
// rest is an internal error whose cause only the log sees.
func writeServiceError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrThrottled) {
		slog.WarnContext(r.Context(), "diagnostics: store throttled", "err", err.Error())
		w.Header().Set("Retry-After", "5")
		problem.Write(w, r, problem.New(http.StatusServiceUnavailable, problem.CodeUnavailable, "The service is busy; try again in a few seconds."))
		return
	}
	problem.WriteError(w, r, err)
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// sortFieldErrors orders errs by field, stable. An insertion sort, as in
// providers.Provider.ValidateSettings: there are a few, and slices.SortFunc
// would link a 10 KB generic sort into DiagnosticsFunction for them (issue
// 13 §1).
func sortFieldErrors(errs []problem.FieldError) []problem.FieldError {
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Field < errs[j-1].Field; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
	return errs
}
