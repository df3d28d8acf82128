package connections

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// StartRequest is the body of a start.
type StartRequest struct {
	// ReturnTo is the app's page the browser goes to after the callback,
	// with the completion handle; it must start with one of the
	// deployment's allowed return URLs. Required: only that page can
	// complete the connection.
	ReturnTo string `json:"returnTo"`
	// LoginHint pre-selects the account at the provider (an email address).
	LoginHint string `json:"loginHint,omitempty"`
}

// StartResult is the answer of a start.
type StartResult struct {
	AuthorizationURL string    `json:"authorizationUrl"`
	ExpiresAt        time.Time `json:"expiresAt"`
	Provider         string    `json:"provider"`
	Scopes           []string  `json:"scopes"`
	// Consent is set when the caller already has a connection of the
	// provider through the same client: what this authorization keeps and
	// adds (absent on a first connection).
	Consent *ConsentView `json:"consent,omitempty"`
}

// ConsentView is what connecting again does with the scopes an existing
// connection holds.
type ConsentView struct {
	// Mode is the provider's (providers.Consent): incremental (Google),
	// dynamic (Microsoft), per_app (Salesforce).
	Mode string `json:"mode"`
	// AlreadyGranted are the existing connection's granted scopes, which
	// the new connection keeps (per_app: as far as the app allows them).
	AlreadyGranted []string `json:"alreadyGranted"`
	// NewScopes are those the integration's current settings request
	// that the existing connection lacks.
	NewScopes []string `json:"newScopes"`
	// Message says it for a person; for per_app, that scopes are the
	// connected app's, which connecting again cannot change.
	Message string `json:"message"`
}

// MaxLoginHintLength bounds loginHint (an email address is at most 320).
const MaxLoginHintLength = 320

// Start begins an authorization for the caller: it checks that the caller
// may connect the provider, stores a single-use state bound to the caller,
// the integration's client and a PKCE verifier (sealed, see verifier.go),
// and returns the URL to send the browser to. redirectURI is this
// deployment's callback URL. Refusals are *problem.Problem.
func (s *Service) Start(ctx context.Context, who auth.Principal, providerID string, req StartRequest, redirectURI string) (StartResult, error) {
	return s.start(ctx, who, providerID, req, redirectURI, store.PurposeConnection)
}

// start begins an authorization whose completion creates what purpose
// says (testaccount.go has the org's test account).
func (s *Service) start(ctx context.Context, who auth.Principal, providerID string, req StartRequest, redirectURI, purpose string) (StartResult, error) {
	p, ok := s.opts.Catalog.Get(providerID)
	if !ok {
		return StartResult{}, problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider.")
	}
	returnTo, err := s.startReturnTo(req.ReturnTo, "the app's page that completes the connection when the provider sends the browser back")
	if err != nil {
		return StartResult{}, err
	}
	if !validLoginHint(req.LoginHint) {
		return StartResult{}, problem.Validation("The request has invalid fields.", problem.FieldError{Field: "loginHint", Code: "invalid_format", Message: "loginHint must be an account name such as an email address, without spaces."})
	}
	v, in, cl, err := s.connectable(ctx, who, p, purpose)
	if err != nil {
		return StartResult{}, err
	}

	scopes := v.RequestedScopes(p)
	var consent *ConsentView
	key := store.ConnKey{OrgID: who.OrgID, UserID: targetUser(purpose, who.UserID), Provider: p.ID}
	switch old, err := s.opts.Store.GetConnection(ctx, key); {
	case err == nil && old.ClientRef == in.ClientRef():
		// Connecting again: ask for what the settings need without losing
		// what was granted, the provider's way (providers.Consent). Scopes
		// granted to another client mean nothing to this one.
		consent = &ConsentView{Mode: p.Consent.String(), AlreadyGranted: nonNil(old.GrantedScopes),
			NewScopes: nonNil(p.MissingScopes(scopes, old.GrantedScopes)), Message: p.ConsentMessage()}
		scopes = p.ConsentScopes(scopes, old.GrantedScopes)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return StartResult{}, fmt.Errorf("read connection %s: %w", key, err)
	}
	verifier := oauth2.GenerateVerifier()
	state, stateID, err := newState()
	if err != nil {
		return StartResult{}, err
	}
	now := s.now()
	st := store.OAuthState{
		ID:            stateID,
		OrgID:         who.OrgID,
		UserID:        who.UserID,
		Provider:      p.ID,
		ConfigVersion: in.Version,
		ClientRef:     in.ClientRef(),
		RedirectURI:   redirectURI,
		ReturnTo:      returnTo,
		Scopes:        scopes,
		CreatedAt:     now,
		ExpiresAt:     now.Add(StateTTL),
		Purpose:       purpose,
	}
	if st.PKCEVerifier, err = sealVerifier(ctx, s.opts.Vault, st, verifier); err != nil {
		return StartResult{}, err
	}
	if err := s.opts.Store.CreateState(ctx, st); err != nil {
		return StartResult{}, fmt.Errorf("store oauth state for %s/%s: %w", who.OrgID, p.ID, err)
	}
	s.recordAttempt(ctx, st)
	cfg := cl.OAuth2
	cfg.RedirectURL, cfg.Scopes = redirectURI, scopes
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if req.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", req.LoginHint))
	}
	return StartResult{
		AuthorizationURL: s.opts.Clients.AuthCodeURL(cl, &cfg, state, opts...),
		ExpiresAt:        st.ExpiresAt,
		Provider:         p.ID,
		Scopes:           scopes,
		Consent:          consent,
	}, nil
}

