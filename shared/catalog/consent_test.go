package catalog

import (
	"slices"
	"testing"
)

// TestConsentScopes: what a user who already granted some scopes is asked
// for when the settings need more. Google merges the grant itself
// (include_granted_scopes), so the request is the settings' set; Microsoft
// is asked for the new scopes plus those already granted, in the form the
// catalog requests them, without doubles; Salesforce's connected app bounds
// the scopes, so the request is the settings' set.
func TestConsentScopes(t *testing.T) {
	c := New()
	ms, _ := c.Get(Microsoft365)
	gw, _ := c.Get(GoogleWorkspace)
	sf, _ := c.Get(Salesforce)
	const graph = "https://graph.microsoft.com/"
	const gauth = "https://www.googleapis.com/auth/"
	tests := []struct {
		name               string
		p                  Provider
		requested, granted []string
		want               []string
	}{
		{
			name:      "microsoft keeps a write scope the settings no longer ask for",
			p:         ms,
			requested: ms.RequestedScopes([]Capability{Email, Calendar}, false),
			// A token response names Graph permissions without the resource.
			granted: []string{"openid", "profile", "email", "User.Read", "Mail.Read", "Mail.ReadWrite"},
			want:    append(ms.RequestedScopes([]Capability{Email, Calendar}, false), graph+"Mail.ReadWrite"),
		},
		{
			name:      "microsoft with nothing new granted asks for the settings' set",
			p:         ms,
			requested: ms.RequestedScopes([]Capability{Email}, false),
			granted:   []string{"openid", "profile", "email", "User.Read", "mail.read"},
			want:      ms.RequestedScopes([]Capability{Email}, false),
		},
		{
			name:      "microsoft keeps a scope the catalog does not know as granted",
			p:         ms,
			requested: ms.RequestedScopes([]Capability{Email}, false),
			granted:   []string{"User.Read", "Mail.Read", "Tasks.Read"},
			want:      append(ms.RequestedScopes([]Capability{Email}, false), "Tasks.Read"),
		},
		{
			name:      "google asks for the settings' set: include_granted_scopes keeps the rest",
			p:         gw,
			requested: gw.RequestedScopes([]Capability{Email, Calendar}, false),
			granted:   []string{"openid", gauth + "userinfo.email", gauth + "gmail.readonly", gauth + "drive.readonly"},
			want:      gw.RequestedScopes([]Capability{Email, Calendar}, false),
		},
		{
			name:      "salesforce asks for the settings' set: the connected app bounds it",
			p:         sf,
			requested: sf.RequestedScopes([]Capability{CRM}, true),
			granted:   []string{"refresh_token", "id", "openid", "api", "web"},
			want:      sf.RequestedScopes([]Capability{CRM}, true),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.requested)
			got := tc.p.ConsentScopes(tc.requested, tc.granted)
			if !slices.Equal(got, tc.want) {
				t.Errorf("ConsentScopes = %v\nwant %v", got, tc.want)
			}
			if !slices.Equal(tc.requested, before) {
				t.Errorf("ConsentScopes changed its argument: %v", tc.requested)
			}
		})
	}
}

// TestConsentModes: each provider's mode, as the API names it.
func TestConsentModes(t *testing.T) {
	want := map[string]string{Microsoft365: "dynamic", GoogleWorkspace: "incremental", Salesforce: "per_app"}
	for _, p := range New().All() {
		if got := p.Consent.String(); got != want[p.ID] {
			t.Errorf("%s: consent %q, want %q", p.ID, got, want[p.ID])
		}
	}
}
