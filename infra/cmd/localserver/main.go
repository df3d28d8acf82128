// Command localserver is `make run`: the service's five functions behind an
// emulated API Gateway (127.0.0.1:3000) with the web console on the same
// origin (package webconsole, from web/dist), the Lambda Invoke API
// (127.0.0.1:3001), RefreshFunction on the template's schedule,
// EventsFunction on the table's stream (its lifecycle events in
// LOCAL_DATA_DIR/events.jsonl, or with STORE=aws on the EventBridge behind
// AWS_ENDPOINT_URL), and with
// FAKE_PROVIDERS=1 the fake provider (127.0.0.1:3002) standing in for
// Microsoft, Google and Salesforce. See package localserver.
//
// Configuration is the functions' own (config.Vars), read from the
// environment with local defaults: ENVIRONMENT=local, STORE=embedded,
// LOCAL_DATA_DIR=.local, PUBLIC_BASE_URL=http://127.0.0.1:3000. Tokens are
// HS256 JWTs signed with LOCAL_JWT_SECRET (make token mints them).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localapp"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/infra/webconsole"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/logging"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "localserver:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		templatePath = flag.String("template", "template.yaml", "SAM template to serve")
		apiAddr      = flag.String("api", localserver.APIAddr, "address of the emulated API Gateway")
		invokeAddr   = flag.String("invoke", localserver.InvokeAddr, "address of the Lambda Invoke API")
		fakeAddr     = flag.String("fake", localserver.FakeAddr, "address of the fake provider (FAKE_PROVIDERS=1)")
		schedule     = flag.Bool("schedule", true, "run scheduled functions on the template's schedule")
		every        = flag.Duration("schedule-every", 0, "run scheduled functions at this interval instead of the template's rate")
		logLevel     = flag.String("log-level", "info", "debug, info, warn or error")
		consoleDir   = flag.String("console", "web/dist", "the built web console (make web) to serve at / with the development sign-in; empty: API only")
	)
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := logging.JSON(os.Stderr, level)
	slog.SetDefault(logger) // the functions log through the default logger, as in Lambda

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	env := map[string]string{}
	getenv := localserver.LocalEnv(os.Getenv)

	// The fake provider must be listening before the configuration names it.
	var fakeSrv *http.Server
	var fake *fakeprovider.Server
	if os.Getenv("FAKE_PROVIDERS") == "1" {
		ttl, err := fakeprovider.ParseTokenTTL(os.Getenv("FAKE_PROVIDER_TOKEN_TTL"))
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *fakeAddr)
		if err != nil {
			return fmt.Errorf("fake provider: %w", err)
		}
		fake = fakeprovider.New(fakeprovider.Options{TokenTTL: ttl, AutoApprove: true, Lenient: true})
		fakeSrv = &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
		go serve(fakeSrv, ln, "fake provider")
		env["PROVIDER_ENDPOINT_OVERRIDE"] = "http://" + ln.Addr().String()
	}
	lookup := func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		return getenv(name)
	}

	cfg, err := config.FromEnv(lookup)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if !cfg.IsLocal() {
		return fmt.Errorf("ENVIRONMENT=%s: the local server runs only local or test configurations", cfg.Environment)
	}
	if cfg.Store == "embedded" {
		if err := os.MkdirAll(cfg.LocalDataDir, 0o700); err != nil {
			return fmt.Errorf("LOCAL_DATA_DIR: %w", err)
		}
	}
	deps, err := localapp.Build(ctx, cfg)
	if err != nil {
		return fmt.Errorf("build dependencies: %w", err)
	}
	defer func() {
		if err := deps.Close(); err != nil {
			logger.Error("closing stores", "err", err.Error())
		}
	}()
	if fake != nil {
		if err := localserver.SeedDefaultClients(ctx, deps.Secrets, fakeprovider.DefaultClients()); err != nil {
			return err
		}
	}

	stream, err := localapp.Stream(ctx, deps)
	if err != nil {
		return fmt.Errorf("the table's stream: %w", err)
	}

	secret := lookup("LOCAL_JWT_SECRET")
	if secret == "" {
		secret = localserver.DevJWTSecret
		logger.Warn("LOCAL_JWT_SECRET is not set: local tokens are signed with the built-in development secret")
	}
	srv, err := localserver.New(localserver.Options{
		Template:         *templatePath,
		Deps:             deps,
		JWTSecret:        []byte(secret),
		Logger:           logger,
		ScheduleInterval: *every,
		Parameters:       localserver.ParametersFromEnv(lookup),
		Streams:          stream,
	})
	if err != nil {
		return err
	}

	apiLn, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		return fmt.Errorf("API: %w", err)
	}
	invokeLn, err := net.Listen("tcp", *invokeAddr)
	if err != nil {
		_ = apiLn.Close()
		return fmt.Errorf("invoke API: %w", err)
	}
	apiHandler := srv.APIHandler()
	if *consoleDir != "" {
		withConsole, err := webconsole.Handler(apiHandler, webconsole.Options{
			Dir:       *consoleDir,
			Config:    webconsole.LocalConfig(cfg.Claims),
			DevSignIn: webconsole.MintWith([]byte(secret), cfg.Claims),
		})
		if err != nil {
			logger.Warn("serving the API without the web console", "err", err.Error())
			*consoleDir = ""
		} else {
			apiHandler = withConsole
		}
	}
	apiSrv := &http.Server{Handler: apiHandler, ReadHeaderTimeout: 10 * time.Second}
	invokeSrv := &http.Server{Handler: srv.InvokeHandler(), ReadHeaderTimeout: 10 * time.Second}
	go serve(apiSrv, apiLn, "API")
	go serve(invokeSrv, invokeLn, "invoke API")

	var wg sync.WaitGroup
	if *schedule {
		wg.Add(1)
		go func() { defer wg.Done(); srv.RunSchedule(ctx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); srv.RunStreams(ctx, time.Second) }()

	var routes []string
	for _, id := range srv.Template().FunctionIDs() {
		for _, r := range srv.Template().Functions[id].Routes {
			routes = append(routes, r.Key())
		}
	}
	logger.Info("local server ready",
		"api", "http://"+apiLn.Addr().String(), "invoke", "http://"+invokeLn.Addr().String(),
		"fakeProvider", env["PROVIDER_ENDPOINT_OVERRIDE"], "store", cfg.Store, "dataDir", cfg.LocalDataDir,
		"routes", len(routes), "environment", cfg.Environment, "corsOrigins", corsOrigins(srv.CORS()))
	fmt.Fprintf(os.Stderr, "\n  API          http://%s  (%d routes: %s)\n  Lambda       http://%s  (aws lambda invoke --endpoint-url http://%s --function-name RefreshFunction out.json)\n",
		apiLn.Addr(), len(routes), strings.Join(routes, ", "), invokeLn.Addr(), invokeLn.Addr())
	if *consoleDir != "" {
		fmt.Fprintf(os.Stderr, "  Console      http://%s/  (development sign-in)\n", apiLn.Addr())
	}
	if fake != nil {
		fmt.Fprintf(os.Stderr, "  Fake provider %s (auto-approve, any client id)\n", env["PROVIDER_ENDPOINT_OVERRIDE"])
	}
	if cfg.Store == "embedded" {
		fmt.Fprintf(os.Stderr, "  Events       %s  (lifecycle events, one JSON line each)\n", localapp.EventsFile(cfg))
	} else {
		fmt.Fprintf(os.Stderr, "  Events       EventBridge bus %q behind AWS_ENDPOINT_URL\n", cfg.EventBusName)
	}
	fmt.Fprintf(os.Stderr, "  Token        make token USER=u1 ORG=o1 ROLES=org_admin\n\n")

	<-ctx.Done()
	stop() // a second signal kills at once
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range []*http.Server{apiSrv, invokeSrv, fakeSrv} {
		if s != nil {
			errs = append(errs, s.Shutdown(shutdownCtx))
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// corsOrigins is what the log says of CORS.
func corsOrigins(c *localserver.CORS) string {
	if c == nil {
		return "off (LOCAL_CORS_ORIGINS)"
	}
	return strings.Join(c.AllowOrigins, ",")
}

func serve(s *http.Server, ln net.Listener, name string) {
	if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		slog.Error("server stopped", "server", name, "err", err.Error())
		os.Exit(1)
	}
}
