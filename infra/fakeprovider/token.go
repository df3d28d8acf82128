package fakeprovider

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// token serves the token endpoint.
func (s *Server) token(d dialect, w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c := s.begin(w, d.id(), KindExchange)
		defer s.record(c)
		d.writeOAuthError(w, d.oauthError(failInvalidRequest, errCtx{param: "body", now: s.now()}))
		return
	}
	form := r.PostForm
	grantType := form.Get("grant_type")
	kind := KindExchange
	switch grantType {
	case "refresh_token":
		kind = KindRefresh
	case "client_credentials":
		kind = KindClientCredentials
	}
	c := s.begin(w, d.id(), kind)
	defer s.record(c)
	clientID, secret := clientAuth(r, form)
	c.clientID = clientID

	// Attribute the call to a user before anything can refuse it, so that
	// faults and counters can be narrowed to users.
	s.mu.Lock()
	switch kind {
	case KindExchange:
		if code := s.codes[form.Get("code")]; code != nil && code.provider == d.id() {
			c.user = code.email
		}
	case KindRefresh:
		c.refreshToken = form.Get("refresh_token")
		if rt := s.refresh[c.refreshToken]; rt != nil && rt.fam.provider == d.id() {
			c.user, c.reused = rt.fam.email, rt.redeemed > 0
		}
	}
	s.mu.Unlock()

	x := errCtx{clientID: clientID, tenant: r.PathValue("tenant"), kind: kind, now: s.now()}
	if f, ok := s.applyFault(r.Context(), c); ok {
		s.writeOAuthFault(d, w, f, x)
		return
	}
	refuse := func(fl failure) { d.writeOAuthError(w, d.oauthError(fl, x)) }
	switch {
	case grantType == "":
		x.param = "grant_type"
		refuse(failMissingParam)
		return
	case !d.grantSupported(grantType):
		x.got = grantType
		refuse(failUnsupportedGrant)
		return
	}
	cl, fl := s.authenticate(d, clientID, secret)
	if fl == failNone {
		fl, _ = d.admitsClient(r, cl)
	}
	if fl != failNone {
		refuse(fl)
		return
	}
	switch kind {
	case KindExchange:
		s.exchange(d, w, r, cl, x)
	case KindRefresh:
		s.refreshGrant(d, w, r, c, cl, x)
	case KindClientCredentials:
		d.clientCredentials(w, r, cl, x)
	}
}

// clientAuth reads client_secret_basic (RFC 6749 2.3.1: form-encoded id and
// secret) or client_secret_post.
func clientAuth(r *http.Request, form url.Values) (id, secret string) {
	if u, p, ok := r.BasicAuth(); ok {
		if uu, err := url.QueryUnescape(u); err == nil {
			u = uu
		}
		if pp, err := url.QueryUnescape(p); err == nil {
			p = pp
		}
		return u, p
	}
	return form.Get("client_id"), form.Get("client_secret")
}

