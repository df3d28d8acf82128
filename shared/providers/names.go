package providers

// Small hand-written checks instead of package-level regular expressions:
// a pattern with bounded repetitions ({0,61}) costs allocations when every
// function that links this package starts (issue 13), and these run only
// when an admin saves settings.

// IsDomainName reports whether s is a DNS name of at least two labels (RFC
// 1035 letters, digits and hyphens, 1 to 63 characters each, no hyphen at
// either end) whose last label is at least two characters and starts with a
// letter, and which is at most 253 characters long. Case is ignored.
func IsDomainName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			continue
		}
		label := s[start:i]
		if !isLabel(label) {
			return false
		}
		labels++
		start = i + 1
		if i == len(s) {
			tld := label
			return labels >= 2 && len(tld) >= 2 && isLetter(tld[0])
		}
	}
	return false
}

func isLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isLetter(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// IsAlnum reports whether s is non-empty and only ASCII letters and digits.
func IsAlnum(s string) bool { return OnlyBytes(s, "") }

// OnlyBytes reports whether s is non-empty and every byte of it is an ASCII
// letter, a digit, or one of extra.
func OnlyBytes(s, extra string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isLetter(c) || isDigit(c) {
			continue
		}
		ok := false
		for j := 0; j < len(extra); j++ {
			if c == extra[j] {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
