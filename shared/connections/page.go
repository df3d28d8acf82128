package connections

import (
	"html/template"
	"net/http"
)

// pageTmpl is the page the callback answers with when it has nowhere to
// send the browser back to. No script, style or external resource (the CSP
// forbids them all); html/template escapes every value.
var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Code}}<p>Error code: <code>{{.Code}}</code></p>{{end}}
<p>You can close this window and return to the app.</p>
</body>
</html>
`))

// writePage answers the callback with a page describing res.
func writePage(w http.ResponseWriter, res CallbackResult) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	title, status := "Account connected", http.StatusOK
	if res.Status != OutcomeConnected {
		title, status = "The account was not connected", http.StatusBadRequest
	}
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Title, Message, Code string }{title, res.Message, res.Code})
}
