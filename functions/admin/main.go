// Command admin is the AdminFunction Lambda function. It links only what
// its routes use: the shared AWS stores (package app) and its own handler
// (package adminfn).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/adminfn"
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
	lambda.StartWithOptions(adminfn.Handler(deps), lambda.WithEnableSIGTERM(func() { _ = deps.Close() }))
}
