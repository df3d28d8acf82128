package httpapi

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// API mappings of a custom domain.
//
// An HTTP API served under a custom domain with an API mapping key
// ("integrations", or several levels, "orders/v1") is reached at
// https://<domain>/<key>/<route>. API Gateway selects the API by the
// longest matching mapping and the route without the key
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-mappings.html),
// so the event's routeKey is the template's ("GET /v1/providers"), but the
// path it carries (rawPath, requestContext.http.path) keeps the key, as
// frameworks behind custom domains report (hence the proxy's
// RequestAccessorV2.StripBasePath, Mangum's api_gateway_base_path,
// Powertools' strip_prefixes).
//
// The handler strips the key before routing, and derives it from the event
// itself rather than from configuration: the leading segments of the path
// that the route key's path does not account for. Those segments are the
// base path only when the rest of the path matches the route key segment
// by segment (literals equal, one segment per parameter), so an event
// whose path already lacks the key (or a key equal to a route's first
// segment, such as "v1") is routed as it is. The base path is kept with the
// request (BasePath) so that URLs the service hands out, the OAuth
// redirect URI above all, carry it.

type basePathKey struct{}

// BasePath returns the API mapping key the request came through, as a path
// ("/integrations"), or "" without one.
func BasePath(r *http.Request) string {
	b, _ := r.Context().Value(basePathKey{}).(string)
	return b
}

// PublicBaseURL returns the API's base URL as the caller's browser sees it:
// configured (PUBLIC_BASE_URL) when set, else https://<domain><base path>
// from the API Gateway event. ok is false when neither is known.
func PublicBaseURL(r *http.Request, configured string) (base string, ok bool) {
	if configured != "" {
		return configured, true
	}
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && rc.DomainName != "" {
		return "https://" + rc.DomainName + BasePath(r), true
	}
	return "", false
}

// stripMappingKey removes the API mapping key from ev's paths and returns
// ctx carrying it (BasePath).
func stripMappingKey(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) context.Context {
	raw := ev.RawPath
	if raw == "" {
		raw = ev.RequestContext.HTTP.Path
	}
	base := mappingKey(cmp.Or(ev.RouteKey, ev.RequestContext.RouteKey), raw)
	if base == "" || !strings.HasPrefix(raw, base+"/") {
		return ctx
	}
	ev.RawPath = strings.TrimPrefix(raw, base)
	ev.RequestContext.HTTP.Path = strings.TrimPrefix(ev.RequestContext.HTTP.Path, base)
	return context.WithValue(ctx, basePathKey{}, base)
}

// mappingKey returns the leading segments of rawPath ("/integrations")
// that precede what routeKey ("GET /v1/orgs/{orgId}/integrations") matches,
// or "" when rawPath is the route's own path or does not end with it.
func mappingKey(routeKey, rawPath string) string {
	_, route, ok := strings.Cut(routeKey, " ")
	if !ok || !strings.HasPrefix(route, "/") || strings.Contains(route, "+}") {
		return "" // $default, or a greedy parameter whose length is unknown
	}
	want := strings.Split(strings.Trim(route, "/"), "/")
	got := strings.Split(strings.Trim(rawPath, "/"), "/")
	extra := len(got) - len(want)
	if route == "/" || extra <= 0 {
		return ""
	}
	for i, seg := range want {
		param := strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}")
		if got[extra+i] == "" || (!param && got[extra+i] != seg) {
			return ""
		}
	}
	for _, seg := range got[:extra] {
		if seg == "" {
			return ""
		}
	}
	return "/" + strings.Join(got[:extra], "/")
}
