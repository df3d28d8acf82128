// Package salesforce is Salesforce: a connected app (or External Client
// App) and the OAuth 2.0 web server flow, the identity service, token
// introspection and revocation, and the REST API of the org's instance. It
// implements providers.Dialect.
package salesforce

import (
	"errors"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
)

// ID is the provider id.
const ID = "salesforce"

// ErrInstanceURL: a Salesforce instance URL that is not an https URL of a
// Salesforce host.
var ErrInstanceURL = errors.New("not an https URL of a Salesforce host")

// InstanceURL is the one check of a Salesforce instance URL (the
// instance_url of a token response, from the callback's code exchange and
// from every refresh, stored as the connection's Account.InstanceURL):
// users' tokens are sent to it (API probes, and revocation at disconnect
// when the org's integration is gone), so it must be https on a Salesforce
// host, with no credentials, port, path, query or fragment. It returns the
// normal form https://<lower-case host>. Anything else is ErrInstanceURL,
// and must be neither stored nor sent a token.
func InstanceURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.Port() != "" || u.Path != "" ||
		strings.ContainsAny(raw, "?#\\") || !isInstanceHost(strings.ToLower(u.Hostname())) {
		return "", ErrInstanceURL
	}
	return "https://" + strings.ToLower(u.Hostname()), nil
}

// instanceDomains are the registrable domains Salesforce serves orgs from:
// its instances and My Domains under salesforce.com, force.com and
// cloudforce.com, Government Cloud (salesforce.mil) and the China region
// (sfcrmproducts.cn).
var instanceDomains = []string{"salesforce.com", "force.com", "cloudforce.com", "salesforce.mil", "sfcrmproducts.cn"}

// isInstanceHost reports whether host (lower case) is a name under one of
// instanceDomains: letters, digits, hyphens and dots, starting and ending
// with a letter or digit, with no empty label.
func isInstanceHost(host string) bool {
	for _, d := range instanceDomains {
		name, ok := strings.CutSuffix(host, "."+d)
		if !ok {
			continue
		}
		if name == "" || !providers.OnlyBytes(name, "-.") || strings.Contains(name, "..") ||
			name[0] == '-' || name[0] == '.' || name[len(name)-1] == '-' || name[len(name)-1] == '.' {
			return false
		}
		return true
	}
	return false
}

// APIVersion is the REST API version of the probes: Spring '26 (66.0).
// Salesforce supports a version at least three years from its release
// (66.0: until Spring '29 at the earliest) and announces a retirement a
// year ahead; versions 31.0 to 40.0 retire in Summer '28, 21.0 to 30.0
// retired in Summer '25 and answer 410 Gone. Review it once a year.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/api_rest_eol.htm
const APIVersion = "v66.0"

// dataAPI is the REST API of the account's instance at APIVersion.
const dataAPI = "{instance}/services/data/" + APIVersion

// New returns Salesforce. Token responses carry instance_url, id and
// issued_at but no expires_in.
// Docs: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm
func New() providers.Provider { return provider }

