package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/problem"
)

func v2Event(method, path, body string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, Body: body,
		Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-" + path, DomainName: "api.example.test",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

func testRoutes() []Route {
	echo := func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.PrincipalFrom(r.Context())
		WriteJSON(w, http.StatusOK, map[string]any{"user": p.UserID, "org": r.PathValue("orgId"), "admin": p.IsAdmin(), "groups": p.Groups})
	}
	return []Route{
		{Method: "GET", Path: "/v1/orgs/{orgId}/things", Handler: echo},
		{Method: "PUT", Path: "/v1/orgs/{orgId}/things", Handler: func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Name string `json:"name"`
			}
			if p := DecodeJSON(r, &body, false); p != nil {
				problem.Write(w, r, p)
				return
			}
			WriteJSON(w, http.StatusOK, body)
		}},
		{Method: "GET", Path: "/public", Handler: echo, Public: true},
		{Method: "GET", Path: "/boom", Handler: func(http.ResponseWriter, *http.Request) { panic("secret detail") }, Public: true},
	}
}

func invoke(t *testing.T, h interface {
	Invoke(context.Context, []byte) ([]byte, error)
}, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, _ := json.Marshal(ev)
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response is not a v2 response: %v", err)
	}
	return resp
}

func TestLambdaHandlerRouting(t *testing.T) {
	h := LambdaHandler(NewRouter(testRoutes(), auth.DefaultClaimNames()))
	member := map[string]string{"sub": "u1", "org_id": "o1", "roles": "[member]", "groups": "[pilot sales]"}
	// API Gateway passes the Authorization header on: list claims are read
	// from the token there, not from the flattened "[pilot sales]".
	withToken := func(ev events.APIGatewayV2HTTPRequest, payload string) events.APIGatewayV2HTTPRequest {
		ev.Headers["authorization"] = "Bearer e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".sig"
		return ev
	}
	tests := []struct {
		name       string
		ev         events.APIGatewayV2HTTPRequest
		status     int
		code       string
		bodyHas    string
		bodyHasNot string
	}{
		{"authorized", withToken(v2Event("GET", "/v1/orgs/o1/things", "", member), `{"sub":"u1","org_id":"o1","roles":["member"],"groups":["pilot","sales"]}`), 200, "", `"groups":["pilot","sales"]`, ""},
		{"flattened list claims without a token are ambiguous", v2Event("GET", "/v1/orgs/o1/things", "", member), 200, "", `"groups":null`, ""},
		{"token for another user", withToken(v2Event("GET", "/v1/orgs/o1/things", "", member), `{"sub":"u2","org_id":"o1"}`), 401, problem.CodeUnauthorized, "", ""},
		{"header that is not a JWT", withToken(v2Event("GET", "/v1/orgs/o1/things", "", member), `not json`), 401, problem.CodeUnauthorized, "", ""},
		{"no claims", v2Event("GET", "/v1/orgs/o1/things", "", nil), 401, problem.CodeUnauthorized, "", ""},
		{"claims without org", v2Event("GET", "/v1/orgs/o1/things", "", map[string]string{"sub": "u1"}), 401, problem.CodeUnauthorized, "", ""},
		{"public route needs no claims", v2Event("GET", "/public", "", nil), 200, "", `"user":""`, ""},
		{"unknown path", v2Event("GET", "/nope", "", member), 404, problem.CodeNotFound, "", ""},
		{"wrong method", v2Event("DELETE", "/v1/orgs/o1/things", "", member), 405, problem.CodeMethodNotAllowed, "", ""},
		{"panic is a 500 without detail", v2Event("GET", "/boom", "", nil), 500, problem.CodeInternal, "", "secret detail"},
		{"strict body: unknown field", v2Event("PUT", "/v1/orgs/o1/things", `{"name":"a","extra":1}`, member), 400, problem.CodeValidation, `"field":"extra"`, ""},
		{"strict body: two objects", v2Event("PUT", "/v1/orgs/o1/things", `{"name":"a"}{"name":"b"}`, member), 400, problem.CodeMalformedBody, "", ""},
		{"strict body: wrong type", v2Event("PUT", "/v1/orgs/o1/things", `{"name":5}`, member), 400, problem.CodeValidation, `"field":"name"`, ""},
		{"strict body: not json", v2Event("PUT", "/v1/orgs/o1/things", `{"name":`, member), 400, problem.CodeMalformedBody, "", ""},
		{"strict body: empty", v2Event("PUT", "/v1/orgs/o1/things", ``, member), 400, problem.CodeMalformedBody, "", ""},
		{"body too large", v2Event("PUT", "/v1/orgs/o1/things", `{"name":"`+strings.Repeat("a", MaxBodyBytes)+`"}`, member), 413, problem.CodeBodyTooLarge, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := invoke(t, h, tc.ev)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if resp.Headers["X-Request-Id"] != tc.ev.RequestContext.RequestID {
				t.Errorf("request id header %q, want the gateway's %q", resp.Headers["X-Request-Id"], tc.ev.RequestContext.RequestID)
			}
			if tc.code != "" {
				if ct := resp.Headers["Content-Type"]; ct != problem.ContentType {
					t.Errorf("content type %q, want %s", ct, problem.ContentType)
				}
				var p problem.Problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Code != tc.code || p.Status != tc.status {
					t.Errorf("problem %+v (%v), want code %s", p, err, tc.code)
				}
			}
			if tc.bodyHas != "" && !strings.Contains(resp.Body, tc.bodyHas) {
				t.Errorf("body %s lacks %s", resp.Body, tc.bodyHas)
			}
			if tc.bodyHasNot != "" && strings.Contains(resp.Body, tc.bodyHasNot) {
				t.Errorf("body %s leaks %s", resp.Body, tc.bodyHasNot)
			}
		})
	}
}

