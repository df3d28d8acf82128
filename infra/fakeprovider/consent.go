package fakeprovider

import (
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"
)

// consentTTL is how long a consent page's request stays valid.
const consentTTL = 10 * time.Minute

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
fieldset{border:1px solid #ccc;margin:1rem 0}label{display:block;margin:.3rem 0}
.note{color:#555;font-size:.9rem}button{margin-right:.5rem;padding:.4rem 1rem}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .RequestID}}<form method="post">
<input type="hidden" name="request_id" value="{{.RequestID}}">
<p><strong>{{.ClientID}}</strong> wants to access your {{.Provider}} account.</p>
<fieldset><legend>Account</legend>
{{range .Accounts}}<label><input type="radio" name="account" value="{{.Email}}"{{if .Selected}} checked{{end}}> {{.Email}}{{if .Detail}} <span class="note">({{.Detail}})</span>{{end}}</label>
{{end}}</fieldset>
{{if .Scopes}}<fieldset><legend>Allow access to</legend>
{{range .Scopes}}<label><input type="checkbox" name="scope" value="{{.Name}}"{{if .Checked}} checked{{end}}{{if .Fixed}} disabled{{end}}> {{.Name}}</label>
{{end}}</fieldset>{{end}}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="note">This is the fake provider of a local run: no real account is involved.</p>{{end}}
</body></html>
`))

type pageData struct {
	Title, Message string
	RequestID      string
	ClientID       string
	Provider       string
	Accounts       []pageAccount
	Scopes         []pageScope
}

type pageAccount struct {
	Email, Detail string
	Selected      bool
}

type pageScope struct {
	Name           string
	Checked, Fixed bool
}

// page renders a provider page: an error, or the consent form.
func page(w http.ResponseWriter, status int, title, message string) {
	renderPage(w, status, pageData{Title: title, Message: message})
}

func renderPage(w http.ResponseWriter, status int, data pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, data)
}

// consentPage keeps the request and asks a person to choose the account
// and, at Google, the scopes to grant.
func (s *Server) consentPage(d dialect, w http.ResponseWriter, ar *authzRequest, chosen *User) {
	p := s.provider(d.id())
	ar.id = randToken("")
	ar.expires = s.now().Add(consentTTL)
	data := pageData{Title: "Sign in to the fake " + p.DisplayName, RequestID: ar.id, ClientID: ar.clientID, Provider: p.DisplayName}
	s.mu.Lock()
	s.sweep(s.now())
	s.pending[ar.id] = ar
	for _, u := range s.usersOf(d.id()) {
		data.Accounts = append(data.Accounts, pageAccount{Email: u.Email, Detail: d.accountDetail(u), Selected: strings.EqualFold(u.Email, chosen.Email)})
	}
	s.mu.Unlock()
	if d.granularConsent() {
		// Granular consent: identity scopes are always granted, the others
		// can be unticked.
		for _, sc := range ar.scopes {
			fixed := slices.Contains(p.BaseScopes, sc)
			data.Scopes = append(data.Scopes, pageScope{Name: sc, Checked: true, Fixed: fixed})
		}
	}
	renderPage(w, http.StatusOK, data)
}
