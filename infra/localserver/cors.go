package localserver

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// CORS is an HttpApi's CORS configuration (its CorsConfiguration, as
// evaluated for a deployment), which API Gateway applies in front of every
// route: it answers preflight requests itself and adds the CORS headers to
// the answers for an allowed Origin.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           int // seconds; 0 sends no Access-Control-Max-Age
	AllowCredentials bool
}

// HttpAPICORS evaluates the CorsConfiguration of the HttpApi resource
// apiID with the parameter values params (defaults for the rest). It
// returns nil when the API has none, or when it evaluates to AWS::NoValue
// (CORS turned off).
func (t *Template) HttpAPICORS(apiID string, params map[string]string) (*CORS, error) {
	r, ok := t.Resources[apiID]
	if !ok || r.Type != "AWS::Serverless::HttpApi" {
		return nil, fmt.Errorf("no AWS::Serverless::HttpApi %q", apiID)
	}
	raw, ok := r.Properties["CorsConfiguration"]
	if !ok {
		return nil, nil
	}
	v, err := t.Evaluate(raw, params)
	if err != nil {
		return nil, fmt.Errorf("%s CorsConfiguration: %w", apiID, err)
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		// SAM: true allows every origin, with API Gateway's defaults otherwise.
		if !x {
			return nil, nil
		}
		return &CORS{AllowOrigins: []string{"*"}}, nil
	case map[string]any:
		return corsFrom(apiID, x)
	}
	return nil, fmt.Errorf("%s CorsConfiguration: %v is neither a boolean nor a configuration", apiID, v)
}

func corsFrom(apiID string, m map[string]any) (*CORS, error) {
	var c CORS
	var errs []error
	strs := func(key string) []string {
		v, ok := m[key]
		if !ok {
			return nil
		}
		items, ok := v.([]any)
		if !ok {
			errs = append(errs, fmt.Errorf("%s is not a list", key))
			return nil
		}
		var out []string
		for _, it := range items {
			s, ok := it.(string)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %v is not a string", key, it))
				continue
			}
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	for k := range m {
		switch k {
		case "AllowOrigins", "AllowMethods", "AllowHeaders", "ExposeHeaders", "MaxAge", "AllowCredentials":
		default:
			errs = append(errs, fmt.Errorf("unknown key %s", k))
		}
	}
	c.AllowOrigins = strs("AllowOrigins")
	c.AllowMethods = strs("AllowMethods")
	c.AllowHeaders = strs("AllowHeaders")
	c.ExposeHeaders = strs("ExposeHeaders")
	if v, ok := m["MaxAge"]; ok {
		n, err := strconv.Atoi(scalarString(v))
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("MaxAge %v is not a number of seconds", v))
		}
		c.MaxAge = n
	}
	if v, ok := m["AllowCredentials"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			errs = append(errs, fmt.Errorf("AllowCredentials %v is not a boolean", v))
		}
		c.AllowCredentials = b
	}
	if c.AllowCredentials && slices.Contains(c.AllowOrigins, "*") {
		errs = append(errs, errors.New("AllowCredentials cannot be true with the origin *"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s CorsConfiguration: %w", apiID, err)
	}
	return &c, nil
}

// cors is the CORS configuration of the template's HttpApi (one API serves
// every route locally, so at most one may have one).
func (t *Template) cors(params map[string]string) (*CORS, error) {
	var found *CORS
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if t.Resources[id].Type != "AWS::Serverless::HttpApi" {
			continue
		}
		c, err := t.HttpAPICORS(id, params)
		if err != nil {
			return nil, err
		}
		if c != nil && found != nil {
			return nil, errors.New("more than one HttpApi configures CORS; the local server serves every route on one API")
		}
		if c != nil {
			found = c
		}
	}
	return found, nil
}

// allowOrigin is the Access-Control-Allow-Origin answer for origin, ""
// when the origin is not allowed.
func (c *CORS) allowOrigin(origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			return "*"
		}
		if strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// isPreflight: a browser asking whether it may send the real request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight request as API Gateway does: 204, with the
// configured permissions when the origin is allowed and without any CORS
// header when it is not (the browser then refuses the real request). No
// authorizer runs and no function is invoked.
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Apigw-Requestid", gatewayRequestID())
	h.Add("Vary", "Origin")
	if allow := c.allowOrigin(r.Header.Get("Origin")); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// corsWriter adds the CORS headers of an allowed origin to an answer, and
// drops any a function set itself: with CORS configured, API Gateway
// ignores the integration's CORS headers.
type corsWriter struct {
	http.ResponseWriter
	c           *CORS
	origin      string
	wroteHeader bool
}

func (w *corsWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		h := w.Header()
		for k := range h {
			if strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-") {
				delete(h, k)
			}
		}
		h.Add("Vary", "Origin")
		if allow := w.c.allowOrigin(w.origin); allow != "" {
			h.Set("Access-Control-Allow-Origin", allow)
			if len(w.c.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(w.c.ExposeHeaders, ","))
			}
			if w.c.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *corsWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *corsWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
