package providers

import (
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/store"
)

// Capability is a kind of data a provider gives access to.
type Capability string

// Capabilities, as the product page's integration cards name them.
const (
	Email    Capability = "email"
	Calendar Capability = "calendar"
	Files    Capability = "files"
	Contacts Capability = "contacts"
	CRM      Capability = "crm"
)

// Action is what a user asks the assistant to do with an item.
type Action string

// Actions. Everything but read changes an external system.
const (
	Read   Action = "read"
	Create Action = "create"
	Update Action = "update"
	Send   Action = "send"
	Delete Action = "delete"
)

// AllActions in display order.
var AllActions = []Action{Read, Create, Update, Send, Delete}

// IsWrite reports whether the action changes external items, which an org
// must allow explicitly (allowWriteActions).
func (a Action) IsWrite() bool { return a != Read }

// Settings are the provider-specific fields of an org's configuration.
type Settings struct {
	Tenant       string // Microsoft 365
	AuthBaseURL  string // Salesforce
	HostedDomain string // Google Workspace
	// TenantID is the directory id Tenant resolves to (Microsoft 365),
	// when known (ResolveSettings).
	TenantID string
}

// SettingsOf returns the provider-specific fields of an integration.
func SettingsOf(in store.Integration) Settings {
	return Settings{Tenant: in.Tenant, AuthBaseURL: in.AuthBaseURL, HostedDomain: in.HostedDomain, TenantID: in.TenantID}
}

// SettingsError is a setting the provider itself refuses when asked
// (ResolveSettings: a tenant domain it does not know).
type SettingsError struct{ FieldError }

func (e *SettingsError) Error() string { return "setting refused: " + e.Field + ": " + e.Code }

// Admits reports whether the org's settings s admit acct, an account
// connected earlier (possibly under other settings): see Dialect.Admits.
func (p Provider) Admits(s Settings, acct store.Account) bool { return p.Dialect.Admits(s, acct) }

// Field describes one provider-specific configuration field.
type Field struct {
	Name     string // JSON name in the integration body: tenant, authBaseUrl, hostedDomain
	Label    string
	Help     string // with placeholders only
	Required bool
	Example  string // a placeholder, never a real value
}

// Probe is a read call that proves a capability works for a connected
// account, and the item endpoints diagnostics and the admin test use.
// URLs may contain {instance} (the account's own API host, see
// Dialect.InstanceURL) and {id}.
type Probe struct {
	ReadURL    string // lists at most one item, or reads the account's root
	ItemURL    string // fetches one item by id
	ContentURL string // downloads an item's content (files only)
	ItemHint   string // what an item id looks like, for error messages
}

// CapabilitySpec is one capability of one provider.
type CapabilitySpec struct {
	ID    Capability
	Label string
	// Actions the provider supports for this capability.
	Actions []Action
	// ReadScopes are needed for read; WriteScopes those of each write
	// action.
	ReadScopes  []string
	WriteScopes []ActionScopes
	Probe       Probe
	// WriteTest is what the admin's write test creates and deletes for
	// this capability, for people ("a draft message to the account
	// itself"); empty when the capability has no write action.
	// Dialect.CreateTestItem and DeleteTestItem do it.
	WriteTest string
}

// TestWriteScopes are the scopes the write test needs: those of create
// and of delete (nil when the capability supports neither).
func (c CapabilitySpec) TestWriteScopes() []string {
	out := c.ScopesFor(Create)
	for _, s := range c.ScopesFor(Delete) {
		if !slices.Contains(out, s) {
			out = append(out[:len(out):len(out)], s)
		}
	}
	return out
}

// ActionScopes are the scopes one write action needs.
type ActionScopes struct {
	Action Action
	Scopes []string
}

// Supports reports whether the capability supports the action.
func (c CapabilitySpec) Supports(a Action) bool { return slices.Contains(c.Actions, a) }

