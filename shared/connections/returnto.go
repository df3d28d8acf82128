package connections

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxReturnToLength bounds a returnTo URL.
const MaxReturnToLength = 2048

// allowedPrefix is one entry of the deployment's allowed return URLs, parsed.
// A returnTo matches when its scheme and host are the same and its path
// starts with the prefix's path at a segment boundary: a plain string prefix
// would let http://localhost:3000 admit http://localhost:3000.evil.example.
type allowedPrefix struct {
	scheme, host, path string
}

func parseAllowedReturnURLs(raw []string) ([]allowedPrefix, error) {
	out := make([]allowedPrefix, 0, len(raw))
	for _, r := range raw {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("allowed return URL %q is not an absolute http(s) URL without query or fragment", r)
		}
		out = append(out, allowedPrefix{scheme: u.Scheme, host: strings.ToLower(u.Host), path: u.EscapedPath()})
	}
	return out, nil
}

func (p allowedPrefix) admits(u *url.URL) bool {
	if u.Scheme != p.scheme || strings.ToLower(u.Host) != p.host {
		return false
	}
	path := u.EscapedPath()
	switch {
	case p.path == "" || p.path == "/":
		return true
	case strings.HasSuffix(p.path, "/"):
		return strings.HasPrefix(path, p.path)
	default:
		return path == p.path || strings.HasPrefix(path, p.path+"/")
	}
}

var (
	errReturnToFormat      = errors.New("returnTo must be an absolute http(s) URL without credentials or fragment")
	errReturnToNotAllowed  = errors.New("returnTo is not on this deployment's allowed return URLs")
	errReturnToDotSegments = errors.New("returnTo must not have . or .. path segments, in any encoding")
)

// hasDotSegment reports whether a URL path has a "." or ".." segment. The
// allow-list compares path prefixes, and a browser resolves dot segments
// (RFC 3986 section 5.2.4) after that comparison:
// <allowed>/settings/integrations/../../logout passes a prefix check and
// lands on /logout. path is the decoded path (url.URL.Path), so the
// percent-encoded forms (%2e, %2E, .%2e, and ..%2f, whose %2f some servers
// decode into a separator) are seen as the dots they are; a segment is
// judged without its ;parameters too, which some servers strip before
// resolving ("..;").
func hasDotSegment(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			seg = seg[:i]
		}
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// checkReturnTo validates a returnTo from a start request, and again at the
// callback (the allow-list may have changed since; a state stored before
// this check existed may hold anything). Empty is allowed (the callback
// then answers with a small page instead of a redirect). Dot segments are
// refused rather than resolved: no legitimate return page needs them.
func (s *Service) checkReturnTo(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) > MaxReturnToLength || strings.ContainsAny(raw, "\\\r\n\t ") {
		return "", errReturnToFormat
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Fragment != "" {
		return "", errReturnToFormat
	}
	if hasDotSegment(u.Path) {
		return "", errReturnToDotSegments
	}
	for _, p := range s.returnTo {
		if p.admits(u) {
			return u.String(), nil
		}
	}
	return "", errReturnToNotAllowed
}

// withOutcome adds the callback's outcome to a returnTo URL, keeping its own
// query.
func withOutcome(returnTo string, params url.Values) (string, error) {
	u, err := url.Parse(returnTo)
	if err != nil {
		return "", err
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
