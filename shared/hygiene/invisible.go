package hygiene

import (
	"fmt"
	"unicode"
)

// InvisibleCode is the stable field-error code of a value holding an
// invisible formatting character.
const InvisibleCode = "invisible_character"

// Invisible returns the first character of s in Unicode category Cf
// (format): zero-width spaces and joiners, the byte-order mark, soft
// hyphens, and the bidirectional controls (right-to-left override,
// isolates). None of them shows, yet each changes what a value is or how
// it reads: "pilot\u200b" is not the group "pilot" of a token's claim, and
// a right-to-left override makes an audit entry display something other
// than what it holds. Admin text fields refuse them.
func Invisible(s string) (rune, bool) {
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return r, true
		}
	}
	return 0, false
}

// InvisibleMessage says, for a person, which field holds which invisible
// character (by code point, never quoting the value).
func InvisibleMessage(field string, r rune) string {
	return fmt.Sprintf("%s contains an invisible formatting character (U+%04X, such as a zero-width space or a text-direction control); remove it and type the value again.", field, r)
}
