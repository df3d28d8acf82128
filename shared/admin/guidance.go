package admin

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
)

// The product page's rollout checklist asks who owns support for
// connection failures and whether users need guidance, and its "Test after
// changes" ends with documenting that guidance. An integration carries
// both: supportContact (a name and one way to reach them) and userGuidance
// (plain text). Members see them on the cards and on their connections;
// diagnostics name the contact where the user or an external admin must
// act.

// Limits of the support contact and the user guidance.
const (
	MaxSupportNameLen  = 100
	MaxSupportEmailLen = 254 // RFC 5321's path limit
	MaxSupportURLLen   = 2048
	// MaxUserGuidanceChars is in characters (code points), not bytes.
	MaxUserGuidanceChars = 2000
)

// SupportContactInput is the body's supportContact: a name, and exactly
// one of an email address or an https URL.
type SupportContactInput struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	URL   string `json:"url"`
}

// markupRE finds what would make the guidance something other than plain
// text: an HTML or XML tag, comment or declaration (<b>, </p>, <!--,
// <?xml), a character reference (&amp; &#60; &#x3c;), or a Markdown link or
// image ([text](url), ![alt](src)). Clients show the text as it is, never
// rendered, so markup would reach users as noise, and a link would invite
// them somewhere the admin API cannot vouch for.
//
// It is compiled on first use, not at package init: its counted
// repetitions make it most of AdminFunction's init work, paid on every cold
// start while few requests validate guidance (issue 13 §1).
var markupRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`<[A-Za-z/!?]|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});|\]\(`)
})

// validateGuidance checks supportContact and userGuidance. Fields already
// refused for an invisible character (skip) get no other error.
func validateGuidance(in IntegrationInput, skip func(field string) bool) []problem.FieldError {
	var errs []problem.FieldError
	add := func(e problem.FieldError) {
		if !skip(e.Field) {
			errs = append(errs, e)
		}
	}
	if sc := in.SupportContact; sc != nil {
		switch name := sc.Name; {
		case strings.TrimSpace(name) == "":
			add(fieldErr("supportContact.name", "required", "Name who owns support for connection failures, such as a team (IT Help)."))
		case utf8.RuneCountInString(name) > MaxSupportNameLen:
			add(fieldErr("supportContact.name", "too_long", fmt.Sprintf("At most %d characters.", MaxSupportNameLen)))
		case strings.TrimSpace(name) != name || strings.IndexFunc(name, unicode.IsControl) >= 0:
			add(fieldErr("supportContact.name", "invalid_format", "Remove spaces around the name, line breaks and control characters."))
		default:
			if e, bad := screen("supportContact.name", name); bad {
				add(e)
			}
		}
		switch {
		case sc.Email == "" && sc.URL == "":
			add(fieldErr("supportContact", "required", "Give an email address (email) or an https URL (url) where users reach the support contact."))
		case sc.Email != "" && sc.URL != "":
			add(fieldErr("supportContact", "invalid_value", "Give either an email address (email) or a URL (url), not both."))
		case sc.Email != "":
			if e, bad := checkSupportEmail(sc.Email); bad {
				add(e)
			}
		default:
			if e, bad := checkSupportURL(sc.URL); bad {
				add(e)
			}
		}
	}
	if g := in.UserGuidance; g != "" {
		switch {
		case !utf8.ValidString(g):
			add(fieldErr("userGuidance", "invalid_format", "The guidance is not valid UTF-8 text."))
		case utf8.RuneCountInString(g) > MaxUserGuidanceChars:
			add(fieldErr("userGuidance", "too_long", fmt.Sprintf("At most %d characters.", MaxUserGuidanceChars)))
		case strings.IndexFunc(g, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }) >= 0:
			add(fieldErr("userGuidance", "invalid_format", "Plain text only: line breaks and tabs are fine, other control characters are not."))
		case markupRE().MatchString(g):
			add(fieldErr("userGuidance", "markup_not_allowed", "Plain text only: no HTML tags, character references (&amp;) or Markdown links; write a URL as it is."))
		default:
			if e, bad := screen("userGuidance", g); bad {
				add(e)
			}
		}
	}
	return errs
}

