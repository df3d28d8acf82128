package google

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// ClassifyAPI reads Google's API errors: {"error": {"code": 403, "status":
// "PERMISSION_DENIED", "errors": [{"reason": "..."}], "details":
// [{"reason": "..."}]}}. Drive answers 404 for a file that exists but is not
// shared with the user.
// Docs: https://developers.google.com/drive/api/guides/handle-errors
func (*dialect) ClassifyAPI(status int, _ http.Header, body []byte) oauthfail.API {
	return oauthfail.APIAnswer(status, func() (oauthfail.API, bool) {
		var e struct {
			Error struct {
				Status  string `json:"status"`
				Message string `json:"message"`
				Errors  []struct {
					Reason   string `json:"reason"`
					Location string `json:"location"`
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
			return oauthfail.APIRateLimited, true
		case has("access_token_scope_insufficient", "insufficientpermissions"):
			return oauthfail.APIScopeMissing, true
		case has("accessnotconfigured", "service_disabled"):
			return oauthfail.APIDisabledForClient, true
		case has("failedprecondition") && status == http.StatusBadRequest:
			// Gmail: "Mail service not enabled" for an account without Gmail.
			return oauthfail.APIUnlicensed, true
		}
		switch status {
		case http.StatusNotFound, http.StatusGone:
			// Drive's 404 also hides files not shared with the account;
			// told apart from the others by its reason or message shape.
			for _, x := range e.Error.Errors {
				if x.Reason == "notFound" && x.Location == "fileId" {
					return oauthfail.APINotFoundOrHidden, true
				}
			}
			if strings.HasPrefix(e.Error.Message, "File not found") {
				return oauthfail.APINotFoundOrHidden, true
			}
		case http.StatusBadRequest:
			if e.Error.Status == "INVALID_ARGUMENT" || has("invalid", "invalidargument", "badrequest") {
				return oauthfail.APIInvalidID, true
			}
		}
		return "", false
	})
}

// InstanceURL: Google's APIs have fixed hosts.
func (*dialect) InstanceURL(store.Account) (string, error) { return "", providers.ErrNoInstance }

// ItemID: Google ids are letters, digits, _ and -; contacts may be given
// as their People resource name (people/c123...); calendar event ids of
// recurring instances are long.
func (*dialect) ItemID(c providers.Capability, raw string) (string, bool) {
	max := 1024
	if c == providers.Contacts {
		raw, max = strings.TrimPrefix(raw, "people/"), 256
	}
	return raw, len(raw) <= max && providers.OnlyBytes(raw, "_-")
}

// FileMeta reads a Drive file: mimeType and size (an int64 as a string);
// folders and Google Docs editors files (exported, not downloaded) are
// told by their application/vnd.google-apps.* type.
// Docs: https://developers.google.com/drive/api/reference/rest/v3/files
func (*dialect) FileMeta(body []byte) (providers.FileMeta, bool) {
	var m struct {
		MimeType string `json:"mimeType"`
		Size     string `json:"size"`
	}
	if json.Unmarshal(body, &m) != nil {
		return providers.FileMeta{}, false
	}
	fm := providers.FileMeta{MimeType: m.MimeType}
	if n, err := strconv.ParseInt(m.Size, 10, 64); err == nil {
		fm.Size, fm.SizeKnown = n, true
	}
	fm.Folder = m.MimeType == "application/vnd.google-apps.folder"
	fm.Exported = !fm.Folder && strings.HasPrefix(m.MimeType, "application/vnd.google-apps.")
	return fm, true
}
