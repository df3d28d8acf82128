// Package hygiene refuses credential-shaped values in fields that are not
// meant to hold a credential. The product page asks admins to put OAuth
// credentials only into the secure client-secret field; a secret pasted into
// a tenant, a domain or a group name would otherwise be stored in plain
// text, shown back in every read and copied into the audit trail.
//
// Check never returns or logs the value it inspects: a finding names only
// the kind of credential it resembles.
package hygiene

import (
	"math"
	"regexp"
	"strings"
	"sync"
)

// Code is the stable problem code of a credential found in a non-secret
// field (the same string as problem.CodeSecretInField).
const Code = "credential_in_field"

// Kind names the kind of credential a value resembles.
type Kind string

// Kinds of credential-shaped values.
const (
	GoogleClientSecret    Kind = "google_client_secret"
	MicrosoftClientSecret Kind = "microsoft_client_secret"
	JWT                   Kind = "jwt"
	PEMBlock              Kind = "pem_block"
	AWSAccessKey          Kind = "aws_access_key"
	OAuthToken            Kind = "oauth_token" // Google ya29./1// tokens, Salesforce session ids, bearer values
	HexSecret             Kind = "hex_secret"  // long hex strings, such as Salesforce consumer secrets
	HighEntropy           Kind = "high_entropy"
)

// describe names a kind for a person, without quoting the value.
var describe = map[Kind]string{
	GoogleClientSecret:    "a Google client secret",
	MicrosoftClientSecret: "a Microsoft Entra client secret",
	JWT:                   "a token (JWT)",
	PEMBlock:              "a key or certificate (PEM block)",
	AWSAccessKey:          "an AWS access key",
	OAuthToken:            "an OAuth access or refresh token",
	HexSecret:             "a secret or key (long hexadecimal string)",
	HighEntropy:           "a secret or key (long random string)",
}

// shape is a credential shape and its pattern.
type shape struct {
	kind Kind
	re   *regexp.Regexp
}

