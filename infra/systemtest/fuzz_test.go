package systemtest_test

// Fuzz targets. Each sends its inputs through the local server's API
// handler (the emulated API Gateway, the JWT authorizer, the API Gateway v2
// event through JSON, the function's own Lambda handler) on the embedded
// store, in-process, and checks what every answer must be: never a 5xx;
// an error is application/problem+json whose status matches and whose code
// is one of the API's stable codes; nothing credential-shaped from the
// input is echoed in an error. The OAuth callback answers a browser: a page
// with a stable code, never an internal error.
//
// Seeds: testdata/fuzz/<target>/ (committed) and f.Add below for the
// credential-shaped ones, which are built at run time so that no
// credential-shaped literal is in the repository. make test-fuzz runs each
// target for a few seconds; go test runs the seeds.

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/localtest"
)

const fuzzOrg = "org-fuzz"

// stableCodes are the problem codes the API answers 4xx with. A code
// outside this list is a finding: either a new code to document or an
// error path that escaped the mapping.
var stableCodes = map[string]bool{
	"unauthorized": true, "forbidden": true, "not_found": true, "method_not_allowed": true,
	"validation_failed": true, "malformed_body": true, "body_too_large": true, "unsupported_media_type": true,
	"precondition_failed": true, "precondition_required": true, "unknown_provider": true, "credential_in_field": true,
	"provider_unavailable": true, "provider_disabled": true, "integration_incomplete": true, "not_in_rollout": true,
	"completion_not_found": true,
}

// callbackCodes are the codes the callback's page may carry for input that
// is not a live state: only state_invalid (anything else would mean the
// input reached further than a consumed state allows).
var callbackCodes = map[string]bool{"state_invalid": true}

// fuzzing reports whether this process runs the fuzzing engine (not just
// the seeds).
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != "" && flag.Lookup("test.fuzzworker") != nil && flag.Lookup("test.fuzzworker").Value.String() == "true"
}

// fuzzWorld is the service one fuzz process sends its inputs to: all three
// providers enabled for fuzzOrg with the default clients, no credential
// checks (no provider calls), the store on tmpfs when there is one.
type fuzzWorld struct {
	h             http.Handler
	admin, member string
}

func newFuzzWorld(f *testing.F) *fuzzWorld {
	f.Helper()
	opts := []localtest.Option{localtest.WithEnv("VERIFY_CREDENTIALS", "false")}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "fuzz-"); err == nil {
			f.Cleanup(func() { _ = os.RemoveAll(dir) })
			opts = append(opts, localtest.WithEnv("LOCAL_DATA_DIR", dir))
		}
	}
	env := localtest.New(f, opts...)
	fw := &fuzzWorld{h: env.Server.APIHandler(), admin: env.AdminToken("u-fuzz-admin", fuzzOrg), member: env.MemberToken("u-fuzz-member", fuzzOrg)}
	for _, p := range providers {
		b, _ := json.Marshal(integrationBody(p))
		if rec := fw.send("PUT", integrationPath(fuzzOrg, p), "", fw.admin, b, nil); rec.Code != 201 {
			f.Fatalf("enable %s: %d %s", p, rec.Code, rec.Body)
		}
	}
	if fuzzing() {
		// The harness keeps every log line for leak checks; millions of
		// fuzz calls would only fill memory.
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	return fw
}

// send calls the API in-process. query is the raw query string.
func (fw *fuzzWorld) send(method, path, query, token string, body []byte, hdr http.Header) *httptest.ResponseRecorder {
	var rd *bytes.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var req *http.Request
	if rd != nil {
		req = httptest.NewRequest(method, "http://api.test"+path, rd)
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, "http://api.test"+path, nil)
	}
	req.URL.RawQuery = query
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	fw.h.ServeHTTP(rec, req)
	return rec
}

// provider picks a path provider: the three of the catalog, or an unknown one.
func provider(i uint8) string {
	if int(i)%4 == 3 {
		return "not-a-provider"
	}
	return providers[int(i)%4]
}

// secretShapes find credential-shaped values planted in fuzz input.
var secretShapes = regexp.MustCompile(`GOCSPX-[A-Za-z0-9_\-]{10,}|[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{30,}`)

// plantedIn returns the credential-shaped strings of input: raw, and as
// the string values of its JSON, decoded.
func plantedIn(input []byte) []string {
	out := []string{}
	for _, m := range secretShapes.FindAll(input, -1) {
		out = append(out, string(m))
	}
	var v any
	if json.Unmarshal(input, &v) == nil {
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				out = append(out, secretShapes.FindAllString(x, -1)...)
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for k, e := range x {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	}
	return out
}

// checkAPI is the property of every API answer.
func checkAPI(t *testing.T, rec *httptest.ResponseRecorder, planted []string) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%d: %s", rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%d is %q, not problem+json: %s", rec.Code, ct, rec.Body)
	}
	var p struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || !stableCodes[p.Code] {
		t.Fatalf("%d with a problem that is not one of the API's (status %d, code %q, err %v): %s", rec.Code, p.Status, p.Code, err, rec.Body)
	}
	for _, s := range planted {
		if strings.Contains(rec.Body.String(), s) {
			t.Fatalf("a credential-shaped input value is echoed in a %d: %s", rec.Code, rec.Body)
		}
	}
}

