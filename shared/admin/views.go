package admin

import (
	"slices"
	"time"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/readiness"
	"github.com/sofie/integrations/shared/store"
)

// Integration statuses (package readiness decides them).
const (
	StatusReady      = readiness.StatusReady
	StatusIncomplete = readiness.StatusIncomplete
	StatusDisabled   = readiness.StatusDisabled
)

// Missing items of an incomplete integration, in the order they are listed
// (package readiness decides them; a provider field is listed by its name
// in snake case).
const (
	MissingProviderUnavailable = readiness.MissingProviderUnavailable
	MissingDefaultClient       = readiness.MissingDefaultClient
	MissingClientID            = readiness.MissingClientID
	MissingClientSecret        = readiness.MissingClientSecret
	MissingTenant              = "tenant"
	MissingAuthBaseURL         = "auth_base_url"
	MissingCapabilities        = readiness.MissingCapabilities
)

// Status is an integration's readiness as the admin API shows it. Missing
// is listed even while the integration is disabled: it is what enabling
// would still need.
type Status struct {
	State   string
	Missing []string
}

// computeStatus is the integration's status: the one readiness rule, with
// the stored record's word for whether the client secret is set. in is the
// stored record, or the defaults of a provider the org never configured
// (which are disabled).
func computeStatus(p catalog.Provider, in store.Integration, offered, defaultClient bool) Status {
	v := readiness.Of(p, readiness.Facts{Offered: offered, Integration: &in, DefaultClient: defaultClient, ClientSecret: !in.ClientSecretSetAt.IsZero()})
	return Status{State: v.Status(), Missing: v.Missing()}
}

// ProviderInfo is one entry of GET /v1/providers.
type ProviderInfo struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Registers is what the admin creates at the provider.
	Registers  string   `json:"registers"`
	DocsURL    string   `json:"docsUrl"`
	SetupSteps []string `json:"setupSteps"`
	// ClientID says what the provider calls the client id and its shape.
	ClientID     ClientIDInfo     `json:"clientId"`
	Capabilities []CapabilityInfo `json:"capabilities"`
	Fields       []FieldInfo      `json:"fields"`
	// Available: this deployment offers the provider.
	Available bool `json:"available"`
	// DefaultClientAvailable: the platform's own OAuth client can be used
	// here (configMode default).
	DefaultClientAvailable bool   `json:"defaultClientAvailable"`
	PKCEMethod             string `json:"pkceMethod"`
	// RequiresUserConnection: each user connects their own account.
	RequiresUserConnection bool `json:"requiresUserConnection"`
	// AdminConsent: an admin of the provider can grant the app's
	// permissions for the whole organization (POST
	// .../integrations/{provider}/admin-consent).
	AdminConsent bool `json:"adminConsent"`
}

// ClientIDInfo describes the organization-owned client id.
type ClientIDInfo struct {
	Label   string `json:"label"`
	Example string `json:"example"`
}

// CapabilityInfo is a capability with its actions and the scopes each needs.
type CapabilityInfo struct {
	ID      string              `json:"id"`
	Label   string              `json:"label"`
	Actions []string            `json:"actions"`
	Scopes  map[string][]string `json:"scopes"`
}

// FieldInfo is a provider-specific configuration field.
type FieldInfo struct {
	Name     string `json:"name"`
	Label    string `json:"label"`
	Help     string `json:"help"`
	Required bool   `json:"required"`
	Example  string `json:"example"`
}

func providerInfo(p catalog.Provider, offered, defaultClient bool) ProviderInfo {
	pi := ProviderInfo{
		ID: p.ID, DisplayName: p.DisplayName, Registers: p.Registers, DocsURL: p.DocsURL,
		SetupSteps:   p.SetupSteps(),
		ClientID:     ClientIDInfo{Label: p.ClientIDLabel, Example: p.ClientIDExample},
		Capabilities: []CapabilityInfo{}, Fields: []FieldInfo{},
		Available: offered, DefaultClientAvailable: defaultClient, PKCEMethod: p.PKCEMethod,
		RequiresUserConnection: p.RequiresUserConnection, AdminConsent: p.AdminConsent(),
	}
	for _, cs := range p.Capabilities {
		ci := CapabilityInfo{ID: string(cs.ID), Label: cs.Label, Scopes: map[string][]string{}}
		for _, a := range cs.Actions {
			ci.Actions = append(ci.Actions, string(a))
			ci.Scopes[string(a)] = slices.Clone(cs.ScopesFor(a))
		}
		pi.Capabilities = append(pi.Capabilities, ci)
	}
	for _, f := range p.Fields {
		pi.Fields = append(pi.Fields, FieldInfo{Name: f.Name, Label: f.Label, Help: f.Help, Required: f.Required, Example: f.Example})
	}
	return pi
}

