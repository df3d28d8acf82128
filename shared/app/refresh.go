package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// RefreshHandler is RefreshFunction's Lambda handler (EventBridge schedule).
func RefreshHandler(d *Deps) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, ev events.EventBridgeEvent) (map[string]any, error) {
		return map[string]any{"status": "not_implemented"}, nil // replaced by the refresh service (issue 6)
	})
}
