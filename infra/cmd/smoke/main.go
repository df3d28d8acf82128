// Command smoke checks a deployed stack with an admin's real token (make
// smoke; README "Deploy"): it lists the providers, reads the org's
// integrations, starts a connection without completing it, invokes
// RefreshFunction once, fetches one diagnostics report, prints what it saw,
// and exits 1 if any step failed (2 when it is not configured).
//
//	SMOKE_API=https://api.example.com/integrations SMOKE_TOKEN=<admin token> SMOKE_ORG=o-acme \
//	SMOKE_REFRESH_FUNCTION=integrations-prod-RefreshFunction-AbC123 \
//	SMOKE_RETURN_TO=https://app.example.com/settings make smoke
//
// Against make run: SMOKE_API=http://127.0.0.1:3000 SMOKE_REFRESH_FUNCTION=RefreshFunction
// SMOKE_INVOKE_ENDPOINT=http://127.0.0.1:3001, with a token from make token.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/sofie/integrations/infra/smoke"
)

func main() {
	cfg, err := smoke.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	inv, err := smoke.NewLambdaInvoker(ctx, cfg.InvokeEndpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r := &smoke.Runner{Config: cfg, Lambda: inv, Out: os.Stdout}
	if _, err := r.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "smoke:", err)
		os.Exit(1)
	}
}
