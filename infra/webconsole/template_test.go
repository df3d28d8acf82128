package webconsole

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sofie/integrations/infra/localserver"
)

func loadTemplate(t *testing.T) *localserver.Template {
	t.Helper()
	tmpl, err := localserver.LoadTemplate(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// deployParams are a deployment's values of the parameters without a
// default, and a console client.
var deployParams = map[string]string{
	"JwtIssuer":         "https://auth.example.com/",
	"JwtAudience":       "integrations-api",
	"AllowedReturnUrls": "https://app.example.com/",
	"ConsoleClientId":   "console-client",
	"ClaimOrg":          "https://example.com/org",
}

// TestTemplateConsoleConfigSignsInWithOIDC: the config.json a deployment uploads
// (the ConsoleConfig output) signs in with the template's issuer and the
// console's client, reads the claims the functions read, and has no
// development sign-in.
func TestTemplateConsoleConfigSignsInWithOIDC(t *testing.T) {
	c, err := TemplateConfig(loadTemplate(t), deployParams)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		SignIn:     SignInOIDC,
		APIBaseURL: "https://<HttpApi>.execute-api.us-east-1.amazonaws.com",
		Issuer:     "https://auth.example.com/",
		ClientID:   "console-client",
		Claims:     ClaimNames{User: "sub", Org: "https://example.com/org", Roles: "roles", Groups: "groups"},
		AdminRole:  "org_admin",
	}
	if c != want {
		t.Errorf("deployed config.json\n got %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// TestConsoleHostingIsPrivateAndOptional holds the console's resources to
// the README's hosting: only with ConsoleClientId; a bucket nobody but the
// distribution reads (origin access control); https only; the console's
// security headers; its origin allowed by CORS and as a connection's
// return URL.
func TestConsoleHostingIsPrivateAndOptional(t *testing.T) {
	tmpl := loadTemplate(t)
	raw := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	kinds := map[string]string{
		"ConsoleBucket":              "AWS::S3::Bucket",
		"ConsoleBucketPolicy":        "AWS::S3::BucketPolicy",
		"ConsoleOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
		"ConsoleHeaders":             "AWS::CloudFront::ResponseHeadersPolicy",
		"ConsoleDistribution":        "AWS::CloudFront::Distribution",
	}
	for id, kind := range kinds {
		if r, ok := tmpl.Resources[id]; !ok || r.Type != kind {
			t.Errorf("resource %s: %+v, want a %s", id, r, kind)
		}
	}
	conditions := rawConditions(t)
	for id, r := range tmpl.Resources {
		if (strings.Contains(r.Type, "CloudFront") || strings.Contains(r.Type, "S3")) && conditions[id] != "ConsoleHosted" {
			t.Errorf("%s is created without the ConsoleHosted condition", id)
		}
	}
	for _, out := range []string{"ConsoleUrl", "ConsoleBucketName", "ConsoleDistributionId", "ConsoleConfig"} {
		if m, _ := tmpl.Outputs[out].(map[string]any); m["Condition"] != "ConsoleHosted" {
			t.Errorf("output %s: %v, want it under ConsoleHosted", out, m)
		}
	}
	if c, err := tmpl.Evaluate(map[string]any{"Condition": "ConsoleHosted"}, nil); err != nil || c != false {
		t.Errorf("ConsoleHosted without a ConsoleClientId: %v %v, want false", c, err)
	}
	if c, err := tmpl.Evaluate(map[string]any{"Condition": "ConsoleHosted"}, map[string]string{"ConsoleClientId": "x"}); err != nil || c != true {
		t.Errorf("ConsoleHosted with a ConsoleClientId: %v %v, want true", c, err)
	}

	bucket := tmpl.Resources["ConsoleBucket"].Properties
	if !reflect.DeepEqual(bucket["PublicAccessBlockConfiguration"], map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}) {
		t.Errorf("the console bucket does not block public access: %v", bucket["PublicAccessBlockConfiguration"])
	}
	policy := raw(tmpl.Resources["ConsoleBucketPolicy"].Properties)
	for _, want := range []string{`"Service":"cloudfront.amazonaws.com"`, `"Action":"s3:GetObject"`, `"AWS:SourceArn"`, "distribution/${ConsoleDistribution}", `"aws:SecureTransport":"false"`} {
		if !strings.Contains(policy, want) {
			t.Errorf("the bucket policy lacks %s: %s", want, policy)
		}
	}
	dist := raw(tmpl.Resources["ConsoleDistribution"].Properties)
	for _, want := range []string{`"OriginAccessControlId":{"Fn::GetAtt":["ConsoleOriginAccessControl","Id"]}`, `"OriginAccessIdentity":""`, `"ViewerProtocolPolicy":"redirect-to-https"`, `"DefaultRootObject":"index.html"`, `"ResponseHeadersPolicyId":{"Ref":"ConsoleHeaders"}`} {
		if !strings.Contains(dist, want) {
			t.Errorf("the distribution lacks %s: %s", want, dist)
		}
	}
	if oac := raw(tmpl.Resources["ConsoleOriginAccessControl"].Properties); !strings.Contains(oac, `"SigningBehavior":"always"`) || !strings.Contains(oac, `"OriginAccessControlOriginType":"s3"`) {
		t.Errorf("origin access control %s", oac)
	}
	headers := raw(tmpl.Resources["ConsoleHeaders"].Properties)
	for _, want := range []string{"script-src 'self';", "frame-ancestors 'none'", `"ReferrerPolicy":"no-referrer"`, "StrictTransportSecurity"} {
		if !strings.Contains(headers, want) {
			t.Errorf("the console's headers lack %s: %s", want, headers)
		}
	}

	// The console's origin: allowed by CORS and as a return URL, only when hosted.
	domain := "ConsoleDistribution.DomainName"
	cors := raw(tmpl.Resources["HttpApi"].Properties["CorsConfiguration"])
	if !strings.Contains(cors, domain) || !strings.Contains(cors, `"CorsOn"`) {
		t.Errorf("CORS does not allow the hosted console: %s", cors)
	}
	returns := raw(tmpl.Functions["OAuthFunction"].Environment()["ALLOWED_RETURN_URLS"])
	if !strings.Contains(returns, domain) || !strings.Contains(returns, `"ConsoleHosted"`) {
		t.Errorf("ALLOWED_RETURN_URLS does not allow the hosted console: %s", returns)
	}
	// Without the console, CORS is exactly what CorsAllowedOrigins says.
	c, err := tmpl.HttpAPICORS("HttpApi", nil)
	if err != nil || c != nil {
		t.Errorf("CORS with neither origins nor console: %+v %v, want off", c, err)
	}
	c, err = tmpl.HttpAPICORS("HttpApi", map[string]string{"CorsAllowedOrigins": "https://a.example"})
	if err != nil || c == nil || !reflect.DeepEqual(c.AllowOrigins, []string{"https://a.example"}) {
		t.Errorf("CORS with one origin: %+v %v", c, err)
	}
}

// rawConditions reads each resource's Condition, which the parsed template
// does not keep.
func rawConditions(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Condition string `yaml:"Condition"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for id, r := range doc.Resources {
		out[id] = r.Condition
	}
	return out
}
