package admin

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/hygiene"
	"github.com/sofie/integrations/shared/problem"
	"github.com/sofie/integrations/shared/store"
)

func TestValidateGuidance(t *testing.T) {
	gw, _ := catalog.New().Get(catalog.GoogleWorkspace)
	base := func(sc *SupportContactInput, guidance string) IntegrationInput {
		return IntegrationInput{Enabled: enabled(true), Capabilities: []string{"email"}, SupportContact: sc, UserGuidance: guidance}
	}
	mail := func(name, email string) *SupportContactInput { return &SupportContactInput{Name: name, Email: email} }
	web := func(name, u string) *SupportContactInput { return &SupportContactInput{Name: name, URL: u} }
	type fe struct{ field, code string }
	tests := []struct {
		name string
		in   IntegrationInput
		code string // problem code, "" when valid
		errs []fe
	}{
		{"none", base(nil, ""), "", nil},
		{"email contact", base(mail("IT Help", "it-help@example.com"), ""), "", nil},
		{"URL contact", base(web("IT Help", "https://help.example.com/servicedesk/customer/portal/3/create/25?category=integrations"), ""), "", nil},
		{"guidance with line breaks and a URL", base(nil, "Use Gmail to find messages.\nSending mail needs a review by your manager.\r\n\tSee https://intranet.example.com/ai-guide (no links in text needed). Costs < $5 & more."), "", nil},
		{"guidance of 2,000 characters", base(nil, strings.Repeat("é", MaxUserGuidanceChars)), "", nil},

		{"contact without name", base(mail("", "it-help@example.com"), ""), problem.CodeValidation, []fe{{"supportContact.name", "required"}}},
		{"contact name padded", base(mail(" IT Help", "it-help@example.com"), ""), problem.CodeValidation, []fe{{"supportContact.name", "invalid_format"}}},
		{"contact name too long", base(mail(strings.Repeat("n", MaxSupportNameLen+1), "it-help@example.com"), ""), problem.CodeValidation, []fe{{"supportContact.name", "too_long"}}},
		{"contact with neither", base(&SupportContactInput{Name: "IT Help"}, ""), problem.CodeValidation, []fe{{"supportContact", "required"}}},
		{"contact with both", base(&SupportContactInput{Name: "IT Help", Email: "it@example.com", URL: "https://help.example.com"}, ""), problem.CodeValidation, []fe{{"supportContact", "invalid_value"}}},
		{"email with a display name", base(mail("IT Help", "IT Help <it-help@example.com>"), ""), problem.CodeValidation, []fe{{"supportContact.email", "invalid_format"}}},
		{"email without a domain", base(mail("IT Help", "it-help@localhost"), ""), problem.CodeValidation, []fe{{"supportContact.email", "invalid_format"}}},
		{"email not an address", base(mail("IT Help", "it-help"), ""), problem.CodeValidation, []fe{{"supportContact.email", "invalid_format"}}},
		{"http URL", base(web("IT Help", "http://help.example.com"), ""), problem.CodeValidation, []fe{{"supportContact.url", "https_required"}}},
		{"javascript URL", base(web("IT Help", "javascript:alert(1)"), ""), problem.CodeValidation, []fe{{"supportContact.url", "invalid_format"}}},
		{"URL with a password", base(web("IT Help", "https://admin:hunter22@help.example.com"), ""), problem.CodeValidation, []fe{{"supportContact.url", "invalid_format"}}},
		{"URL without host", base(web("IT Help", "https:///help"), ""), problem.CodeValidation, []fe{{"supportContact.url", "invalid_format"}}},

		{"guidance too long", base(nil, strings.Repeat("a", MaxUserGuidanceChars+1)), problem.CodeValidation, []fe{{"userGuidance", "too_long"}}},
		{"HTML in guidance", base(nil, "Use it <b>carefully</b>."), problem.CodeValidation, []fe{{"userGuidance", "markup_not_allowed"}}},
		{"script in guidance", base(nil, "<script>alert(1)</script>"), problem.CodeValidation, []fe{{"userGuidance", "markup_not_allowed"}}},
		{"entity in guidance", base(nil, "Fish &amp; chips"), problem.CodeValidation, []fe{{"userGuidance", "markup_not_allowed"}}},
		{"Markdown link in guidance", base(nil, "Read [the guide](https://evil.example.com)."), problem.CodeValidation, []fe{{"userGuidance", "markup_not_allowed"}}},
		{"control character in guidance", base(nil, "bell\x07"), problem.CodeValidation, []fe{{"userGuidance", "invalid_format"}}},

		// A pasted credential is the headline, wherever it is.
		{"secret in guidance", base(nil, "Setup: client secret is "+googleSecret()+", ask IT."), problem.CodeSecretInField, []fe{{"userGuidance", hygiene.Code}}},
		{"token in guidance", base(nil, "Test with Bearer "+strings.Repeat("Ab9_", 8)), problem.CodeSecretInField, []fe{{"userGuidance", hygiene.Code}}},
		{"secret as contact name", base(mail(msSecret(), "it-help@example.com"), ""), problem.CodeSecretInField, []fe{{"supportContact.name", hygiene.Code}}},
		{"JWT in contact URL", base(web("IT Help", "https://help.example.com/?t="+jwtLike()), ""), problem.CodeSecretInField, []fe{{"supportContact.url", hygiene.Code}}},
		{"key in contact email", base(mail("IT Help", "it-"+strings.Repeat("ab12", 9)+"@example.com"), ""), problem.CodeSecretInField, []fe{{"supportContact.email", hygiene.Code}}},

		// Invisible formatting characters, one error per field.
		{"zero-width space in guidance", base(nil, "Use\u200bit"), problem.CodeValidation, []fe{{"userGuidance", hygiene.InvisibleCode}}},
		{"bidi override in contact name", base(mail("\u202epleH TI", "it-help@example.com"), ""), problem.CodeValidation, []fe{{"supportContact.name", hygiene.InvisibleCode}}},
		{"invisible in contact email", base(mail("IT Help", "it-help@exam\u00adple.com"), ""), problem.CodeValidation, []fe{{"supportContact.email", hygiene.InvisibleCode}}},
		{"invisible in contact URL", base(web("IT Help", "https://help.example.com/\u2060"), ""), problem.CodeValidation, []fe{{"supportContact.url", hygiene.InvisibleCode}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prob := validate(gw, tt.in)
			if tt.code == "" {
				if prob != nil {
					t.Fatalf("want valid, got %s %+v", prob.Code, prob.Errors)
				}
				return
			}
			if prob == nil {
				t.Fatal("want a problem, got none")
			}
			if prob.Code != tt.code || prob.Status != 400 {
				t.Errorf("code = %s/%d, want %s/400", prob.Code, prob.Status, tt.code)
			}
			var got []fe
			sent := []string{tt.in.UserGuidance}
			if sc := tt.in.SupportContact; sc != nil {
				sent = append(sent, sc.Name, sc.Email, sc.URL)
			}
			for _, e := range prob.Errors {
				got = append(got, fe{e.Field, e.Code})
				for _, v := range sent {
					if len(v) > 10 && strings.Contains(e.Message+prob.Detail, v) {
						t.Errorf("message of %s quotes the input", e.Field)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.errs) {
				t.Errorf("errors = %v, want %v", got, tt.errs)
			}
		})
	}
}

// TestGuidanceSavedAuditedAndShown: the contact and guidance are stored,
// audited old → new, shown to admins on the integration and to members on
// the card, and a PUT without them clears them (PUT replaces).
func TestGuidanceSavedAuditedAndShown(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	body := IntegrationInput{Enabled: enabled(true), Capabilities: []string{"email"},
		SupportContact: &SupportContactInput{Name: "IT Help", Email: "it-help@example.com"}, UserGuidance: "Find meetings.\nSending needs a review."}
	res, err := f.svc.PutIntegration(ctx, admin1, catalog.GoogleWorkspace, body, Precondition{}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := &store.SupportContact{Name: "IT Help", Email: "it-help@example.com"}
	if *res.View.SupportContact != *want || res.View.UserGuidance != body.UserGuidance {
		t.Fatalf("view: %+v %q", res.View.SupportContact, res.View.UserGuidance)
	}
	stored, _ := f.store.GetIntegration(ctx, "o1", catalog.GoogleWorkspace)
	if *stored.SupportContact != *want || stored.UserGuidance != body.UserGuidance {
		t.Fatalf("stored: %+v %q", stored.SupportContact, stored.UserGuidance)
	}

	member := auth.Principal{UserID: "u-bob", OrgID: "o1"}
	cards, err := f.svc.Cards(ctx, member, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if c.Provider == catalog.GoogleWorkspace && (c.SupportContact == nil || *c.SupportContact != *want || c.UserGuidance != body.UserGuidance || c.Configuration != nil) {
			t.Fatalf("member's card: %+v", c)
		}
		if c.Provider != catalog.GoogleWorkspace && (c.SupportContact != nil || c.UserGuidance != "") {
			t.Fatalf("another provider's card carries guidance: %+v", c)
		}
	}

	body.SupportContact = &SupportContactInput{Name: "IT Help", URL: "https://help.example.com/it"}
	body.UserGuidance = ""
	if _, err := f.svc.PutIntegration(ctx, admin1, catalog.GoogleWorkspace, body, ifMatch(1), ""); err != nil {
		t.Fatal(err)
	}
	body.SupportContact = nil
	res, err = f.svc.PutIntegration(ctx, admin1, catalog.GoogleWorkspace, body, ifMatch(2), "")
	if err != nil || res.View.SupportContact != nil || res.View.UserGuidance != "" {
		t.Fatalf("cleared: %+v %v", res.View, err)
	}
	page, _ := f.svc.Audit(ctx, "o1", store.Page{Limit: 10})
	var changes []string
	for i := len(page.Entries) - 1; i >= 0; i-- {
		for _, c := range page.Entries[i].Changes {
			if c.Field == "supportContact" || c.Field == "userGuidance" {
				changes = append(changes, fmt.Sprintf("%s: %q → %q", c.Field, c.Old, c.New))
			}
		}
	}
	wantChanges := []string{
		`supportContact: "" → "IT Help (it-help@example.com)"`,
		`userGuidance: "" → "Find meetings.\nSending needs a review."`,
		`supportContact: "IT Help (it-help@example.com)" → "IT Help (https://help.example.com/it)"`,
		`userGuidance: "Find meetings.\nSending needs a review." → ""`,
		`supportContact: "IT Help (https://help.example.com/it)" → ""`,
	}
	if fmt.Sprint(changes) != fmt.Sprint(wantChanges) {
		t.Fatalf("audit:\n%s\nwant\n%s", strings.Join(changes, "\n"), strings.Join(wantChanges, "\n"))
	}

	// A refused body stores nothing and audits nothing.
	body.UserGuidance = "client secret " + googleSecret()
	_, err = f.svc.PutIntegration(ctx, admin1, catalog.GoogleWorkspace, body, ifMatch(3), "")
	wantProblem(t, err, 400, problem.CodeSecretInField)
	after, _ := f.store.GetIntegration(ctx, "o1", catalog.GoogleWorkspace)
	if after.Version != 3 || after.UserGuidance != "" {
		t.Fatalf("a refused save changed the integration: %+v", after)
	}
	if again, _ := f.svc.Audit(ctx, "o1", store.Page{Limit: 10}); len(again.Entries) != len(page.Entries) {
		t.Fatal("a refused save was audited")
	}
}

// bareAddress must accept exactly what net/mail.ParseAddress accepts as a
// bare address it returns unchanged, which is what it replaces.
func TestBareAddressAgreesWithParseAddress(t *testing.T) {
	for _, v := range []string{
		"it-help@example.com", "a.b.c@example.co.uk", "x@y", "!#$%&'*+-/=?^_`{|}~@example.com",
		"ünïcode@exämple.com", "it@[192.0.2.1]", "it@[2001:db8::1]", "it@[::ffff:192.0.2.1]",
		"", "@", "it@", "@example.com", "it-help", "IT Help <it-help@example.com>", "<it@example.com>",
		".it@example.com", "it.@example.com", "i..t@example.com", "it@.example.com", "it@example.com.", "it@exa..mple.com",
		`"it help"@example.com`, `"it"@example.com`, "it help@example.com", " it@example.com", "it@example.com ",
		"it@example.com (IT)", "(IT) it@example.com", "it@b@example.com", "it@[192.0.2.1", "it@[not an ip]", "it@[192.0.2.1]x",
		"it\x00@example.com", "it\x7f@example.com", "it\xff@example.com", "it,x@example.com", "it;x@example.com",
		"it@exa mple.com", "it@example.com,other@example.com", "it\\x@example.com", "it@[]", "it@[192.0.2.1%eth0]",
		"it:x@example.com", "it(x)@example.com", "it[x]@example.com", "it@example.com\r\n",
	} {
		a, err := mail.ParseAddress(v)
		want := err == nil && a.Name == "" && a.Address == v
		if got := bareAddress(v); got != want {
			t.Errorf("bareAddress(%q) = %v, ParseAddress says %v (%v)", v, got, want, err)
		}
	}
}
