package connections

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/clients"
	"github.com/sofie/integrations/shared/store"
)

// microsoftDialect: the account is Microsoft Graph /me; the tenant is the
// tid claim of the ID token. The v2.0 platform has no per-token revocation.
type microsoftDialect struct{}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// MicrosoftNoRevocation is the sentence a disconnect answers for Microsoft.
const MicrosoftNoRevocation = "Microsoft has no per-token revocation: the connection was removed here. To withdraw the app's access at Microsoft, remove it under My Apps (myapps.microsoft.com), or ask your tenant admin to remove its consent."

func (microsoftDialect) identify(ctx context.Context, call caller, g grant) (identity, error) {
	var idt struct {
		TID string `json:"tid"`
		OID string `json:"oid"`
	}
	if raw := extraString(g.tok, "id_token"); raw != "" {
		if err := jwtClaims(raw, &idt); err != nil {
			return identity{}, fmt.Errorf("microsoft identity: %w", err)
		}
	}
	// A tenant GUID must match exactly. A verified domain cannot be compared
	// with tid without another lookup; the tenant-specific authorize endpoint
	// only signs in accounts of (or invited into) that tenant, and their tid
	// is that tenant's. organizations and common admit any tenant.
	configured := strings.ToLower(g.in.Tenant)
	if guidRE.MatchString(configured) && idt.TID != "" && !strings.EqualFold(idt.TID, configured) {
		return identity{}, &refusal{code: CodeAccountNotInTenant, message: "This Microsoft account belongs to another tenant than the one your organization configured. Connect a work account of your organization's tenant."}
	}
	var me struct {
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		Mail              string `json:"mail"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := call.getJSON(ctx, "microsoft graph /me", g.client.Endpoints.UserInfoURL, g.tok.AccessToken, &me); err != nil {
		return identity{}, err
	}
	if me.ID == "" {
		return identity{}, fmt.Errorf("microsoft graph /me: no id in the answer")
	}
	email := me.Mail
	if email == "" {
		email = me.UserPrincipalName
	}
	tenant := idt.TID
	if tenant == "" && guidRE.MatchString(configured) {
		tenant = configured
	}
	return identity{account: store.Account{ID: me.ID, Email: email, Name: me.DisplayName, Tenant: strings.ToLower(tenant)}}, nil
}

func (microsoftDialect) revoke(context.Context, caller, clients.Client, *oauth2.Token) error {
	return errRevocationUnsupported
}