// ScopesFor returns the scopes action a needs (nil for an unsupported one).
// Not inlined: its loops, copied into each caller, cost every bootstrap
// more than the call does (issue 13).
//
//go:noinline
func (c CapabilitySpec) ScopesFor(a Action) []string {
	if !c.Supports(a) {
		return nil
	}
	if a == Read {
		return c.ReadScopes
	}
	for _, w := range c.WriteScopes {
		if w.Action == a {
			return w.Scopes
		}
	}
	return nil
}

// Endpoints are the provider's URLs for one org's settings. Empty optional
// URLs mean the provider has no such endpoint.
type Endpoints struct {
	OAuth2      oauth2.Endpoint
	RevokeURL   string
	UserInfoURL string
	// IntrospectURL gives the expiry of tokens issued without expires_in
	// (Salesforce).
	IntrospectURL string
}

// FieldError is an invalid provider field. Code is stable.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

// PKCES256 is the PKCE code challenge method of every provider.
const PKCES256 = "S256"

// Provider is one connected-app provider: its catalog data, and its
// Dialect for everything that is a function of settings, tokens or
// answers. Build one with a provider package's New (shared/providers/...),
// never field by field elsewhere.
type Provider struct {
	ID          string
	DisplayName string
	// Registers is what the admin creates at the provider.
	Registers    string
	DocsURL      string
	Capabilities []CapabilitySpec
	Fields       []Field
	// BaseScopes are always requested: account identity and a refresh token.
	BaseScopes []string
	// ImplicitScopes need not be echoed back in the token response's scope
	// to count as granted (identity and offline scopes, which providers omit
	// or rename).
	ImplicitScopes []string
	// AuthParams are the authorization request parameters every org sends;
	// Dialect.AuthCodeOptions adds those that depend on the org's settings.
	AuthParams []AuthParam
	// Revocation is what revoking a token ends at the provider.
	Revocation Revocation
	// NoRevocationHint is what a disconnect tells a user of a provider
	// without revocation (RevokeNone): where to withdraw the app's access.
	NoRevocationHint string
	// RefreshTokenIdle is how long an unused refresh token survives at the
	// provider; 0 when the provider's or connected app's policy decides.
	RefreshTokenIdle time.Duration
	// RotatesRefreshToken: a refresh may return a new refresh token that must
	// replace the old one.
	RotatesRefreshToken bool
	// PKCEMethod is the code challenge method every authorization request
	// uses ("S256" for all three providers).
	PKCEMethod string
	// Consent is how the provider takes a user's consent to scopes beyond
	// those they granted before (see ConsentScopes).
	Consent Consent
	// ConsentHint is what a user or admin is told when a scope cannot be
	// added by consenting again (ConsentPerApp): where an admin adds it.
	ConsentHint string
	// RequiresUserConnection: each user connects their own account (the
	// service acts with delegated, per-user access; true for every provider
	// today).
	RequiresUserConnection bool
	// ClientIDLabel is what the provider's console calls the client id, and
	// ClientIDExample a placeholder of its shape.
	ClientIDLabel   string
	ClientIDExample string

	// Dialect is what the provider does its own way.
	Dialect Dialect
}

// SetupSteps are what an admin does at the provider to register the app,
// with placeholders only (<client-id>, <redirect-uri>).
func (p Provider) SetupSteps() []string { return p.Dialect.SetupSteps() }

// Capability returns the provider's spec for c.
func (p Provider) Capability(c Capability) (CapabilitySpec, bool) {
	for _, cs := range p.Capabilities {
		if cs.ID == c {
			return cs, true
		}
	}
	return CapabilitySpec{}, false
}

// CapabilityIDs lists the provider's capabilities in display order.
func (p Provider) CapabilityIDs() []Capability {
	out := make([]Capability, len(p.Capabilities))
	for i, c := range p.Capabilities {
		out[i] = c.ID
	}
	return out
}

// Endpoints builds the provider's URLs from an org's settings. Settings must
// have passed Validate.
func (p Provider) Endpoints(s Settings) Endpoints { return p.Dialect.Endpoints(s) }

