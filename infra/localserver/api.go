package localserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/shared/problem"
)

// MaxPayloadBytes is API Gateway's request payload limit for HTTP APIs.
const MaxPayloadBytes = 10 << 20

type apiHandler struct {
	s   *Server
	mux *http.ServeMux
}

// APIHandler serves every HttpApi route of the template as API Gateway
// would: 401 problem+json without a valid token on routes with an
// authorizer, 404 for unknown routes, and otherwise the function's own
// answer; with the HttpApi's CorsConfiguration (Options.Parameters
// deciding its values), preflights answered and CORS headers added.
func (s *Server) APIHandler() http.Handler { return s.api }

var (
	pathParamRE = regexp.MustCompile(`\{([^{}]+)\}`)
	paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func newAPIHandler(s *Server) (*apiHandler, error) {
	h := &apiHandler{s: s, mux: http.NewServeMux()}
	seen := map[string]string{}
	for _, id := range s.tmpl.FunctionIDs() {
		f := s.functions[id]
		for _, rt := range f.def.Routes {
			if other, dup := seen[rt.Key()]; dup {
				return nil, fmt.Errorf("route %s is declared by both %s and %s", rt.Key(), other, id)
			}
			seen[rt.Key()] = id
			pattern, err := muxPattern(rt)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
			if err := registerRoute(h.mux, pattern, h.route(f, rt)); err != nil {
				return nil, fmt.Errorf("function %s route %s: %w", id, rt.Key(), err)
			}
		}
	}
	if _, ok := seen["$default"]; !ok {
		h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			id := gatewayRequestID()
			w.Header().Set("Apigw-Requestid", id)
			writeProblem(w, r, id, problem.New(http.StatusNotFound, problem.CodeNotFound, "No such route."))
		})
	}
	return h, nil
}

// registerRoute adds a pattern, turning ServeMux's panic on conflicting
// patterns into an error.
func registerRoute(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%v", v)
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// muxPattern maps an API Gateway route to a net/http pattern: {name} stays,
// the greedy {name+} becomes {name...}, ANY matches every method.
func muxPattern(rt Route) (string, error) {
	path := rt.Path
	if path == "$default" {
		return "/", nil
	}
	var bad error
	path = pathParamRE.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		if strings.HasSuffix(name, "+") {
			return "{" + strings.TrimSuffix(name, "+") + "...}"
		}
		if !paramNameRE.MatchString(name) {
			bad = fmt.Errorf("path parameter %q cannot be served locally", name)
		}
		return m
	})
	if bad != nil {
		return "", bad
	}
	if rt.Method == "ANY" {
		return path, nil
	}
	return rt.Method + " " + path, nil
}

func (h *apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// CORS comes first, as in API Gateway: preflights are answered without
	// an authorizer or a function, and every other answer to an allowed
	// origin gets the CORS headers.
	if c := h.s.cors; c != nil {
		if isPreflight(r) {
			c.preflight(w, r)
			return
		}
		// Also without an Origin: the function's own CORS headers are
		// dropped either way.
		w = &corsWriter{ResponseWriter: w, c: c, origin: r.Header.Get("Origin")}
	}
	// A custom domain's API mapping selects the API by the path's leading
	// segments; the route is matched without them, the event keeps them.
	if p := h.s.mappingPrefix; p != "" {
		if !strings.HasPrefix(r.URL.Path, p+"/") {
			id := gatewayRequestID()
			w.Header().Set("Apigw-Requestid", id)
			writeProblem(w, r, id, problem.New(http.StatusNotFound, problem.CodeNotFound, "No such route."))
			return
		}
		mapped := r.Clone(context.WithValue(r.Context(), rawPathKey{}, r.URL.EscapedPath()))
		mapped.URL.Path = strings.TrimPrefix(r.URL.Path, p)
		mapped.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, p)
		r = mapped
	}
	// API Gateway matches routes on the exact method: HEAD is not GET.
	if r.Method == http.MethodHead {
		id := gatewayRequestID()
		w.Header().Set("Apigw-Requestid", id)
		writeProblem(w, r, id, problem.New(http.StatusNotFound, problem.CodeNotFound, "No such route."))
		return
	}
	h.mux.ServeHTTP(w, r)
}

