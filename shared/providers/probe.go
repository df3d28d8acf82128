package providers

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sofie/integrations/shared/store"
)

// FileMeta is what a file's metadata answer says, across providers.
type FileMeta struct {
	Size      int64
	SizeKnown bool
	MimeType  string
	Folder    bool
	// Exported: a file that is exported in another format rather than
	// downloaded (Google Docs editors files).
	Exported bool
}

// ErrNoInstance: the account records no API host of its own that may be
// sent its token (Dialect.InstanceURL).
var ErrNoInstance = errors.New("the account has no usable instance URL")

// ParseItem validates an item id for a capability and returns it
// normalized. The error is for a person; it never quotes the input.
func (p Provider) ParseItem(cs CapabilitySpec, raw string) (string, error) {
	if cs.Probe.ItemURL == "" {
		return "", fmt.Errorf("%s cannot be fetched by id", cs.Label)
	}
	id, ok := p.Dialect.ItemID(cs.ID, raw)
	if !ok || id == "" || id == "." || id == ".." {
		return "", fmt.Errorf("expected %s", cs.Probe.ItemHint)
	}
	return id, nil
}

// ProbeURL fills a probe URL template (Probe): {instance} with the
// account's own API host (Dialect.InstanceURL: the user's token is sent
// there, so the dialect checks it) and {id} with the item id, each of its
// segments path-escaped. The result must be an https URL.
func (p Provider) ProbeURL(tmpl string, acct store.Account, id string) (string, error) {
	out := tmpl
	if strings.Contains(out, "{instance}") {
		instance, err := p.Dialect.InstanceURL(acct)
		if err != nil {
			return "", ErrNoInstance
		}
		out = strings.ReplaceAll(out, "{instance}", instance)
	}
	if strings.Contains(out, "{id}") {
		if id == "" {
			return "", errors.New("probe URL needs an item id")
		}
		out = strings.ReplaceAll(out, "{id}", escapeItem(id))
	}
	u, err := url.Parse(out)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("probe URL template %q does not expand to an https URL", tmpl)
	}
	return out, nil
}

// escapeItem path-escapes a validated id segment by segment (a Salesforce
// id is Object/recordId).
func escapeItem(id string) string {
	parts := strings.Split(id, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}
