package localserver

import (
	"reflect"
	"testing"
	"time"
)

func TestParseTemplateShortForms(t *testing.T) {
	src := `
Parameters:
  P: {Type: String, Default: v}
Resources:
  R:
    Type: X
    Properties:
      Ref: !Ref P
      Sub: !Sub "a-${P}"
      SubList: !Sub ["${x}", {x: !Ref P}]
      GetAtt: !GetAtt Table.Arn
      GetAttList: !GetAtt [Table, StreamArn]
      Join: !Join [",", [a, b]]
      Num: 5
      Bool: true
      Quoted: "5"
`
	tmpl, err := ParseTemplate([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := tmpl.Resources["R"].Properties
	want := map[string]any{
		"Ref":        map[string]any{"Ref": "P"},
		"Sub":        map[string]any{"Fn::Sub": "a-${P}"},
		"SubList":    map[string]any{"Fn::Sub": []any{"${x}", map[string]any{"x": map[string]any{"Ref": "P"}}}},
		"GetAtt":     map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}},
		"GetAttList": map[string]any{"Fn::GetAtt": []any{"Table", "StreamArn"}},
		"Join":       map[string]any{"Fn::Join": []any{",", []any{"a", "b"}}},
		"Num":        5,
		"Bool":       true,
		"Quoted":     "5",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("properties\n got %#v\nwant %#v", got, want)
	}
	if s, err := tmpl.ResolveString(got["Sub"]); err != nil || s != "a-v" {
		t.Errorf("resolve Sub = %q, %v", s, err)
	}
}

func TestParseTestTemplate(t *testing.T) {
	tmpl, err := LoadTemplate("testdata/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ids := tmpl.FunctionIDs(); !reflect.DeepEqual(ids, []string{"EchoFunction", "SlowFunction", "TickFunction"}) {
		t.Fatalf("functions %v", ids)
	}
	echo := tmpl.Functions["EchoFunction"]
	var keys []string
	auth := map[string]string{}
	for _, r := range echo.Routes {
		keys = append(keys, r.Key())
		auth[r.Key()] = r.Authorizer
	}
	if want := []string{"ANY /files/{proxy+}", "GET /v1/orgs/{orgId}/things/{thing}", "GET /public", "PUT /v1/orgs/{orgId}/things/{thing}"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("routes %v, want %v (sorted by event name)", keys, want)
	}
	if auth["GET /public"] != "" || auth["PUT /v1/orgs/{orgId}/things/{thing}"] != "Jwt" {
		t.Errorf("authorizers %v", auth)
	}
	if echo.Timeout != 5*time.Second || tmpl.Functions["SlowFunction"].Timeout != time.Second {
		t.Errorf("timeouts %v %v", echo.Timeout, tmpl.Functions["SlowFunction"].Timeout)
	}
	if echo.BuildMethod != "makefile" || echo.Handler != "bootstrap" || echo.Runtime != "provided.al2023" {
		t.Errorf("function basics %+v", echo)
	}
	env := echo.Environment()
	if len(env) != 3 || env["C"] != "c" || !reflect.DeepEqual(env["A"], map[string]any{"Ref": "Env"}) {
		t.Errorf("environment with globals merged: %v", env)
	}
	if s, _ := tmpl.ResolveString(env["B"]); s != "x-test-us-east-1" {
		t.Errorf("resolved B = %q", s)
	}
	sc := tmpl.Functions["TickFunction"].Schedules
	if len(sc) != 1 || sc[0].Every != time.Minute || sc[0].Expression != "rate(1 minute)" || !sc[0].Enabled {
		t.Errorf("schedule %+v", sc)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	cases := map[string]string{
		"not yaml":     "a: [",
		"no resources": "Parameters: {}",
		"implicit api": `
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {Method: GET, Path: /x}}`,
		"unknown authorizer": `
Resources:
  Api: {Type: AWS::Serverless::HttpApi, Properties: {Auth: {Authorizers: {J: {JwtConfiguration: {issuer: x}}}}}}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: /x, Auth: {Authorizer: Other}}}`,
		"bad rate": `
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Schedule, Properties: {Schedule: "rate(5 minute)"}}`,
		"schedule parameter without default": `
Parameters:
  R: {Type: String}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: Schedule, Properties: {Schedule: !Ref R}}`,
	}
	for name, src := range cases {
		if _, err := ParseTemplate([]byte(src)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseRate(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"rate(5 minutes)", 5 * time.Minute, true},
		{"rate(1 minute)", time.Minute, true},
		{"rate(2 hours)", 2 * time.Hour, true},
		{"rate(1 day)", 24 * time.Hour, true},
		{"rate(1 minutes)", 0, false},
		{"rate(5 minute)", 0, false},
		{"rate(0 minutes)", 0, false},
		{"rate(5 seconds)", 0, false},
		{"cron(0 * * * ? *)", 0, false},
	}
	for _, c := range cases {
		got, err := ParseRate(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseRate(%q) = %v, %v", c.in, got, err)
		}
	}
}

// The real template: what make run serves.
func TestServiceTemplate(t *testing.T) {
	tmpl, err := LoadTemplate("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AdminFunction", "DiagnosticsFunction", "EventsFunction", "OAuthFunction", "RefreshFunction"}
	if !reflect.DeepEqual(tmpl.FunctionIDs(), want) {
		t.Fatalf("functions %v", tmpl.FunctionIDs())
	}
	for _, id := range want {
		for _, r := range tmpl.Functions[id].Routes {
			public := r.Key() == "GET /oauth/callback"
			if (r.Authorizer == "") != public {
				t.Errorf("%s %s: authorizer %q", id, r.Key(), r.Authorizer)
			}
		}
	}
	sc := tmpl.Functions["RefreshFunction"].Schedules
	if len(sc) != 1 || sc[0].Every != 5*time.Minute {
		t.Errorf("refresh schedule %+v", sc)
	}
	st := tmpl.Functions["EventsFunction"].Streams
	if len(st) != 1 || st[0].Source != "Table" || st[0].BatchSize != 100 || !st[0].PartialBatch || len(st[0].Filters) != 2 {
		t.Errorf("events stream mapping %+v", st)
	}
}
