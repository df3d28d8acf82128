package diagnostics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// probeKind is what a provider's answer to a probe means, whatever dialect
// it was said in.
type probeKind int

const (
	probeOK probeKind = iota
	probeUnauthorized
	probeForbidden
	probeScopeMissing      // the token lacks a scope (Google tells this apart)
	probeAPIDisabled       // Google API not enabled in the client's project; Salesforce API not enabled for the user
	probeUnlicensed        // no mailbox or service for the account
	probeConditionalAccess // Microsoft: a stronger sign-in is required (insufficient_claims)
	probeNotFound
	probeInvalidID
	probeRateLimited
	probeTransient
	probeUnexpected
)

// probeResult is a provider's answer, classified. It never holds the
// provider's error text: messages shown to people are ours.
type probeResult struct {
	kind   probeKind
	status int // HTTP status, 0 when no answer came
	// ambiguousNotFound: the provider answers 404 both for a missing item and
	// for one the account may not see (Google Drive, Salesforce sharing).
	ambiguousNotFound bool
	// body of a successful answer (bounded), for metadata probes.
	body        []byte
	contentType string
}

// maxProbeBody bounds what is read of a probe's answer.
const maxProbeBody = 64 << 10

// prober makes the probe calls: GET with the user's bearer token, a bounded
// timeout, a bounded body.
type prober struct {
	client  *http.Client
	timeout time.Duration
}

func (p *prober) get(ctx context.Context, provider, rawURL, token string) probeResult {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.do(ctx, rawURL, token, "application/json")
	if err != nil {
		return probeResult{kind: probeTransient}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return probeResult{kind: probeTransient, status: resp.StatusCode}
	}
	res := classify(provider, resp.StatusCode, resp.Header, body)
	if res.kind == probeOK {
		res.body, res.contentType = body, resp.Header.Get("Content-Type")
	}
	return res
}

// download reads an item's content, counting at most limit bytes and keeping
// none of them.
func (p *prober) download(ctx context.Context, provider, rawURL, token string, limit int64) (res probeResult, size int64, truncated bool) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.do(ctx, rawURL, token, "*/*")
	if err != nil {
		return probeResult{kind: probeTransient}, 0, false
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
		return classify(provider, resp.StatusCode, resp.Header, body), 0, false
	}
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return probeResult{kind: probeTransient, status: resp.StatusCode}, 0, false
	}
	res = probeResult{kind: probeOK, status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	if n > limit {
		return res, limit, true
	}
	return res, n, false
}

func (p *prober) do(ctx context.Context, rawURL, token, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("probe request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", accept)
	resp, err := p.client.Do(req)
	if err != nil {
		// The URL error quotes the URL (which can hold an item id); callers
		// only need to know the call failed.
		return nil, errors.New("probe call failed")
	}
	return resp, nil
}

// classify reads a provider's answer in its own dialect.
func classify(provider string, status int, h http.Header, body []byte) probeResult {
	res := probeResult{status: status}
	switch {
	case status >= 200 && status <= 299:
		res.kind = probeOK
		return res
	case status == http.StatusTooManyRequests:
		res.kind = probeRateLimited
		return res
	case status >= 500:
		res.kind = probeTransient
		return res
	}
	switch provider {
	case catalog.Microsoft365:
		res.kind = classifyGraph(status, h, body)
	case catalog.GoogleWorkspace:
		res.kind, res.ambiguousNotFound = classifyGoogle(status, body)
	case catalog.Salesforce:
		res.kind, res.ambiguousNotFound = classifySalesforce(status, body)
	default:
		res.kind = classifyStatus(status)
	}
	return res
}

func classifyStatus(status int) probeKind {
	switch status {
	case http.StatusUnauthorized:
		return probeUnauthorized
	case http.StatusForbidden:
		return probeForbidden
	case http.StatusNotFound, http.StatusGone:
		return probeNotFound
	case http.StatusBadRequest:
		return probeInvalidID
	}
	return probeUnexpected
}