func checkSupportEmail(v string) (problem.FieldError, bool) {
	const field = "supportContact.email"
	if len(v) > MaxSupportEmailLen {
		return fieldErr(field, "too_long", fmt.Sprintf("At most %d characters.", MaxSupportEmailLen)), true
	}
	if e, bad := screen(field, v); bad {
		return e, true
	}
	// A bare address (it-help@example.com): no display name, no angle
	// brackets, a domain with a dot.
	at := strings.LastIndexByte(v, '@')
	if !bareAddress(v) || at < 1 || !strings.Contains(v[at+1:], ".") ||
		strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fieldErr(field, "invalid_format", "An email address such as it-help@example.com, without a name or angle brackets."), true
	}
	return problem.FieldError{}, false
}

func checkSupportURL(v string) (problem.FieldError, bool) {
	const field = "supportContact.url"
	if len(v) > MaxSupportURLLen {
		return fieldErr(field, "too_long", fmt.Sprintf("At most %d characters.", MaxSupportURLLen)), true
	}
	if e, bad := screen(field, v); bad {
		return e, true
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "" || strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fieldErr(field, "invalid_format", "A web address such as https://help.example.com/it."), true
	case !strings.EqualFold(u.Scheme, "https"):
		return fieldErr(field, "https_required", "The support page must be an https URL."), true
	case u.User != nil:
		// user:password@host would put a credential on every card.
		return fieldErr(field, "invalid_format", "A support URL cannot carry a user name or password."), true
	}
	return problem.FieldError{}, false
}

// guidanceTextFields are the body's guidance fields, for the invisible
// character check.
func guidanceTextFields(in IntegrationInput) [][2]string {
	var out [][2]string
	if sc := in.SupportContact; sc != nil {
		out = append(out, [2]string{"supportContact.name", sc.Name}, [2]string{"supportContact.email", sc.Email}, [2]string{"supportContact.url", sc.URL})
	}
	return append(out, [2]string{"userGuidance", in.UserGuidance})
}

// applyGuidance sets next's contact and guidance from a valid body (a PUT
// replaces them: omitted, they are cleared).
func (in IntegrationInput) applyGuidance(next *store.Integration) {
	next.SupportContact = nil
	if sc := in.SupportContact; sc != nil {
		next.SupportContact = &store.SupportContact{Name: sc.Name, Email: sc.Email, URL: sc.URL}
	}
	next.UserGuidance = in.UserGuidance
}

// bareAddress reports whether v is an RFC 5322 addr-spec with a dot-atom
// local part and a dot-atom or IP-literal domain: exactly the strings
// net/mail.ParseAddress accepts and returns unchanged, with no display
// name (guidance_test.go checks it against ParseAddress). It replaces
// ParseAddress, whose parser cost AdminFunction 13 KB (issue 13 §1) for
// this one check.
func bareAddress(v string) bool {
	at := strings.LastIndexByte(v, '@')
	if at < 0 || !utf8.ValidString(v) || !dotAtom(v[:at]) {
		return false
	}
	domain := v[at+1:]
	if len(domain) > 1 && domain[0] == '[' && domain[len(domain)-1] == ']' {
		return net.ParseIP(domain[1:len(domain)-1]) != nil
	}
	return dotAtom(domain)
}

// dotAtom: atext runes (printable ASCII except the specials, or any
// non-ASCII rune, as RFC 6532 allows) in dot-separated, non-empty atoms.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r < utf8.RuneSelf && (r < '!' || r > '~' || strings.ContainsRune(`()<>[]:;@\,"`, r)) {
			return false
		}
	}
	return true
}
