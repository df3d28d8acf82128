package admin

import (
	"net/http"
	"testing"

	"github.com/sofie/integrations/shared/problem"
)

func TestPrecondition(t *testing.T) {
	tests := []struct {
		name        string
		ifMatch     []string
		ifNoneMatch []string
		current     int64
		required    bool
		status      int // 0: allowed
	}{
		{"create without headers", nil, nil, 0, true, 0},
		{"create with If-None-Match *", nil, []string{"*"}, 0, true, 0},
		{"create with If-Match", []string{`"1"`}, nil, 0, true, 412},
		{"create with If-Match *", []string{"*"}, nil, 0, true, 412},
		{"update without If-Match", nil, nil, 3, true, 428},
		{"update without If-Match, optional", nil, nil, 3, false, 0},
		{"update matching", []string{`"3"`}, nil, 3, true, 0},
		{"update stale", []string{`"2"`}, nil, 3, true, 412},
		{"update list with match", []string{`"1", "3"`}, nil, 3, true, 0},
		{"update two header lines", []string{`"1"`, `"3"`}, nil, 3, true, 0},
		{"update weak tag never matches", []string{`W/"3"`}, nil, 3, true, 412},
		{"update unquoted", []string{`3`}, nil, 3, true, 412},
		{"update star", []string{"*"}, nil, 3, true, 0},
		{"If-None-Match * on existing", nil, []string{"*"}, 3, true, 412},
		{"If-None-Match current on existing", nil, []string{`W/"3"`}, 3, true, 412},
		{"If-None-Match other, If-Match current", []string{`"3"`}, []string{`"2"`}, 3, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.ifMatch {
				h.Add("If-Match", v)
			}
			for _, v := range tt.ifNoneMatch {
				h.Add("If-None-Match", v)
			}
			prob := ParsePrecondition(h).check(tt.current, tt.required)
			if tt.status == 0 {
				if prob != nil {
					t.Fatalf("want allowed, got %v", prob)
				}
				return
			}
			if prob == nil || prob.Status != tt.status {
				t.Fatalf("got %v, want %d", prob, tt.status)
			}
			wantCode := map[int]string{412: problem.CodePreconditionFail, 428: problem.CodePreconditionReq}[tt.status]
			if prob.Code != wantCode {
				t.Errorf("code = %s, want %s", prob.Code, wantCode)
			}
			if v, ok := CurrentVersion(prob); !ok || v != tt.current {
				t.Errorf("currentVersion = %v %v, want %d", v, ok, tt.current)
			}
		})
	}
}

func TestETag(t *testing.T) {
	if got := ETag(12); got != `"12"` {
		t.Fatalf("ETag(12) = %s", got)
	}
}