// IntegrationView is an integration as admins see it. The client secret is
// never part of it: only whether one is configured and when it was set.
type IntegrationView struct {
	Provider    string `json:"provider"`
	DisplayName string `json:"displayName"`
	// Configured: the org has saved this provider at least once.
	Configured   bool   `json:"configured"`
	Enabled      bool   `json:"enabled"`
	ConfigMode   string `json:"configMode"`
	ClientID     string `json:"clientId,omitempty"`
	Tenant       string `json:"tenant,omitempty"`
	AuthBaseURL  string `json:"authBaseUrl,omitempty"`
	HostedDomain string `json:"hostedDomain,omitempty"`
	// TenantID is the directory id the provider resolved Tenant to, when
	// Tenant names one (a GUID, or a verified domain once resolved).
	TenantID          string        `json:"tenantId,omitempty"`
	Capabilities      []string      `json:"capabilities"`
	AllowWriteActions bool          `json:"allowWriteActions"`
	Rollout           store.Rollout `json:"rollout"`
	// SupportContact is null and UserGuidance empty when unset: both are
	// always present, so an editor knows the fields exist.
	SupportContact         *store.SupportContact `json:"supportContact"`
	UserGuidance           string                `json:"userGuidance"`
	ClientSecretConfigured bool                  `json:"clientSecretConfigured"`
	ClientSecretSetAt      *time.Time            `json:"clientSecretSetAt,omitempty"`
	Status                 string                `json:"status"`
	Missing                []string              `json:"missing"`
	Available              bool                  `json:"available"`
	DefaultClientAvailable bool                  `json:"defaultClientAvailable"`
	// RedirectURI is what the admin registers at the provider.
	RedirectURI string     `json:"redirectUri,omitempty"`
	Version     int64      `json:"version"`
	UpdatedAt   *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy   string     `json:"updatedBy,omitempty"`
	// CredentialCheck is the outcome of verifying the client credentials
	// on this save (absent when none ran).
	CredentialCheck *CredentialCheck `json:"credentialCheck,omitempty"`
	// TestAccount is the org's test account of the provider, null when
	// none is connected (testaccount.go).
	TestAccount *TestAccountView `json:"testAccount"`
	// ClientHealth is whether the provider accepts the integration's
	// OAuth client, as the refresh job last saw it (health.go).
	ClientHealth ClientHealthView `json:"clientHealth"`
	// AdminConsent is the outcome of the last org-wide admin consent
	// (Microsoft), absent when none was asked for.
	AdminConsent *store.AdminConsent `json:"adminConsent,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func integrationView(p catalog.Provider, in store.Integration, st Status, offered, defaultClient bool, redirectURI string) IntegrationView {
	caps := readiness.KnownCapabilities(p, in.Capabilities)
	rollout := in.Rollout
	if rollout.Mode == "" {
		rollout.Mode = store.RolloutEveryone
	}
	return IntegrationView{
		Provider: p.ID, DisplayName: p.DisplayName, Configured: in.Version > 0,
		Enabled: in.Enabled, ConfigMode: in.ConfigMode, ClientID: in.ClientID,
		Tenant: in.Tenant, AuthBaseURL: in.AuthBaseURL, HostedDomain: in.HostedDomain, TenantID: in.TenantID,
		Capabilities: caps, AllowWriteActions: in.AllowWriteActions, Rollout: rollout,
		SupportContact: in.SupportContact, UserGuidance: in.UserGuidance,
		ClientSecretConfigured: !in.ClientSecretSetAt.IsZero(), ClientSecretSetAt: timePtr(in.ClientSecretSetAt),
		Status: st.State, Missing: st.Missing, Available: offered, DefaultClientAvailable: defaultClient,
		RedirectURI: redirectURI, Version: in.Version, UpdatedAt: timePtr(in.UpdatedAt), UpdatedBy: in.UpdatedBy,
		ClientHealth: ClientHealthView{Status: store.HealthOK},
		AdminConsent: in.AdminConsent,
	}
}

// Card is one provider on the org's Integrations tab. Everyone in the org
// sees what they need to connect; Configuration is for admins only.
type Card struct {
	Provider          string           `json:"provider"`
	DisplayName       string           `json:"displayName"`
	Enabled           bool             `json:"enabled"`
	Status            string           `json:"status"`
	Capabilities      []CardCapability `json:"capabilities"`
	AllowWriteActions bool             `json:"allowWriteActions"`
	// InRollout: the caller is in the rollout (everyone, or one of the
	// pilot groups is in their token's groups claim).
	InRollout bool `json:"inRollout"`
	// Connectable: the caller can connect their account now.
	Connectable bool `json:"connectable"`
	// SupportContact and UserGuidance are for everyone in the org: who to
	// ask when a connection fails, and what the integration is for.
	SupportContact *store.SupportContact `json:"supportContact,omitempty"`
	UserGuidance   string                `json:"userGuidance,omitempty"`
	Configuration  *IntegrationView      `json:"configuration,omitempty"`
}

// CardCapability is one capability on a card: whether the org enabled it,
// what the provider supports, and what users may do with it.
type CardCapability struct {
	ID             string   `json:"id"`
	Label          string   `json:"label"`
	Enabled        bool     `json:"enabled"`
	Actions        []string `json:"actions"`
	AllowedActions []string `json:"allowedActions"`
}

func card(p catalog.Provider, in store.Integration, v IntegrationView, who auth.Principal) Card {
	c := Card{
		Provider: p.ID, DisplayName: p.DisplayName, Enabled: in.Enabled, Status: v.Status,
		AllowWriteActions: in.AllowWriteActions, Capabilities: []CardCapability{},
		SupportContact: in.SupportContact, UserGuidance: in.UserGuidance,
	}
	for _, cs := range p.Capabilities {
		cc := CardCapability{ID: string(cs.ID), Label: cs.Label, Enabled: slices.Contains(v.Capabilities, string(cs.ID)), Actions: []string{}, AllowedActions: []string{}}
		for _, a := range cs.Actions {
			cc.Actions = append(cc.Actions, string(a))
			if cc.Enabled && (!a.IsWrite() || in.AllowWriteActions) {
				cc.AllowedActions = append(cc.AllowedActions, string(a))
			}
		}
		c.Capabilities = append(c.Capabilities, cc)
	}
	c.InRollout = in.Enabled && readiness.InRollout(in.Rollout, who)
	c.Connectable = c.InRollout && v.Status == StatusReady
	return c
}
