package templatetest

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/store/dynamostore"
)

const root = "../.."

func loadTemplate(t *testing.T) *localserver.Template {
	t.Helper()
	tmpl, err := localserver.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// buildDeps builds the functions' dependencies on the embedded store, to
// get at the routers.
func buildDeps(t *testing.T) *app.Deps {
	t.Helper()
	vars := map[string]string{"ENVIRONMENT": "test", "STORE": "embedded", "LOCAL_DATA_DIR": t.TempDir()}
	cfg, err := config.FromEnv(func(n string) string { return vars[n] })
	if err != nil {
		t.Fatal(err)
	}
	d, err := localapp.Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestFunctionsAreBuiltFromTheirCommands(t *testing.T) {
	tmpl := loadTemplate(t)
	if got, want := tmpl.FunctionIDs(), slices.Sorted(slices.Values(config.Functions)); !slices.Equal(got, want) {
		t.Fatalf("template functions %v, config.Functions %v", got, want)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	handlers := map[string]string{
		config.AdminFunction: "adminfn.Handler", config.OAuthFunction: "oauthfn.Handler",
		config.RefreshFunction: "refreshfn.Handler", config.DiagnosticsFunction: "diagnosticsfn.Handler",
		config.EventsFunction: "eventsfn.Handler",
	}
	for _, id := range tmpl.FunctionIDs() {
		f := tmpl.Functions[id]
		props := f.Properties
		checks := map[string][2]any{
			"CodeUri":       {f.CodeURI, "."},
			"BuildMethod":   {f.BuildMethod, "makefile"},
			"Runtime":       {f.Runtime, "provided.al2023"},
			"Handler":       {f.Handler, "bootstrap"},
			"Architectures": {fmt.Sprint(props["Architectures"]), "[arm64]"},
			"Tracing":       {props["Tracing"], "Active"},
			"LogFormat":     {dig(props, "LoggingConfig", "LogFormat"), "JSON"},
		}
		for name, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s: %s = %v, want %v", id, name, c[0], c[1])
			}
		}
		// sam build runs `make build-<LogicalId>`; the target builds one
		// command under functions/.
		m := regexp.MustCompile(`(?m)^build-` + id + `:\n\t\$\(call sam_build,(\w+)\)$`).FindSubmatch(makefile)
		if m == nil {
			t.Errorf("%s: no build-%s target calling sam_build in the Makefile", id, id)
			continue
		}
		main, err := os.ReadFile(filepath.Join(root, "functions", string(m[1]), "main.go"))
		if err != nil {
			t.Errorf("%s: %v", id, err)
			continue
		}
		if !strings.Contains(string(main), "package main") || !strings.Contains(string(main), handlers[id]+"(") {
			t.Errorf("%s: functions/%s/main.go does not start %s", id, m[1], handlers[id])
		}
	}
}

func dig(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func TestRoutesMatchRouters(t *testing.T) {
	tmpl := loadTemplate(t)
	routes := localapp.Routes(buildDeps(t))
	for _, id := range tmpl.FunctionIDs() {
		inTemplate := map[string]bool{} // route key -> has authorizer
		for _, r := range tmpl.Functions[id].Routes {
			inTemplate[r.Key()] = r.Authorizer != ""
		}
		inRouter := map[string]bool{}
		for _, r := range routes[id] {
			inRouter[r.Method+" "+r.Path] = !r.Public
		}
		for k := range inTemplate {
			if _, ok := inRouter[k]; !ok {
				t.Errorf("%s: template route %s is not served by the function's router", id, k)
			}
		}
		for k, authorized := range inRouter {
			tmplAuth, ok := inTemplate[k]
			if !ok {
				t.Errorf("%s: router route %s is missing from template.yaml", id, k)
				continue
			}
			if tmplAuth != authorized {
				t.Errorf("%s: %s has the authorizer %v in the template but Public=%v in the router", id, k, tmplAuth, !authorized)
			}
		}
	}
	for id := range routes {
		if _, ok := tmpl.Functions[id]; !ok {
			t.Errorf("localapp.Routes has routes for %s, which the template does not deploy", id)
		}
	}
	// Only the provider's redirect is public.
	for _, id := range tmpl.FunctionIDs() {
		for _, r := range tmpl.Functions[id].Routes {
			if (r.Authorizer == "") != (r.Key() == "GET /oauth/callback") {
				t.Errorf("%s %s: authorizer %q", id, r.Key(), r.Authorizer)
			}
		}
	}
}

func TestAuthorizerAndSchedule(t *testing.T) {
	tmpl := loadTemplate(t)
	auths, def, err := tmpl.HttpAPIAuthorizers("HttpApi")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := auths[def]
	if !ok {
		t.Fatalf("no default authorizer")
	}
	if a.IdentitySource != "$request.header.Authorization" ||
		!reflect.DeepEqual(a.Issuer, map[string]any{"Ref": "JwtIssuer"}) ||
		!reflect.DeepEqual(a.Audience, map[string]any{"Ref": "JwtAudience"}) {
		t.Errorf("JWT authorizer %+v", a)
	}
	for _, id := range tmpl.FunctionIDs() {
		sc := tmpl.Functions[id].Schedules
		if id != config.RefreshFunction {
			if len(sc) != 0 {
				t.Errorf("%s has a schedule", id)
			}
			continue
		}
		if len(sc) != 1 || !sc[0].Enabled || sc[0].Expression != "rate(5 minutes)" {
			t.Errorf("RefreshFunction schedule %+v, want one enabled rate(5 minutes) from the RefreshSchedule parameter", sc)
		}
		ev := dig(tmpl.Functions[id].Properties, "Events", sc[0].Event, "Properties", "Schedule")
		if !reflect.DeepEqual(ev, map[string]any{"Ref": "RefreshSchedule"}) {
			t.Errorf("schedule expression %v is not the RefreshSchedule parameter", ev)
		}
	}
}

// sampleParams are deploy-time values for parameters without a default.
var sampleParams = map[string]string{
	"JwtIssuer":         "https://auth.example.com/",
	"JwtAudience":       "integrations-api",
	"AllowedReturnUrls": "https://app.example.com/",
}

// resolve evaluates a template value as a deployment would, with
// placeholders for resource references.
func resolve(t *testing.T, tmpl *localserver.Template, v any) string {
	t.Helper()
	var ref func(name string) string
	ref = func(name string) string {
		if r, ok := tmpl.Resources[name]; ok {
			return "<" + r.Type + " " + name + ">"
		}
		if s, ok := sampleParams[name]; ok {
			return s
		}
		if p, ok := tmpl.Parameters[name]; ok {
			return fmt.Sprint(p.Default)
		}
		s, err := tmpl.ResolveString(map[string]any{"Ref": name})
		if err != nil {
			t.Fatalf("resolve %s: %v", name, err)
		}
		return s
	}
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if r, ok := x["Ref"].(string); ok {
			return ref(r)
		}
		if _, ok := x["Fn::If"]; ok {
			// The branch a deployment with sampleParams takes.
			v, err := tmpl.Evaluate(x, sampleParams)
			if err != nil {
				t.Fatalf("resolve %v: %v", x, err)
			}
			return resolve(t, tmpl, v)
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			return regexp.MustCompile(`\$\{([^}]+)\}`).ReplaceAllStringFunc(s, func(m string) string {
				return ref(strings.TrimSuffix(strings.TrimPrefix(m, "${"), "}"))
			})
		}
	}
	t.Fatalf("cannot resolve %v", v)
	return ""
}

func TestEnvironmentIsWhatEachFunctionReads(t *testing.T) {
	tmpl := loadTemplate(t)
	declared := map[string]config.Var{}
	for _, v := range config.Vars {
		declared[v.Name] = v
	}
	for _, id := range tmpl.FunctionIDs() {
		env := tmpl.Functions[id].Environment()
		for _, v := range config.Vars {
			if v.LocalOnly {
				if _, set := env[v.Name]; set {
					t.Errorf("%s: the template sets %s, which is for local runs only", id, v.Name)
				}
				continue
			}
			if slices.Contains(v.Functions, id) {
				if _, set := env[v.Name]; !set {
					t.Errorf("%s reads %s but the template does not set it", id, v.Name)
				}
			}
		}
		for name := range env {
			v, ok := declared[name]
			switch {
			case !ok:
				t.Errorf("%s: the template sets %s, which no code declares in config.Vars", id, name)
			case !v.LocalOnly && !slices.Contains(v.Functions, id):
				t.Errorf("%s: the template sets %s, which this function does not read", id, name)
			}
		}
		// The values a deployment gets must be a valid configuration.
		values := map[string]string{}
		for name, v := range env {
			values[name] = resolve(t, tmpl, v)
		}
		if _, err := config.FromEnv(func(n string) string { return values[n] }); err != nil {
			t.Errorf("%s: the template's environment is not a valid configuration: %v", id, err)
		}
	}
	env := func(id, name string) any { return tmpl.Functions[id].Environment()[name] }
	if !reflect.DeepEqual(env(config.AdminFunction, "TABLE_NAME"), map[string]any{"Ref": "Table"}) {
		t.Errorf("TABLE_NAME is not the template's table")
	}
	for _, id := range []string{config.OAuthFunction, config.RefreshFunction, config.DiagnosticsFunction} {
		if !reflect.DeepEqual(env(id, "TOKEN_KEY_SECRET_ID"), map[string]any{"Ref": "TokenKeySecret"}) {
			t.Errorf("%s: TOKEN_KEY_SECRET_ID is not the template's token key secret", id)
		}
	}
}

// grant is one (action, resource) pair of a function's policies.
type grant struct{ action, resource string }

func TestPoliciesGrantExactlyWhatTheCodeCalls(t *testing.T) {
	tmpl := loadTemplate(t)
	secretsPrefix := resolveSub(t, tmpl.Globals["Function"], "Environment", "Variables", "SECRETS_PREFIX")
	secretARN := "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:" + secretsPrefix
	// The resources a function may be granted, by what they are.
	resources := map[string]string{
		key(map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}):         "table",
		key(map[string]any{"Fn::Sub": secretARN + "/orgs/*"}):            app.SecretOrgClients,
		key(map[string]any{"Fn::Sub": secretARN + "/default-clients/*"}): app.SecretDefaultClients,
		key(map[string]any{"Ref": "TokenKeySecret"}):                     app.SecretTokenKey,
	}
	for _, idx := range dynamostore.TableSpec("").GlobalSecondaryIndexes {
		resources[key(map[string]any{"Fn::Sub": "${Table.Arn}/index/" + idx.IndexName})] = "index " + idx.IndexName
	}
	resources[key(map[string]any{"Fn::Sub": "${Table.Arn}/stream/*"})] = "stream"
	resources[key(map[string]any{"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"})] = "bus"

	for _, id := range tmpl.FunctionIDs() {
		perm, ok := app.Permissions[id]
		if !ok {
			t.Errorf("%s: no app.Permissions entry", id)
			continue
		}
		want := map[grant]bool{}
		for _, a := range perm.TableActions {
			want[grant{a, "table"}] = true
		}
		for _, idx := range perm.Indexes {
			want[grant{"dynamodb:Query", "index " + idx}] = true
		}
		for scope, actions := range perm.Secrets {
			for _, a := range actions {
				want[grant{a, scope}] = true
			}
		}
		for _, a := range perm.StreamActions {
			want[grant{a, "stream"}] = true
		}
		for _, a := range perm.EventBusActions {
			want[grant{a, "bus"}] = true
		}

		got := map[grant]bool{}
		policies, _ := tmpl.Functions[id].Properties["Policies"].([]any)
		if len(policies) == 0 {
			t.Errorf("%s has no policies", id)
		}
		for _, p := range policies {
			doc, ok := p.(map[string]any)
			if !ok || doc["Statement"] == nil {
				t.Errorf("%s: policy %v is not an inline policy document (SAM policy templates grant more than the code uses)", id, p)
				continue
			}
			for _, st := range doc["Statement"].([]any) {
				s := st.(map[string]any)
				if s["Effect"] != "Allow" || s["Condition"] != nil || s["NotAction"] != nil || s["NotResource"] != nil {
					t.Errorf("%s: statement %v: only plain Allow statements are expected", id, s["Sid"])
				}
				for _, a := range list(s["Action"]) {
					for _, r := range list(s["Resource"]) {
						what, ok := resources[key(r)]
						if !ok {
							t.Errorf("%s: statement %v grants %s on %v, which is none of the service's resources", id, s["Sid"], a, r)
							continue
						}
						got[grant{a.(string), what}] = true
					}
				}
			}
		}
		for g := range got {
			if !want[g] {
				t.Errorf("%s: the template grants %s on %s, which app.Permissions does not declare", id, g.action, g.resource)
			}
		}
		for g := range want {
			if !got[g] {
				t.Errorf("%s: the code needs %s on %s (app.Permissions), which the template does not grant", id, g.action, g.resource)
			}
		}
	}

	// The rules of the design, whatever the declarations say.
	if _, ok := app.Permissions[config.AdminFunction].Secrets[app.SecretTokenKey]; ok {
		t.Error("AdminFunction must never read the token key")
	}
	for id, p := range app.Permissions {
		for _, a := range p.Secrets[app.SecretDefaultClients] {
			if a != "secretsmanager:GetSecretValue" {
				t.Errorf("%s: default clients are read-only, not %s", id, a)
			}
		}
		for _, a := range p.Secrets[app.SecretTokenKey] {
			if a != "secretsmanager:GetSecretValue" {
				t.Errorf("%s: the token key is read-only, not %s", id, a)
			}
		}
		for _, a := range p.TableActions {
			// Scan only for RefreshFunction's operator-invoked re-seal,
			// which must reach every connection (it reads nothing the
			// function's GetItem and Query on the table could not).
			if strings.Contains(a, "*") || (a == "dynamodb:Scan" && id != config.RefreshFunction) {
				t.Errorf("%s: %s is not least privilege", id, a)
			}
		}
		// Only EventsFunction reads the stream and puts events; it reads
		// no secret (the stream's images hold sealed tokens it must never
		// be able to open).
		if (len(p.StreamActions) > 0 || len(p.EventBusActions) > 0) != (id == config.EventsFunction) {
			t.Errorf("%s: stream actions %v, bus actions %v", id, p.StreamActions, p.EventBusActions)
		}
		if id == config.EventsFunction && (len(p.Secrets) > 0 || !slices.Equal(p.TableActions, []string{"dynamodb:GetItem"})) {
			t.Errorf("EventsFunction may only read items (an integration's support contact), never a secret: %+v", p)
		}
	}
}

