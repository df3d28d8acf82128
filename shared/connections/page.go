package connections

import (
	"net/http"
	"strings"
)

// writePage answers the callback with a page describing res, when there is
// nowhere to send the browser back to (an unusable state, a returnTo no
// longer allowed). No script, style or external resource: the CSP forbids
// them all. Every value is escaped with escapeHTML (text content only,
// never an attribute), which keeps html/template and its reflection out of
// the binary.
func writePage(w http.ResponseWriter, res CallbackResult) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	title, status := "Return to the app", http.StatusOK
	if res.Status != OutcomePending {
		title, status = "The account was not connected", http.StatusBadRequest
	}
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"robots\" content=\"noindex\">\n")
	b.WriteString("<title>" + escapeHTML(title) + "</title>\n</head>\n<body>\n")
	b.WriteString("<h1>" + escapeHTML(title) + "</h1>\n")
	b.WriteString("<p>" + escapeHTML(res.Message) + "</p>\n")
	if res.Code != "" {
		b.WriteString("<p>Error code: <code>" + escapeHTML(res.Code) + "</code></p>\n")
	}
	b.WriteString("<p>You can close this window and return to the app.</p>\n</body>\n</html>\n")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// htmlEscaper escapes as html.EscapeString does (the same five
// replacements), without the html package, whose init and entity table
// (for UnescapeString) the function would otherwise link (issue 13 §1).
var htmlEscaper = strings.NewReplacer(
	`&`, "&amp;",
	`'`, "&#39;",
	`<`, "&lt;",
	`>`, "&gt;",
	`"`, "&#34;",
)

func escapeHTML(s string) string { return htmlEscaper.Replace(s) }
