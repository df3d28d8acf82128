package fakeprovider

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
)

// authzRequest is an authorization request, kept while a person looks at
// the consent page.
type authzRequest struct {
	id                         string
	tenant                     string // Microsoft path tenant
	host                       string // request host
	clientID, redirectURI      string
	responseType, responseMode string
	state, nonce               string
	scopes                     []string
	challenge, method          string
	loginHint, prompt          string
	accessType                 string
	includeGranted             bool
	expires                    time.Time
}

func parseAuthz(r *http.Request, q url.Values) *authzRequest {
	ar := &authzRequest{
		tenant:       r.PathValue("tenant"),
		host:         requestHost(r),
		clientID:     q.Get("client_id"),
		redirectURI:  q.Get("redirect_uri"),
		responseType: q.Get("response_type"),
		responseMode: q.Get("response_mode"),
		state:        q.Get("state"),
		nonce:        q.Get("nonce"),
		scopes:       strings.Fields(q.Get("scope")),
		challenge:    q.Get("code_challenge"),
		method:       q.Get("code_challenge_method"),
		loginHint:    q.Get("login_hint"),
		prompt:       q.Get("prompt"),
		accessType:   q.Get("access_type"),
	}
	ar.includeGranted = q.Get("include_granted_scopes") == "true"
	return ar
}

// authorize serves the authorization endpoint: GET from the browser, and
// the consent page's POST.
func (s *Server) authorize(d dialect, w http.ResponseWriter, r *http.Request) {
	c := s.begin(w, d.id(), KindAuthorize)
	defer s.record(c)

	var ar *authzRequest
	chosen, decision := "", "allow"
	var ticked []string
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			page(w, http.StatusBadRequest, "Bad request", "The form could not be read.")
			return
		}
		ar = s.takePending(r.PostForm.Get("request_id"))
		if ar == nil {
			page(w, http.StatusBadRequest, "Sign-in expired", "This sign-in request is unknown or has expired. Start again from the application.")
			return
		}
		chosen, decision, ticked = r.PostForm.Get("account"), r.PostForm.Get("decision"), r.PostForm["scope"]
	} else {
		ar = parseAuthz(r, r.URL.Query())
	}
	c.clientID = ar.clientID

	s.mu.Lock()
	u, hintUnknown := s.chooseUser(d, r, ar, chosen)
	var user User
	if u != nil {
		user = cloneUser(*u)
		c.user = user.Email
	}
	s.mu.Unlock()

	f, faulted := s.applyFault(r.Context(), c)
	if faulted && f.Error == "" {
		retryAfter(w, f)
		if f.Malformed {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<html><body><form"))
			return
		}
		page(w, f.Status, "Service unavailable", "The sign-in service is unavailable. Try again later.")
		return
	}

	x := errCtx{clientID: ar.clientID, tenant: ar.tenant, kind: KindAuthorize, now: s.now(), user: user.Email}
	// Client and redirect URI first: until both are known good, nothing is
	// redirected anywhere.
	cl, fl := s.authorizeClient(d, ar)
	if fl != failNone {
		x.got = ar.redirectURI
		e := d.oauthError(fl, x)
		c.refused = true
		page(w, http.StatusBadRequest, "Sign-in error", e.code+": "+e.desc)
		return
	}
	fail := func(fl failure, x errCtx) {
		c.refused = true
		e := d.oauthError(fl, x)
		if e.page {
			page(w, http.StatusBadRequest, "Sign-in error", e.code+": "+e.desc)
			return
		}
		q := url.Values{"error": {e.code}}
		if e.desc != "" {
			q.Set("error_description", e.desc)
		}
		if e.uri != "" {
			q.Set("error_uri", e.uri)
		}
		if ar.state != "" {
			q.Set("state", ar.state)
		}
		redirect(w, ar.redirectURI, q)
	}
	if faulted {
		x.fault, x.kind = f, KindAuthorize
		fail(failInjected, x)
		return
	}
	if fl, refused := d.admitsClient(r, cl); refused {
		fail(fl, x)
		return
	}
	if ar.responseType != "code" {
		x.got = ar.responseType
		fail(failUnsupportedResponseType, x)
		return
	}
	if ar.responseMode != "" && ar.responseMode != "query" {
		x.param, x.got = "response_mode", ar.responseMode
		fail(failInvalidRequest, x)
		return
	}
	if len(ar.scopes) == 0 && d.scopeRequired() {
		x.param = "scope"
		fail(failMissingParam, x)
		return
	}
	for _, sc := range ar.scopes {
		if !d.knownScope(sc) {
			x.got = sc
			fail(failInvalidScope, x)
			return
		}
	}
	switch {
	case ar.challenge != "":
		if d.challengeMethod(ar.method) != "S256" {
			x.got = ar.method
			fail(failPKCEMethod, x)
			return
		}
	case cl.RequirePKCE:
		fail(failPKCERequired, x)
		return
	}
	if hintUnknown {
		page(w, http.StatusBadRequest, "No such account", "The fake "+d.id()+" has no account "+ar.loginHint+". Add it with AddUser.")
		c.refused = true
		return
	}
	if u == nil {
		page(w, http.StatusBadRequest, "No account", "The fake "+d.id()+" has no account to sign in with.")
		c.refused = true
		return
	}
	s.mu.Lock()
	fl, refused := d.admits(r, &user)
	if !refused && user.UserConsentBlocked && !s.adminConsented(d, ar.clientID, user.Tenant, ar.scopes) {
		fl, refused = failConsentRequired, true
	}
	s.mu.Unlock()
	if refused {
		fail(fl, x)
		return
	}
	if decision != "allow" {
		fail(failAccessDenied, x)
		return
	}
	if fl := s.grantCode(d, w, r, ar, cl, &user, ticked); fl != failNone {
		fail(fl, x)
	}
}

