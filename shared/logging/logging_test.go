package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sofie/integrations/shared/problem"
)

// TestTwoRequestIDsTwoNames: a line logged inside an API request carries
// API Gateway's and Lambda's ids under their own names, never one
// requestId key twice with two values.
func TestTwoRequestIDsTwoNames(t *testing.T) {
	var buf bytes.Buffer
	log := JSON(&buf, slog.LevelInfo)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-123"})
	ctx = problem.WithRequestID(httptest.NewRequest("GET", "/", nil).WithContext(ctx), "api-456").Context()
	log.InfoContext(ctx, "hello")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line[APIRequestID] != "api-456" || line[AWSRequestID] != "aws-123" {
		t.Fatalf("line %s", buf.Bytes())
	}
	if _, ok := line["requestId"]; ok || bytes.Count(buf.Bytes(), []byte("RequestId")) != 2 {
		t.Fatalf("an ambiguous request id key: %s", buf.Bytes())
	}
}

func TestLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "DEBUG": slog.LevelDebug, "TRACE": slog.LevelDebug, "INFO": slog.LevelInfo, "WARN": slog.LevelWarn, "ERROR": slog.LevelError, "FATAL": slog.LevelError, "bogus": slog.LevelInfo} {
		if got := Level(in); got != want {
			t.Errorf("Level(%q) = %v, want %v", in, got, want)
		}
	}
}