// route serves one template route by invoking its function.
func (h *apiHandler) route(f *function, rt Route) http.HandlerFunc {
	names := pathParamRE.FindAllStringSubmatch(rt.Path, -1)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s := h.s
		reqID := gatewayRequestID()
		w.Header().Set("Apigw-Requestid", reqID)
		status := 0
		defer func() {
			// The query string is never logged: the OAuth callback carries
			// the authorization code in it.
			s.log.InfoContext(r.Context(), "api request", "requestId", reqID, "function", f.def.LogicalID,
				"routeKey", rt.Key(), "method", r.Method, "path", r.URL.Path, "status", status,
				"durationMs", time.Since(start).Milliseconds())
		}()

		body, err := io.ReadAll(io.LimitReader(r.Body, MaxPayloadBytes+1))
		if err != nil {
			status = http.StatusBadRequest
			writeProblem(w, r, reqID, problem.New(status, problem.CodeMalformedBody, "The request body could not be read."))
			return
		}
		if len(body) > MaxPayloadBytes {
			status = http.StatusRequestEntityTooLarge
			writeProblem(w, r, reqID, problem.New(status, problem.CodeBodyTooLarge, "The request body is larger than API Gateway accepts."))
			return
		}

		var authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
		if rt.Authorizer != "" {
			claims, scopes, err := s.verifier.verify(r.Header.Get("Authorization"))
			if err != nil {
				status = http.StatusUnauthorized
				if errors.Is(err, errNoToken) {
					w.Header().Set("WWW-Authenticate", "Bearer")
				} else {
					w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
					s.log.InfoContext(r.Context(), "token refused", "requestId", reqID, "reason", err.Error())
				}
				writeProblem(w, r, reqID, problem.New(status, problem.CodeUnauthorized, "A valid bearer token is required."))
				return
			}
			authz = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes},
			}
		}

		params := map[string]string{}
		for _, m := range names {
			name := strings.TrimSuffix(m[1], "+")
			params[name] = r.PathValue(name)
		}
		ev := s.httpEvent(r, rt, reqID, body, params, authz)
		out, _, err := s.invoke(r.Context(), f, MarshalHTTPEvent(ev))
		if err != nil {
			// API Gateway answers a failed integration with a bare 500.
			status = http.StatusInternalServerError
			writeProblem(w, r, reqID, problem.New(status, problem.CodeInternal, "The request could not be completed. Quote the request id when reporting it."))
			return
		}
		status, err = writeResponse(w, out)
		if err != nil {
			s.log.ErrorContext(r.Context(), "function response is not a valid API Gateway response", "requestId", reqID,
				"function", f.def.LogicalID, "err", err.Error())
			status = http.StatusInternalServerError
			writeProblem(w, r, reqID, problem.New(status, problem.CodeInternal, "The request could not be completed. Quote the request id when reporting it."))
		}
	}
}

// mappingKeyRE is an API mapping key: API Gateway allows letters, digits
// and $-_.+!*'(), in levels separated by /.
var mappingKeyRE = regexp.MustCompile(`^[A-Za-z0-9$_.+!*'()-]+(/[A-Za-z0-9$_.+!*'()-]+)*$`)

// rawPathKey holds a request's path as it came, API mapping key included.
type rawPathKey struct{}

// httpEvent builds the payload format 2.0 event API Gateway sends for r.
func (s *Server) httpEvent(r *http.Request, rt Route, reqID string, body []byte, params map[string]string,
	authz *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) events.APIGatewayV2HTTPRequest {
	now := s.now()
	sourceIP, port := clientAddr(r)

	headers := map[string]string{}
	var cookies []string
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		if k == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[k] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	if len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	if prev := headers["x-forwarded-for"]; prev != "" {
		headers["x-forwarded-for"] = prev + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	headers["x-forwarded-port"] = port
	headers["x-forwarded-proto"] = "http"
	headers["x-amzn-trace-id"] = traceID(now)

	var query map[string]string
	if r.URL.RawQuery != "" {
		// API Gateway joins repeated parameters with commas.
		values, _ := url.ParseQuery(r.URL.RawQuery)
		query = make(map[string]string, len(values))
		for k, vs := range values {
			query[k] = strings.Join(vs, ",")
		}
	}
	if len(params) == 0 {
		params = nil
	}

	rawPath, mapped := r.Context().Value(rawPathKey{}).(string)
	if !mapped {
		rawPath = r.URL.EscapedPath()
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              rt.Key(),
		RawPath:               rawPath,
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     rt.Key(),
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    reqID,
			Authorizer:   authz,
			APIID:        APIID,
			DomainName:   r.Host,
			DomainPrefix: strings.SplitN(r.Host, ".", 2)[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      rawPath,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isTextual(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// MarshalHTTPEvent encodes an event as API Gateway sends it. The
// aws-lambda-go type always encodes requestContext.authentication (an empty
// mutual-TLS client certificate); API Gateway leaves it out unless the
// domain uses mutual TLS, so it is dropped when empty.
func MarshalHTTPEvent(ev events.APIGatewayV2HTTPRequest) []byte {
	b := marshalEvent(ev)
	if ev.RequestContext.Authentication != (events.APIGatewayV2HTTPRequestContextAuthentication{}) {
		return b
	}
	var top map[string]json.RawMessage
	var rc map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || json.Unmarshal(top["requestContext"], &rc) != nil {
		return b
	}
	delete(rc, "authentication")
	top["requestContext"] = marshalEvent(rc)
	return marshalEvent(top)
}

// isTextual reports whether API Gateway passes a body of this content type
// as text rather than base64.
func isTextual(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript",
		mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

func clientAddr(r *http.Request) (ip, port string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	_, port, err = net.SplitHostPort(r.Host)
	if err != nil {
		port = "80"
	}
	return host, port
}

func traceID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%x", now.Unix(), b)
}

// writeResponse writes a function's answer as API Gateway does for payload
// format 2.0: a structured response (it has statusCode) as given; anything
// else as a 200 application/json body.
func writeResponse(w http.ResponseWriter, out []byte) (int, error) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil || probe["statusCode"] == nil {
		if !json.Valid(out) {
			return 0, errors.New("function returned a payload that is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return http.StatusOK, nil
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, fmt.Errorf("decode response: %w", err)
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return 0, fmt.Errorf("status code %d", resp.StatusCode)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return 0, fmt.Errorf("decode base64 body: %w", err)
		}
	}
	for _, k := range sortedKeys(resp.MultiValueHeaders) {
		for _, v := range resp.MultiValueHeaders[k] {
			w.Header().Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	if w.Header().Get("Content-Type") == "" && len(body) > 0 {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return resp.StatusCode, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeProblem writes an answer API Gateway itself gives (no function ran).
func writeProblem(w http.ResponseWriter, r *http.Request, reqID string, p *problem.Problem) {
	p.RequestID = reqID
	problem.Write(w, r, p)
}
