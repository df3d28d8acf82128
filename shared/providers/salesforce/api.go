package salesforce

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// ClassifyAPI reads the REST API's errors, [{"errorCode": "...",
// "message": "..."}]. A record hidden by sharing rules answers 404
// NOT_FOUND like a missing one; API request limits answer 403
// REQUEST_LIMIT_EXCEEDED.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
func (*dialect) ClassifyAPI(status int, _ http.Header, body []byte) oauthfail.API {
	return oauthfail.APIAnswer(status, func() (oauthfail.API, bool) {
		// The identity service (userinfo) answers an unusable token with
		// 403 and the plain-text body Bad_OAuth_Token.
		if strings.HasPrefix(strings.TrimSpace(string(body)), "Bad_OAuth_Token") {
			return oauthfail.APITokenRejected, true
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
			return oauthfail.APIRateLimited, true
		case "SERVER_UNAVAILABLE":
			return oauthfail.APIUnavailable, true
		case "API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED":
			return oauthfail.APIDisabledForUser, true
		case "INVALID_SESSION_ID":
			return oauthfail.APITokenRejected, true
		case "INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", "FUNCTIONALITY_NOT_ENABLED":
			return oauthfail.APIForbidden, true
		case "ENTITY_IS_DELETED":
			return oauthfail.APINotFound, true
		case "NOT_FOUND":
			return oauthfail.APINotFoundOrHidden, true
		case "MALFORMED_ID", "INVALID_ID_FIELD", "INVALID_TYPE", "INVALID_FIELD":
			return oauthfail.APIInvalidID, true
		}
		if status == http.StatusNotFound {
			return oauthfail.APINotFoundOrHidden, true
		}
		return "", false
	})
}

// InstanceURL: the REST API is on the org's instance, checked by
// InstanceURL (the package's one check) before a token is sent there.
func (*dialect) InstanceURL(acct store.Account) (string, error) {
	u, err := InstanceURL(acct.InstanceURL)
	if err != nil {
		return "", providers.ErrNoInstance
	}
	return u, nil
}

// ItemID: Object/RecordId, the object's API name a letter then at most 79
// letters, digits and underscores, the record id 15 or 18 letters and
// digits.
// Docs: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
func (*dialect) ItemID(_ providers.Capability, raw string) (string, bool) {
	if len(raw) > 100 {
		return "", false
	}
	object, record, ok := strings.Cut(raw, "/")
	if !ok || len(object) == 0 || len(object) > 80 || !(object[0] >= 'a' && object[0] <= 'z' || object[0] >= 'A' && object[0] <= 'Z') ||
		!providers.OnlyBytes(object, "_") || !isRecordID(record) {
		return "", false
	}
	return raw, true
}

// FileMeta: the CRM capability has no files.
func (*dialect) FileMeta([]byte) (providers.FileMeta, bool) { return providers.FileMeta{}, false }
