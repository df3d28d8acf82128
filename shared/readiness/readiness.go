// Package readiness decides, in one pure function, whether an org's
// integration of a provider can be used now: offered in this deployment,
// configured and enabled by the org, complete, and, for one user, whether
// they are in its rollout; and whether a stored connection can be used
// under it. Every caller asks it: the admin's integration status, the start
// of a connection, the listing's usable capabilities, the refresh job and
// on-demand tokens, and diagnostics, which explain the same value check by
// check, so the checklist and the behaviour can never disagree.
//
// What needs I/O (does the platform's default client exist here, is the
// org's client secret set) is gathered by the caller into Facts; the
// decision itself reads nothing.
package readiness

import (
	"slices"
	"strings"
	"unicode"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// Facts are what the decision needs to know.
type Facts struct {
	// Offered: the deployment offers the provider (AVAILABLE_PROVIDERS).
	Offered bool
	// Integration is the org's record; nil when the org never configured
	// the provider.
	Integration *store.Integration
	// DefaultClient: the platform's default OAuth client for the provider
	// exists in this deployment (it matters in default mode only).
	DefaultClient bool
	// ClientSecret: the org's own client secret is set (it matters in
	// organization mode only).
	ClientSecret bool
}

// Missing items, in the order they are listed. They are the admin API's
// `missing` values.
const (
	MissingProviderUnavailable = "provider_unavailable"       // the deployment does not offer the provider
	MissingDefaultClient       = "default_client_unavailable" // default mode, but the platform has no client here
	MissingClientID            = "client_id"
	MissingClientSecret        = "client_secret"
	MissingCapabilities        = "capabilities"
	// A provider field that is required and empty, or set but invalid, is
	// listed by its name in snake case: tenant, auth_base_url,
	// hosted_domain.
)

// Item is one thing missing.
type Item struct {
	Code string
	// Field is the integration field at fault, when there is one (the
	// JSON name: clientId, tenant, authBaseUrl, hostedDomain,
	// capabilities).
	Field string
	// Message is what the provider's field check says of a provider field
	// (empty for the other items).
	Message string
}

// Value is an integration's readiness.
type Value struct {
	Offered    bool
	Configured bool // the org has saved the provider at least once
	Enabled    bool
	// Environment is what this deployment lacks for the integration: the
	// provider itself, or in default mode the platform's client.
	Environment []Item
	// Configuration is what the org's settings lack: the client id and
	// secret in organization mode, the provider's required or invalid
	// fields, an enabled capability.
	Configuration []Item

	integration store.Integration
	provider    catalog.Provider
}

// Of decides the readiness of provider p's integration from f.
func Of(p catalog.Provider, f Facts) Value {
	v := Value{Offered: f.Offered, Configured: f.Integration != nil}
	in := Unconfigured("", p.ID)
	if f.Integration != nil {
		in = *f.Integration
	}
	v.integration, v.provider = in, p
	v.Enabled = v.Configured && in.Enabled
	if !f.Offered {
		v.Environment = append(v.Environment, Item{Code: MissingProviderUnavailable})
	}
	if in.ConfigMode == store.ConfigModeOrganization {
		if in.ClientID == "" {
			v.Configuration = append(v.Configuration, Item{Code: MissingClientID, Field: "clientId"})
		}
		if !f.ClientSecret {
			v.Configuration = append(v.Configuration, Item{Code: MissingClientSecret, Field: "clientSecret"})
		}
	} else if !f.DefaultClient {
		v.Environment = append(v.Environment, Item{Code: MissingDefaultClient})
	}
	// The provider's fields, in its order: the field check says what is
	// wrong with each (a required one left empty too); then what it says of
	// fields the provider does not have.
	problems := map[string]string{}
	var order []string
	for _, fe := range p.Validate(providers.SettingsOf(in)) {
		if _, dup := problems[fe.Field]; !dup {
			problems[fe.Field] = fe.Message
			order = append(order, fe.Field)
		}
	}
	listed := map[string]bool{}
	for _, fld := range p.Fields {
		msg, bad := problems[fld.Name]
		if bad || (fld.Required && fieldValue(in, fld.Name) == "") {
			v.Configuration = append(v.Configuration, Item{Code: FieldCode(fld.Name), Field: fld.Name, Message: msg})
			listed[fld.Name] = true
		}
	}
	for _, name := range order {
		if !listed[name] {
			v.Configuration = append(v.Configuration, Item{Code: FieldCode(name), Field: name, Message: problems[name]})
		}
	}
	if len(KnownCapabilities(p, in.Capabilities)) == 0 {
		v.Configuration = append(v.Configuration, Item{Code: MissingCapabilities, Field: "capabilities"})
	}
	return v
}

// Unconfigured is the integration of a provider the org never configured:
// default mode, rolled out to everyone, nothing enabled.
func Unconfigured(orgID, provider string) store.Integration {
	return store.Integration{
		OrgID: orgID, Provider: provider, ConfigMode: store.ConfigModeDefault,
		Capabilities: []string{}, Rollout: store.Rollout{Mode: store.RolloutEveryone},
	}
}

func fieldValue(in store.Integration, name string) string {
	switch name {
	case "tenant":
		return in.Tenant
	case "authBaseUrl":
		return in.AuthBaseURL
	case "hostedDomain":
		return in.HostedDomain
	}
	return ""
}

// FieldCode is the missing-item code of a provider field: its JSON name in
// snake case (authBaseUrl: auth_base_url).
func FieldCode(field string) string {
	var b strings.Builder
	for i, r := range field {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// KnownCapabilities drops the capabilities this build's catalog no longer
// has, keeping the order given.
func KnownCapabilities(p catalog.Provider, caps []string) []string {
	out := []string{}
	for _, c := range caps {
		if _, ok := p.Capability(catalog.Capability(c)); ok {
			out = append(out, c)
		}
	}
	return out
}

// Integration is the record the value was decided on (the defaults of a
// provider the org never configured).
func (v Value) Integration() store.Integration { return v.integration }

// Complete reports whether the org's settings lack nothing.
func (v Value) Complete() bool { return len(v.Configuration) == 0 }

// Ready reports whether the integration can be used by anyone in its
// rollout: offered, enabled, nothing missing.
func (v Value) Ready() bool { return v.Offered && v.Enabled && len(v.Environment) == 0 && v.Complete() }

// Missing lists the codes of everything missing, the environment's first.
// It is listed even while the integration is disabled: it is what enabling
// would still need.
func (v Value) Missing() []string {
	out := []string{}
	for _, it := range append(slices.Clone(v.Environment), v.Configuration...) {
		if !slices.Contains(out, it.Code) {
			out = append(out, it.Code)
		}
	}
	return out
}

// Integration statuses.
const (
	StatusReady      = "ready"
	StatusIncomplete = "incomplete"
	StatusDisabled   = "disabled"
)

// Status is the integration's status as the admin API shows it.
func (v Value) Status() string {
	switch {
	case !v.Enabled:
		return StatusDisabled
	case !v.Ready():
		return StatusIncomplete
	}
	return StatusReady
}

// Reasons a user or a connection may not use an integration now. They are
// the stable codes of the API's refusals and of the refresh job's
// off-index reasons.
const (
	ReasonProviderUnavailable = store.ReasonProviderUnavailable // not offered in this deployment
	ReasonProviderDisabled    = store.ReasonProviderDisabled    // not configured, or turned off, by the org
	ReasonIncomplete          = "integration_incomplete"        // something is missing (see Missing)
	ReasonNotInRollout        = "not_in_rollout"                // the user is in none of the rollout's groups
	ReasonClientChanged       = store.ReasonClientChanged       // the connection's tokens came from another client
	ReasonSettingsChanged     = store.ReasonSettingsChanged     // the integration's settings no longer admit the connection's account
	ReasonNeedsReconnect      = store.ReasonNeedsReconnect      // the user (or an admin) must act first
	ReasonRefreshExhausted    = store.ReasonRefreshExhausted    // refreshes kept failing for days
)

// InRollout reports whether who is in the rollout: everyone, or one of the
// rollout's groups is among the groups of who's token. Admins are not
// exempt: a pilot is tested by adding the admin to the pilot group.
func InRollout(r store.Rollout, who auth.Principal) bool {
	if r.Mode != store.RolloutGroups {
		return true
	}
	return slices.ContainsFunc(r.Groups, who.InGroup)
}

// ForUser is why who may not use the integration now, "" when they may, in
// the order a person would check: offered here, enabled by the org, in the
// rollout, complete.
func (v Value) ForUser(who auth.Principal) string {
	switch {
	case !v.Offered:
		return ReasonProviderUnavailable
	case !v.Enabled:
		return ReasonProviderDisabled
	case !InRollout(v.integration.Rollout, who):
		return ReasonNotInRollout
	case !v.Ready():
		return ReasonIncomplete
	}
	return ""
}

// Connection is why the stored connection c cannot be used (its tokens
// refreshed or handed out) under the integration now, "" when it can: a
// status someone must act on first, then the provider offered, the
// integration enabled, the client that issued the tokens the integration's
// current one, and its account one the integration's settings admit (a
// hosted domain or tenant set or changed after it connected: exactly the
// connections that no longer conform, for as long as the settings say so).
// A missing setting is not among the reasons: the tokens stay good, and a
// refresh reports what it lacks.
func (v Value) Connection(c store.Connection) string {
	switch {
	case c.Status == store.StatusNeedsReconnect && c.StatusReason == store.ReasonClientChanged:
		return ReasonClientChanged
	case c.Status == store.StatusNeedsReconnect:
		return ReasonNeedsReconnect
	case c.Status == store.StatusRefreshExhausted:
		return ReasonRefreshExhausted
	case !v.Offered:
		return ReasonProviderUnavailable
	case !v.Enabled:
		return ReasonProviderDisabled
	case c.ClientRef != v.integration.ClientRef():
		return ReasonClientChanged
	case !v.provider.Admits(providers.SettingsOf(v.integration), c.Account):
		return ReasonSettingsChanged
	}
	return ""
}

// UsableCapabilities are the capabilities c serves who for reading now:
// the connection can be used (Connection), who is in the rollout, the org
// enabled the capability, and the granted scopes cover its read scopes.
// (Write actions also need the org's allowWriteActions and the action's
// scopes: see ActionUsable.)
func (v Value) UsableCapabilities(p catalog.Provider, c store.Connection, who auth.Principal) []catalog.Capability {
	if !InRollout(v.integration.Rollout, who) {
		return []catalog.Capability{}
	}
	return v.OrgUsableCapabilities(p, c)
}

// ActionUsable reports whether granted scopes and the org's policy allow
// action a on capability cp: the capability is enabled, the provider
// supports the action, a write action is allowed by the org, and the
// granted scopes cover it.
func (v Value) ActionUsable(p catalog.Provider, granted []string, cp catalog.Capability, a catalog.Action) bool {
	in := v.integration
	cs, ok := p.Capability(cp)
	if !ok || !v.Enabled || !slices.Contains(in.Capabilities, string(cp)) || !cs.Supports(a) {
		return false
	}
	if a.IsWrite() && !in.AllowWriteActions {
		return false
	}
	return p.Covers(granted, cs.ScopesFor(a))
}

// RequestedScopes are the scopes the integration's current settings ask
// a user to grant: the provider's base scopes, the read scopes of every
// enabled capability, and their write scopes when the org allows write
// actions.
func (v Value) RequestedScopes(p catalog.Provider) []string {
	in := v.integration
	caps := make([]catalog.Capability, 0, len(in.Capabilities))
	for _, c := range in.Capabilities {
		caps = append(caps, catalog.Capability(c))
	}
	return p.RequestedScopes(caps, in.AllowWriteActions)
}

// SettingsChangedMessage tells the user of a connection the integration's
// settings no longer admit (ReasonSettingsChanged) which settings those
// are, and what to do.
func (v Value) SettingsChangedMessage() string {
	var set []string
	for _, f := range v.provider.Fields {
		if val := fieldValue(v.integration, f.Name); val != "" {
			set = append(set, f.Label+" "+val)
		}
	}
	name := v.provider.DisplayName
	msg := "Your organization changed its " + name + " settings after this account was connected, and they no longer admit it"
	if len(set) > 0 {
		msg += " (" + strings.Join(set, ", ") + ")"
	}
	return msg + ". Reconnect with an account they admit."
}

// MissingScopes are the scopes the integration's current settings request
// (RequestedScopes) that granted does not cover: what a connection made
// before an admin enabled a capability, or write actions, lacks. Never nil.
func (v Value) MissingScopes(p catalog.Provider, granted []string) []string {
	out := p.MissingScopes(v.RequestedScopes(p), granted)
	if out == nil {
		out = []string{}
	}
	return out
}

// NeedsConsent reports whether c works but its user must consent to more
// scopes to use everything the integration's current settings enable: the
// connection can be used (Connection), and its granted scopes lack some of
// what the settings request now. A connection that cannot be used needs
// something else first (a reconnect, which asks for the current scopes
// anyway, or the admin's integration), so it does not count.
func (v Value) NeedsConsent(p catalog.Provider, c store.Connection) bool {
	return v.Connection(c) == "" && len(v.MissingScopes(p, c.GrantedScopes)) > 0
}