// checkCallback is the property of every callback answer to input that
// holds no live state: the state_invalid page, nothing of the input echoed
// in it, kept out of caches and referrers.
func checkCallback(t *testing.T, rec *httptest.ResponseRecorder, values []string) {
	t.Helper()
	if rec.Code != 400 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("callback answered %d %q: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	m := regexp.MustCompile(`<code>([a-z_]+)</code>`).FindStringSubmatch(rec.Body.String())
	if m == nil || !callbackCodes[m[1]] {
		t.Fatalf("callback page without a stable code: %s", rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("callback page headers: %v", rec.Header())
	}
	page := rec.Body.String()
	for _, v := range values {
		if len(v) >= 12 && strings.Contains(page, v) {
			t.Fatalf("the callback page echoes input %q", v)
		}
	}
}

// secretSeeds are credential-shaped values, built here so that no such
// literal is in the repository.
func secretSeeds() (google, microsoft string) {
	return "GOCSPX-" + strings.Repeat("Ab1_", 7), "Ab" + "c" + "8" + "Q~" + strings.Repeat("xY9.", 8)
}

// addBodySeeds adds each body for one of the catalog's providers.
func addBodySeeds(f *testing.F, bodies ...string) {
	for i, b := range bodies {
		f.Add([]byte(b), uint8(i%3))
	}
}

// FuzzPutIntegration: PUT /v1/orgs/{orgId}/integrations/{provider} with any
// body and If-Match.
func FuzzPutIntegration(f *testing.F) {
	g, ms := secretSeeds()
	for i, b := range []string{
		`{"enabled":true,"configMode":"organization","clientId":"` + g + `","capabilities":["email"]}`,
		`{"enabled":true,"tenant":"` + ms + `","capabilities":["email"]}`,
		`{"enabled":true,"hostedDomain":"x ` + g + ` y"}`,
		`{"enabled":true,"` + g + `":true}`,
		`{"enabled":true,"capabilities":["email"],"userGuidance":"secret: ` + g + `","supportContact":{"name":"IT","email":"it@example.com"}}`,
		`{"enabled":false,"supportContact":{"name":"` + ms + `","url":"https://help.example.com/` + g + `"},"userGuidance":"<b>x</b>"}`,
		`{"enabled":false,"supportContact":{"name":"IT","email":"it@example.com","url":"https://x.example"}}`,
	} {
		f.Add([]byte(b), uint8(i%3), "*")
	}
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte, p uint8, ifMatch string) {
		var hdr http.Header
		if ifMatch != "" {
			if !validHeaderValue(ifMatch) {
				t.Skip("not a header value an HTTP request can carry")
			}
			hdr = http.Header{"If-Match": {ifMatch}}
		}
		rec := fw.send("PUT", integrationPath(fuzzOrg, provider(p)), "", fw.admin, body, hdr)
		checkAPI(t, rec, plantedIn(body))
	})
}

// FuzzPutClientSecret: PUT .../client-secret with any body. The secret is
// never in the answer, whatever it is.
func FuzzPutClientSecret(f *testing.F) {
	g, ms := secretSeeds()
	addBodySeeds(f, `{"clientSecret":"`+g+`"}`, `{"clientSecret":"`+ms+`"}`, `{"clientSecret":["`+g+`"]}`, `{"clientSecret":"`+g+`","x":1}`)
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte, p uint8) {
		rec := fw.send("PUT", integrationPath(fuzzOrg, provider(p))+"/client-secret", "", fw.admin, body, nil)
		planted := plantedIn(body)
		var in struct{ ClientSecret string }
		if json.Unmarshal(body, &in) == nil && len(in.ClientSecret) >= 16 && !strings.ContainsAny(in.ClientSecret, `"\{}:,`) {
			planted = append(planted, in.ClientSecret)
		}
		checkAPI(t, rec, planted)
		if rec.Code == 200 {
			for _, s := range planted {
				if strings.Contains(rec.Body.String(), s) {
					t.Fatalf("the saved secret is in the answer: %s", rec.Body)
				}
			}
		}
	})
}

