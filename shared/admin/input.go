package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/hygiene"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
)

// Limits of the integration body.
const (
	MaxGroups          = 50
	MaxGroupLen        = 128
	MinClientSecretLen = 8
	MaxClientSecretLen = 1024
	maxFieldLen        = 512
)

// SecureField is the only field a credential belongs in.
const SecureField = "clientSecret"

// IntegrationInput is the body of PUT /v1/orgs/{orgId}/integrations/{provider}.
// A PUT replaces the configuration: omitted fields take their defaults.
type IntegrationInput struct {
	Enabled           *bool         `json:"enabled"`
	ConfigMode        string        `json:"configMode"`
	ClientID          string        `json:"clientId"`
	Tenant            string        `json:"tenant"`
	AuthBaseURL       string        `json:"authBaseUrl"`
	HostedDomain      string        `json:"hostedDomain"`
	Capabilities      []string      `json:"capabilities"`
	AllowWriteActions bool          `json:"allowWriteActions"`
	Rollout           *RolloutInput `json:"rollout"`
	// SupportContact and UserGuidance: guidance.go.
	SupportContact *SupportContactInput `json:"supportContact"`
	UserGuidance   string               `json:"userGuidance"`
}

// RolloutInput says who may connect: everyone, or members of named groups
// (the token's groups claim).
type RolloutInput struct {
	Mode   string   `json:"mode"`
	Groups []string `json:"groups"`
}

// SecretInput is the body of PUT .../client-secret.
type SecretInput struct {
	ClientSecret string `json:"clientSecret"`
}

func fieldErr(field, code, msg string) problem.FieldError {
	return problem.FieldError{Field: field, Code: code, Message: msg}
}

// screen refuses a credential-shaped value in a non-secret field. It never
// quotes the value.
func screen(field, value string, opts ...hygiene.Options) (problem.FieldError, bool) {
	if f, found := hygiene.Check(value, opts...); found {
		return fieldErr(field, hygiene.Code, hygiene.Message(f, field)), true
	}
	return problem.FieldError{}, false
}

// validate checks a body against the provider. Every message names the
// field and what is expected, never the value sent (it may be a secret
// pasted into the wrong field).
func validate(p catalog.Provider, in IntegrationInput) *problem.Problem {
	var errs []problem.FieldError
	// A field holding an invisible formatting character gets that one
	// error: its other checks would only confuse (an "unknown capability"
	// that reads exactly like a known one).
	errs = invisibleFields(in)
	add := func(e ...problem.FieldError) {
		for _, x := range e {
			if !slices.ContainsFunc(errs, func(f problem.FieldError) bool { return f.Field == x.Field && f.Code == hygiene.InvisibleCode }) {
				errs = append(errs, x)
			}
		}
	}

	if in.Enabled == nil {
		add(fieldErr("enabled", "required", "Say whether the provider is enabled (true or false)."))
	}
	enabled := in.Enabled != nil && *in.Enabled

	mode := in.ConfigMode
	switch mode {
	case "", store.ConfigModeDefault:
		if in.ClientID != "" {
			add(fieldErr("clientId", "not_applicable", "The default OAuth configuration uses the platform's client: leave clientId empty, or choose configMode organization."))
		}
	case store.ConfigModeOrganization:
		if e, bad := screen("clientId", in.ClientID, hygiene.Options{ShapesOnly: true}); bad {
			add(e)
		} else if fe := p.ValidateClientID(in.ClientID); len(fe) > 0 {
			// A value of the wrong shape may still be a pasted secret:
			// judge it by every rule before calling it malformed.
			if e, bad := screen("clientId", in.ClientID); bad {
				add(e)
			} else {
				add(catalogErrs(fe)...)
			}
		}
	default:
		add(fieldErr("configMode", "invalid_value", "configMode is default (the platform's OAuth client) or organization (your own client id and secret)."))
	}

	// Provider fields: screened for credentials first, then checked by the
	// catalog. An empty required field is not an error here: the
	// integration is saved and its status lists the field as missing.
	settings := catalog.Settings{Tenant: in.Tenant, AuthBaseURL: in.AuthBaseURL, HostedDomain: in.HostedDomain}
	screened := map[string]bool{}
	for _, f := range []struct{ name, value string }{{"tenant", in.Tenant}, {"authBaseUrl", in.AuthBaseURL}, {"hostedDomain", in.HostedDomain}} {
		if len(f.value) > maxFieldLen {
			add(fieldErr(f.name, "too_long", fmt.Sprintf("At most %d characters.", maxFieldLen)))
			screened[f.name] = true
		} else if e, bad := screen(f.name, f.value); bad {
			add(e)
			screened[f.name] = true
		}
	}
	for _, fe := range p.Validate(settings) {
		if fe.Code == "required" || screened[fe.Field] {
			continue
		}
		add(catalogErrs([]catalog.FieldError{fe})...)
	}

	// Capabilities: a subset of the provider's, without duplicates, and at
	// least one when the provider is enabled.
	seen := map[string]bool{}
	for i, c := range in.Capabilities {
		field := fmt.Sprintf("capabilities[%d]", i)
		switch {
		case !slices.Contains(p.CapabilityIDs(), catalog.Capability(c)):
			add(fieldErr(field, "unknown_capability", fmt.Sprintf("%s offers %s.", p.DisplayName, joinCaps(p.CapabilityIDs()))))
		case seen[c]:
			add(fieldErr(field, "duplicate", "Each capability may appear once."))
		}
		seen[c] = true
	}
	if enabled && len(in.Capabilities) == 0 {
		add(fieldErr("capabilities", "required", fmt.Sprintf("Choose at least one capability to enable: %s.", joinCaps(p.CapabilityIDs()))))
	}

	add(validateRollout(in.Rollout)...)
	errs = append(errs, validateGuidance(in, func(field string) bool {
		return slices.ContainsFunc(errs, func(f problem.FieldError) bool { return f.Field == field && f.Code == hygiene.InvisibleCode })
	})...)

	if len(errs) == 0 {
		return nil
	}
	prob := problem.Validation("The integration settings are not valid; see errors.", errs...)
	if slices.ContainsFunc(errs, func(e problem.FieldError) bool { return e.Code == hygiene.Code }) {
		// The credential is the headline: say where it belongs.
		prob.Code = problem.CodeSecretInField
		prob.Type = "urn:problem:" + problem.CodeSecretInField
		prob.Detail = "A field holds what looks like a credential. Credentials belong only in the secure client secret field (clientSecret, PUT .../client-secret); the request was not saved."
		prob.With("secureField", SecureField)
	}
	return prob
}

