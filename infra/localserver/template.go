package localserver

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Template is the part of a SAM template the local server and the template
// test need. Resources keep their CloudFormation JSON shape (intrinsic
// functions as {"Ref": ...}, {"Fn::Sub": ...}), whatever YAML short form
// (!Ref, !Sub, !GetAtt) the file used.
type Template struct {
	Parameters map[string]Parameter
	// Conditions are the template's conditions, in CloudFormation JSON form.
	Conditions map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
	// Functions are the AWS::Serverless::Function resources with the Globals
	// applied, by logical id.
	Functions map[string]*Function
	// Outputs are the template's outputs, in CloudFormation JSON form.
	Outputs map[string]any
}

// Parameter is a template parameter.
type Parameter struct {
	Type           string
	Default        any // nil when the parameter has no default
	Description    string
	AllowedPattern string
}

// Resource is one template resource.
type Resource struct {
	Type           string
	Properties     map[string]any
	Metadata       map[string]any
	DeletionPolicy string
}

// Function is a serverless function with its routes and schedules.
type Function struct {
	LogicalID   string
	CodeURI     string
	BuildMethod string
	Handler     string
	Runtime     string
	// Timeout is the function's timeout (Globals applied).
	Timeout time.Duration
	// Properties are the function's properties merged over Globals.Function
	// the way SAM merges them (maps merge, lists append, scalars replace).
	Properties map[string]any
	Routes     []Route
	Schedules  []Schedule
	// Streams are the event source mappings that invoke the function
	// (AWS::Lambda::EventSourceMapping resources naming it).
	Streams []Stream
}

// Environment returns the function's environment variables (Globals
// applied), values in CloudFormation JSON form.
func (f *Function) Environment() map[string]any {
	env, _ := f.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

// Route is one HttpApi event of a function.
type Route struct {
	Event  string
	Method string // upper case; ANY matches every method
	Path   string // API Gateway syntax: /v1/orgs/{orgId}, {proxy+}
	// Authorizer is the authorizer name that guards the route, "" for none.
	Authorizer string
}

// Key is the API Gateway route key, "GET /v1/providers".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Schedule is one Schedule event of a function.
type Schedule struct {
	Event      string
	Expression string // rate(5 minutes)
	// Every is the interval of a rate() expression; zero for cron().
	Every   time.Duration
	Enabled bool
}

// Authorizer is a JWT authorizer of the HttpApi.
type Authorizer struct {
	Name           string
	IdentitySource string
	Issuer         any // CloudFormation JSON form (usually {"Ref": "JwtIssuer"})
	Audience       any
}

// LoadTemplate reads and parses a SAM template file.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := ParseTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return t, nil
}

// ParseTemplate parses a SAM template.
func ParseTemplate(b []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if len(doc.Content) != 1 {
		return nil, errors.New("template is empty")
	}
	raw, err := convert(doc.Content[0])
	if err != nil {
		return nil, err
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	t := &Template{
		Parameters: map[string]Parameter{},
		Resources:  map[string]Resource{},
		Functions:  map[string]*Function{},
	}
	t.Globals, _ = top["Globals"].(map[string]any)
	t.Conditions, _ = top["Conditions"].(map[string]any)
	t.Outputs, _ = top["Outputs"].(map[string]any)
	params, _ := top["Parameters"].(map[string]any)
	for name, v := range params {
		m, _ := v.(map[string]any)
		p := Parameter{Default: m["Default"]}
		p.Type, _ = m["Type"].(string)
		p.Description, _ = m["Description"].(string)
		p.AllowedPattern, _ = m["AllowedPattern"].(string)
		t.Parameters[name] = p
	}
	resources, _ := top["Resources"].(map[string]any)
	if len(resources) == 0 {
		return nil, errors.New("template has no Resources")
	}
	for id, v := range resources {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is not a mapping", id)
		}
		r := Resource{}
		r.Type, _ = m["Type"].(string)
		r.Properties, _ = m["Properties"].(map[string]any)
		r.Metadata, _ = m["Metadata"].(map[string]any)
		r.DeletionPolicy, _ = m["DeletionPolicy"].(string)
		t.Resources[id] = r
	}
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		f, err := t.function(id, r)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", id, err)
		}
		t.Functions[id] = f
	}
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if r := t.Resources[id]; r.Type == "AWS::Lambda::EventSourceMapping" {
			s, fn, err := t.stream(id, r.Properties)
			if err != nil {
				return nil, fmt.Errorf("event source mapping %s: %w", id, err)
			}
			f, ok := t.Functions[fn]
			if !ok {
				return nil, fmt.Errorf("event source mapping %s: FunctionName must be a Ref to a function of the template", id)
			}
			f.Streams = append(f.Streams, s)
		}
	}
	return t, nil
}