var provider = providers.Provider{
	ID:          ID,
	DisplayName: "Salesforce",
	Registers:   "a Salesforce External Client App (or an existing connected app)",
	// Customers can no longer create connected apps from Spring '26;
	// External Client Apps replace them, and existing connected apps
	// keep working.
	// Docs: https://help.salesforce.com/s/articleView?id=005228017&type=1
	DocsURL: "https://help.salesforce.com/s/articleView?id=xcloud.external_integrations.htm&type=5",
	Capabilities: []providers.CapabilitySpec{{
		ID: providers.CRM, Label: "CRM records",
		Actions:    []providers.Action{providers.Read, providers.Create, providers.Update, providers.Delete},
		ReadScopes: []string{"api"},
		WriteScopes: []providers.ActionScopes{
			{Action: providers.Create, Scopes: []string{"api"}},
			{Action: providers.Update, Scopes: []string{"api"}},
			{Action: providers.Delete, Scopes: []string{"api"}},
		},
		Probe: providers.Probe{
			// A record-level read any API user with read access can make;
			// the limits resource would need View Setup and
			// Configuration, which reading records does not.
			// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
			ReadURL:  dataAPI + "/query?q=SELECT+Id+FROM+Account+LIMIT+1",
			ItemURL:  dataAPI + "/sobjects/{id}",
			ItemHint: "an object name and record id such as Account/001XXXXXXXXXXXXXXX",
		},
		WriteTest: "a Task with the subject " + providers.TestItemSubject,
	}},
	Fields: []providers.Field{{
		Name: "authBaseUrl", Label: "Authentication base URL", Required: true, Example: "https://<my-domain>.my.salesforce.com",
		Help: "https://login.salesforce.com, https://test.salesforce.com, or your My Domain login URL https://<my-domain>.my.salesforce.com (sandboxes: https://<my-domain>--<sandbox>.sandbox.my.salesforce.com; Developer Edition, scratch, demo and Trailhead orgs: https://<my-domain>.develop.my.salesforce.com and .scratch, .demo, .trailblaze).",
	}},
	BaseScopes:             []string{"refresh_token", "openid", "id"},
	ImplicitScopes:         []string{"openid", "id"},
	Revocation:             providers.RevokeToken,
	RequiresUserConnection: true,
	// Rotation is a connected-app setting; when on, reusing an old
	// refresh token revokes the whole family.
	RotatesRefreshToken: true,
	PKCEMethod:          providers.PKCES256,
	// Scopes are a setting of the connected app (its Selected OAuth Scopes;
	// an External Client App's OAuth scopes): a request's scopes must be
	// among them, so a user cannot grant, by connecting again, a scope the
	// app lacks.
	// Docs: https://developer.salesforce.com/docs/atlas.en-us.mobile_sdk.meta/pages/oauth_scope_parameter_values.htm
	// Docs: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_tokens_scopes.htm&type=5
	Consent:         providers.ConsentPerApp,
	ConsentHint:     "Salesforce scopes are set per connected app: Salesforce grants only the OAuth scopes selected on your organization's connected app (or External Client App), and connecting again cannot add one it lacks. A Salesforce admin adds the missing scopes to the app's Selected OAuth Scopes; then connect again.",
	ClientIDLabel:   "Consumer key",
	ClientIDExample: "<consumer-key>, a long string of letters and digits",
	Dialect:         &dialect{},
}

// dialect is Salesforce's providers.Dialect.
type dialect struct{}

var _ providers.Dialect = (*dialect)(nil)

// Endpoints: every OAuth endpoint is under the org's authentication base
// URL (login, test or its My Domain).
func (*dialect) Endpoints(s providers.Settings) providers.Endpoints {
	base := strings.TrimRight(s.AuthBaseURL, "/") + "/services/oauth2"
	return providers.Endpoints{
		OAuth2:        oauth2.Endpoint{AuthURL: base + "/authorize", TokenURL: base + "/token", AuthStyle: oauth2.AuthStyleInParams},
		RevokeURL:     base + "/revoke",
		UserInfoURL:   base + "/userinfo",
		IntrospectURL: base + "/introspect",
	}
}

func (*dialect) ValidateSettings(s providers.Settings) []providers.FieldError {
	return validateAuthBaseURL(s)
}

// ValidateClientID: a consumer key is 20 to 256 letters, digits, dots and
// underscores.
func (*dialect) ValidateClientID(id string) []providers.FieldError {
	ok := len(id) >= 20 && len(id) <= 256 && providers.OnlyBytes(id, "._")
	return providers.ClientIDFormat(ok, "consumer key", "a string of 20 or more letters and digits (<consumer-key>)")
}

// NormalizeScope: offline_access is another name of refresh_token.
func (*dialect) NormalizeScope(s string) string {
	if s == "offline_access" {
		return "refresh_token"
	}
	return s
}

func (*dialect) AuthCodeOptions(providers.Settings) []oauth2.AuthCodeOption { return nil }

func (*dialect) CredentialCheck(providers.Settings) providers.CredentialCheck {
	return providers.CredentialCheck{Method: providers.CheckDummyCode}
}