// invisibleFields returns the error of each text field of the body that
// holds a Unicode format character (hygiene.Invisible), in the body's field
// order.
func invisibleFields(in IntegrationInput) []problem.FieldError {
	type field struct{ name, value string }
	fields := []field{{"configMode", in.ConfigMode}, {"clientId", in.ClientID}, {"tenant", in.Tenant},
		{"authBaseUrl", in.AuthBaseURL}, {"hostedDomain", in.HostedDomain}}
	for i, c := range in.Capabilities {
		fields = append(fields, field{fmt.Sprintf("capabilities[%d]", i), c})
	}
	if in.Rollout != nil {
		fields = append(fields, field{"rollout.mode", in.Rollout.Mode})
		for i, g := range in.Rollout.Groups {
			fields = append(fields, field{fmt.Sprintf("rollout.groups[%d]", i), g})
		}
	}
	for _, f := range guidanceTextFields(in) {
		fields = append(fields, field{f[0], f[1]})
	}
	var out []problem.FieldError
	for _, f := range fields {
		if r, found := hygiene.Invisible(f.value); found {
			out = append(out, fieldErr(f.name, hygiene.InvisibleCode, hygiene.InvisibleMessage(f.name, r)))
		}
	}
	return out
}

func validateRollout(r *RolloutInput) []problem.FieldError {
	if r == nil {
		return nil
	}
	var errs []problem.FieldError
	switch r.Mode {
	case store.RolloutEveryone:
		if len(r.Groups) > 0 {
			errs = append(errs, fieldErr("rollout.groups", "not_applicable", "Groups apply only to rollout mode groups."))
		}
	case store.RolloutGroups:
		if len(r.Groups) == 0 {
			errs = append(errs, fieldErr("rollout.groups", "required", "Name at least one group for a pilot rollout."))
		}
		if len(r.Groups) > MaxGroups {
			errs = append(errs, fieldErr("rollout.groups", "too_many", fmt.Sprintf("At most %d groups.", MaxGroups)))
		}
		seen := map[string]bool{}
		for i, g := range r.Groups {
			field := fmt.Sprintf("rollout.groups[%d]", i)
			switch {
			case strings.TrimSpace(g) == "":
				errs = append(errs, fieldErr(field, "required", "A group name cannot be empty."))
			case len(g) > MaxGroupLen:
				errs = append(errs, fieldErr(field, "too_long", fmt.Sprintf("A group name has at most %d characters.", MaxGroupLen)))
			case strings.TrimSpace(g) != g || strings.IndexFunc(g, unicode.IsControl) >= 0:
				errs = append(errs, fieldErr(field, "invalid_format", "Remove spaces around the group name and control characters inside it; it must match the token's groups claim exactly."))
			case seen[g]:
				errs = append(errs, fieldErr(field, "duplicate", "Each group may appear once."))
			default:
				if e, bad := screen(field, g); bad {
					errs = append(errs, e)
				}
			}
			seen[g] = true
		}
	default:
		errs = append(errs, fieldErr("rollout.mode", "invalid_value", "Rollout mode is everyone or groups."))
	}
	return errs
}

