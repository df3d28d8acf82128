package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/store"
)

// TestWriteError: a problem is written as it is; store throttling that
// outlasted the SDK's retries, or a store that cannot do it yet, is a 503
// asking to retry; anything else an opaque 500. No cause text reaches the body.
func TestWriteError(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"problem", New(409, "provider_disabled", "Not enabled."), 409, "provider_disabled", ""},
		{"wrapped problem", fmt.Errorf("start: %w", New(404, CodeNotFound, "No.")), 404, CodeNotFound, ""},
		{"throttled", fmt.Errorf("save integration o1/p: dynamostore: put: %w: ThrottlingException", store.ErrThrottled), 503, CodeUnavailable, RetryAfterSeconds},
		{"deletion still in progress", fmt.Errorf("store client secret of o1/p: awssecrets: put x: %w: gave up after 9 attempts: InvalidRequestException", store.ErrUnavailable), 503, CodeUnavailable, RetryAfterSeconds},
		{"anything else", errors.New("dynamostore: put: connection reset"), 500, CodeInternal, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest("PUT", "/v1/x", nil), tc.err)
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if w.Code != tc.status || p.Code != tc.code || p.Status != tc.status || w.Header().Get("Retry-After") != tc.retryAfter ||
				w.Header().Get("Content-Type") != ContentType {
				t.Fatalf("%d %q Retry-After %q: %s", w.Code, p.Code, w.Header().Get("Retry-After"), w.Body)
			}
			if tc.status >= 500 && (strings.Contains(w.Body.String(), "dynamostore") || strings.Contains(w.Body.String(), "Throttling") ||
				strings.Contains(w.Body.String(), "awssecrets") || strings.Contains(w.Body.String(), "InvalidRequest")) {
				t.Fatalf("the cause reached the body: %s", w.Body)
			}
		})
	}
}
