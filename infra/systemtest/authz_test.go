package systemtest_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
)

// access is who a route admits.
type access int

const (
	public    access = iota // no authorizer: anyone (the OAuth callback)
	signedIn                // any valid token; no organization in the path
	orgMember               // a member of the path's organization
	orgAdmin                // an admin of the path's organization
)

// routeCase is the expectation of one template route: who it admits, the
// status it answers someone it admits, and how to build a request that
// would succeed for them.
type routeCase struct {
	access access
	ok     int
	// request returns the concrete path (orgId and provider filled in), the
	// body (nil for none) and extra headers.
	request func(org string) (path string, body any, hdr http.Header)
	// forCaller, when set, replaces request for a route whose request
	// depends on who calls: it may prepare state for the caller (user id)
	// of the own org (ownOrg).
	forCaller func(t *testing.T, w *world, org, ownOrg, user string) (path string, body any, hdr http.Header)
}

// completion prepares a pending completion started by user of ownOrg (the
// whole flow up to the callback) and returns the request that completes
// it on org's path: the starting user's own request when org is ownOrg.
func completion(t *testing.T, w *world, org, ownOrg, user string) (string, any, http.Header) {
	out := pending(t, w.callback(t, w.toCallback(t, w.start(t, ownOrg, w.member(ownOrg, user), matrixProvider, ""))))
	return fill("/v1/orgs/{orgId}/connections/{provider}/complete", org), map[string]string{"completion": out.Get("completion")}, nil
}

const matrixProvider = catalog.GoogleWorkspace

func plain(path string) func(string) (string, any, http.Header) {
	return func(org string) (string, any, http.Header) { return fill(path, org), nil, nil }
}

func withBody(path string, body any, hdr http.Header) func(string) (string, any, http.Header) {
	return func(org string) (string, any, http.Header) { return fill(path, org), body, hdr }
}

func fill(path, org string) string {
	return strings.NewReplacer("{orgId}", org, "{provider}", matrixProvider).Replace(path)
}

// routeCases: one per template route. A route the template gains without
// an entry here fails TestAuthorizationMatrix.
var routeCases = map[string]routeCase{
	"GET /v1/providers":                                    {access: signedIn, ok: 200, request: plain("/v1/providers")},
	"GET /v1/orgs/{orgId}/integrations":                    {access: orgMember, ok: 200, request: plain("/v1/orgs/{orgId}/integrations")},
	"GET /v1/orgs/{orgId}/audit":                           {access: orgAdmin, ok: 200, request: plain("/v1/orgs/{orgId}/audit")},
	"GET /v1/orgs/{orgId}/integrations/{provider}/rollout": {access: orgAdmin, ok: 200, request: plain("/v1/orgs/{orgId}/integrations/{provider}/rollout")},
	"GET /v1/orgs/{orgId}/connections":                     {access: orgMember, ok: 200, request: plain("/v1/orgs/{orgId}/connections")},
	"GET /v1/orgs/{orgId}/integrations/{provider}":         {access: orgAdmin, ok: 200, request: plain("/v1/orgs/{orgId}/integrations/{provider}")},
	"PUT /v1/orgs/{orgId}/integrations/{provider}": {access: orgAdmin, ok: 200, request: withBody("/v1/orgs/{orgId}/integrations/{provider}",
		integrationBody(matrixProvider), http.Header{"If-Match": {"*"}})},
	"PUT /v1/orgs/{orgId}/integrations/{provider}/client-secret": {access: orgAdmin, ok: 200, request: withBody("/v1/orgs/{orgId}/integrations/{provider}/client-secret",
		map[string]string{"clientSecret": "fake-client-secret-matrix"}, nil)},
	"DELETE /v1/orgs/{orgId}/integrations/{provider}/client-secret": {access: orgAdmin, ok: 200, request: plain("/v1/orgs/{orgId}/integrations/{provider}/client-secret")},
	"POST /v1/orgs/{orgId}/connections/{provider}": {access: orgMember, ok: 201, request: withBody("/v1/orgs/{orgId}/connections/{provider}",
		map[string]string{"returnTo": localtest.ReturnURL}, nil)},
	"POST /v1/orgs/{orgId}/connections/{provider}/complete": {access: orgMember, ok: 200, forCaller: completion},
	"DELETE /v1/orgs/{orgId}/connections/{provider}":        {access: orgMember, ok: 200, request: plain("/v1/orgs/{orgId}/connections/{provider}")},
	"GET /v1/orgs/{orgId}/diagnostics/{provider}":           {access: orgMember, ok: 200, request: plain("/v1/orgs/{orgId}/diagnostics/{provider}?capability=email")},
	"POST /v1/orgs/{orgId}/integrations/{provider}/test":    {access: orgAdmin, ok: 200, request: plain("/v1/orgs/{orgId}/integrations/{provider}/test")},
	"POST /v1/orgs/{orgId}/integrations/{provider}/test-account": {access: orgAdmin, ok: 201, request: withBody("/v1/orgs/{orgId}/integrations/{provider}/test-account",
		map[string]string{"returnTo": localtest.ReturnURL}, nil)},
	"DELETE /v1/orgs/{orgId}/integrations/{provider}/test-account": {access: orgAdmin, ok: 200, request: plain("/v1/orgs/{orgId}/integrations/{provider}/test-account")},
	// Microsoft's only (another provider is 409 admin_consent_unsupported).
	"POST /v1/orgs/{orgId}/integrations/{provider}/admin-consent": {access: orgAdmin, ok: 201, request: withBody("/v1/orgs/{orgId}/integrations/"+catalog.Microsoft365+"/admin-consent",
		map[string]string{"returnTo": localtest.ReturnURL}, nil)},
	"GET /oauth/callback": {access: public, ok: 400, request: plain("/oauth/callback?state=not-a-state&code=not-a-code")},
}