// FuzzStartConnection: POST /v1/orgs/{orgId}/connections/{provider} with
// any body.
func FuzzStartConnection(f *testing.F) {
	g, _ := secretSeeds()
	addBodySeeds(f, `{"returnTo":"https://evil.example/`+g+`"}`, `{"loginHint":"`+g+` x"}`)
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte, p uint8) {
		rec := fw.send("POST", "/v1/orgs/"+fuzzOrg+"/connections/"+provider(p), "", fw.member, body, nil)
		checkAPI(t, rec, plantedIn(body))
		if rec.Code == 201 {
			var a struct{ AuthorizationURL string }
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("201 without an authorization URL: %s", rec.Body)
			}
			u, err := url.Parse(a.AuthorizationURL)
			// (In tests the URL is rewritten to the fake provider's http one.)
			if err != nil || u.Host == "" || u.Query().Get("state") == "" || u.Query().Get("code_challenge") == "" {
				t.Fatalf("authorization URL %q", a.AuthorizationURL)
			}
		}
	})
}

// FuzzCompleteConnection: POST /v1/orgs/{orgId}/connections/{provider}/complete
// with any body. No handle the fuzzer can produce is live: every answer is
// a refusal (400 for a body without a completion, 404 otherwise), never a
// connection and never a 5xx.
func FuzzCompleteConnection(f *testing.F) {
	g, _ := secretSeeds()
	addBodySeeds(f, `{"completion":"`+g+`"}`, `{"completion":"`+strings.Repeat("A", 43)+`"}`, `{"completion":123}`)
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte, p uint8) {
		rec := fw.send("POST", "/v1/orgs/"+fuzzOrg+"/connections/"+provider(p)+"/complete", "", fw.member, body, nil)
		checkAPI(t, rec, plantedIn(body))
		if rec.Code < 400 {
			t.Fatalf("a fuzzed completion answered %d: %s", rec.Code, rec.Body)
		}
	})
}

// FuzzTestIntegration: POST /v1/orgs/{orgId}/integrations/{provider}/test
// with any body (the admin has no connection: the test reports that, and
// calls no provider).
func FuzzTestIntegration(f *testing.F) {
	g, _ := secretSeeds()
	addBodySeeds(f, `{"item":"`+g+`"}`, `{"importItem":"`+g+`","itemCapability":"files"}`)
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, body []byte, p uint8) {
		rec := fw.send("POST", integrationPath(fuzzOrg, provider(p))+"/test", "", fw.admin, body, nil)
		checkAPI(t, rec, plantedIn(body))
	})
}

// FuzzCallbackState: GET /oauth/callback with any state (and a code). No
// state the fuzzer can produce is live: every one is state_invalid, and
// never reaches a provider.
func FuzzCallbackState(f *testing.F) {
	g, _ := secretSeeds()
	f.Add(g)
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, state string) {
		q := url.Values{"state": {state}, "code": {"fuzz-code-0123456789"}}.Encode()
		rec := fw.send("GET", "/oauth/callback", q, "", nil, nil)
		checkCallback(t, rec, []string{state, "fuzz-code-0123456789"})
	})
}

// FuzzCallbackQuery: GET /oauth/callback with any query string a browser
// can send (printable ASCII, no fragment).
func FuzzCallbackQuery(f *testing.F) {
	g, _ := secretSeeds()
	f.Add("code=" + g + "&state=" + g)
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, query string) {
		for i := 0; i < len(query); i++ {
			if c := query[i]; c <= ' ' || c >= 0x7f || c == '#' {
				t.Skip("not in a request line")
			}
		}
		rec := fw.send("GET", "/oauth/callback", query, "", nil, nil)
		var values []string
		if q, err := url.ParseQuery(query); err == nil {
			for k, vs := range q {
				values = append(values, k)
				values = append(values, vs...)
			}
		}
		checkCallback(t, rec, values)
	})
}

// FuzzProviderFields: the provider configuration fields (tenant,
// authBaseUrl, hostedDomain, clientId) of any provider, saved through the
// API in organization mode. What the catalog makes of accepted values (the
// endpoints) is fuzzed beside it (shared/catalog FuzzSettings).
func FuzzProviderFields(f *testing.F) {
	g, ms := secretSeeds()
	f.Add(uint8(0), ms, "", "", "11111111-2222-3333-4444-555555555555")
	f.Add(uint8(2), "", "https://login.salesforce.com/"+g, "", "3MVG9"+g)
	f.Add(uint8(1), "", "", g+".example.com", "123456789012-abc12345.apps.googleusercontent.com")
	fw := newFuzzWorld(f)
	f.Fuzz(func(t *testing.T, p uint8, tenant, authBaseURL, hostedDomain, clientID string) {
		b, err := json.Marshal(map[string]any{"enabled": true, "configMode": "organization", "clientId": clientID,
			"tenant": tenant, "authBaseUrl": authBaseURL, "hostedDomain": hostedDomain})
		if err != nil {
			t.Skip()
		}
		rec := fw.send("PUT", integrationPath(fuzzOrg, provider(p)), "", fw.admin, b, http.Header{"If-Match": {"*"}})
		checkAPI(t, rec, plantedIn(b))
	})
}

// validHeaderValue: a value an HTTP/1.1 request can carry (RFC 9110 5.5:
// visible characters, spaces and tabs, obs-text).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