// FunctionIDs returns the logical ids of the functions, sorted.
func (t *Template) FunctionIDs() []string {
	return slices.Sorted(maps.Keys(t.Functions))
}

// HttpAPIAuthorizers returns the JWT authorizers of the HttpApi resource id
// and its default authorizer ("" when none).
func (t *Template) HttpAPIAuthorizers(apiID string) (map[string]Authorizer, string, error) {
	r, ok := t.Resources[apiID]
	if !ok || r.Type != "AWS::Serverless::HttpApi" {
		return nil, "", fmt.Errorf("no AWS::Serverless::HttpApi %q", apiID)
	}
	auth, _ := r.Properties["Auth"].(map[string]any)
	out := map[string]Authorizer{}
	authorizers, _ := auth["Authorizers"].(map[string]any)
	for name, v := range authorizers {
		m, _ := v.(map[string]any)
		jc, ok := m["JwtConfiguration"].(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("authorizer %s is not a JWT authorizer (the local server emulates JWT authorizers only)", name)
		}
		a := Authorizer{Name: name, Issuer: jc["issuer"], Audience: jc["audience"]}
		a.IdentitySource, _ = m["IdentitySource"].(string)
		out[name] = a
	}
	def, _ := auth["DefaultAuthorizer"].(string)
	if def != "" {
		if _, ok := out[def]; !ok {
			return nil, "", fmt.Errorf("default authorizer %q is not defined", def)
		}
	}
	return out, def, nil
}

func (t *Template) function(id string, r Resource) (*Function, error) {
	globals, _ := t.Globals["Function"].(map[string]any)
	props, _ := mergeSAM(globals, r.Properties).(map[string]any)
	f := &Function{LogicalID: id, Properties: props}
	f.CodeURI, _ = props["CodeUri"].(string)
	f.Handler, _ = props["Handler"].(string)
	f.Runtime, _ = props["Runtime"].(string)
	f.BuildMethod, _ = r.Metadata["BuildMethod"].(string)

	f.Timeout = 3 * time.Second // Lambda's default
	if v, ok := props["Timeout"]; ok {
		s, err := t.resolveString(v)
		if err != nil {
			return nil, fmt.Errorf("timeout: %w", err)
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("timeout %q is not a positive number of seconds", s)
		}
		f.Timeout = time.Duration(n) * time.Second
	}

	events, _ := props["Events"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(events)) {
		ev, _ := events[name].(map[string]any)
		typ, _ := ev["Type"].(string)
		ep, _ := ev["Properties"].(map[string]any)
		switch typ {
		case "HttpApi":
			rt, err := t.route(name, ep)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", name, err)
			}
			f.Routes = append(f.Routes, rt)
		case "Schedule":
			s, err := t.schedule(name, ep)
			if err != nil {
				return nil, fmt.Errorf("event %s: %w", name, err)
			}
			f.Schedules = append(f.Schedules, s)
		}
	}
	return f, nil
}

func (t *Template) route(name string, p map[string]any) (Route, error) {
	rt := Route{Event: name}
	rt.Method, _ = p["Method"].(string)
	rt.Path, _ = p["Path"].(string)
	rt.Method = strings.ToUpper(rt.Method)
	if rt.Method == "" || !strings.HasPrefix(rt.Path, "/") {
		return rt, errors.New("an HttpApi event needs Method and an absolute Path")
	}
	apiID := ""
	if ref, ok := p["ApiId"].(map[string]any); ok {
		apiID, _ = ref["Ref"].(string)
	}
	if apiID == "" {
		return rt, errors.New("ApiId must be a Ref to the template's HttpApi (the implicit API has no authorizer)")
	}
	authorizers, def, err := t.HttpAPIAuthorizers(apiID)
	if err != nil {
		return rt, err
	}
	rt.Authorizer = def
	if auth, ok := p["Auth"].(map[string]any); ok {
		if a, ok := auth["Authorizer"].(string); ok {
			rt.Authorizer = a
		}
	}
	if rt.Authorizer == "NONE" {
		rt.Authorizer = ""
	}
	if rt.Authorizer != "" {
		if _, ok := authorizers[rt.Authorizer]; !ok {
			return rt, fmt.Errorf("authorizer %q is not defined on %s", rt.Authorizer, apiID)
		}
	}
	return rt, nil
}