// Microsoft Graph: {"error": {"code": "...", "message": "..."}}; a
// Conditional Access challenge comes as 403 with insufficient_claims in
// WWW-Authenticate. See https://learn.microsoft.com/graph/errors
func classifyGraph(status int, h http.Header, body []byte) probeKind {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	code := strings.ToLower(e.Error.Code)
	switch code {
	case "mailboxnotenabledforrestapi", "errormailboxnotenabledforrestapi", "mailboxnotsupportedforrestapi", "errornonexistentmailbox":
		return probeUnlicensed
	case "activitylimitreached", "toomanyrequests", "errorserverbusy", "applicationthrottled":
		return probeRateLimited
	case "errorinvalididmalformed", "errorinvalidid":
		return probeInvalidID
	}
	switch status {
	case http.StatusUnauthorized:
		return probeUnauthorized
	case http.StatusForbidden:
		if strings.Contains(h.Get("WWW-Authenticate"), "insufficient_claims") {
			return probeConditionalAccess
		}
		return probeForbidden
	case http.StatusNotFound:
		return probeNotFound
	case http.StatusBadRequest:
		if code == "invalidrequest" || strings.Contains(code, "invalidid") {
			return probeInvalidID
		}
	}
	return classifyStatus(status)
}

// Google APIs: {"error": {"code": 403, "status": "PERMISSION_DENIED",
// "errors": [{"reason": "..."}], "details": [{"reason": "..."}]}}.
// Drive answers 404 for a file that exists but is not shared with the user.
// See https://developers.google.com/drive/api/guides/handle-errors
func classifyGoogle(status int, body []byte) (probeKind, bool) {
	var e struct {
		Error struct {
			Status string `json:"status"`
			Errors []struct {
				Reason string `json:"reason"`
				Domain string `json:"domain"`
			} `json:"errors"`
			Details []struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	reasons := map[string]bool{}
	for _, x := range e.Error.Errors {
		reasons[strings.ToLower(x.Reason)] = true
	}
	for _, x := range e.Error.Details {
		reasons[strings.ToLower(x.Reason)] = true
	}
	has := func(rs ...string) bool {
		for _, r := range rs {
			if reasons[r] {
				return true
			}
		}
		return false
	}
	switch {
	case has("ratelimitexceeded", "userratelimitexceeded", "quotaexceeded", "dailylimitexceeded", "rate_limit_exceeded", "backenderror"):
		return probeRateLimited, false
	case has("access_token_scope_insufficient", "insufficientpermissions"):
		return probeScopeMissing, false
	case has("accessnotconfigured", "service_disabled"):
		return probeAPIDisabled, false
	case has("failedprecondition") && status == http.StatusBadRequest:
		// Gmail: "Mail service not enabled" for an account without Gmail.
		return probeUnlicensed, false
	}
	switch status {
	case http.StatusUnauthorized:
		return probeUnauthorized, false
	case http.StatusForbidden:
		return probeForbidden, false
	case http.StatusNotFound, http.StatusGone:
		return probeNotFound, isDrive404(body)
	case http.StatusBadRequest:
		if e.Error.Status == "INVALID_ARGUMENT" || has("invalid", "invalidargument", "badrequest") {
			return probeInvalidID, false
		}
	}
	return classifyStatus(status), false
}

// isDrive404 tells Drive's 404 (which also hides files not shared with the
// account) from the others by the Drive error's reason or message shape.
func isDrive404(body []byte) bool {
	var e struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason       string `json:"reason"`
				Location     string `json:"location"`
				LocationType string `json:"locationType"`
			} `json:"errors"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	for _, x := range e.Error.Errors {
		if x.Reason == "notFound" && x.Location == "fileId" {
			return true
		}
	}
	return strings.HasPrefix(e.Error.Message, "File not found")
}

// Salesforce REST: [{"errorCode": "...", "message": "..."}]. A record hidden
// by sharing rules answers 404 NOT_FOUND like a missing one; API request
// limits answer 403 REQUEST_LIMIT_EXCEEDED.
// See https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
func classifySalesforce(status int, body []byte) (probeKind, bool) {
	// Salesforce's identity service (userinfo) answers an unusable token
	// with 403 and the plain-text body Bad_OAuth_Token.
	if strings.HasPrefix(strings.TrimSpace(string(body)), "Bad_OAuth_Token") {
		return probeUnauthorized, false
	}
	var es []struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(body, &es)
	code := ""
	if len(es) > 0 {
		code = strings.ToUpper(es[0].ErrorCode)
	}
	switch code {
	case "REQUEST_LIMIT_EXCEEDED", "CONCURRENT_REQUEST_LIMIT_EXCEEDED":
		return probeRateLimited, false
	case "SERVER_UNAVAILABLE":
		return probeTransient, false
	case "API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED":
		return probeAPIDisabled, false
	case "INVALID_SESSION_ID":
		return probeUnauthorized, false
	case "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "FUNCTIONALITY_NOT_ENABLED":
		return probeForbidden, false
	case "ENTITY_IS_DELETED":
		return probeNotFound, false
	case "NOT_FOUND":
		return probeNotFound, true
	case "MALFORMED_ID", "INVALID_ID_FIELD", "INVALID_TYPE", "INVALID_FIELD":
		return probeInvalidID, false
	}
	if status == http.StatusNotFound {
		return probeNotFound, true
	}
	return classifyStatus(status), false
}

// ---- item ids and probe URLs ----

// itemRule says what an item id of one capability looks like.
type itemRule struct {
	re     *regexp.Regexp
	maxLen int
	// strip is a prefix accepted and removed (Google People resource names).
	strip string
}

var (
	graphIDRE  = regexp.MustCompile(`^[A-Za-z0-9!._=~+-]+$`)
	googleIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// Salesforce: ObjectApiName/RecordId, the record id 15 or 18 characters.
	salesforceItemRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_]{0,79})/([A-Za-z0-9]{15}|[A-Za-z0-9]{18})$`)
)

