package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
)

// Audit page sizes.
const (
	DefaultAuditLimit = 50
	MaxAuditLimit     = 100
)

// diff lists the fields that differ between two versions, old → new, in a
// fixed order. It never sees a secret: the integration holds none.
func diff(old, next store.Integration) []store.FieldChange {
	var out []store.FieldChange
	add := func(field, o, n string) {
		if o != n {
			out = append(out, store.FieldChange{Field: field, Old: o, New: n})
		}
	}
	fresh := old.Version == 0
	b := func(v bool) string { return strconv.FormatBool(v) }
	if fresh || old.Enabled != next.Enabled {
		out = append(out, store.FieldChange{Field: "enabled", Old: boolOrEmpty(fresh, old.Enabled), New: b(next.Enabled)})
	}
	add("configMode", emptyIf(fresh, old.ConfigMode), next.ConfigMode)
	add("clientId", old.ClientID, next.ClientID)
	add("tenant", old.Tenant, next.Tenant)
	add("authBaseUrl", old.AuthBaseURL, next.AuthBaseURL)
	add("hostedDomain", old.HostedDomain, next.HostedDomain)
	add("capabilities", strings.Join(old.Capabilities, ","), strings.Join(next.Capabilities, ","))
	if fresh || old.AllowWriteActions != next.AllowWriteActions {
		out = append(out, store.FieldChange{Field: "allowWriteActions", Old: boolOrEmpty(fresh, old.AllowWriteActions), New: b(next.AllowWriteActions)})
	}
	add("rollout", emptyIf(fresh, rolloutString(old.Rollout)), rolloutString(next.Rollout))
	add("supportContact", old.SupportContact.Text(), next.SupportContact.Text())
	add("userGuidance", old.UserGuidance, next.UserGuidance)
	return out
}

func boolOrEmpty(empty, v bool) string {
	if empty {
		return ""
	}
	return strconv.FormatBool(v)
}

func emptyIf(empty bool, v string) string {
	if empty {
		return ""
	}
	return v
}

func rolloutString(r store.Rollout) string {
	if r.Mode == store.RolloutGroups {
		return "groups: " + strings.Join(r.Groups, ", ")
	}
	return store.RolloutEveryone
}

func changedFields(cs []store.FieldChange) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Field
	}
	return out
}

// AuditView is one audit entry as the API shows it.
type AuditView struct {
	ID       string              `json:"id"`
	At       time.Time           `json:"at"`
	Actor    string              `json:"actor"`
	Provider string              `json:"provider"`
	Action   string              `json:"action"`
	Changes  []store.FieldChange `json:"changes"`
}

// AuditPage is a page of the audit trail, newest first.
type AuditPage struct {
	Entries    []AuditView `json:"entries"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

// ParseAuditPage reads ?limit= and ?cursor=.
func ParseAuditPage(limit, cursor string) (store.Page, *problem.Problem) {
	page := store.Page{Limit: DefaultAuditLimit, Cursor: cursor}
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 1 || n > MaxAuditLimit {
			return page, problem.Validation("The query is not valid.", fieldErr("limit", "out_of_range", fmt.Sprintf("limit is a whole number from 1 to %d.", MaxAuditLimit)))
		}
		page.Limit = n
	}
	if len(cursor) > 2048 {
		return page, invalidCursor()
	}
	return page, nil
}

func invalidCursor() *problem.Problem {
	return problem.Validation("The query is not valid.", fieldErr("cursor", CodeInvalidCursor, "Use the nextCursor of the previous page, unchanged."))
}

// Audit returns a page of the org's audit trail, newest first.
func (s *Service) Audit(ctx context.Context, orgID string, page store.Page) (AuditPage, error) {
	entries, next, err := s.o.Store.ListAudit(ctx, orgID, page)
	if errors.Is(err, store.ErrInvalidCursor) {
		return AuditPage{}, invalidCursor()
	}
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit of %s: %w", orgID, err)
	}
	out := AuditPage{Entries: []AuditView{}, NextCursor: next}
	for _, e := range entries {
		out.Entries = append(out.Entries, AuditView{
			ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Provider: e.Provider, Action: e.Action,
			Changes: append([]store.FieldChange{}, e.Changes...),
		})
	}
	return out, nil
}
