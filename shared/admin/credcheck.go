package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"regexp"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// Credential check results.
const (
	CheckValid         = "valid"          // the provider authenticated the client
	CheckInvalidClient = "invalid_client" // the provider refused the client id or secret
	CheckUnreachable   = "unreachable"    // network error, timeout, 5xx or 429: try again later
	// CheckUnverified: the provider answered, but not in a way that tells
	// whether the client authenticated (an unexpected error code).
	CheckUnverified = "unverified"
)

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
var oauthErrorCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// clientRefused are the token endpoint's answers to a client that failed to
// authenticate: RFC 6749's invalid_client and unauthorized_client, and
// Salesforce's invalid_client_id and invalid_client_credentials.
var clientRefused = map[string]bool{
	"invalid_client": true, "unauthorized_client": true,
	"invalid_client_id": true, "invalid_client_credentials": true,
}

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
func (s *Service) checkCredentials(ctx context.Context, in store.Integration, redirectURI string) *CredentialCheck {
	c, err := s.o.Clients.Resolve(ctx, in)
	if err != nil {
		slog.WarnContext(ctx, "credential check skipped: client not resolvable", "org", in.OrgID, "provider", in.Provider, "err", err.Error())
		return nil
	}
	method := c.Provider.CredentialCheckFor(c.Settings)
	ctx, cancel := context.WithTimeout(ctx, s.o.CheckTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.o.HTTPClient)

	start := time.Now()
	switch method {
	case catalog.CheckClientCredentials:
		cc := clientcredentials.Config{
			ClientID: c.OAuth2.ClientID, ClientSecret: c.OAuth2.ClientSecret,
			TokenURL: c.OAuth2.Endpoint.TokenURL, AuthStyle: c.OAuth2.Endpoint.AuthStyle,
			Scopes: []string{c.Provider.CredentialCheckScope},
		}
		_, err = cc.Token(ctx)
	default:
		cfg := c.OAuth2
		cfg.RedirectURL = redirectURI
		_, err = cfg.Exchange(ctx, dummyCode(), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	}
	res := classifyCheck(method, err)
	res.CheckedAt = s.now()
	slog.InfoContext(ctx, "credential check", "org", in.OrgID, "provider", in.Provider, "method", string(method),
		"result", res.Result, "providerError", res.ProviderError, "durationMs", time.Since(start).Milliseconds())
	return &res
}

// dummyCode is an authorization code no provider ever issued.
func dummyCode() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "credential-check-" + hex.EncodeToString(b[:])
}

func classifyCheck(method catalog.CredentialCheck, err error) CredentialCheck {
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
	if oauthErrorCode.MatchString(re.ErrorCode) {
		res.ProviderError = re.ErrorCode
	}
	switch {
	case clientRefused[re.ErrorCode]:
		res.Result, res.Message = CheckInvalidClient, "The provider refused the client id or client secret. Check that the client id is right and paste a current client secret."
	case re.ErrorCode == "invalid_grant" && method == catalog.CheckDummyCode:
		res.Result, res.Message = CheckValid, "The provider authenticated the client (it refused only the test code): the client id and secret are valid."
	default:
		res.Result, res.Message = CheckUnverified, "The provider answered with an error that does not tell whether the credentials are valid. Check the app registration at the provider."
	}
	return res
}
