package microsoft

import (
	"context"
	"errors"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

// CodeAccountNotInTenant refuses an account of another tenant than the one
// the org configured.
const CodeAccountNotInTenant = "account_not_in_tenant"

// Identify: the account is Microsoft Graph /me; the tenant is the tid claim
// of the ID token.
func (*dialect) Identify(ctx context.Context, call providers.Caller, s providers.Session) (store.Account, error) {
	var idt struct {
		TID string `json:"tid"`
		OID string `json:"oid"`
	}
	if raw := providers.ExtraString(s.Token, "id_token"); raw != "" {
		if err := providers.JWTClaims(raw, &idt); err != nil {
			return store.Account{}, errors.New("microsoft identity: " + err.Error())
		}
	}
	// A tenant GUID must match exactly, and so must a verified domain's
	// directory id once the save resolved it (Settings.TenantID); before
	// that, the tenant-specific authorize endpoint only signs in accounts
	// of (or invited into) that tenant, and their tid is that tenant's.
	// organizations and common admit any tenant.
	configured := strings.ToLower(s.Settings.Tenant)
	if !isGUID(configured) && !isMultiTenant(configured) && s.Settings.TenantID != "" {
		configured = strings.ToLower(s.Settings.TenantID)
	}
	if isGUID(configured) && idt.TID != "" && !strings.EqualFold(idt.TID, configured) {
		return store.Account{}, &providers.Refusal{Code: CodeAccountNotInTenant, Message: "This Microsoft account belongs to another tenant than the one your organization configured. Connect a work account of your organization's tenant."}
	}
	var me struct {
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		Mail              string `json:"mail"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := call.GetJSON(ctx, "microsoft graph /me", s.Endpoints.UserInfoURL, s.Token.AccessToken, &me); err != nil {
		return store.Account{}, err
	}
	if me.ID == "" {
		return store.Account{}, errors.New("microsoft graph /me: no id in the answer")
	}
	email := me.Mail
	if email == "" {
		email = me.UserPrincipalName
	}
	tenant := idt.TID
	if tenant == "" && isGUID(configured) {
		tenant = configured
	}
	return store.Account{ID: me.ID, Email: email, Name: me.DisplayName, Tenant: strings.ToLower(tenant)}, nil
}

func (*dialect) TokenExtras(*oauth2.Token, *store.Account) error { return nil }

// AccessExpiry: token responses carry expires_in.
func (*dialect) AccessExpiry(context.Context, providers.Caller, providers.Session) (time.Time, error) {
	return time.Time{}, providers.ErrNoExpiryStatement
}

// Revoke: the v2.0 platform has no per-token revocation; a user removes
// the app under My Apps, or a tenant admin removes its consent.
func (*dialect) Revoke(context.Context, providers.Caller, providers.Endpoints, *oauth2.Token) error {
	return providers.ErrRevocationUnsupported
}

func (*dialect) AccountSettings(store.Account) (providers.Settings, error) {
	return providers.Settings{}, nil
}