// grantCode settles consent (at once, or through the consent page) and
// redirects back with a code. It returns a refusal to redirect instead.
func (s *Server) grantCode(d dialect, w http.ResponseWriter, r *http.Request, ar *authzRequest, cl *client, user *User, ticked []string) failure {
	gk := grantKey{d.id(), cl.ClientID, strings.ToLower(user.Email)}
	s.mu.Lock()
	prior := s.grants[gk]
	var priorScopes []string
	var priorOffline bool
	if prior != nil {
		priorScopes, priorOffline = slices.Clone(prior.scopes), prior.offline
	}
	s.mu.Unlock()
	if ar.prompt == "none" {
		// No interaction allowed: only an earlier grant lets it through.
		if prior == nil {
			return failConsentRequired
		}
	} else if r.Method == http.MethodGet && !s.opts.AutoApprove {
		s.consentPage(d, w, ar, user)
		return failNone
	}

	p := s.provider(d.id())
	granted := grantScopes(p, ar.scopes, user.GrantScopes)
	if r.Method == http.MethodPost && d.granularConsent() {
		if ticked == nil {
			ticked = []string{} // nothing ticked: only the base scopes
		}
		granted = grantScopes(p, granted, ticked)
	}
	if d.keepsGrant(ar) {
		granted = unionScopes(p, priorScopes, granted)
	}
	offline := d.offline(ar, granted, priorOffline)
	now := s.now()
	code := &authCode{
		provider: d.id(), clientID: cl.ClientID, email: strings.ToLower(user.Email), redirectURI: ar.redirectURI,
		scopes: granted, challenge: ar.challenge, nonce: ar.nonce, offline: offline,
		tenant: user.Tenant, loginHost: d.loginHost(ar), expires: now.Add(d.codeTTL()),
	}
	value := randToken(d.codePrefix())
	s.mu.Lock()
	s.sweep(now)
	s.codes[value] = code
	s.mu.Unlock()

	q := url.Values{"code": {value}}
	if ar.state != "" {
		q.Set("state", ar.state)
	}
	for k, v := range d.redirectExtras(ar, user, granted) {
		q[k] = v
	}
	redirect(w, ar.redirectURI, q)
	return failNone
}

// chooseUser picks the account: the one chosen on the consent page, the one
// login_hint names, else the dialect's default. hintUnknown reports a
// login_hint that names nobody. Callers hold s.mu.
func (s *Server) chooseUser(d dialect, r *http.Request, ar *authzRequest, chosen string) (u *User, hintUnknown bool) {
	name := chosen
	if name == "" {
		name = ar.loginHint
	}
	if name != "" {
		u = s.lookupUser(d.id(), name)
		return u, u == nil
	}
	return d.defaultUser(r, s.usersOf(d.id())), false
}

// authorizeClient checks the client and its redirect URI (Lenient mode
// registers unknown clients).
func (s *Server) authorizeClient(d dialect, ar *authzRequest) (*client, failure) {
	if ar.clientID == "" {
		return nil, failUnknownClient
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.clients[clientKey{d.id(), ar.clientID}]
	if cl == nil {
		if !s.opts.Lenient {
			return nil, failUnknownClient
		}
		cl = &client{ClientSpec: ClientSpec{Provider: d.id(), ClientID: ar.clientID}, lenient: true}
		s.clients[clientKey{d.id(), ar.clientID}] = cl
	}
	if ar.redirectURI == "" || (len(cl.RedirectURIs) > 0 && !slices.Contains(cl.RedirectURIs, ar.redirectURI)) {
		return nil, failRedirectNotRegistered
	}
	if u, err := url.Parse(ar.redirectURI); err != nil || !u.IsAbs() || u.Fragment != "" {
		return nil, failRedirectNotRegistered
	}
	cp := *cl
	return &cp, failNone
}

// grantScopes is what a user consents to of requested: everything when
// allowed is nil, else the provider's base scopes and those in allowed.
func grantScopes(p catalog.Provider, requested, allowed []string) []string {
	if allowed == nil {
		return slices.Clone(requested)
	}
	var out []string
	for _, sc := range requested {
		if slices.Contains(p.BaseScopes, sc) || slices.ContainsFunc(allowed, func(a string) bool {
			return p.NormalizeScope(a) == p.NormalizeScope(sc)
		}) {
			out = append(out, sc)
		}
	}
	return out
}

// unionScopes is the scopes of a and those of b it lacks, comparing the provider's normalized forms (a
// Microsoft grant may hold a Graph permission with and without its
// resource), keeping a's form.
func unionScopes(p catalog.Provider, a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.ContainsFunc(out, func(y string) bool { return p.NormalizeScope(y) == p.NormalizeScope(x) }) {
			out = append(out, x)
		}
	}
	return out
}

func redirect(w http.ResponseWriter, target string, q url.Values) {
	u, _ := url.Parse(target) // checked by authorizeClient
	cur := u.Query()
	for k, v := range q {
		cur[k] = v
	}
	u.RawQuery = cur.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// takePending returns and forgets a consent-page request.
func (s *Server) takePending(id string) *authzRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar := s.pending[id]
	delete(s.pending, id)
	if ar == nil || s.now().After(ar.expires) {
		return nil
	}
	return ar
}