func validateAuthBaseURL(s providers.Settings) []providers.FieldError {
	const field = "authBaseUrl"
	bad := func(code, msg string) []providers.FieldError {
		return []providers.FieldError{{Field: field, Code: code, Message: msg}}
	}
	raw := s.AuthBaseURL
	if raw == "" {
		return bad("required", "Enter https://login.salesforce.com, https://test.salesforce.com, or your My Domain https://<my-domain>.my.salesforce.com.")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return bad("invalid_format", "Enter a URL such as https://<my-domain>.my.salesforce.com.")
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasSuffix(host, ".lightning.force.com") {
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
	if host == "login.salesforce.com" || host == "test.salesforce.com" || isMyDomain(host) {
		return nil
	}
	return bad("host_not_allowed", "Only https://login.salesforce.com, https://test.salesforce.com and My Domain login URLs (https://<my-domain>.my.salesforce.com, or with a sandbox, develop, scratch, demo or trailblaze partition) are accepted.")
}

// isMyDomain reports whether host is a My Domain login host in one of the
// formats Salesforce documents:
//
//	<my-domain>.my.salesforce.com                      production, and orgs without partitioned domains
//	<my-domain>--<sandbox>.sandbox.my.salesforce.com   sandbox
//	<my-domain>.develop.my.salesforce.com              Developer Edition
//	<my-domain>.scratch.my.salesforce.com              scratch org
//	<my-domain>.demo.my.salesforce.com                 demo org
//	<my-domain>.trailblaze.my.salesforce.com           Trailhead Playground
//	<my-domain>--<sandbox>.my.salesforce.com           sandbox without enhanced domains
//
// A name is one label of letters, digits and hyphens; only a sandbox's has
// two parts joined by "--". Other partitions (free, sfdctest: Salesforce's
// own) and anything else are refused.
// Docs: https://help.salesforce.com/s/articleView?id=xcloud.domain_name_app_url_changes.htm&type=5
// (My Domain URL formats), https://help.salesforce.com/s/articleView?id=xcloud.domain_name_partitioned_domains.htm&type=5
// (partitioned domains) and the DomainPartition values of
// https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/tooling_api_objects_mydomainlog.htm
func isMyDomain(host string) bool {
	rest, ok := strings.CutSuffix(host, ".my.salesforce.com")
	if !ok {
		return false
	}
	name, partition, partitioned := strings.Cut(rest, ".")
	sandbox := strings.Contains(name, "--")
	switch {
	case !partitioned:
		// production, or a sandbox without enhanced domains
	case partition == "sandbox":
		if !sandbox {
			return false
		}
	case partition == "develop", partition == "scratch", partition == "demo", partition == "trailblaze":
		if sandbox {
			return false
		}
	default:
		return false
	}
	if sandbox {
		mine, box, _ := strings.Cut(name, "--")
		return isLabel(mine) && isLabel(box)
	}
	return isLabel(name)
}

// isLabel reports whether s is one DNS label of letters, digits and
// hyphens, with no hyphen at either end.
func isLabel(s string) bool {
	return s != "" && providers.OnlyBytes(s, "-") && s[0] != '-' && s[len(s)-1] != '-'
}

// SetupSteps: what an admin does at the provider (placeholders only).
func (*dialect) SetupSteps() []string {
	return []string{
		"In Salesforce Setup, open External Client App Manager and create a new External Client App (distribution state Local) with OAuth enabled. If your org already has a connected app for this integration, keep using it: its consumer key and secret work the same way.",
		"Set the callback URL to <redirect-uri> and select the OAuth scopes api, refresh_token (offline_access), openid and id.",
		"Under Security, keep the secret required for the web server and refresh token flows, and require Proof Key for Code Exchange (PKCE).",
		"Under Policies, admit the users who will connect, and keep the refresh token policy at 'valid until revoked' or a period longer than your users' idle time.",
		"Under Settings, OAuth Settings, Consumer Key and Secret, copy the consumer key <client-id> into the integration settings and paste the consumer secret only into the secure client secret field: <client-secret>.",
		"Set the authentication base URL: https://login.salesforce.com, https://test.salesforce.com for sandboxes, or your My Domain https://<my-domain>.my.salesforce.com.",
	}
}