func catalogErrs(fe []catalog.FieldError) []problem.FieldError {
	out := make([]problem.FieldError, len(fe))
	for i, e := range fe {
		out[i] = fieldErr(e.Field, e.Code, e.Message)
	}
	return out
}

func joinCaps(cs []catalog.Capability) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// apply returns cur with the body's settings (the body replaces the
// configuration). Capabilities are kept in catalog order so that an audit
// diff shows real changes only; the secret's timestamp is not the body's to
// change.
func (in IntegrationInput) apply(p catalog.Provider, cur store.Integration) store.Integration {
	next := cur
	next.Enabled = *in.Enabled
	next.ConfigMode = in.ConfigMode
	if next.ConfigMode == "" {
		next.ConfigMode = store.ConfigModeDefault
	}
	next.ClientID = in.ClientID
	next.Tenant, next.AuthBaseURL, next.HostedDomain = in.Tenant, in.AuthBaseURL, in.HostedDomain
	next.Capabilities = []string{}
	for _, c := range p.CapabilityIDs() {
		if slices.Contains(in.Capabilities, string(c)) {
			next.Capabilities = append(next.Capabilities, string(c))
		}
	}
	next.AllowWriteActions = in.AllowWriteActions
	next.Rollout = store.Rollout{Mode: store.RolloutEveryone}
	if in.Rollout != nil && in.Rollout.Mode == store.RolloutGroups {
		next.Rollout = store.Rollout{Mode: store.RolloutGroups, Groups: slices.Clone(in.Rollout.Groups)}
	}
	in.applyGuidance(&next)
	return next
}

// validateSecret checks a client secret's shape without ever quoting it.
func validateSecret(in SecretInput, clientID string) *problem.Problem {
	s := in.ClientSecret
	var e problem.FieldError
	switch {
	case s == "":
		e = fieldErr(SecureField, "required", "Paste the client secret.")
	case len(s) < MinClientSecretLen:
		e = fieldErr(SecureField, "too_short", fmt.Sprintf("A client secret has at least %d characters; check that it was copied whole.", MinClientSecretLen))
	case len(s) > MaxClientSecretLen:
		e = fieldErr(SecureField, "too_long", fmt.Sprintf("A client secret has at most %d characters.", MaxClientSecretLen))
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0:
		e = fieldErr(SecureField, "invalid_format", "The client secret contains spaces, line breaks or control characters; copy only the secret value.")
	case hasInvisible(s):
		// Not hygiene.InvisibleMessage: even one character of a secret is
		// not named.
		e = fieldErr(SecureField, hygiene.InvisibleCode, "The client secret contains an invisible formatting character (such as a zero-width space); copy only the secret value.")
	case clientID != "" && s == clientID:
		e = fieldErr(SecureField, "same_as_client_id", "That is the client id. Paste the client secret (the value shown once when it was created).")
	default:
		return nil
	}
	return problem.Validation("The client secret is not valid; see errors. It was not stored.", e)
}

func hasInvisible(s string) bool {
	_, found := hygiene.Invisible(s)
	return found
}

// unknownProvider is the 404 for a provider id outside the catalog.
func unknownProvider(ids []string) *problem.Problem {
	return problem.New(http.StatusNotFound, problem.CodeUnknownProvider, "No such provider. Known providers: "+strings.Join(ids, ", ")+".")
}