// connectable returns the integration and its client when who may connect p
// now for purpose, or the problem that says why not (package readiness
// decides, in the order a person would check: offered here, enabled by the
// org, in the rollout (not for the org's test account), complete).
func (s *Service) connectable(ctx context.Context, who auth.Principal, p catalog.Provider, purpose string) (readiness.Value, store.Integration, clients.Client, error) {
	f := readiness.Facts{Offered: slices.Contains(s.opts.AvailableProviders, p.ID), DefaultClient: true, ClientSecret: true}
	in, err := s.opts.Store.GetIntegration(ctx, who.OrgID, p.ID)
	switch {
	case err == nil:
		f.Integration = &in
	case !errors.Is(err, store.ErrNotFound):
		return readiness.Value{}, store.Integration{}, clients.Client{}, fmt.Errorf("read integration %s/%s: %w", who.OrgID, p.ID, err)
	}
	var cl clients.Client
	if f.Integration != nil {
		// Resolving the client learns what the rule needs to know: whether
		// the org's secret, or the platform's default client, exists.
		cl, err = s.opts.Clients.Resolve(ctx, in)
		switch {
		case errors.Is(err, clients.ErrNoClientSecret):
			f.ClientSecret = false
		case errors.Is(err, clients.ErrNoDefaultClient):
			f.DefaultClient = false
		case errors.Is(err, clients.ErrNoClientID):
		case err != nil:
			return readiness.Value{}, store.Integration{}, clients.Client{}, fmt.Errorf("resolve client of %s/%s: %w", who.OrgID, p.ID, err)
		}
	}
	v := readiness.Of(p, f)
	reason := v.ForUser(who)
	if purpose == store.PurposeTestAccount || purpose == store.PurposeAdminConsent {
		reason = v.ForOrg()
	}
	switch reason {
	case readiness.ReasonProviderUnavailable:
		return v, in, cl, problem.New(http.StatusConflict, CodeProviderUnavailable, p.DisplayName+" is not available in this environment.")
	case readiness.ReasonProviderDisabled:
		return v, in, cl, problem.New(http.StatusConflict, CodeProviderDisabled, p.DisplayName+" is not enabled for your organization. An admin can enable it in Organization Settings, Integrations.")
	case readiness.ReasonNotInRollout:
		return v, in, cl, problem.New(http.StatusForbidden, CodeNotInRollout, p.DisplayName+" is being rolled out to a pilot group that does not include you yet. Ask an admin if you need it now.")
	case readiness.ReasonIncomplete:
		return v, in, cl, incomplete(p, v)
	}
	return v, in, cl, nil
}

// incomplete says what an incomplete integration lacks, first things first.
func incomplete(p catalog.Provider, v readiness.Value) *problem.Problem {
	why := "its settings are incomplete"
	missing := append(slices.Clone(v.Environment), v.Configuration...)
	if len(missing) > 0 {
		switch it := missing[0]; it.Code {
		case readiness.MissingDefaultClient:
			why = "the platform's default OAuth client is not available in this environment; use an organization-owned client"
		case readiness.MissingClientID:
			why = "the organization's client ID is not set"
		case readiness.MissingClientSecret:
			why = "the organization's client secret is not set"
		case readiness.MissingCapabilities:
			why = "no capability is enabled"
		default:
			why = "its provider settings are invalid"
		}
	}
	return problem.New(http.StatusConflict, CodeIntegrationIncomplete, p.DisplayName+" is not ready to connect: "+why+". An admin must complete the integration settings.")
}

// newState returns a state value (256 random bits, base64url) and its ID,
// the SHA-256 hex that is all the store ever holds.
func newState() (value, id string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("generate oauth state: %w", err)
	}
	value = base64.RawURLEncoding.EncodeToString(b[:])
	return value, StateID(value), nil
}

// StateID is the stored id of a state value.
func StateID(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// MaxStateLength bounds the state parameter a callback accepts; ours are 43
// characters.
const MaxStateLength = 128

// validLoginHint admits an empty hint or one account name: bounded, no
// spaces or control characters.
func validLoginHint(h string) bool {
	return len(h) <= MaxLoginHintLength && strings.IndexFunc(h, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) < 0
}

// startReturnTo checks a flow start's returnTo (required: what names the
// page it is for) and answers it as checkReturnTo normalizes it, or the
// field error that says why not.
func (s *Service) startReturnTo(raw, required string) (string, error) {
	if raw == "" {
		return "", problem.Validation("The request has invalid fields.", problem.FieldError{Field: "returnTo", Code: "required",
			Message: "Give returnTo: " + required + "."})
	}
	returnTo, err := s.checkReturnTo(raw)
	if err != nil {
		code := "invalid_format"
		if errors.Is(err, errReturnToNotAllowed) {
			code = "not_allowed"
		}
		return "", problem.Validation("The request has invalid fields.", problem.FieldError{Field: "returnTo", Code: code, Message: err.Error() + "."})
	}
	return returnTo, nil
}
