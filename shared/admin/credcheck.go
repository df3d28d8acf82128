package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Credential check results.
const (
	CheckValid         = "valid"          // the provider authenticated the client
	CheckInvalidClient = "invalid_client" // the provider refused the client id or secret
	CheckUnreachable   = "unreachable"    // network error, timeout, 5xx or 429: try again later
	// CheckSettingsMismatch: the provider refused the client under the
	// integration's settings, which do not fit its app (a single-tenant
	// Microsoft app under organizations or common); the message says what
	// to change.
	CheckSettingsMismatch = "settings_mismatch"
	// CheckUnverified: the provider answered, but not in a way that tells
	// whether the client authenticated (an unexpected error code).
	CheckUnverified = "unverified"
	// CheckRateLimited: the org asked for more than CredentialCheckLimit
	// checks within CredentialCheckWindow; this one was not run (the save
	// stands).
	CheckRateLimited = "rate_limited"
)

// The credential check asks the provider's token endpoint whether a client
// id and secret are valid, so an admin could use saves to test guessed
// pairs (someone else's client id and candidate secrets). Checks are
// therefore limited per org, across every container: at most
// CredentialCheckLimit per CredentialCheckWindow (a fixed window, counted in
// the store).
const (
	CredentialCheckLimit  = 10
	CredentialCheckWindow = time.Minute
	credentialCheckName   = "credential_check"
)

// ActionCredentialsChecked is the audit action of a credential check's
// outcome.
const ActionCredentialsChecked = "credentials.checked"

// CredentialCheck is the outcome of verifying an org's client credentials at
// the provider's token endpoint, without a user. It never blocks a save.
type CredentialCheck struct {
	Result  string `json:"result"`
	Method  string `json:"method"`
	Message string `json:"message"`
	// ProviderError is the OAuth error code the provider answered with.
	ProviderError string    `json:"providerError,omitempty"`
	CheckedAt     time.Time `json:"checkedAt"`
}

