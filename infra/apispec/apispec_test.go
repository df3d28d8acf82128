package apispec

import (
	"net/http"
	"strings"
	"testing"
)

func TestEveryComponentSchemaCompiles(t *testing.T) {
	s := Repo(t)
	comps, _ := s.doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	if len(schemas) == 0 {
		t.Fatal("no component schemas")
	}
	for name := range schemas {
		if _, err := s.Schema("#/components/schemas/" + name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestExamplesValidate(t *testing.T) {
	s := Repo(t)
	ex := s.lookup("#/paths/" + escape("/v1/orgs/{orgId}/integrations/{provider}") + "/put/requestBody/content/application~1json/examples/organization/value")
	if ex == nil {
		t.Fatal("example not found")
	}
	sc, err := s.Schema("#/components/schemas/IntegrationInput")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(ex); err != nil {
		t.Fatalf("the document's own example does not validate: %v", err)
	}
}

func TestValidateResponse(t *testing.T) {
	s := Repo(t)
	js := http.Header{"Content-Type": {"application/json"}}
	const path = "/v1/orgs/{orgId}/integrations/{provider}"
	good := `{"provider":"microsoft365","displayName":"Microsoft 365","configured":true,"enabled":true,"configMode":"default",
		"capabilities":["email"],"allowWriteActions":false,"rollout":{"mode":"everyone"},"supportContact":null,"userGuidance":"","testAccount":null,"clientSecretConfigured":false,"clientHealth":{"status":"ok"},
		"status":"ready","missing":[],"available":true,"defaultClientAvailable":true,"version":3}`
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		errHas string // "" when valid
	}{
		{"valid", 200, js, good, ""},
		{"valid with ETag", 200, http.Header{"Content-Type": {"application/json"}, "Etag": {`"3"`}}, good, ""},
		{"bad ETag", 200, http.Header{"Content-Type": {"application/json"}, "Etag": {`W/"3"`}}, good, "header ETag"},
		{"a secret would be refused", 200, js, strings.Replace(good, `"version":3`, `"version":3,"clientSecret":"x"`, 1), "does not match"},
		{"wrong status", 204, js, "", "not declared"},
		{"wrong media type", 200, http.Header{"Content-Type": {"text/plain"}}, "hi", "media type"},
		{"problem", 404, http.Header{"Content-Type": {"application/problem+json"}}, `{"type":"urn:problem:unknown_provider","title":"Not Found","status":404,"code":"unknown_provider"}`, ""},
		{"problem without code", 404, http.Header{"Content-Type": {"application/problem+json"}}, `{"type":"x","title":"Not Found","status":404}`, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.ValidateResponse("GET", path, tt.status, tt.header, []byte(tt.body))
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want one containing %q", err, tt.errHas)
			}
		})
	}
}

func TestRoutePath(t *testing.T) {
	s := Repo(t)
	if got := s.RoutePath("PUT", "/v1/orgs/o1/integrations/microsoft365/client-secret"); got != "/v1/orgs/{orgId}/integrations/{provider}/client-secret" {
		t.Fatalf("RoutePath = %q", got)
	}
	if got := s.RoutePath("GET", "/v1/orgs/o1/nothing"); got != "" {
		t.Fatalf("RoutePath = %q", got)
	}
}
