package systemtest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

// TestSupportContactAndUserGuidance (issue 15 §1), on the embedded store and
// on the AWS adapters: an admin sets who owns support for connection
// failures and the guidance for users; it is stored, audited, shown to
// members on the cards and on their connections, and named in the
// remediation of every diagnostics check a user or an external admin must
// act on. A pasted secret and an invisible character are refused with
// nothing written.
func TestSupportContactAndUserGuidance(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, s.opts...)
			const org, provider = "org-guidance", catalog.GoogleWorkspace
			const guidance = "Use Gmail and Calendar to find messages and meetings.\nSending mail needs your review."
			body := integrationBody(provider)
			body["supportContact"] = map[string]string{"name": "IT Help", "email": "it-help@example.com"}
			body["userGuidance"] = guidance
			resp := w.do(t, "PUT", integrationPath(org, provider), w.admin(org), body, nil)
			want(t, resp, 201, "")
			etag := resp.Header.Get("ETag")
			contact := store.SupportContact{Name: "IT Help", Email: "it-help@example.com"}
			var view struct {
				SupportContact *store.SupportContact `json:"supportContact"`
				UserGuidance   string                `json:"userGuidance"`
			}
			if err := resp.Decode(&view); err != nil || view.SupportContact == nil || *view.SupportContact != contact || view.UserGuidance != guidance {
				t.Fatalf("saved view: %+v %v", view, err)
			}
			in, _ := w.integration(t, org, provider)
			if in.SupportContact == nil || *in.SupportContact != contact || in.UserGuidance != guidance {
				t.Fatalf("stored: %+v %q", in.SupportContact, in.UserGuidance)
			}

			// Members: on the card, and on each of their connections.
			bob := w.member(org, "u-bob")
			var cards struct {
				Integrations []struct {
					Provider       string                `json:"provider"`
					SupportContact *store.SupportContact `json:"supportContact"`
					UserGuidance   string                `json:"userGuidance"`
					Configuration  json.RawMessage       `json:"configuration"`
				} `json:"integrations"`
			}
			if err := w.do(t, "GET", "/v1/orgs/"+org+"/integrations", bob, nil, nil).Decode(&cards); err != nil {
				t.Fatal(err)
			}
			seen := false
			for _, c := range cards.Integrations {
				if c.Provider == provider {
					seen = true
					if c.SupportContact == nil || *c.SupportContact != contact || c.UserGuidance != guidance || c.Configuration != nil {
						t.Fatalf("the member's card: %+v", c)
					}
				} else if c.SupportContact != nil || c.UserGuidance != "" {
					t.Fatalf("%s's card carries another integration's guidance", c.Provider)
				}
			}
			if !seen {
				t.Fatal("no card for the provider")
			}
			w.connect(t, org, "u-bob", provider, "")
			var conns struct {
				Connections []struct {
					Provider       string                `json:"provider"`
					SupportContact *store.SupportContact `json:"supportContact"`
					UserGuidance   string                `json:"userGuidance"`
				} `json:"connections"`
			}
			if err := w.do(t, "GET", "/v1/orgs/"+org+"/connections", bob, nil, nil).Decode(&conns); err != nil || len(conns.Connections) != 1 {
				t.Fatalf("connections: %+v %v", conns, err)
			}
			if c := conns.Connections[0]; c.SupportContact == nil || *c.SupportContact != contact || c.UserGuidance != guidance {
				t.Fatalf("the connection: %+v", c)
			}

			// Diagnostics: carol never connected (user_connected fails, hers to
			// fix), and asks for a capability the org did not enable
			// (action_supported fails, an admin's to fix).
			help := "For help, contact IT Help (it-help@example.com)."
			for _, q := range []string{"capability=email", "capability=files"} {
				var rep struct {
					Checks []struct {
						ID, Status, Owner, Remediation string
					} `json:"checks"`
				}
				if err := w.do(t, "GET", "/v1/orgs/"+org+"/diagnostics/"+provider+"?"+q, w.member(org, "u-carol"), nil, nil).Decode(&rep); err != nil {
					t.Fatal(err)
				}
				named := 0
				for _, c := range rep.Checks {
					should := c.Status != "pass" && (c.Owner == "user" || c.Owner == "external_admin") && !strings.HasPrefix(c.Remediation, "Nothing")
					has := strings.HasSuffix(c.Remediation, help)
					if c.ID == "user_connected" && (c.Status != "fail" || !has) {
						t.Errorf("%s: user_connected = %+v, want a failure naming the support contact", q, c)
					}
					if has && !should {
						t.Errorf("%s: %s (%s, owner %s) names the support contact", q, c.ID, c.Status, c.Owner)
					}
					if c.ID == "action_supported" && c.Status == "fail" && has {
						t.Errorf("%s: an admin's failure names the support contact: %+v", q, c)
					}
					if has {
						named++
					}
				}
				if named == 0 {
					t.Errorf("%s: no check names the support contact: %+v", q, rep.Checks)
				}
			}

			// Refused: a pasted secret, an invisible character, markup. Nothing
			// stored, nothing audited, the secret never echoed.
			trail := len(w.audit(t, org))
			secret := "GOCSPX-" + strings.Repeat("k3", 14)
			for _, tc := range []struct {
				field, value, code, fieldCode string
			}{
				{"userGuidance", "Setup notes: the client secret is " + secret, "credential_in_field", "credential_in_field"},
				{"supportContact.name", "IT\u200b Help", "validation_failed", "invisible_character"},
				{"userGuidance", "Use it <b>carefully</b>", "validation_failed", "markup_not_allowed"},
				{"supportContact.url", "http://help.example.com", "validation_failed", "https_required"},
			} {
				bad := integrationBody(provider)
				bad["supportContact"], bad["userGuidance"] = map[string]string{"name": "IT Help", "email": "it-help@example.com"}, guidance
				switch tc.field {
				case "userGuidance":
					bad["userGuidance"] = tc.value
				case "supportContact.name":
					bad["supportContact"] = map[string]string{"name": tc.value, "email": "it-help@example.com"}
				case "supportContact.url":
					bad["supportContact"] = map[string]string{"name": "IT Help", "url": tc.value}
				}
				resp := w.do(t, "PUT", integrationPath(org, provider), w.admin(org), bad, map[string][]string{"If-Match": {etag}})
				want(t, resp, 400, tc.code)
				var prob struct {
					Errors []struct{ Field, Code string } `json:"errors"`
				}
				_ = resp.Decode(&prob)
				if len(prob.Errors) != 1 || prob.Errors[0].Field != tc.field || prob.Errors[0].Code != tc.fieldCode {
					t.Errorf("%s: errors %+v, want %s/%s", tc.field, prob.Errors, tc.field, tc.fieldCode)
				}
				if strings.Contains(string(resp.Body), secret) {
					t.Error("the refusal echoes the secret")
				}
			}
			after, _ := w.integration(t, org, provider)
			if after.Version != in.Version || after.UserGuidance != guidance {
				t.Fatalf("a refused save changed the integration: %+v", after)
			}
			entries := w.audit(t, org)
			if len(entries) != trail {
				t.Fatalf("refused saves were audited: %d entries, had %d", len(entries), trail)
			}
			var changes []string
			for _, e := range entries {
				for _, c := range e.Changes {
					if c.Field == "supportContact" || c.Field == "userGuidance" {
						changes = append(changes, c.Field+": "+c.Old+" → "+c.New)
					}
				}
				for _, c := range e.Changes {
					if strings.Contains(c.New+c.Old, secret) {
						t.Fatal("the audit trail holds the secret")
					}
				}
			}
			wantChanges := []string{"supportContact:  → IT Help (it-help@example.com)", "userGuidance:  → " + guidance}
			if strings.Join(changes, "\n") != strings.Join(wantChanges, "\n") {
				t.Fatalf("audit changes:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
			}
		})
	}
}