func TestWrongMethodSaysAllow(t *testing.T) {
	h := LambdaHandler(NewRouter(testRoutes(), auth.DefaultClaimNames()))
	resp := invoke(t, h, v2Event("POST", "/v1/orgs/o1/things", "", map[string]string{"sub": "u", "org_id": "o"}))
	if resp.StatusCode != 405 || resp.Headers["Allow"] != "GET, PUT" {
		t.Fatalf("status %d Allow %q, want 405 with GET, PUT", resp.StatusCode, resp.Headers["Allow"])
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	h := LambdaHandler(NewRouter(testRoutes(), auth.DefaultClaimNames()))
	ev := v2Event("PUT", "/v1/orgs/o1/things", `name=a`, map[string]string{"sub": "u", "org_id": "o1"})
	ev.Headers["content-type"] = "application/x-www-form-urlencoded"
	if resp := invoke(t, h, ev); resp.StatusCode != 415 {
		t.Fatalf("status %d, want 415", resp.StatusCode)
	}
}

// Concurrent invocations of one handler must not see each other's
// responses (lambda.NewHandler's pooled output buffer would).
func TestConcurrentInvocationsKeepTheirOwnResponses(t *testing.T) {
	h := LambdaHandler(NewRouter(testRoutes(), auth.DefaultClaimNames()))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			org := fmt.Sprintf("org-%d", i)
			payload, _ := json.Marshal(v2Event("GET", "/v1/orgs/"+org+"/things", "", map[string]string{"sub": "u", "org_id": org}))
			for range 20 {
				out, err := h.Invoke(context.Background(), payload)
				if err != nil {
					errs <- err
					return
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(out, &resp); err != nil || !strings.Contains(resp.Body, `"org":"`+org+`"`) {
					errs <- fmt.Errorf("invocation for %s got %q (%v)", org, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestDecodeEventErrorIsNotAPanic(t *testing.T) {
	h := LambdaHandler(NewRouter(testRoutes(), auth.DefaultClaimNames()))
	if _, err := h.Invoke(context.Background(), []byte(`[1,2`)); err == nil {
		t.Fatal("a payload that is not an event must be an error")
	}
}