// Shapes are matched anywhere in the value: a secret pasted together with
// other text is still a leak. The patterns are written so that this source
// file itself holds no credential-shaped literal. They are compiled on
// first use, not at package init: only AdminFunction checks values, and
// every function links this package (through httpapi), so compiling at
// init would be paid by every cold start.
var shapes = sync.OnceValue(func() []shape {
	return []shape{
		{PEMBlock, regexp.MustCompile(`-----BEGIN [A-Z0-9 ]{1,64}-----`)},
		{GoogleClientSecret, regexp.MustCompile(`GOCSPX-[A-Za-z0-9_\-]{10,}`)},
		// Entra client secrets: three characters, a version digit, "Q~", then
		// 31 to 34 more characters.
		{MicrosoftClientSecret, regexp.MustCompile(`[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{30,}`)},
		{JWT, regexp.MustCompile(`eyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`)},
		{AWSAccessKey, regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`)},
		{OAuthToken, regexp.MustCompile(`ya29\.[A-Za-z0-9_\-]{20,}|1//0[A-Za-z0-9_\-]{20,}|00D[A-Za-z0-9]{12,15}![A-Za-z0-9_.]{20,}|(?i:bearer)\s+[A-Za-z0-9_\-.~+/=]{20,}`)},
	}
})

// runRE finds the runs of characters secrets are made of; entropy is
// measured per run, so a long but ordinary sentence or domain is not judged
// as a whole.
var runRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9+/=_\-~.]+`) })

// Thresholds of the generic checks, measured on random strings: a random
// base64 string of 24 characters measures at least about 3.5 bits per
// character, of 32 about 3.7, and more when longer. Ordinary values that long
// (group names, domains) are made of words, which looksWordy recognises, and
// GUIDs are hex, which only the hex rule judges.
const (
	minHexRun       = 32
	minEntropyRun   = 24
	entropyPerChar  = 3.5
	minEntropyKinds = 3 // of upper, lower, digit, symbol
)

// Finding says what kind of credential a value resembles.
type Finding struct {
	Kind Kind
}

// Describe is the kind for a person ("a Google client secret").
func (f Finding) Describe() string { return describe[f.Kind] }

// Options tune a check for one field.
type Options struct {
	// ShapesOnly skips the generic entropy rule (known shapes and long hex
	// strings are still refused). Use it for fields
	// whose own format check already accepts only a known, non-secret shape
	// (a provider's client id), where a legitimate value can be long and
	// random-looking.
	ShapesOnly bool
}

// Check reports whether value looks like a credential.
func Check(value string, opts ...Options) (Finding, bool) {
	var o Options
	for _, x := range opts {
		o = x
	}
	for _, s := range shapes() {
		if s.re.MatchString(value) {
			return Finding{Kind: s.kind}, true
		}
	}
	runs := runRE().FindAllString(value, -1)
	for _, run := range runs {
		if isHexRun(run) {
			return Finding{Kind: HexSecret}, true
		}
	}
	if o.ShapesOnly {
		return Finding{}, false
	}
	for _, run := range runs {
		if highEntropy(run) {
			return Finding{Kind: HighEntropy}, true
		}
	}
	return Finding{}, false
}

// Message is the field error text for a finding in field: it names the kind
// of credential, never the value, and points to the secure field.
func Message(f Finding, field string) string {
	return "This looks like " + f.Describe() + ". Credentials never belong in " + field +
		": enter the client secret only in the secure client secret field (clientSecret, PUT .../client-secret), and use placeholders such as <client-secret> elsewhere."
}

// highEntropy: a long run of several character kinds that does not read
// like words and measures random.
func highEntropy(run string) bool {
	if len(run) < minEntropyRun || onlyHex(run) || charKinds(run) < minEntropyKinds || looksWordy(run) {
		return false
	}
	return entropy(run) >= entropyPerChar
}

// onlyHex: hex digits and separators only (a GUID); the hex rule judges
// these, since their alphabet caps their entropy below that of base64.
func onlyHex(run string) bool {
	return strings.Trim(run, "0123456789abcdefABCDEF-") == ""
}

// isHexRun: a run of at least minHexRun hex digits holding both digits and
// letters (a GUID without its hyphens, a SHA digest, a consumer secret).
func isHexRun(run string) bool {
	longest, cur := 0, 0
	var digits, letters bool
	bestDigits, bestLetters := false, false
	for _, r := range run {
		switch {
		case r >= '0' && r <= '9':
			cur++
			digits = true
		case (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F'):
			cur++
			letters = true
		default:
			cur, digits, letters = 0, false, false
			continue
		}
		if cur > longest {
			longest, bestDigits, bestLetters = cur, digits, letters
		}
	}
	return longest >= minHexRun && bestDigits && bestLetters
}

func charKinds(s string) int {
	var upper, lower, digit, symbol bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			symbol = true
		}
	}
	n := 0
	for _, b := range []bool{upper, lower, digit, symbol} {
		if b {
			n++
		}
	}
	return n
}

// looksWordy reports whether the run splits, at separators, case changes
// and digit boundaries, into pieces that mostly read like words: at least
// four fifths of its letters are in word-like pieces (see wordLike).
func looksWordy(run string) bool {
	pieces := strings.FieldsFunc(run, func(r rune) bool { return strings.ContainsRune("-_./+=~", r) })
	var letters, wordLetters int
	for _, p := range pieces {
		// An all-caps piece between separators is an acronym (IT, EMEA);
		// inside a run of mixed case, short capitals are what random
		// strings are made of and do not count.
		acronym := strings.ToUpper(p) == p && len(strings.Trim(p, "0123456789")) <= 6
		for _, w := range splitCase(p) {
			if w[0] >= '0' && w[0] <= '9' {
				continue // splitCase keeps digits apart from letters
			}
			letters += len(w)
			if acronym || wordLike(w) {
				wordLetters += len(w)
			}
		}
	}
	return letters > 0 && wordLetters*5 >= letters*4
}

// wordLike: three or more letters in one case shape (lower, Capitalized,
// UPPER), no more than four consonants in a row, and between a fifth and two
// thirds vowels. Random strings rarely make long pieces like that.
func wordLike(w string) bool {
	if len(w) < 3 {
		return false
	}
	if rest := w[1:]; strings.ToLower(rest) != rest && strings.ToUpper(w) != w {
		return false
	}
	vowels, consonantRun := 0, 0
	for _, r := range strings.ToLower(w) {
		if strings.ContainsRune("aeiouy", r) {
			vowels++
			consonantRun = 0
			continue
		}
		if consonantRun++; consonantRun > 4 {
			return false
		}
	}
	return vowels*5 >= len(w) && vowels*3 <= len(w)*2
}

// splitCase splits "MarketingPilotEMEA" into Marketing, Pilot, EMEA and
// separates digit runs from letter runs.
func splitCase(s string) []string {
	var out []string
	start := 0
	rs := []rune(s)
	class := func(r rune) int {
		switch {
		case r >= '0' && r <= '9':
			return 0
		case r >= 'A' && r <= 'Z':
			return 1
		default:
			return 2
		}
	}
	for i := 1; i < len(rs); i++ {
		prev, cur := class(rs[i-1]), class(rs[i])
		boundary := false
		switch {
		case (prev == 0) != (cur == 0):
			boundary = true
		case prev == 2 && cur == 1: // lower→Upper: "marketingPilot"
			boundary = true
		case prev == 1 && cur == 2 && i-start > 1: // "EMEAPilot": split before the P
			out = append(out, string(rs[start:i-1]))
			start = i - 1
		}
		if boundary {
			out = append(out, string(rs[start:i]))
			start = i
		}
	}
	return append(out, string(rs[start:]))
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var h float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		h -= p * math.Log2(p)
	}
	return h
}
