package microsoft

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// ClassifyAPI reads Microsoft Graph's errors: {"error": {"code": "...",
// "message": "..."}}; a Conditional Access claims challenge comes with
// insufficient_claims in WWW-Authenticate.
// Docs: https://learn.microsoft.com/graph/errors
func (*dialect) ClassifyAPI(status int, h http.Header, body []byte) oauthfail.API {
	return oauthfail.APIAnswer(status, func() (oauthfail.API, bool) {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		code := strings.ToLower(e.Error.Code)
		switch code {
		case "mailboxnotenabledforrestapi", "errormailboxnotenabledforrestapi", "mailboxnotsupportedforrestapi", "errornonexistentmailbox":
			return oauthfail.APIUnlicensed, true
		case "activitylimitreached", "toomanyrequests", "errorserverbusy", "applicationthrottled":
			return oauthfail.APIRateLimited, true
		case "errorinvalididmalformed", "errorinvalidid":
			return oauthfail.APIInvalidID, true
		}
		switch status {
		case http.StatusUnauthorized, http.StatusForbidden:
			// A claims challenge: Conditional Access (or continuous
			// access evaluation) asks for claims the token does not have.
			// It comes as 401 with error="insufficient_claims"; a refresh
			// cannot satisfy it, so it is not a rejected token.
			// Docs: https://learn.microsoft.com/entra/identity-platform/claims-challenge
			if strings.Contains(h.Get("WWW-Authenticate"), "insufficient_claims") {
				return oauthfail.APIConditionalAccess, true
			}
		case http.StatusBadRequest:
			if code == "invalidrequest" || strings.Contains(code, "invalidid") {
				return oauthfail.APIInvalidID, true
			}
		}
		return "", false
	})
}

// InstanceURL: Graph has one host for every account.
func (*dialect) InstanceURL(store.Account) (string, error) { return "", providers.ErrNoInstance }

// ItemID: Graph ids (Outlook, OneDrive) are letters, digits and !._=~+-,
// at most 512 characters.
func (*dialect) ItemID(_ providers.Capability, raw string) (string, bool) {
	return raw, len(raw) <= 512 && providers.OnlyBytes(raw, "!._=~+-")
}

// FileMeta reads a driveItem: size, file.mimeType, and folder for folders.
// Docs: https://learn.microsoft.com/graph/api/resources/driveitem
func (*dialect) FileMeta(body []byte) (providers.FileMeta, bool) {
	var m struct {
		Size *int64 `json:"size"`
		File *struct {
			MimeType string `json:"mimeType"`
		} `json:"file"`
		Folder *json.RawMessage `json:"folder"`
	}
	if json.Unmarshal(body, &m) != nil {
		return providers.FileMeta{}, false
	}
	fm := providers.FileMeta{Folder: m.Folder != nil}
	if m.Size != nil {
		fm.Size, fm.SizeKnown = *m.Size, true
	}
	if m.File != nil {
		fm.MimeType = m.File.MimeType
	}
	return fm, true
}
