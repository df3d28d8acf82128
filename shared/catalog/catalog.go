// Package catalog is the registry of the providers this build knows: an
// explicit list, in display order, of the provider packages under
// shared/providers (no init-time registration), and the names the rest of
// the service uses for their types.
//
// What a provider is, and the one interface each provider implements, is
// package shared/providers; each provider lives in its own package
// (shared/providers/microsoft, google, salesforce). The types are declared
// there because every provider package needs them and this registry needs
// every provider package; the aliases below keep callers independent of
// that layout. Nothing here does I/O, and nothing here knows anything about
// one provider but its place in the list.
package catalog

import (
	"slices"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/providers/google"
	"github.com/sofie/integrations/shared/providers/microsoft"
	"github.com/sofie/integrations/shared/providers/salesforce"
)

// Provider ids, as each provider package declares them.
const (
	Microsoft365    = microsoft.ID
	GoogleWorkspace = google.ID
	Salesforce      = salesforce.ID
)

// The provider model (package providers), under the names the service uses.
type (
	Provider        = providers.Provider
	Dialect         = providers.Dialect
	Capability      = providers.Capability
	Action          = providers.Action
	Settings        = providers.Settings
	Field           = providers.Field
	FieldError      = providers.FieldError
	Probe           = providers.Probe
	CapabilitySpec  = providers.CapabilitySpec
	Endpoints       = providers.Endpoints
	CredentialCheck = providers.CredentialCheck
	CheckMethod     = providers.CheckMethod
)

// Capabilities.
const (
	Email    = providers.Email
	Calendar = providers.Calendar
	Files    = providers.Files
	Contacts = providers.Contacts
	CRM      = providers.CRM
)

// Actions.
const (
	Read   = providers.Read
	Create = providers.Create
	Update = providers.Update
	Send   = providers.Send
	Delete = providers.Delete
)

// AllActions in display order.
var AllActions = providers.AllActions

// Credential check methods.
const (
	CheckClientCredentials = providers.CheckClientCredentials
	CheckDummyCode         = providers.CheckDummyCode
)

// PKCES256 is the PKCE code challenge method of every provider.
const PKCES256 = providers.PKCES256

// Catalog is the set of providers this build knows, in display order.
type Catalog struct {
	providers []Provider
}

// New returns the catalog of the providers this build knows. Adding a
// provider is adding its package here (see the README, "Adding a
// provider").
func New() *Catalog {
	return &Catalog{providers: []Provider{microsoft.New(), google.New(), salesforce.New()}}
}

// All returns every provider in display order.
func (c *Catalog) All() []Provider { return slices.Clone(c.providers) }

// IDs returns every provider id in display order.
func (c *Catalog) IDs() []string {
	out := make([]string, len(c.providers))
	for i, p := range c.providers {
		out[i] = p.ID
	}
	return out
}

// Get returns the provider with id.
func (c *Catalog) Get(id string) (Provider, bool) {
	for _, p := range c.providers {
		if p.ID == id {
			return p, true
		}
	}
	return Provider{}, false
}
