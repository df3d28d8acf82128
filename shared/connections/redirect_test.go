package connections

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

func TestRedirectURI(t *testing.T) {
	api := &API{PublicBaseURL: "https://api.example.com"}
	r := httptest.NewRequest("POST", "/v1/orgs/o/connections/salesforce", nil)
	if got, err := api.RedirectURI(r); err != nil || got != "https://api.example.com/oauth/callback" {
		t.Fatalf("with PUBLIC_BASE_URL: %q %v", got, err)
	}
	api.PublicBaseURL = ""
	if _, err := api.RedirectURI(r); err == nil {
		t.Fatal("a redirect URI without a base URL or API Gateway domain")
	}
	ev := events.APIGatewayV2HTTPRequest{RawPath: "/v1/orgs/o/connections/salesforce", RequestContext: events.APIGatewayV2HTTPRequestContext{
		DomainName: "abc123.execute-api.eu-west-1.amazonaws.com", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"},
	}}
	gw, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := api.RedirectURI(gw); err != nil || got != "https://abc123.execute-api.eu-west-1.amazonaws.com/oauth/callback" {
		t.Fatalf("from the API Gateway domain: %q %v", got, err)
	}
}