// caller is a column group of the matrix.
type caller struct {
	name  string
	token func(w *world, org string) string
}

var callers = []caller{
	{"no token", func(*world, string) string { return "" }},
	{"member", func(w *world, org string) string { return w.member(org, "u-matrix-member") }},
	{"admin", func(w *world, org string) string { return w.env.AdminToken("u-matrix-admin", org) }},
}

// callerUser is the user id behind a caller's token ("no token" borrows the
// member's, for routes that prepare state).
func callerUser(name string) string {
	if name == "admin" {
		return "u-matrix-admin"
	}
	return "u-matrix-member"
}

// expected is the status of one cell: a caller of org "own" calling the
// route on their own org (own) or on another org.
func (rc routeCase) expected(caller string, own bool) int {
	switch {
	case rc.access == public:
		return rc.ok
	case caller == "no token":
		return 401
	case rc.access == signedIn:
		return rc.ok
	case !own:
		return 404
	case rc.access == orgAdmin && caller == "member":
		return 403
	}
	return rc.ok
}

// TestAuthorizationMatrix: every route of template.yaml × (no token, member,
// admin) × (own org, other org), through the local server on the real
// handlers. Another org is 404 everywhere (never 403, never its data), no
// token is 401 on every authorized route, a member on an admin route is 403,
// and the OAuth callback (no authorizer) answers every cell with its
// state_invalid page.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const own, other = "org-matrix-own", "org-matrix-other"
	// The other org has data a leak would show: a configured integration
	// with an org client and a member's connection.
	const otherMarker = "123456789012-othermarker0000000000000000.apps.googleusercontent.com"
	otherBody := integrationBody(matrixProvider)
	otherBody["configMode"], otherBody["clientId"] = "organization", otherMarker
	w.env.Fake.RegisterClient(fakeprovider.ClientSpec{Provider: matrixProvider, ClientID: otherMarker, Secret: "fake-client-secret-other-org"})
	want(t, w.do(t, "PUT", integrationPath(other, matrixProvider), w.admin(other), otherBody, nil), 201, "")
	want(t, w.do(t, "PUT", integrationPath(other, matrixProvider)+"/client-secret", w.admin(other), map[string]string{"clientSecret": "fake-client-secret-other-org"}, nil), 200, "")
	w.enable(t, own, matrixProvider)
	w.enable(t, own, catalog.Microsoft365) // for the admin consent
	// Connections, so that disconnect, diagnostics and the admin's test have
	// something to act on in the own org.
	w.connect(t, own, "u-matrix-member", matrixProvider, "")
	w.connect(t, own, "u-matrix-admin", matrixProvider, "")
	w.connect(t, other, "u-other-member", matrixProvider, "")
	otherAudit := len(w.audit(t, other))

	tmpl, err := localserver.LoadTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		key   string
		route localserver.Route
	}
	var rows []row
	for _, fn := range tmpl.Functions {
		for _, r := range fn.Routes {
			rows = append(rows, row{r.Key(), r})
		}
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.key, b.key) })
	for key := range routeCases {
		if !slices.ContainsFunc(rows, func(r row) bool { return r.key == key }) {
			t.Errorf("the matrix expects route %s, which the template does not have", key)
		}
	}

	var table strings.Builder
	fmt.Fprintf(&table, "%-66s", "route")
	for _, c := range callers {
		fmt.Fprintf(&table, " | %-14s", c.name+" own/other")
	}
	table.WriteString("\n")
	for _, r := range rows {
		rc, ok := routeCases[r.key]
		if !ok {
			t.Errorf("template route %s has no expectation in the authorization matrix", r.key)
			continue
		}
		if (rc.access == public) != (r.route.Authorizer == "") {
			t.Errorf("%s: the template's authorizer %q disagrees with the matrix (public: %v)", r.key, r.route.Authorizer, rc.access == public)
		}
		fmt.Fprintf(&table, "%-66s", r.key)
		for _, c := range callers {
			var cells []string
			for _, isOwn := range []bool{true, false} {
				org := own
				if !isOwn {
					org = other
				}
				var path string
				var body any
				var hdr http.Header
				if rc.forCaller != nil {
					path, body, hdr = rc.forCaller(t, w, org, own, callerUser(c.name))
				} else {
					path, body, hdr = rc.request(org)
				}
				// The caller always belongs to the own org.
				resp := w.do(t, r.route.Method, path, c.token(w, own), body, hdr)
				exp := rc.expected(c.name, isOwn)
				cell := fmt.Sprint(resp.Status)
				if resp.Status != exp {
					cell += "!=" + fmt.Sprint(exp)
					t.Errorf("%s as %s on the %s org: %s, want %d", r.key, c.name, map[bool]string{true: "own", false: "other"}[isOwn], resp, exp)
				}
				checkCell(t, r.key, rc, resp, otherMarker)
				cells = append(cells, cell)
			}
			fmt.Fprintf(&table, " | %-14s", strings.Join(cells, "/"))
		}
		table.WriteString("\n")
	}
	t.Logf("authorization matrix (status own org / other org; the caller is always of the own org):\n%s", table.String())

	// Nothing of the other org changed, whoever called.
	if n := len(w.audit(t, other)); n != otherAudit {
		t.Errorf("the other org's audit trail grew from %d to %d entries", otherAudit, n)
	}
	if in, _ := w.integration(t, other, matrixProvider); in.Version != 2 || in.ClientID != otherMarker {
		t.Errorf("the other org's integration changed: %+v", in)
	}
	if w.conn(other, "u-other-member", matrixProvider) == nil {
		t.Error("the other org's connection is gone")
	}
}

// checkCell checks what each answer must be whatever its status: the
// stable code of an error, and never the other org's data.
func checkCell(t *testing.T, key string, rc routeCase, resp *localtest.Response, otherMarker string) {
	t.Helper()
	if strings.Contains(string(resp.Body), otherMarker) || strings.Contains(string(resp.Body), "u-other-member") {
		t.Errorf("%s: an answer carries the other org's data: %s", key, resp.Body)
	}
	if rc.access == public {
		wantStateInvalid(t, resp)
		return
	}
	wantCode := map[int]string{401: "unauthorized", 403: "forbidden", 404: "not_found"}[resp.Status]
	if wantCode != "" && resp.Code() != wantCode {
		t.Errorf("%s: %d with code %q, want %q", key, resp.Status, resp.Code(), wantCode)
	}
}