// Validate checks the provider-specific fields. Fields of other providers
// must be empty.
func (p Provider) Validate(s Settings) []FieldError {
	errs := p.Dialect.ValidateSettings(s)
	for _, f := range [...]struct{ name, value string }{{"authBaseUrl", s.AuthBaseURL}, {"hostedDomain", s.HostedDomain}, {"tenant", s.Tenant}} {
		if f.value != "" && !p.hasField(f.name) {
			errs = append(errs, FieldError{Field: f.name, Code: "not_applicable", Message: p.DisplayName + " has no " + f.name + " field."})
		}
	}
	// By field, stable. An insertion sort: there are at most a few, and
	// slices.SortFunc would link a generic sort into every function for
	// them.
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && errs[j].Field < errs[j-1].Field; j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
	return errs
}

// AuthParam is one fixed authorization request parameter.
type AuthParam struct{ Key, Value string }

func (p Provider) hasField(name string) bool {
	for _, f := range p.Fields {
		if f.Name == name {
			return true
		}
	}
	return false
}

// AuthCodeOptions are the provider's fixed authorization parameters. Their
// order does not matter: x/oauth2 encodes the URL's query sorted by key.
func (p Provider) AuthCodeOptions() []oauth2.AuthCodeOption {
	opts := make([]oauth2.AuthCodeOption, 0, len(p.AuthParams))
	for _, ap := range p.AuthParams {
		opts = append(opts, oauth2.SetAuthURLParam(ap.Key, ap.Value))
	}
	return opts
}

// AuthCodeOptionsFor are the provider's authorization parameters for one
// org's settings: the fixed ones and those the dialect derives from the
// settings.
func (p Provider) AuthCodeOptionsFor(s Settings) []oauth2.AuthCodeOption {
	return append(p.AuthCodeOptions(), p.Dialect.AuthCodeOptions(s)...)
}

// NormalizeScope maps a scope to the form the provider's token responses use
// for comparison (Google returns userinfo.email for email, Microsoft may drop
// the Graph resource prefix).
func (p Provider) NormalizeScope(s string) string { return p.Dialect.NormalizeScope(s) }

