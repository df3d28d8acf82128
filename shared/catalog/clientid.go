package catalog

import (
	"regexp"
	"strings"
)

// PKCES256 is the PKCE code challenge method of every provider.
const PKCES256 = "S256"

var (
	googleClientIDRE     = regexp.MustCompile(`^[0-9]{4,30}-[a-z0-9]{8,64}\.apps\.googleusercontent\.com$`)
	salesforceConsumerRE = regexp.MustCompile(`^[A-Za-z0-9._]{20,256}$`)
)

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
	if p.validateClientID == nil {
		return nil
	}
	return p.validateClientID(id)
}

// CredentialCheckFor is how to verify the org's client credentials for these
// settings. Microsoft's client-credentials grant needs a real tenant: under
// the multi-tenant aliases common and organizations it cannot be issued, so
// the dummy-code method is used there.
func (p Provider) CredentialCheckFor(s Settings) CredentialCheck {
	if p.CredentialCheck == CheckClientCredentials && (strings.EqualFold(s.Tenant, "common") || strings.EqualFold(s.Tenant, "organizations")) {
		return CheckDummyCode
	}
	return p.CredentialCheck
}

func clientIDFormat(re *regexp.Regexp, label, example string) func(string) []FieldError {
	return func(id string) []FieldError {
		if re.MatchString(id) {
			return nil
		}
		return []FieldError{{Field: "clientId", Code: "invalid_format", Message: "The " + label + " looks like " + example + "."}}
	}
}
