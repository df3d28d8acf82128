package localserver

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// noValue is what Ref AWS::NoValue evaluates to: the property it stands
// for is dropped.
type noValue struct{}

// Evaluate resolves the intrinsic functions in v the way CloudFormation
// would for this template, with params overriding parameter defaults (the
// values a local run deploys with): Ref (parameters and pseudo parameters),
// Fn::If with the template's Conditions, Fn::Not, Fn::And, Fn::Or,
// Fn::Equals, Condition, Fn::Join, Fn::Split, Fn::Select and the
// one-argument Fn::Sub. A property that evaluates to Ref AWS::NoValue is
// dropped; a v that is itself AWS::NoValue evaluates to nil. Resource
// references (Ref to a resource, Fn::GetAtt) cannot be resolved locally and
// are an error.
func (t *Template) Evaluate(v any, params map[string]string) (any, error) {
	e := evaluator{t: t, params: params}
	out, err := e.eval(v)
	if err != nil {
		return nil, err
	}
	if _, ok := out.(noValue); ok {
		return nil, nil
	}
	return out, nil
}

type evaluator struct {
	t      *Template
	params map[string]string
	depth  int
}

func (e *evaluator) eval(v any) (any, error) {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > 64 {
		return nil, errors.New("intrinsic functions nested too deep (a condition referring to itself?)")
	}
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, item := range x {
			r, err := e.eval(item)
			if err != nil {
				return nil, err
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return e.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			r, err := e.eval(x[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (e *evaluator) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, errors.New("Ref takes a name")
		}
		return e.ref(name)
	case "Condition":
		name, ok := arg.(string)
		if !ok {
			return nil, errors.New("Condition takes a name")
		}
		return e.condition(name)
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, errors.New("Fn::If takes [condition, then, else]")
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, errors.New("Fn::If: the condition is a name")
		}
		c, err := e.condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return e.eval(args[1])
		}
		return e.eval(args[2])
	case "Fn::Not", "Fn::And", "Fn::Or":
		args, ok := arg.([]any)
		if !ok || len(args) == 0 || (fn == "Fn::Not" && len(args) != 1) {
			return nil, fmt.Errorf("%s takes a list of conditions", fn)
		}
		var vals []bool
		for _, a := range args {
			b, err := e.boolean(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn, err)
			}
			vals = append(vals, b)
		}
		switch fn {
		case "Fn::Not":
			return !vals[0], nil
		case "Fn::And":
			return !slices.Contains(vals, false), nil
		default:
			return slices.Contains(vals, true), nil
		}
	case "Fn::Equals":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Equals takes two values")
		}
		a, err := e.eval(args[0])
		if err != nil {
			return nil, err
		}
		b, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		return reflect.DeepEqual(scalarString(a), scalarString(b)), nil
	case "Fn::Join":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Join takes [delimiter, list]")
		}
		sep, ok := args[0].(string)
		if !ok {
			return nil, errors.New("Fn::Join: the delimiter is a string")
		}
		list, err := e.list(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		return strings.Join(list, sep), nil
	case "Fn::Split":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Split takes [delimiter, string]")
		}
		sep, ok := args[0].(string)
		if !ok {
			return nil, errors.New("Fn::Split: the delimiter is a string")
		}
		s, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		str, ok := s.(string)
		if !ok {
			return nil, errors.New("Fn::Split: the source is a string")
		}
		var out []any
		for _, p := range strings.Split(str, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, errors.New("Fn::Select takes [index, list]")
		}
		i, err := e.eval(args[0])
		if err != nil {
			return nil, err
		}
		var n int
		if _, err := fmt.Sscan(fmt.Sprint(i), &n); err != nil {
			return nil, errors.New("Fn::Select: the index is a number")
		}
		list, err := e.list(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: %w", err)
		}
		if n < 0 || n >= len(list) {
			return nil, fmt.Errorf("Fn::Select: index %d out of range", n)
		}
		return list[n], nil
	case "Fn::Sub":
		s, ok := arg.(string)
		if !ok {
			return nil, errors.New("only the one-argument form of Fn::Sub is evaluated locally")
		}
		var firstErr error
		out := subRE.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			v, err := e.ref(name)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return scalarString(v)
		})
		return out, firstErr
	}
	return nil, fmt.Errorf("%s cannot be evaluated locally", fn)
}

// ref is a parameter's value (params first, then its default) or a pseudo
// parameter's.
func (e *evaluator) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := pseudoParameters[name]; ok {
		return v, nil
	}
	p, ok := e.t.Parameters[name]
	if !ok {
		return nil, fmt.Errorf("Ref %s: not a parameter (resources cannot be resolved locally)", name)
	}
	v, given := e.params[name]
	if !given {
		if p.Default == nil {
			return nil, fmt.Errorf("Ref %s: the parameter has no value and no default", name)
		}
		v = scalarString(p.Default)
	}
	if p.Type == "CommaDelimitedList" {
		var out []any
		for _, s := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(s))
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) condition(name string) (bool, error) {
	c, ok := e.t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %q", name)
	}
	b, err := e.boolean(c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return b, nil
}

func (e *evaluator) boolean(v any) (bool, error) {
	r, err := e.eval(v)
	if err != nil {
		return false, err
	}
	b, ok := r.(bool)
	if !ok {
		return false, fmt.Errorf("%v is not a condition", v)
	}
	return b, nil
}

func (e *evaluator) list(v any) ([]string, error) {
	r, err := e.eval(v)
	if err != nil {
		return nil, err
	}
	items, ok := r.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a list", v)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = scalarString(it)
	}
	return out, nil
}

// scalarString is a scalar as CloudFormation compares and joins it.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	case noValue:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// CheckParameter reports whether value is acceptable for the template's
// parameter name: it exists and the value matches its AllowedPattern.
func (t *Template) CheckParameter(name, value string) error {
	p, ok := t.Parameters[name]
	if !ok {
		return fmt.Errorf("the template has no parameter %s", name)
	}
	if p.AllowedPattern == "" {
		return nil
	}
	// CloudFormation matches the whole value.
	re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
	if err != nil {
		return fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
	}
	if !re.MatchString(value) {
		return fmt.Errorf("parameter %s: %q does not match %s", name, value, p.AllowedPattern)
	}
	return nil
}