// RequestedScopes returns what to ask for: the base scopes, the read scopes
// of every enabled capability, and their write scopes only when the org
// allows write actions. Order is stable and duplicates are removed.
func (p Provider) RequestedScopes(caps []Capability, allowWrite bool) []string {
	out := slices.Clone(p.BaseScopes)
	add := func(ss []string) {
		for _, s := range ss {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, cs := range p.Capabilities {
		if !slices.Contains(caps, cs.ID) {
			continue
		}
		add(cs.ReadScopes)
		if allowWrite {
			for _, w := range cs.WriteScopes {
				add(w.Scopes)
			}
		}
	}
	return out
}

// MissingScopes returns the requested scopes that granted does not cover,
// comparing normalized forms and ignoring implicit scopes.
func (p Provider) MissingScopes(requested, granted []string) []string {
	have := map[string]bool{}
	for _, g := range granted {
		have[p.NormalizeScope(g)] = true
	}
	var missing []string
	for _, r := range requested {
		if slices.Contains(p.ImplicitScopes, r) {
			continue
		}
		if !have[p.NormalizeScope(r)] {
			missing = append(missing, r)
		}
	}
	return missing
}

// Covers reports whether granted includes every scope in need.
func (p Provider) Covers(granted, need []string) bool {
	return len(p.MissingScopes(need, granted)) == 0
}

// ValidateClientID checks the shape of an organization-owned client id. It
// catches values pasted into the wrong field (a secret, a tenant, a URL)
// before anything is stored; whether the id exists is for the credential
// check to tell.
func (p Provider) ValidateClientID(id string) []FieldError {
	if id == "" {
		return []FieldError{{Field: "clientId", Code: "required", Message: "Enter the " + p.ClientIDLabel + " (" + p.ClientIDExample + ")."}}
	}
	if strings.TrimSpace(id) != id {
		return []FieldError{{Field: "clientId", Code: "invalid_format", Message: "Remove the spaces around the " + p.ClientIDLabel + "."}}
	}
	return p.Dialect.ValidateClientID(id)
}

// ClientIDFormat is a dialect's ValidateClientID answer: nil when ok, else
// the invalid_format error naming what the id looks like.
func ClientIDFormat(ok bool, label, example string) []FieldError {
	if ok {
		return nil
	}
	return []FieldError{{Field: "clientId", Code: "invalid_format", Message: "The " + label + " looks like " + example + "."}}
}

// CredentialCheckFor is how to verify the org's client credentials for these
// settings.
func (p Provider) CredentialCheckFor(s Settings) CredentialCheck { return p.Dialect.CredentialCheck(s) }

// Consent is how a provider takes a user's consent to more scopes than they
// granted before (an admin enabled a capability, or write actions), without
// taking back what they granted.
type Consent int

const (
	// ConsentIncremental: the grant is one per user and client, and an
	// authorization with include_granted_scopes=true adds the scopes it
	// names to it; the token response names the whole grant. Ask for the
	// full set the settings need (Google).
	ConsentIncremental Consent = iota + 1
	// ConsentDynamic: consent is recorded per user and app, the prompt asks
	// only for permissions not consented yet, and a token carries the
	// scopes asked for. Ask for the new scopes plus those already granted,
	// so that the new tokens name them all (Microsoft).
	ConsentDynamic
	// ConsentPerApp: the scopes a user can grant are those the app's
	// registration allows (a Salesforce connected app's Selected OAuth
	// Scopes). Connecting again asks for the same set, and cannot add a
	// scope the app lacks: only an admin of the app can (ConsentHint).
	ConsentPerApp
)

// String is the mode's name in the API: incremental, dynamic, per_app.
func (c Consent) String() string {
	switch c {
	case ConsentIncremental:
		return "incremental"
	case ConsentDynamic:
		return "dynamic"
	case ConsentPerApp:
		return "per_app"
	}
	return ""
}

// ConsentScopes are the scopes to ask of a user whose connection through the
// same client already holds granted, when the integration's settings
// request requested. For ConsentDynamic they are requested plus every
// granted scope requested lacks (in the catalog's form where the catalog
// names it: a token response may name Graph permissions without their
// resource); otherwise requested, which the provider merges with the grant
// itself (ConsentIncremental) or which the app's registration bounds
// (ConsentPerApp).
func (p Provider) ConsentScopes(requested, granted []string) []string {
	out := slices.Clone(requested)
	if p.Consent != ConsentDynamic {
		return out
	}
	known := p.RequestedScopes(p.CapabilityIDs(), true)
	have := map[string]bool{}
	for _, r := range out {
		have[p.NormalizeScope(r)] = true
	}
	for _, g := range granted {
		n := p.NormalizeScope(g)
		if have[n] {
			continue
		}
		have[n] = true
		if i := slices.IndexFunc(known, func(k string) bool { return p.NormalizeScope(k) == n }); i >= 0 {
			g = known[i]
		}
		out = append(out, g)
	}
	return out
}

// ConsentMessage says, for a person, what connecting again does with the
// scopes already granted.
func (p Provider) ConsentMessage() string {
	switch p.Consent {
	case ConsentIncremental:
		return p.DisplayName + " adds the permissions asked for now to those you granted before, which you keep."
	case ConsentDynamic:
		return p.DisplayName + " asks you only for the permissions you have not granted yet; those you granted before are asked for again so that you keep them."
	}
	return p.ConsentHint
}

// AdminConsenter is a Dialect with an org-wide admin consent flow
// (Microsoft's /{tenant}/v2.0/adminconsent): an administrator of the
// provider grants the app's permissions for every user of the directory,
// where users may not consent themselves.
type AdminConsenter interface {
	// AdminConsentURL is the URL to send the administrator's browser to,
	// asking for scopes for clientID under the org's settings s; the
	// provider answers at redirectURI with state.
	AdminConsentURL(s Settings, clientID, redirectURI, state string, scopes []string) string
}

// AdminConsent reports whether the provider has an org-wide admin consent
// flow (AdminConsenter).
func (p Provider) AdminConsent() bool {
	_, ok := p.Dialect.(AdminConsenter)
	return ok
}
