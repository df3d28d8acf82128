package admin

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sofie/integrations/shared/problem"
)

// ETag is the entity tag of an integration version: the quoted version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// Precondition holds a request's conditional headers (RFC 9110 §13.1).
type Precondition struct {
	IfMatch     []string // entity tags as sent, "*" included
	IfNoneMatch []string
}

// ParsePrecondition reads If-Match and If-None-Match (every header line,
// comma-separated lists).
func ParsePrecondition(h http.Header) Precondition {
	return Precondition{IfMatch: tagList(h.Values("If-Match")), IfNoneMatch: tagList(h.Values("If-None-Match"))}
}

func tagList(lines []string) []string {
	var out []string
	for _, l := range lines {
		for _, t := range strings.Split(l, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// check decides the request against the stored version (0: never
// configured). With required, a change to an existing integration must name
// the version it was made from: without If-Match it is 428, so an admin who
// never read the current state cannot overwrite it.
func (p Precondition) check(current int64, required bool) *problem.Problem {
	tag := ETag(current)
	if len(p.IfNoneMatch) > 0 && current > 0 {
		// If-None-Match uses weak comparison.
		if slices.Contains(p.IfNoneMatch, "*") || slices.Contains(p.IfNoneMatch, tag) || slices.Contains(p.IfNoneMatch, "W/"+tag) {
			return preconditionFailed(current, "This integration already exists; send If-Match with its current ETag to change it.")
		}
	}
	if len(p.IfMatch) > 0 {
		if current == 0 {
			return preconditionFailed(current, "This integration has not been configured yet: save it without If-Match, or with If-None-Match: *.")
		}
		// If-Match uses strong comparison: a weak tag never matches.
		if !slices.Contains(p.IfMatch, "*") && !slices.Contains(p.IfMatch, tag) {
			return preconditionFailed(current, "The integration changed since you read it. Reload it, review the change, and save again.")
		}
		return nil
	}
	if required && current > 0 {
		p := problem.New(http.StatusPreconditionRequired, problem.CodePreconditionReq, "Send If-Match with the ETag of the version you edited, so that no one else's change is overwritten.")
		return p.With("currentVersion", current)
	}
	return nil
}

func preconditionFailed(current int64, detail string) *problem.Problem {
	return problem.New(http.StatusPreconditionFailed, problem.CodePreconditionFail, detail).With("currentVersion", current)
}

// CurrentVersion returns the currentVersion member of a precondition
// problem, for the handler's ETag header.
func CurrentVersion(p *problem.Problem) (int64, bool) {
	v, ok := p.Extra["currentVersion"].(int64)
	return v, ok
}
