// Command events is the EventsFunction Lambda function: the table's stream
// in, connection lifecycle events on EventBridge out. It links only what
// that uses: the shared AWS stores (package app), its own handler (package
// eventsfn) and the EventBridge client, which no other function links.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/eventsfn"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/logging"
)

func main() {
	slog.SetDefault(logging.Lambda())
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		slog.Error("invalid configuration", "err", err.Error())
		os.Exit(1)
	}
	deps, err := app.Build(context.Background(), cfg)
	if err != nil {
		slog.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	pub, err := eventsfn.Publisher(deps)
	if err != nil {
		slog.Error("cannot start", "err", err.Error())
		os.Exit(1)
	}
	lambda.StartWithOptions(eventsfn.Handler(deps, pub), lambda.WithEnableSIGTERM(func() { _ = deps.Close() }))
}
