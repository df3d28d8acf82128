// Package apispec loads the repository's OpenAPI 3.1 document (openapi.yaml)
// for tests: the operations it declares, so a test can compare them with the
// routers, and validation of real responses against the declared status
// codes, media types, headers and JSON Schemas, so the document cannot drift
// from what the service answers.
//
//	spec := apispec.Repo(t)
//	resp := env.Do("GET", "/v1/providers", token, nil)
//	if err := spec.ValidateResponse("GET", "/v1/providers", resp.Status, resp.Header, resp.Body); err != nil {
//		t.Error(err)
//	}
//
// OpenAPI 3.1 schemas are JSON Schema 2020-12, validated here with
// github.com/santhosh-tekuri/jsonschema (formats asserted).
package apispec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// FileName is the document's name at the repository root.
const FileName = "openapi.yaml"

const resourceURL = "file:///openapi.json"

// Spec is a loaded OpenAPI document.
type Spec struct {
	doc      map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
}

// Operation is one method and path of the document.
type Operation struct {
	Method string // upper case
	Path   string // as in the document: /v1/orgs/{orgId}/integrations
	ID     string // operationId
	// Public: the operation overrides the global security with none.
	Public bool
	// Params are the operation's parameters, path-level ones included, as
	// "in:name" (path:orgId, query:limit, header:If-Match).
	Params []string
	// Statuses are the declared response codes ("200", "4XX", "default").
	Statuses []string
	// pointer to the operation object, for errors and schema lookups
	ptr string
}

// Load reads and compiles the document at path.
func Load(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read OpenAPI document: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("%s is not representable as JSON (non-string keys?): %w", path, err)
	}
	// Round-trip so the document holds JSON types only.
	doc = nil
	if err := json.Unmarshal(js, &doc); err != nil {
		return nil, err
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		return nil, fmt.Errorf("%s: openapi is %q, want 3.1.x", path, v)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource(resourceURL, bytes.NewReader(js)); err != nil {
		return nil, fmt.Errorf("load %s as a schema resource: %w", path, err)
	}
	return &Spec{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}, nil
}

