package catalog

import (
	"errors"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

var (
	myDomainRE  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(--[a-z0-9]([a-z0-9-]*[a-z0-9])?)?\.(sandbox\.)?my\.salesforce\.com$`)
	lightningRE = regexp.MustCompile(`\.lightning\.force\.com$`)
	// instanceHostRE admits the hosts Salesforce serves orgs from: its
	// instances and My Domains under salesforce.com, force.com and
	// cloudforce.com, Government Cloud (salesforce.mil) and the China
	// region (sfcrmproducts.cn).
	instanceHostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.(salesforce\.com|force\.com|cloudforce\.com|salesforce\.mil|sfcrmproducts\.cn)$`)
)

// ErrInstanceURL: a Salesforce instance URL that is not an https URL of a
// Salesforce host.
var ErrInstanceURL = errors.New("not an https URL of a Salesforce host")

// SalesforceInstanceURL is the one check of a Salesforce instance URL (the
// instance_url of a token response, from the callback's code exchange and
// from every refresh, stored as the connection's Account.InstanceURL):
// users' tokens are sent to it (API probes, and revocation at disconnect
// when the org's integration is gone), so it must be https on a Salesforce
// host, with no credentials, port, path, query or fragment. It returns the
// normal form https://<lower-case host>. Anything else is ErrInstanceURL,
// and must be neither stored nor sent a token.
func SalesforceInstanceURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.Port() != "" || u.Path != "" ||
		strings.ContainsAny(raw, "?#\\") || !instanceHostRE.MatchString(strings.ToLower(u.Hostname())) {
		return "", ErrInstanceURL
	}
	return "https://" + strings.ToLower(u.Hostname()), nil
}

// SalesforceAPIVersion is the REST API version used for probes.
const SalesforceAPIVersion = "v62.0"

// salesforce is Salesforce through a connected app and the web server flow.
// Token responses carry instance_url, id and issued_at but no expires_in.
// Docs: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm
func salesforce() Provider {
	const data = "{instance}/services/data/" + SalesforceAPIVersion
	return Provider{
		ID:          Salesforce,
		DisplayName: "Salesforce",
		Registers:   "a Salesforce connected app",
		DocsURL:     "https://help.salesforce.com/s/articleView?id=sf.connected_app_create.htm",
		SetupSteps: []string{
			"In Salesforce Setup, open App Manager and create a new connected app with OAuth settings enabled.",
			"Set the callback URL to <redirect-uri> and select the scopes api, refresh_token, openid and id.",
			"Require Proof Key for Code Exchange (PKCE) and keep the refresh token policy at 'valid until revoked' or a period longer than your users' idle time.",
			"Copy the consumer key <client-id> into the integration settings and paste the consumer secret only into the secure client secret field: <client-secret>.",
			"Set the authentication base URL: https://login.salesforce.com, https://test.salesforce.com for sandboxes, or your My Domain https://<my-domain>.my.salesforce.com.",
		},
		Capabilities: []CapabilitySpec{{
			ID: CRM, Label: "CRM records",
			Actions:     []Action{Read, Create, Update, Delete},
			ReadScopes:  []string{"api"},
			WriteScopes: writeScopes([]string{"api"}, []string{"api"}, nil, []string{"api"}),
			Probe: Probe{
				ReadURL:  data + "/limits",
				ItemURL:  data + "/sobjects/{id}",
				ItemHint: "an object name and record id such as Account/001XXXXXXXXXXXXXXX",
			},
		}},
		Fields: []Field{{
			Name: "authBaseUrl", Label: "Authentication base URL", Required: true, Example: "https://<my-domain>.my.salesforce.com",
			Help: "https://login.salesforce.com, https://test.salesforce.com, or your My Domain login URL https://<my-domain>.my.salesforce.com (sandboxes: https://<my-domain>--<sandbox>.sandbox.my.salesforce.com).",
		}},
		BaseScopes:     []string{"refresh_token", "openid", "id"},
		ImplicitScopes: []string{"openid", "id"},
		Revocation:     true,
		// Rotation is a connected-app setting; when on, reusing an old
		// refresh token revokes the whole family.
		RotatesRefreshToken: true,
		ExpiresInMissing:    true,
		CredentialCheck:     CheckDummyCode,
		PKCEMethod:          PKCES256,
		ClientIDLabel:       "Consumer key",
		ClientIDExample:     "<consumer-key>, a long string of letters and digits",
		validateClientID:    clientIDFormat(salesforceConsumerRE, "consumer key", "a string of 20 or more letters and digits (<consumer-key>)"),
		endpoints: func(s Settings) Endpoints {
			base := strings.TrimRight(s.AuthBaseURL, "/") + "/services/oauth2"
			return Endpoints{
				OAuth2:        oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams},
				RevokeURL:     base + "/revoke",
				UserInfoURL:   base + "/userinfo",
				IntrospectURL: base + "/introspect",
			}
		},
		validate: validateAuthBaseURL,
		normalizeScope: func(s string) string {
			if s == "offline_access" {
				return "refresh_token"
			}
			return s
		},
	}
}

func validateAuthBaseURL(s Settings) []FieldError {
	const field = "authBaseUrl"
	bad := func(code, msg string) []FieldError { return []FieldError{{Field: field, Code: code, Message: msg}} }
	raw := s.AuthBaseURL
	if raw == "" {
		return bad("required", "Enter https://login.salesforce.com, https://test.salesforce.com, or your My Domain https://<my-domain>.my.salesforce.com.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return bad("invalid_format", "Enter a URL such as https://<my-domain>.my.salesforce.com.")
	}
	host := strings.ToLower(u.Hostname())
	if lightningRE.MatchString(host) {
		return bad("lightning_url", "That is a Lightning Experience URL. Use your My Domain login URL instead: https://<my-domain>.my.salesforce.com.")
	}
	if u.Scheme != "https" {
		return bad("https_required", "The authentication base URL must use https.")
	}
	// An empty query or fragment ("https://login.salesforce.com?") parses
	// as none, but would end up in front of every endpoint path.
	if u.User != nil || u.Port() != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(raw, "?#") {
		return bad("invalid_format", "Enter only the scheme and host, such as https://<my-domain>.my.salesforce.com.")
	}
	if host == "login.salesforce.com" || host == "test.salesforce.com" || myDomainRE.MatchString(host) {
		return nil
	}
	return bad("host_not_allowed", "Only https://login.salesforce.com, https://test.salesforce.com and My Domain URLs (https://<my-domain>.my.salesforce.com) are accepted.")
}
