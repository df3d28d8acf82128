// Package logging sets up log/slog: JSON lines that carry the API request
// id, inside Lambda through lambdacontext (which honours the function's
// LoggingConfig and adds the Lambda request id).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/sofie/integrations/shared/problem"
)

// ContextHandler adds the request id of the context to every record.
type ContextHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := problem.RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("requestId", id))
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

// Lambda returns the logger a function's main installs with slog.SetDefault.
func Lambda() *slog.Logger {
	return slog.New(ContextHandler{lambdacontext.NewLogHandler()})
}

// JSON returns a JSON logger writing to w (stderr when nil), for local runs
// and tests.
func JSON(w io.Writer, level slog.Level) *slog.Logger {
	if w == nil {
		w = os.Stderr
	}
	return slog.New(ContextHandler{slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}