// Repo loads the repository's document (found above the test's directory),
// failing the test when it cannot.
func Repo(t testing.TB) *Spec {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("apispec: no go.mod above the test's directory")
		}
		dir = parent
	}
	s, err := Load(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("apispec: %v", err)
	}
	return s
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// Operations lists every operation, sorted by path and method.
func (s *Spec) Operations() []Operation {
	paths, _ := s.doc["paths"].(map[string]any)
	var out []Operation
	for path, pv := range paths {
		item, _ := pv.(map[string]any)
		pathParams := s.params(item["parameters"])
		for _, m := range methods {
			ov, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			op := Operation{Method: strings.ToUpper(m), Path: path, ptr: "#/paths/" + escape(path) + "/" + m}
			op.ID, _ = ov["operationId"].(string)
			if sec, ok := ov["security"].([]any); ok && len(sec) == 0 {
				op.Public = true
			}
			op.Params = append(slices.Clone(pathParams), s.params(ov["parameters"])...)
			resps, _ := ov["responses"].(map[string]any)
			for code := range resps {
				op.Statuses = append(op.Statuses, code)
			}
			sort.Strings(op.Statuses)
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

func (s *Spec) params(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, p := range list {
		pm, _ := s.deref(p).(map[string]any)
		in, _ := pm["in"].(string)
		name, _ := pm["name"].(string)
		out = append(out, in+":"+name)
	}
	return out
}

// deref follows a local $ref ("#/components/...") once or more.
func (s *Spec) deref(v any) any {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		v = s.lookup(ref)
	}
	return v
}

// refOf returns the pointer v refers to, or fallback when v is inline.
func refOf(v any, fallback string) string {
	if m, ok := v.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok {
			return ref
		}
	}
	return fallback
}

func (s *Spec) lookup(ptr string) any {
	var cur any = s.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[tok]
	}
	return cur
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// Schema compiles the schema at a pointer into the document
// ("#/components/schemas/Integration").
func (s *Spec) Schema(ptr string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.schemas[ptr]; ok {
		return sc, nil
	}
	sc, err := s.compiler.Compile(resourceURL + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", ptr, err)
	}
	s.schemas[ptr] = sc
	return sc, nil
}

// Operation finds the operation of a method and document path.
func (s *Spec) Operation(method, path string) (Operation, bool) {
	for _, op := range s.Operations() {
		if op.Method == strings.ToUpper(method) && op.Path == path {
			return op, true
		}
	}
	return Operation{}, false
}

// responsePtr finds the declared response for a status: the exact code,
// then its class ("4XX"), then "default".
func (s *Spec) responsePtr(op Operation, status int) (string, bool) {
	code := strconv.Itoa(status)
	for _, key := range []string{code, code[:1] + "XX", "default"} {
		ptr := op.ptr + "/responses/" + key
		if v := s.lookup(ptr); v != nil {
			return refOf(v, ptr), true
		}
	}
	return "", false
}

var errNoOperation = errors.New("operation not in the document")

// ValidateResponse checks a response of the operation (method and document
// path) against the document: the status is declared, the media type is one
// the response declares, declared headers that are present match their
// schemas, and a JSON body validates against the media type's schema.
func (s *Spec) ValidateResponse(method, path string, status int, header http.Header, body []byte) error {
	op, ok := s.Operation(method, path)
	if !ok {
		return fmt.Errorf("%s %s: %w", method, path, errNoOperation)
	}
	ptr, ok := s.responsePtr(op, status)
	if !ok {
		return fmt.Errorf("%s %s: status %d is not declared (declared: %v)", method, path, status, op.Statuses)
	}
	resp, _ := s.lookup(ptr).(map[string]any)
	if hs, ok := resp["headers"].(map[string]any); ok {
		for name, hv := range hs {
			val := header.Get(name)
			if val == "" {
				continue
			}
			hptr := refOf(hv, ptr+"/headers/"+escape(name))
			sc, err := s.Schema(hptr + "/schema")
			if err != nil {
				return err
			}
			if err := sc.Validate(val); err != nil {
				return fmt.Errorf("%s %s %d: header %s: %w", method, path, status, name, err)
			}
		}
	}
	content, _ := resp["content"].(map[string]any)
	if len(bytes.TrimSpace(body)) == 0 {
		if len(content) > 0 {
			return fmt.Errorf("%s %s %d: empty body, but the document declares content %v", method, path, status, keys(content))
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("%s %s %d: Content-Type %q: %w", method, path, status, header.Get("Content-Type"), err)
	}
	if _, ok := content[mt]; !ok {
		return fmt.Errorf("%s %s %d: media type %s is not declared (declared: %v)", method, path, status, mt, keys(content))
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %w", method, path, status, err)
	}
	sc, err := s.Schema(ptr + "/content/" + escape(mt) + "/schema")
	if err != nil {
		return err
	}
	if err := sc.Validate(v); err != nil {
		return fmt.Errorf("%s %s %d: body does not match the document: %#v", method, path, status, err)
	}
	return nil
}

// RoutePath maps a concrete request path to the document path it matches
// ("/v1/orgs/o1/audit" → "/v1/orgs/{orgId}/audit"), "" when none does.
func (s *Spec) RoutePath(method, concrete string) string {
	for _, op := range s.Operations() {
		if op.Method == strings.ToUpper(method) && pathRE(op.Path).MatchString(concrete) {
			return op.Path
		}
	}
	return ""
}

var paramRE = regexp.MustCompile(`\{[^/}]+\}`)

func pathRE(p string) *regexp.Regexp {
	parts := paramRE.Split(p, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, "[^/]+") + "$")
}

// PathParams are the {names} of a path, in order.
func PathParams(p string) []string {
	var out []string
	for _, m := range paramRE.FindAllString(p, -1) {
		out = append(out, strings.Trim(m, "{}"))
	}
	return out
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
