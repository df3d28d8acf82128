package localserver

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/config"
)

func TestEvaluate(t *testing.T) {
	tmpl, err := ParseTemplate([]byte(`
Parameters:
  S: {Type: String, Default: ""}
  L: {Type: CommaDelimitedList, Default: "a,b"}
  N: {Type: String}
Conditions:
  HasS: !Not [!Equals [!Ref S, ""]]
  Both: !And [!Condition HasS, !Equals [x, x]]
  Either: !Or [!Condition HasS, !Equals [!Join ["-", !Ref L], "a-b"]]
Resources:
  R: {Type: X}
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		in     any
		params map[string]string
		want   any
		err    bool
	}{
		{"default", map[string]any{"Ref": "S"}, nil, "", false},
		{"override", map[string]any{"Ref": "S"}, map[string]string{"S": "v"}, "v", false},
		{"list parameter", map[string]any{"Ref": "L"}, nil, []any{"a", "b"}, false},
		{"split", map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": "S"}}}, map[string]string{"S": "x,y"}, []any{"x", "y"}, false},
		{"select", map[string]any{"Fn::Select": []any{1, map[string]any{"Ref": "L"}}}, nil, "b", false},
		{"sub", map[string]any{"Fn::Sub": "${S}-${AWS::Region}-${!Literal}"}, map[string]string{"S": "v"}, "v-us-east-1-${Literal}", false},
		{"if false drops the property", map[string]any{"k": map[string]any{"Fn::If": []any{"HasS", 1, map[string]any{"Ref": "AWS::NoValue"}}}}, nil, map[string]any{}, false},
		{"if true", map[string]any{"Fn::If": []any{"HasS", map[string]any{"Ref": "S"}, "no"}}, map[string]string{"S": "v"}, "v", false},
		{"and", map[string]any{"Fn::If": []any{"Both", "yes", "no"}}, map[string]string{"S": "v"}, "yes", false},
		{"or", map[string]any{"Fn::If": []any{"Either", "yes", "no"}}, nil, "yes", false},
		{"NoValue in a list", []any{"a", map[string]any{"Ref": "AWS::NoValue"}}, nil, []any{"a"}, false},
		{"NoValue itself", map[string]any{"Ref": "AWS::NoValue"}, nil, nil, false},
		{"no default, no value", map[string]any{"Ref": "N"}, nil, nil, true},
		{"a resource", map[string]any{"Ref": "R"}, nil, nil, true},
		{"GetAtt", map[string]any{"Fn::GetAtt": []any{"R", "Arn"}}, nil, nil, true},
		{"unknown condition", map[string]any{"Fn::If": []any{"Nope", 1, 2}}, nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := tmpl.Evaluate(c.in, c.params)
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if !c.err && !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %#v, want %#v", got, c.want)
			}
		})
	}
	if err := tmpl.CheckParameter("Nope", "x"); err == nil {
		t.Error("CheckParameter accepted an unknown parameter")
	}
}

// corsFixture is the test template's API with CorsOrigins set.
func corsFixture(t *testing.T, origins string) *fixture {
	return newFixture(t, func(o *Options) {
		if origins != "" {
			o.Parameters = map[string]string{"CorsOrigins": origins}
		}
	})
}

// TestCORS: with the HttpApi's CorsConfiguration on, the local API does
// what API Gateway does: it answers preflights itself (no authorizer, no
// function), adds the CORS headers to every answer for an allowed origin
// (the authorizer's 401 and the 404 of an unknown route included), and
// drops CORS headers a function sets. Off, it does none of it.
func TestCORS(t *testing.T) {
	const app = "https://app.example.com"
	path := "/v1/orgs/o1/things/t1"
	preflight := http.Header{"Origin": {app}, "Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"authorization,if-match"}}

	t.Run("off", func(t *testing.T) {
		fx := corsFixture(t, "")
		if fx.srv.CORS() != nil {
			t.Fatalf("CORS on without origins: %+v", fx.srv.CORS())
		}
		resp, _ := do(t, "OPTIONS", fx.api.URL+path, preflight, nil)
		if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight with CORS off: %d %v", resp.StatusCode, resp.Header)
		}
		resp, _ = do(t, "GET", fx.api.URL+path, http.Header{"Origin": {app}, "Authorization": {"Bearer " + mint(t, Claims{User: "u1", Org: "o1"})}}, nil)
		if resp.StatusCode != 200 || corsHeaders(resp.Header) != nil {
			t.Fatalf("GET with CORS off: %d %v", resp.StatusCode, corsHeaders(resp.Header))
		}
	})

	fx := corsFixture(t, app+",http://localhost:5173")
	// The function tries to answer CORS itself: API Gateway ignores that.
	fx.echo.respond = func(context.Context, []byte) ([]byte, error) {
		return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200,
			Headers: map[string]string{"Content-Type": "application/json", "ETag": `"3"`, "Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": "1"},
			Body:    `{"ok":true}`})
	}
	token := "Bearer " + mint(t, Claims{User: "u1", Org: "o1"})

	t.Run("preflight of an allowed origin", func(t *testing.T) {
		resp, body := do(t, "OPTIONS", fx.api.URL+path, preflight, nil)
		want := http.Header{
			"Access-Control-Allow-Origin":  {app},
			"Access-Control-Allow-Methods": {"GET,PUT"},
			"Access-Control-Allow-Headers": {"Authorization,If-Match"},
			"Access-Control-Max-Age":       {"300"},
		}
		if resp.StatusCode != 204 || len(body) != 0 || !reflect.DeepEqual(corsHeaders(resp.Header), want) {
			t.Fatalf("preflight: %d %q %v, want 204 %v", resp.StatusCode, body, corsHeaders(resp.Header), want)
		}
		if resp.Header.Get("Apigw-Requestid") == "" || !slices.Contains(resp.Header.Values("Vary"), "Origin") {
			t.Errorf("preflight headers %v", resp.Header)
		}
		if n := fx.echo.count(); n != 0 {
			t.Fatalf("a preflight invoked the function %d times", n)
		}
	})
	t.Run("preflight of another origin", func(t *testing.T) {
		h := preflight.Clone()
		h.Set("Origin", "https://evil.example")
		resp, _ := do(t, "OPTIONS", fx.api.URL+path, h, nil)
		if resp.StatusCode != 204 || corsHeaders(resp.Header) != nil {
			t.Fatalf("preflight of a foreign origin: %d %v", resp.StatusCode, corsHeaders(resp.Header))
		}
	})
	t.Run("OPTIONS that is no preflight is routed", func(t *testing.T) {
		resp, _ := do(t, "OPTIONS", fx.api.URL+path, http.Header{"Origin": {app}}, nil)
		if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") != app {
			t.Fatalf("plain OPTIONS: %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("answers to an allowed origin", func(t *testing.T) {
		resp, body := do(t, "GET", fx.api.URL+path, http.Header{"Origin": {"http://localhost:5173"}, "Authorization": {token}}, nil)
		want := http.Header{"Access-Control-Allow-Origin": {"http://localhost:5173"}, "Access-Control-Expose-Headers": {"ETag,X-Request-Id"}}
		if resp.StatusCode != 200 || string(body) != `{"ok":true}` || !reflect.DeepEqual(corsHeaders(resp.Header), want) {
			t.Fatalf("GET: %d %s %v, want %v", resp.StatusCode, body, corsHeaders(resp.Header), want)
		}
		if resp.Header.Get("ETag") != `"3"` {
			t.Errorf("the function's own headers must pass: %v", resp.Header)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(fx.echo.last(t), &ev); err != nil || ev.Headers["origin"] != "http://localhost:5173" {
			t.Errorf("the function sees the request's Origin: %v %v", ev.Headers, err)
		}
		// The authorizer's 401 and an unknown route's 404 carry them too,
		// so the browser can read the error.
		for _, c := range []struct {
			path, auth string
			status     int
		}{{path, "", 401}, {"/nowhere", token, 404}} {
			resp, _ := do(t, "GET", fx.api.URL+c.path, http.Header{"Origin": {app}, "Authorization": {c.auth}}, nil)
			if resp.StatusCode != c.status || resp.Header.Get("Access-Control-Allow-Origin") != app {
				t.Errorf("GET %s: %d %v", c.path, resp.StatusCode, corsHeaders(resp.Header))
			}
		}
	})
	t.Run("answers to another origin or without one", func(t *testing.T) {
		for _, origin := range []string{"https://evil.example", ""} {
			h := http.Header{"Authorization": {token}}
			if origin != "" {
				h.Set("Origin", origin)
			}
			resp, _ := do(t, "GET", fx.api.URL+path, h, nil)
			if resp.StatusCode != 200 || corsHeaders(resp.Header) != nil {
				t.Errorf("origin %q: %d %v (the function's CORS headers must be dropped too)", origin, resp.StatusCode, corsHeaders(resp.Header))
			}
		}
	})
	t.Run("a value the parameter's pattern refuses", func(t *testing.T) {
		_, err := New(Options{Template: "testdata/template.yaml", JWTSecret: testSecret,
			Handlers:   map[string]lambda.Handler{"EchoFunction": fx.echo, "SlowFunction": fx.slow, "TickFunction": fx.tick},
			Parameters: map[string]string{"CorsOrigins": app + ", http://localhost:5173"}})
		if err == nil || !strings.Contains(err.Error(), "CorsOrigins") {
			t.Fatalf("New = %v, want the pattern's refusal", err)
		}
	})
}

// corsHeaders are the Access-Control-* headers of an answer (nil: none).
func corsHeaders(h http.Header) http.Header {
	var out http.Header
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			if out == nil {
				out = http.Header{}
			}
			out[k] = v
		}
	}
	return out
}

// TestServiceTemplateCORS: the real template's CorsConfiguration is off by
// default and, with CorsAllowedOrigins set, allows exactly the methods of
// its routes, the headers the API reads, and exposes the headers the UI
// needs. LOCAL_CORS_ORIGINS is make run's value of that parameter.
func TestServiceTemplateCORS(t *testing.T) {
	tmpl, err := LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := tmpl.HttpAPICORS("HttpApi", nil); err != nil || c != nil {
		t.Fatalf("default: %+v %v, want CORS off", c, err)
	}
	origins := "https://app.example.com,http://localhost:5173"
	if err := tmpl.CheckParameter("CorsAllowedOrigins", origins); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"https://a.example, https://b.example", "https://a.example/path", "app.example.com", "https://a.example,"} {
		if err := tmpl.CheckParameter("CorsAllowedOrigins", bad); err == nil {
			t.Errorf("CorsAllowedOrigins accepts %q", bad)
		}
	}
	c, err := tmpl.HttpAPICORS("HttpApi", map[string]string{"CorsAllowedOrigins": origins})
	if err != nil || c == nil {
		t.Fatalf("with origins: %+v %v", c, err)
	}
	var methods []string
	for _, id := range tmpl.FunctionIDs() {
		for _, r := range tmpl.Functions[id].Routes {
			if !slices.Contains(methods, r.Method) {
				methods = append(methods, r.Method)
			}
		}
	}
	slices.Sort(methods)
	got := slices.Sorted(slices.Values(c.AllowMethods))
	if !slices.Equal(got, methods) {
		t.Errorf("AllowMethods %v, the routes use %v", got, methods)
	}
	if want := []string{"https://app.example.com", "http://localhost:5173"}; !slices.Equal(c.AllowOrigins, want) {
		t.Errorf("AllowOrigins %v, want %v", c.AllowOrigins, want)
	}
	if want := []string{"Authorization", "Content-Type", "If-Match", "If-None-Match"}; !slices.Equal(c.AllowHeaders, want) {
		t.Errorf("AllowHeaders %v, want %v", c.AllowHeaders, want)
	}
	if want := []string{"ETag", "X-Request-Id", "Location"}; !slices.Equal(c.ExposeHeaders, want) {
		t.Errorf("ExposeHeaders %v, want %v", c.ExposeHeaders, want)
	}
	if c.MaxAge <= 0 || c.AllowCredentials {
		t.Errorf("MaxAge %d AllowCredentials %v", c.MaxAge, c.AllowCredentials)
	}

	declared := map[string]config.Var{}
	for _, v := range config.Vars {
		declared[v.Name] = v
	}
	for env, param := range LocalParameters {
		if v, ok := declared[env]; !ok || !v.LocalOnly {
			t.Errorf("%s is not declared LocalOnly in config.Vars", env)
		}
		if _, ok := tmpl.Parameters[param]; !ok {
			t.Errorf("%s stands in for %s, which the template does not declare", env, param)
		}
	}
	got2 := ParametersFromEnv(func(n string) string {
		if n == "LOCAL_CORS_ORIGINS" {
			return " " + origins + " "
		}
		return ""
	})
	if !reflect.DeepEqual(got2, map[string]string{"CorsAllowedOrigins": origins}) {
		t.Errorf("ParametersFromEnv = %v", got2)
	}
}