func ruleFor(provider string, c catalog.Capability) itemRule {
	switch provider {
	case catalog.Microsoft365:
		return itemRule{re: graphIDRE, maxLen: 512}
	case catalog.GoogleWorkspace:
		if c == catalog.Contacts {
			return itemRule{re: googleIDRE, maxLen: 256, strip: "people/"}
		}
		// Calendar event ids of recurring instances are long.
		return itemRule{re: googleIDRE, maxLen: 1024}
	case catalog.Salesforce:
		return itemRule{re: salesforceItemRE, maxLen: 100}
	}
	return itemRule{re: googleIDRE, maxLen: 256}
}

// ParseItem validates an item id for a capability and returns it
// normalized. The error is for a person; it never quotes the input.
func ParseItem(p catalog.Provider, cs catalog.CapabilitySpec, raw string) (string, error) {
	if cs.Probe.ItemURL == "" {
		return "", fmt.Errorf("%s cannot be fetched by id", cs.Label)
	}
	rule := ruleFor(p.ID, cs.ID)
	id := strings.TrimPrefix(raw, rule.strip)
	if id == "" || len(id) > rule.maxLen || !rule.re.MatchString(id) || id == "." || id == ".." {
		return "", fmt.Errorf("expected %s", cs.Probe.ItemHint)
	}
	return id, nil
}

// escapeItem path-escapes a validated id; a Salesforce id is two segments.
func escapeItem(id string) string {
	parts := strings.Split(id, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

var errBadInstance = errors.New("connection has no usable instance URL")

// expandURL fills a probe URL template: {instance} with the connection's
// Salesforce instance URL (which must pass catalog.SalesforceInstanceURL,
// since the user's token is sent there) and {id} with the escaped item id.
func expandURL(tmpl string, acct store.Account, id string) (string, error) {
	out := tmpl
	if strings.Contains(out, "{instance}") {
		instance, err := catalog.SalesforceInstanceURL(acct.InstanceURL)
		if err != nil {
			return "", errBadInstance
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