func (t *Template) schedule(name string, p map[string]any) (Schedule, error) {
	s := Schedule{Event: name, Enabled: true}
	expr, err := t.resolveString(p["Schedule"])
	if err != nil {
		return s, fmt.Errorf("schedule: %w", err)
	}
	s.Expression = expr
	if v, ok := p["Enabled"]; ok {
		if b, ok := v.(bool); ok {
			s.Enabled = b
		}
	}
	if v, ok := p["State"].(string); ok {
		s.Enabled = v == "ENABLED"
	}
	if strings.HasPrefix(expr, "rate(") {
		every, err := ParseRate(expr)
		if err != nil {
			return s, err
		}
		s.Every = every
	} else if !strings.HasPrefix(expr, "cron(") {
		return s, fmt.Errorf("schedule %q is neither rate() nor cron()", expr)
	}
	return s, nil
}

var rateRE = regexp.MustCompile(`^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$`)

// ParseRate parses an EventBridge rate expression, "rate(5 minutes)". As in
// EventBridge, a value of 1 takes the singular unit and any other value the
// plural.
func ParseRate(expr string) (time.Duration, error) {
	m := rateRE.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q is not a rate expression", expr)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("schedule %q: the value must be a positive whole number", expr)
	}
	if singular := !strings.HasSuffix(m[2], "s"); singular != (n == 1) {
		return 0, fmt.Errorf("schedule %q: use the singular unit for 1 and the plural otherwise", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit, nil
}

// pseudoParameters are the values local runs give CloudFormation's pseudo
// parameters.
var pseudoParameters = map[string]string{
	"AWS::AccountId":        "000000000000",
	"AWS::Partition":        "aws",
	"AWS::Region":           "us-east-1",
	"AWS::StackName":        "local",
	"AWS::URLSuffix":        "amazonaws.com",
	"AWS::NoValue":          "",
	"AWS::StackId":          "arn:aws:cloudformation:us-east-1:000000000000:stack/local/local",
	"AWS::NotificationARNs": "",
}

// ResolveString evaluates a scalar, a Ref to a parameter (its default) or a
// pseudo parameter, or an Fn::Sub over those, as a local run sees it.
func (t *Template) ResolveString(v any) (string, error) { return t.resolveString(v) }

func (t *Template) resolveString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int, int64, float64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			return t.ref(ref)
		}
		if sub, ok := x["Fn::Sub"]; ok && len(x) == 1 {
			s, ok := sub.(string)
			if !ok {
				return "", errors.New("only the one-argument form of Fn::Sub is resolved locally")
			}
			var firstErr error
			out := subRE.ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				if strings.HasPrefix(name, "!") {
					return "${" + name[1:] + "}"
				}
				val, err := t.ref(name)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				return val
			})
			return out, firstErr
		}
	}
	return "", fmt.Errorf("cannot resolve %v locally", v)
}

var subRE = regexp.MustCompile(`\$\{!?[A-Za-z0-9:._]+\}`)

func (t *Template) ref(name string) (string, error) {
	if v, ok := pseudoParameters[name]; ok {
		return v, nil
	}
	p, ok := t.Parameters[name]
	if !ok {
		return "", fmt.Errorf("Ref %s: not a parameter", name)
	}
	if p.Default == nil {
		return "", fmt.Errorf("Ref %s: the parameter has no default", name)
	}
	return t.resolveString(p.Default)
}

// mergeSAM merges a function's properties over Globals as SAM does: maps
// merge key by key, lists are appended, anything else is replaced.
func mergeSAM(global, local any) any {
	switch l := local.(type) {
	case map[string]any:
		g, ok := global.(map[string]any)
		if !ok {
			return l
		}
		out := make(map[string]any, len(g)+len(l))
		for k, v := range g {
			out[k] = v
		}
		for k, v := range l {
			if gv, ok := g[k]; ok && !isIntrinsic(v) && !isIntrinsic(gv) {
				out[k] = mergeSAM(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		if g, ok := global.([]any); ok {
			return append(slices.Clone(g), l...)
		}
		return l
	case nil:
		return global
	default:
		return l
	}
}

func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// convert turns a YAML node into CloudFormation's JSON form, mapping the
// short-form intrinsic tags (!Ref, !Sub, !GetAtt, ...) to their long form.
func convert(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			val, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := convert(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!!") || n.Tag == "" {
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
		} else {
			v = n.Value // a tagged scalar (!Ref X) keeps its text
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	if n.Tag == "" || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	switch tag := strings.TrimPrefix(n.Tag, "!"); tag {
	case "Ref":
		return map[string]any{"Ref": v}, nil
	case "Condition":
		return map[string]any{"Condition": v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
			}
			return map[string]any{"Fn::GetAtt": []any{res, attr}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + tag: v}, nil
	}
}
