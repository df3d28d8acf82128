// Package smoke checks a deployed stack end to end with an admin's real
// token, the way an operator would by hand after a deployment (make smoke,
// README "Deploy"): it lists the providers, reads the org's integrations,
// starts a connection without completing it, invokes RefreshFunction once
// and fetches one diagnostics report, printing what it saw. It is a client
// of the public API and the Lambda Invoke API only: it links none of the
// service's packages, so what it checks is what a deployment serves.
//
// Nothing secret is printed: the token only travels in the Authorization
// header, and of the authorization URL only the provider's host, the
// redirect URI and the PKCE method are shown (never the state).
package smoke

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config is what a smoke run needs; FromEnv reads it.
type Config struct {
	// API is the API's base URL (SMOKE_API): the ApiUrl output, or the
	// custom domain with its API mapping key.
	API string
	// Token is an org admin's bearer token (SMOKE_TOKEN).
	Token string
	// Org is that admin's organization (SMOKE_ORG).
	Org string
	// RefreshFunction is RefreshFunction's name or ARN
	// (SMOKE_REFRESH_FUNCTION).
	RefreshFunction string
	// InvokeEndpoint is a Lambda endpoint URL, e.g. the local Invoke API
	// (SMOKE_INVOKE_ENDPOINT); empty uses the region's.
	InvokeEndpoint string
	// ReturnTo is the returnTo of the connection it starts (SMOKE_RETURN_TO):
	// a URL under the deployment's AllowedReturnUrls. Default: the API's
	// own base URL with a slash, which make run allows.
	ReturnTo string
}

// FromEnv reads the configuration; every variable but SMOKE_INVOKE_ENDPOINT
// is required.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		API:             strings.TrimRight(strings.TrimSpace(getenv("SMOKE_API")), "/"),
		Token:           strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(getenv("SMOKE_TOKEN")), "Bearer ")),
		Org:             strings.TrimSpace(getenv("SMOKE_ORG")),
		RefreshFunction: strings.TrimSpace(getenv("SMOKE_REFRESH_FUNCTION")),
		InvokeEndpoint:  strings.TrimSpace(getenv("SMOKE_INVOKE_ENDPOINT")),
		ReturnTo:        strings.TrimSpace(getenv("SMOKE_RETURN_TO")),
	}
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"SMOKE_API", c.API}, {"SMOKE_TOKEN", c.Token}, {"SMOKE_ORG", c.Org}, {"SMOKE_REFRESH_FUNCTION", c.RefreshFunction},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("smoke: set %s", strings.Join(missing, ", "))
	}
	if u, err := url.Parse(c.API); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return c, fmt.Errorf("smoke: SMOKE_API %q is not an http(s) URL", c.API)
	}
	if c.InvokeEndpoint != "" {
		if u, err := url.Parse(c.InvokeEndpoint); err != nil || u.Host == "" {
			return c, fmt.Errorf("smoke: SMOKE_INVOKE_ENDPOINT %q is not a URL", c.InvokeEndpoint)
		}
	}
	return c, nil
}

// Invoker runs a Lambda function once and returns its result payload; a
// function error is an error.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Outcome of one step.
const (
	OK   = "ok"
	Skip = "skip" // not a failure: what the step needs is not there (say why)
	Fail = "FAIL"
)

// Step is what one step saw.
type Step struct {
	Name    string
	Outcome string
	Detail  string
}

// Runner runs the steps.
type Runner struct {
	Config Config
	// HTTP sends the API requests (default: a client with a 30 s timeout).
	HTTP *http.Client
	// Lambda invokes RefreshFunction.
	Lambda Invoker
	// Out receives one line per step as it ends, and a summary.
	Out io.Writer
}

// ErrFailed: at least one step failed.
var ErrFailed = errors.New("smoke test failed")