func resolveSub(t *testing.T, v any, keys ...string) string {
	t.Helper()
	m, _ := v.(map[string]any)
	x := dig(m, keys...)
	sub, ok := x.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an Fn::Sub", keys)
	}
	s, ok := sub["Fn::Sub"].(string)
	if !ok {
		t.Fatalf("%v is not an Fn::Sub", keys)
	}
	return s
}

func key(v any) string { return fmt.Sprintf("%v", v) }

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func TestTableIsWhatTheAdapterNeeds(t *testing.T) {
	tmpl := loadTemplate(t)
	var tables []string
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::DynamoDB::Table" {
			tables = append(tables, id)
		}
	}
	if !slices.Equal(tables, []string{"Table"}) {
		t.Fatalf("tables %v, want exactly one named Table", tables)
	}
	r := tmpl.Resources["Table"]
	b, err := yaml.Marshal(r.Properties)
	if err != nil {
		t.Fatal(err)
	}
	var got dynamostore.TableDefinition
	if err := yaml.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := dynamostore.TableSpec("")
	sort.Slice(got.AttributeDefinitions, func(i, j int) bool {
		return got.AttributeDefinitions[i].AttributeName < got.AttributeDefinitions[j].AttributeName
	})
	sort.Slice(want.AttributeDefinitions, func(i, j int) bool {
		return want.AttributeDefinitions[i].AttributeName < want.AttributeDefinitions[j].AttributeName
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("template table\n got %+v\nwant %+v (dynamostore.TableSpec)", got, want)
	}
	if dig(r.Properties, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != true {
		t.Error("point-in-time recovery is off")
	}
	if dig(r.Properties, "SSESpecification", "SSEEnabled") != true {
		t.Error("server-side encryption is not enabled")
	}
	if r.DeletionPolicy != "RetainExceptOnCreate" || tmpl.Resources["TokenKeySecret"].DeletionPolicy != "RetainExceptOnCreate" {
		t.Error("the table and the token key must survive a stack deletion (DeletionPolicy: RetainExceptOnCreate; TestRollbackLeavesNothingBehind)")
	}
	gen, _ := tmpl.Resources["TokenKeySecret"].Properties["GenerateSecretString"].(map[string]any)
	if gen == nil {
		t.Error("the token key secret is not generated (GenerateSecretString)")
	}
}

func TestOutputs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Outputs map[string]any `yaml:"Outputs"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ApiUrl", "TableName"} {
		if doc.Outputs[name] == nil {
			t.Errorf("output %s missing", name)
		}
	}
}

const (
	refBegin = "<!-- configuration reference: generated from config.Vars and template.yaml; do not edit by hand -->\n"
	refEnd   = "<!-- end of configuration reference -->\n"
)

// configurationReference renders the README's reference: every variable of
// config.Vars (who reads it, its default) and every template parameter.
func configurationReference(t *testing.T) string {
	tmpl := loadTemplate(t)
	cell := strings.NewReplacer("|", "\\|", "<", "&lt;", ">", "&gt;").Replace
	code := func(s string) string {
		if s == "" {
			return ""
		}
		return "`" + s + "`"
	}
	var b strings.Builder
	b.WriteString("### Environment variables\n\n| variable | default | read by | meaning |\n|---|---|---|---|\n")
	for _, v := range config.Vars {
		if v.LocalOnly {
			continue
		}
		readers := "all"
		if len(v.Functions) != len(config.Functions) {
			readers = strings.Join(v.Functions, ", ")
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", v.Name, code(v.Default), readers, cell(v.Doc))
	}
	b.WriteString("\n### Local runs and tests only\n\nNever set by the template.\n\n| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range config.Vars {
		if v.LocalOnly {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, code(v.Default), cell(v.Doc))
		}
	}
	b.WriteString("\n### Template parameters\n\n| parameter | default | meaning |\n|---|---|---|\n")
	for _, name := range slices.Sorted(maps.Keys(tmpl.Parameters)) {
		p := tmpl.Parameters[name]
		def := "(required)"
		if p.Default != nil {
			def = code(fmt.Sprint(p.Default))
			if def == "" {
				def = "(empty)"
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, def, cell(p.Description))
	}
	return b.String()
}

func TestReadmeConfigurationReference(t *testing.T) {
	path := filepath.Join(root, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, refBegin), strings.Index(s, refEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no configuration reference markers")
	}
	want := configurationReference(t)
	current := s[i+len(refBegin) : j]
	if *update {
		s = s[:i+len(refBegin)] + want + s[j:]
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if current != want {
		t.Errorf("README.md's configuration reference is stale: run go test ./infra/templatetest -run TestReadmeConfigurationReference -update")
	}
	// And every name is documented (also outside the generated block).
	tmpl := loadTemplate(t)
	for _, v := range config.Vars {
		if !strings.Contains(s, "`"+v.Name+"`") {
			t.Errorf("README.md does not document %s", v.Name)
		}
	}
	for name := range tmpl.Parameters {
		if !strings.Contains(s, "`"+name+"`") {
			t.Errorf("README.md does not document the template parameter %s", name)
		}
	}
}