// oauthErrorCode keeps only well-formed OAuth error codes (RFC 6749 §5.2
// codes are short ASCII words): anything else from the wire is dropped.
// Compiled on first use, off the cold start (issue 13 §1).
var oauthErrorCode = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`) })

// checkCredentials asks the provider's token endpoint whether it accepts
// the integration's client id and secret:
//   - Microsoft with a real tenant: a client-credentials grant, which needs
//     nothing but the client (and issues a token we throw away);
//   - Google, Salesforce, and Microsoft under common/organizations: redeem a
//     code that cannot exist. The token endpoint authenticates the client
//     before it looks at the code, so invalid_grant proves the credentials
//     and invalid_client refutes them.
//
// The secret goes only into the token request; neither it nor the
// provider's free-text answer is logged or returned.
//
// Before asking, the org's check is counted against CredentialCheckLimit; over
// it the check answers rate_limited without asking the provider. When the
// count cannot be taken (the store failing), no check is made: the limit
// fails closed. Each outcome is audited (auditCheck).
func (s *Service) checkCredentials(ctx context.Context, who auth.Principal, in store.Integration, redirectURI string) *CredentialCheck {
	c, err := s.o.Clients.Resolve(ctx, in)
	if err != nil {
		slog.WarnContext(ctx, "credential check skipped: client not resolvable", "org", in.OrgID, "provider", in.Provider, "err", err.Error())
		return nil
	}
	check := c.Provider.CredentialCheckFor(c.Settings)
	method := check.Method
	now := s.now()
	window := now.Truncate(CredentialCheckWindow)
	allowed, err := s.o.Store.Allow(ctx, credentialCheckName, in.OrgID, window, CredentialCheckLimit, window.Add(2*CredentialCheckWindow))
	if err != nil {
		slog.ErrorContext(ctx, "credential check skipped: the rate limit could not be counted", "org", in.OrgID, "provider", in.Provider, "err", err.Error())
		return nil
	}
	if !allowed {
		res := &CredentialCheck{
			Result: CheckRateLimited, Method: string(method), CheckedAt: now,
			Message: fmt.Sprintf("This organization asked for more than %d credential checks within a minute, so this one was not run. The settings were saved; save again in a minute to check.", CredentialCheckLimit),
		}
		slog.WarnContext(ctx, "credential check", "org", in.OrgID, "provider", in.Provider, "method", string(method), "result", res.Result)
		s.auditCheck(ctx, who, in.Provider, res)
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.o.HTTPClient)

	start := time.Now()
	switch method {
	case catalog.CheckClientCredentials:
		cc := clientcredentials.Config{
			ClientID: c.OAuth2.ClientID, ClientSecret: c.OAuth2.ClientSecret,
			TokenURL: c.OAuth2.Endpoint.TokenURL, AuthStyle: c.OAuth2.Endpoint.AuthStyle,
			Scopes: []string{check.Scope},
		}
		_, err = cc.Token(ctx)
	default:
		cfg := c.OAuth2
		cfg.RedirectURL = redirectURI
		_, err = cfg.Exchange(ctx, dummyCode(), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	}
	res := classifyCheck(c.Provider, method, err)
	res.CheckedAt = s.now()
	slog.InfoContext(ctx, "credential check", "org", in.OrgID, "provider", in.Provider, "method", string(method),
		"result", res.Result, "providerError", res.ProviderError, "durationMs", time.Since(start).Milliseconds())
	s.auditCheck(ctx, who, in.Provider, &res)
	return &res
}

// auditCheck records a check's outcome (its result only: never the
// secret, the provider's text or even its error code) as its own audit
// entry following the save's. Not in the save's entry, because that entry
// is written in the same transaction as the integration, before the check:
// the check runs only once the save has committed, so that it never holds
// the save up (up to CheckTimeout at the provider) and a save refused by
// its precondition spends no check. A rate-limited check is audited too,
// which makes guessing visible in the trail. If the entry cannot be
// written the save and the check still stand; the failure is logged.
func (s *Service) auditCheck(ctx context.Context, who auth.Principal, provider string, res *CredentialCheck) {
	entry, err := s.auditEntry(who, provider, ActionCredentialsChecked, s.now(),
		[]store.FieldChange{{Field: "credentialCheck", Old: "", New: res.Result}})
	if err == nil {
		err = s.o.Store.AppendAudit(context.WithoutCancel(ctx), entry)
	}
	if err != nil {
		slog.ErrorContext(ctx, "credential check not audited", "org", who.OrgID, "provider", provider, "result", res.Result, "err", err.Error())
	}
}

// dummyCode is an authorization code no provider ever issued.
func dummyCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "credential-check-" + hex.EncodeToString(b[:])
}

// classifyCheck reads the check's answer: the provider's dialect says
// whether the client was refused (oauthfail.ClientRefused: invalid_client
// and the provider's own variants); a dummy code refused as invalid_grant
// proves the client authenticated.
func classifyCheck(p catalog.Provider, method catalog.CheckMethod, err error) CredentialCheck {
	res := CredentialCheck{Method: string(method)}
	if err == nil {
		if method == catalog.CheckClientCredentials {
			res.Result, res.Message = CheckValid, "The provider issued a token to this client: the client id and secret are valid."
			return res
		}
		// A provider that redeems a code nobody issued is not behaving as
		// an OAuth server should; do not call that a pass.
		res.Result, res.Message = CheckUnverified, "The provider accepted a test code it never issued; the credentials could not be verified."
		return res
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		res.Result, res.Message = CheckUnreachable, "The provider's token endpoint could not be reached in time. The settings were saved; save again later to re-check."
		return res
	}
	if re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == 429) {
		res.Result, res.Message = CheckUnreachable, "The provider's token endpoint is unavailable right now. The settings were saved; save again later to re-check."
		return res
	}
	if oauthErrorCode().MatchString(re.ErrorCode) {
		res.ProviderError = re.ErrorCode
	}
	grant := providers.GrantCode
	if method == catalog.CheckClientCredentials {
		grant = providers.GrantClientCredentials
	}
	switch f := p.Dialect.ClassifyToken(err, providers.TokenCall{Grant: grant}); {
	case f.Kind == oauthfail.AdminAction:
		// The provider says what in the settings does not fit its app.
		res.Result, res.Message = CheckSettingsMismatch, f.Cause+" The settings were saved."
	case f.Kind == oauthfail.ClientRefused:
		res.Result, res.Message = CheckInvalidClient, "The provider refused the client id or client secret. Check that the client id is right and paste a current client secret."
	case re.ErrorCode == "invalid_grant" && method == catalog.CheckDummyCode:
		res.Result, res.Message = CheckValid, "The provider authenticated the client (it refused only the test code): the client id and secret are valid."
	default:
		res.Result, res.Message = CheckUnverified, "The provider answered with an error that does not tell whether the credentials are valid. Check the app registration at the provider."
	}
	return res
}