// Run runs every step, even after a failure (each says what it saw), and
// returns ErrFailed if any failed. A step is skipped, not failed, only when
// the org has nothing it can exercise (no integration a connection can be
// started for): a new deployment has none until an admin enables one.
func (r *Runner) Run(ctx context.Context) ([]Step, error) {
	if r.HTTP == nil {
		r.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	fmt.Fprintf(r.Out, "smoke: API %s, org %s, refresh function %s\n", r.Config.API, r.Config.Org, r.Config.RefreshFunction)
	var steps []Step
	record := func(s Step) {
		steps = append(steps, s)
		fmt.Fprintf(r.Out, "[%s] %s: %s\n", s.Outcome, s.Name, s.Detail)
	}

	providers, s := r.providers(ctx)
	record(s)
	cards, s := r.integrations(ctx)
	record(s)
	target := pick(providers, cards)
	record(r.startConnection(ctx, target, cards))
	record(r.refresh(ctx))
	record(r.diagnostics(ctx, target, providers))

	var failed, skipped []string
	for _, s := range steps {
		switch s.Outcome {
		case Fail:
			failed = append(failed, s.Name)
		case Skip:
			skipped = append(skipped, s.Name)
		}
	}
	fmt.Fprintf(r.Out, "smoke: %d steps, %d failed, %d skipped\n", len(steps), len(failed), len(skipped))
	if len(failed) > 0 {
		return steps, fmt.Errorf("%w: %s", ErrFailed, strings.Join(failed, "; "))
	}
	return steps, nil
}

// --- the API's answers (openapi.yaml), as much as the smoke test reads ---

type providerInfo struct {
	ID                     string `json:"id"`
	Available              bool   `json:"available"`
	DefaultClientAvailable bool   `json:"defaultClientAvailable"`
	Capabilities           []struct {
		ID string `json:"id"`
	} `json:"capabilities"`
}

type card struct {
	Provider    string `json:"provider"`
	Enabled     bool   `json:"enabled"`
	Status      string `json:"status"`
	InRollout   bool   `json:"inRollout"`
	Connectable bool   `json:"connectable"`
}

type problemBody struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// call sends one API request and decodes a 2xx JSON answer into out. The
// error says the status and, for a problem, its code and title.
func (r *Runner) call(ctx context.Context, method, path string, body any, out any) (int, *problemBody, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, r.Config.API+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+r.Config.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.HTTP.Do(req)
	if err != nil {
		// The URL error names the URL, never the header.
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var p problemBody
		if json.Unmarshal(b, &p) == nil && p.Code != "" {
			return resp.StatusCode, &p, fmt.Errorf("%s %s: %d %s (%s)", method, path, resp.StatusCode, p.Code, p.Title)
		}
		return resp.StatusCode, nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, snippet(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s: the answer is not the documented JSON: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil, nil
}

// snippet is the start of a non-problem error body (API Gateway's own
// {"message":"Unauthorized"}, say), on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func failed(name string, err error) Step { return Step{Name: name, Outcome: Fail, Detail: err.Error()} }

func (r *Runner) providers(ctx context.Context) ([]providerInfo, Step) {
	const name = "list providers (GET /v1/providers)"
	var body struct {
		Providers []providerInfo `json:"providers"`
	}
	if _, _, err := r.call(ctx, http.MethodGet, "/v1/providers", nil, &body); err != nil {
		return nil, failed(name, err)
	}
	if len(body.Providers) == 0 {
		return nil, Step{Name: name, Outcome: Fail, Detail: "the catalog is empty"}
	}
	var parts []string
	for _, p := range body.Providers {
		var notes []string
		if !p.Available {
			notes = append(notes, "not offered here")
		}
		if p.DefaultClientAvailable {
			notes = append(notes, "default client")
		} else {
			notes = append(notes, "no default client")
		}
		parts = append(parts, p.ID+" ("+strings.Join(notes, ", ")+")")
	}
	return body.Providers, Step{Name: name, Outcome: OK, Detail: strings.Join(parts, "; ")}
}

func (r *Runner) integrations(ctx context.Context) ([]card, Step) {
	name := "read the org's integrations (GET /v1/orgs/" + r.Config.Org + "/integrations)"
	var body struct {
		Integrations []card `json:"integrations"`
	}
	if _, _, err := r.call(ctx, http.MethodGet, "/v1/orgs/"+url.PathEscape(r.Config.Org)+"/integrations", nil, &body); err != nil {
		return nil, failed(name, err)
	}
	var parts []string
	for _, c := range body.Integrations {
		state := "disabled"
		if c.Enabled {
			state = "enabled, " + c.Status
			if c.Connectable {
				state += ", connectable"
			} else if !c.InRollout {
				state += ", caller not in rollout"
			}
		}
		parts = append(parts, c.Provider+" ("+state+")")
	}
	if len(parts) == 0 {
		parts = append(parts, "none")
	}
	return body.Integrations, Step{Name: name, Outcome: OK, Detail: strings.Join(parts, "; ")}
}

// target is the provider the connection and diagnostics steps use.
type target struct {
	provider    string
	connectable bool
}

// pick prefers an integration the caller can connect now, then an enabled
// one, then the first provider of the catalog.
func pick(providers []providerInfo, cards []card) target {
	for _, c := range cards {
		if c.Connectable {
			return target{provider: c.Provider, connectable: true}
		}
	}
	for _, c := range cards {
		if c.Enabled {
			return target{provider: c.Provider}
		}
	}
	if len(cards) > 0 {
		return target{provider: cards[0].Provider}
	}
	if len(providers) > 0 {
		return target{provider: providers[0].ID}
	}
	return target{}
}

// refusals are the answers of a start the org's configuration explains.
var refusals = map[string]bool{
	"provider_disabled": true, "integration_incomplete": true, "not_in_rollout": true, "provider_unavailable": true,
}

func (r *Runner) startConnection(ctx context.Context, t target, cards []card) Step {
	if t.provider == "" {
		return Step{Name: "start a connection", Outcome: Fail, Detail: "no provider to start a connection for (the provider list failed)"}
	}
	path := "/v1/orgs/" + url.PathEscape(r.Config.Org) + "/connections/" + url.PathEscape(t.provider)
	name := "start a connection, not completed (POST " + path + ")"
	var body struct {
		AuthorizationURL string `json:"authorizationUrl"`
	}
	returnTo := cmp.Or(r.Config.ReturnTo, r.Config.API+"/")
	status, prob, err := r.call(ctx, http.MethodPost, path, map[string]string{"returnTo": returnTo}, &body)
	if prob != nil && prob.Code == "validation_failed" {
		return Step{Name: name, Outcome: Fail, Detail: "returnTo " + returnTo + " refused (" + prob.Detail + "): set SMOKE_RETURN_TO to a URL under the stack's AllowedReturnUrls"}
	}
	if !t.connectable {
		// Nothing the caller can connect: the OAuth function must still
		// answer, with the refusal that says why.
		enabled := 0
		for _, c := range cards {
			if c.Enabled {
				enabled++
			}
		}
		why := "no integration is enabled for org " + r.Config.Org + ": an admin enables one in Organization Settings, Integrations"
		if enabled > 0 {
			why = "no enabled integration of org " + r.Config.Org + " can be connected by this caller now (incomplete, or not in its rollout)"
		}
		if prob != nil && refusals[prob.Code] {
			return Step{Name: name, Outcome: Skip, Detail: why + "; OAuthFunction refused " + t.provider + " with " + prob.Code + " as expected; no connection was started"}
		}
		if err == nil {
			return Step{Name: name, Outcome: Fail, Detail: fmt.Sprintf("%s: started (%d) although the integrations listing says it is not connectable", t.provider, status)}
		}
		return failed(name, err)
	}
	if err != nil {
		return failed(name, err)
	}
	u, err := url.Parse(body.AuthorizationURL)
	if err != nil || u.Host == "" {
		return Step{Name: name, Outcome: Fail, Detail: "the answer has no authorization URL"}
	}
	q := u.Query()
	var problems []string
	if q.Get("state") == "" {
		problems = append(problems, "no state")
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		problems = append(problems, "no PKCE S256 challenge")
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Host == "" || !strings.HasSuffix(redirect.Path, "/oauth/callback") {
		problems = append(problems, fmt.Sprintf("redirect_uri %q is not this API's /oauth/callback", q.Get("redirect_uri")))
	}
	if len(problems) > 0 {
		return Step{Name: name, Outcome: Fail, Detail: t.provider + ": " + strings.Join(problems, "; ")}
	}
	return Step{Name: name, Outcome: OK, Detail: fmt.Sprintf("%s: authorization at %s://%s%s, redirect_uri %s (must be registered at the provider), PKCE S256; left unfinished, its state expires unused",
		t.provider, u.Scheme, u.Host, u.Path, redirect)}
}

// refreshEvent is what the smoke test sends RefreshFunction: the function
// ignores the event's content (the due-index says what to do).
var refreshEvent = []byte(`{"source":"integrations.smoke","detail-type":"Smoke Test","detail":{}}`)

func (r *Runner) refresh(ctx context.Context) Step {
	name := "invoke " + r.Config.RefreshFunction + " once"
	// A run may take up to the function's timeout (180 s).
	ctx, cancel := context.WithTimeout(ctx, 200*time.Second)
	defer cancel()
	out, err := r.Lambda.Invoke(ctx, r.Config.RefreshFunction, refreshEvent)
	if err != nil {
		return failed(name, err)
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		return Step{Name: name, Outcome: Fail, Detail: "the result is not a refresh run's JSON: " + snippet(out)}
	}
	if _, ok := res["due"]; !ok {
		return Step{Name: name, Outcome: Fail, Detail: "the result is not a refresh run's: " + snippet(out)}
	}
	var parts []string
	for _, k := range []string{"due", "claimed", "refreshed", "needsReconnect", "transientFailures", "leftForNextRun", "errors", "durationMs"} {
		if v, ok := res[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %v", k, v))
		}
	}
	return Step{Name: name, Outcome: OK, Detail: strings.Join(parts, ", ")}
}

func (r *Runner) diagnostics(ctx context.Context, t target, providers []providerInfo) Step {
	if t.provider == "" {
		return Step{Name: "fetch a diagnostics report", Outcome: Fail, Detail: "no provider to diagnose (the provider list failed)"}
	}
	q := url.Values{}
	for _, p := range providers {
		if p.ID == t.provider && len(p.Capabilities) > 0 {
			q.Set("capability", p.Capabilities[0].ID)
		}
	}
	path := "/v1/orgs/" + url.PathEscape(r.Config.Org) + "/diagnostics/" + url.PathEscape(t.provider)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	name := "fetch a diagnostics report (GET " + path + ")"
	var report struct {
		Overall string `json:"overall"`
		Checks  []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"checks"`
	}
	if _, _, err := r.call(ctx, http.MethodGet, path, nil, &report); err != nil {
		return failed(name, err)
	}
	if report.Overall == "" || len(report.Checks) == 0 {
		return Step{Name: name, Outcome: Fail, Detail: "the report has no overall result or no checks"}
	}
	var parts []string
	for _, c := range report.Checks {
		parts = append(parts, c.ID+" "+c.Status)
	}
	// Any overall result is a working report: "blocked" explains, it is not
	// a failure of the deployment.
	return Step{Name: name, Outcome: OK, Detail: "overall " + report.Overall + ": " + strings.Join(parts, ", ")}
}
