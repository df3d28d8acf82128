// Package logging sets up log/slog: JSON lines that carry the request ids.
// Two ids describe one API request in Lambda, and they differ: API
// Gateway's (apiRequestId, the one a problem+json answer and the access
// log carry, which support gets from a user) and Lambda's (awsRequestId,
// the invocation's, which CloudWatch's REPORT lines and X-Ray carry).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sofie/integrations/shared/problem"
)

// Attribute names of the request ids.
const (
	APIRequestID = "apiRequestId" // API Gateway's request id
	AWSRequestID = "awsRequestId" // Lambda's invocation id
)

// ContextHandler adds the request ids the context carries to every record.
type ContextHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := problem.RequestID(ctx); id != "" {
		r.AddAttrs(slog.String(APIRequestID, id))
	}
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		r.AddAttrs(slog.String(AWSRequestID, lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h ContextHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}

// Lambda returns the logger a function's main installs with slog.SetDefault:
// JSON on stdout with the keys Lambda's JSON log format uses (timestamp,
// message; lambdacontext.ReplaceAttr), at the function's application log
// level (AWS_LAMBDA_LOG_LEVEL, from LoggingConfig). lambdacontext's own
// handler is not used because it names Lambda's id requestId, beside API
// Gateway's.
func Lambda() *slog.Logger {
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: Level(os.Getenv("AWS_LAMBDA_LOG_LEVEL")), ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(ContextHandler{h})
}

// Level reads a Lambda application log level (TRACE, DEBUG, INFO, WARN,
// ERROR, FATAL); anything else is INFO.
func Level(v string) slog.Level {
	switch strings.ToUpper(v) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// JSON returns a JSON logger writing to w (stderr when nil), for local runs
// and tests.
func JSON(w io.Writer, level slog.Level) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	return slog.New(ContextHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}