// authenticate checks a confidential client's credentials.
func (s *Server) authenticate(d dialect, id, secret string) (*client, failure) {
	if id == "" {
		return nil, failUnknownClient
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := s.clients[clientKey{d.id(), id}]
	if cl == nil {
		if !s.opts.Lenient {
			return nil, failUnknownClient
		}
		cl = &client{ClientSpec: ClientSpec{Provider: d.id(), ClientID: id}, lenient: true}
		s.clients[clientKey{d.id(), id}] = cl
	}
	if cl.lenient && cl.Secret == "" && secret != "" {
		cl.Secret = secret // Lenient: the first secret seen is the secret
	}
	switch {
	case secret == "":
		return nil, failMissingSecret
	case subtle.ConstantTimeCompare([]byte(secret), []byte(cl.Secret)) != 1:
		return nil, failBadSecret
	}
	cp := *cl
	return &cp, failNone
}

// issue is what one successful token request produced.
type issue struct {
	cl          *client
	fam         *family
	user        User
	access      string
	refresh     string // "" when none is returned
	nonce       string
	tenant      string
	instanceURL string
	withIDToken bool
	now         time.Time
}

// exchange redeems an authorization code.
func (s *Server) exchange(d dialect, w http.ResponseWriter, r *http.Request, cl *client, x errCtx) {
	form := r.PostForm
	refuse := func(fl failure) { d.writeOAuthError(w, d.oauthError(fl, x)) }
	value := form.Get("code")
	if value == "" {
		x.param = "code"
		refuse(failMissingParam)
		return
	}
	now := s.now()
	s.mu.Lock()
	code := s.codes[value]
	fl := failNone
	switch {
	case code == nil || code.provider != d.id():
		fl = failUnknownCode
	case code.clientID != cl.ClientID:
		fl = failCodeClient
	case code.used:
		// RFC 6749 4.1.2: a second redemption revokes what the first issued.
		if code.fam != nil {
			code.fam.revoke(now)
		}
		fl = failUsedCode
	case !now.Before(code.expires):
		fl = failExpiredCode
	case form.Get("redirect_uri") != code.redirectURI:
		x.got, x.want = form.Get("redirect_uri"), code.redirectURI
		fl = failRedirectMismatch
	case code.challenge != "" && form.Get("code_verifier") == "":
		fl = failVerifierMissing
	case code.challenge != "" && (!validVerifier(form.Get("code_verifier")) || s256(form.Get("code_verifier")) != code.challenge):
		fl = failVerifierMismatch
	}
	var u *User
	if fl == failNone {
		x.user = code.email
		if u = s.lookupUser(d.id(), code.email); u == nil {
			fl = failUnknownCode
		}
	}
	if fl == failNone {
		fl, _ = d.admits(r, u)
	}
	if fl != failNone {
		s.mu.Unlock()
		refuse(fl)
		return
	}
	code.used = true
	fam := &family{provider: d.id(), clientID: cl.ClientID, email: code.email, scopes: code.scopes,
		tenant: code.tenant, loginHost: code.loginHost, instanceHost: hostOf(u.InstanceURL)}
	code.fam = fam
	t := s.issueLocked(d, cl, fam, u, now, code.offline)
	t.nonce = code.nonce
	gk := grantKey{d.id(), cl.ClientID, code.email}
	g := s.grants[gk]
	if g == nil {
		g = &grant{}
		s.grants[gk] = g
	}
	g.scopes = unionScopes(s.provider(d.id()), g.scopes, code.scopes)
	g.offline = g.offline || t.refresh != ""
	s.mu.Unlock()
	writeToken(w, d.tokenResponse(t))
}

// issueLocked creates an access token (and a refresh token when offline)
// in d's shapes; callers hold s.mu.
func (s *Server) issueLocked(d dialect, cl *client, fam *family, u *User, now time.Time, offline bool) *issue {
	s.sweep(now)
	at := &accessToken{provider: fam.provider, clientID: cl.ClientID, email: fam.email, fam: fam,
		scopes: fam.scopes, issued: now, expires: now.Add(s.opts.TokenTTL)}
	value := d.newAccessToken(cl, fam, u, at)
	s.access[value] = at
	t := &issue{cl: cl, fam: fam, user: cloneUser(*u), access: value, tenant: fam.tenant, now: now,
		withIDToken: slices.Contains(fam.scopes, "openid"), instanceURL: u.InstanceURL}
	if offline {
		t.refresh = d.newRefreshToken()
		s.refresh[t.refresh] = &refreshToken{fam: fam, issued: now, lastUsed: now}
	}
	return t
}

// refreshGrant serves grant_type=refresh_token.
func (s *Server) refreshGrant(d dialect, w http.ResponseWriter, r *http.Request, c *call, cl *client, x errCtx) {
	refuse := func(fl failure) { d.writeOAuthError(w, d.oauthError(fl, x)) }
	value := r.PostForm.Get("refresh_token")
	if value == "" {
		x.param = "refresh_token"
		refuse(failMissingParam)
		return
	}
	p := s.provider(d.id())
	now := s.now()
	s.mu.Lock()
	rt := s.refresh[value]
	fl := failNone
	var u *User
	switch {
	case rt == nil || rt.fam.provider != d.id():
		fl = failUnknownRefresh
	case rt.fam.clientID != cl.ClientID:
		fl = failRefreshClient
	case rt.fam.revoked():
		x.issued = rt.issued
		fl = failRevokedRefresh
	case rt.replaced:
		// A replaced token presented again: Salesforce (rotation on) takes
		// it for a stolen token and revokes the whole family.
		if d.reuseRevokesFamily() {
			rt.fam.revoke(now)
		}
		fl = failReplacedRefresh
	case p.RefreshTokenIdle > 0 && now.Sub(rt.lastUsed) > p.RefreshTokenIdle:
		x.issued = rt.issued
		rt.fam.revoke(now)
		fl = failIdleRefresh
	case d.refreshLifetime(cl, rt.fam) > 0 && now.Sub(rt.issued) >= d.refreshLifetime(cl, rt.fam):
		x.issued = rt.issued
		rt.fam.revoke(now)
		fl = failRevokedRefresh
	}
	if rt != nil {
		c.reused = rt.redeemed > 0
	}
	if fl == failNone {
		x.user = rt.fam.email
		if u = s.lookupUser(d.id(), rt.fam.email); u == nil {
			fl = failRevokedRefresh
		}
	}
	if fl == failNone {
		fl, _ = d.admits(r, u)
	}
	if fl != failNone {
		s.mu.Unlock()
		refuse(fl)
		return
	}
	rt.redeemed++
	rt.lastUsed = now
	rotate := d.rotates(cl)
	t := s.issueLocked(d, cl, rt.fam, u, now, rotate)
	if rotate {
		rt.replaced = true
	}
	s.mu.Unlock()
	writeToken(w, d.tokenResponse(t))
}

// writeOAuthFault answers an OAuth endpoint call with an injected fault.
func (s *Server) writeOAuthFault(d dialect, w http.ResponseWriter, f Fault, x errCtx) {
	x.fault = f
	retryAfter(w, f)
	switch {
	case f.Malformed:
		malformed(w)
	case f.Error != "":
		d.writeOAuthError(w, d.oauthError(failInjected, x))
	default:
		d.writeOAuthError(w, d.oauthError(failServer, x))
	}
}

func writeToken(w http.ResponseWriter, body map[string]any) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "fake provider: cannot encode answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
