// Package rie runs built bootstrap binaries through the AWS Lambda Runtime
// Interface Emulator (the emulator `sam local` runs inside its container),
// pinned in go.mod's tool block and built with `go tool`. Tests and
// benchmarks use it to invoke exactly what Lambda runs: the same binary,
// the same Runtime API, one invocation at a time.
//
//	emu, _ := rie.Start(ctx, rie.Config{Emulator: path, Bootstrap: bin, Env: env})
//	defer emu.Stop()
//	out, took, _ := emu.Invoke(ctx, payload)
//
// The emulator serves one invocation at a time and fails on concurrent
// ones; Invoke serializes callers.
package rie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EmulatorPackage is the emulator's command, pinned as a tool in go.mod.
const EmulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// EmulatorPath builds the pinned emulator (go tool caches it) and returns
// the binary's path. moduleRoot is the directory of go.mod.
func EmulatorPath(ctx context.Context, moduleRoot string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "tool", "-n", "aws-lambda-rie")
	cmd.Dir = moduleRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("build the Lambda runtime emulator (go tool aws-lambda-rie): %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	path := strings.TrimSpace(string(out))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the Lambda runtime emulator is not at %q: %w", path, err)
	}
	return path, nil
}

// BuildBootstrap builds the function command pkg (e.g. "./functions/admin")
// for Linux on the host's architecture, with the flags of the Lambda build
// (CGO_ENABLED=0, -tags lambda.norpc -trimpath -ldflags "-s -w"), to
// outDir/bootstrap.
func BuildBootstrap(ctx context.Context, moduleRoot, pkg, outDir string) (string, error) {
	out := filepath.Join(outDir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w: %s", pkg, err, b)
	}
	return out, nil
}

// Config describes one emulated function.
type Config struct {
	// Emulator is the aws-lambda-rie binary (EmulatorPath).
	Emulator string
	// Bootstrap is the function's binary.
	Bootstrap string
	// FunctionName is reported as AWS_LAMBDA_FUNCTION_NAME.
	FunctionName string
	// Timeout is the function's timeout (default 30 s).
	Timeout time.Duration
	// Env is the function's environment ("NAME=value"); nothing of the test
	// process's environment is passed on except PATH and HOME.
	Env []string
	// Output receives the emulator's and the function's output (logs).
	// Default: kept in memory, see Emulator.Output.
	Output io.Writer
}

// Emulator is one running emulator with its function.
type Emulator struct {
	// URL is the emulator's invocation endpoint.
	URL     string
	cmd     *exec.Cmd
	started time.Time
	exited  chan struct{}
	output  *syncBuffer
	mu      sync.Mutex // one invocation at a time
	client  *http.Client
}

// Start starts the emulator on free loopback ports. The function itself
// starts (its init phase runs) on the first invocation, as in Lambda.
func Start(ctx context.Context, c Config) (*Emulator, error) {
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	emuAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		URL:    "http://" + emuAddr + "/2015-03-31/functions/function/invocations",
		exited: make(chan struct{}),
		output: &syncBuffer{},
		client: &http.Client{Timeout: c.Timeout + 10*time.Second},
	}
	cmd := exec.Command(c.Emulator,
		"--runtime-interface-emulator-address", emuAddr,
		"--runtime-api-address", apiAddr,
		"--log-level", "error",
		c.Bootstrap)
	cmd.Dir = filepath.Dir(c.Bootstrap)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AWS_LAMBDA_FUNCTION_NAME=" + c.FunctionName,
		fmt.Sprintf("AWS_LAMBDA_FUNCTION_TIMEOUT=%d", int(c.Timeout.Seconds())),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_REGION=us-east-1",
	}, c.Env...)
	var out io.Writer = e.output
	if c.Output != nil {
		out = io.MultiWriter(e.output, c.Output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group: Stop ends the function's process too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the Lambda runtime emulator: %w", err)
	}
	e.cmd = cmd
	go func() { _ = cmd.Wait(); close(e.exited) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", emuAddr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return e, nil
		}
		select {
		case <-e.exited:
			return nil, fmt.Errorf("the Lambda runtime emulator exited at start: %s", e.Output())
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the Lambda runtime emulator did not listen on %s within 10 s: %s", emuAddr, e.Output())
		}
	}
}

// Started is when the emulator process started: process start to the first
// invocation's answer is the cold start.
func (e *Emulator) Started() time.Time { return e.started }

// Invoke sends one event and returns the function's answer and how long the
// round trip took. The emulator answers a function error with the error
// payload, as the Invoke API does.
func (e *Emulator) Invoke(ctx context.Context, payload []byte) ([]byte, time.Duration, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, "POST", e.URL, bytes.NewReader(payload))
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("invoke: %w (emulator output: %s)", err, e.Output())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	if err != nil {
		return nil, took, fmt.Errorf("invoke: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return body, took, fmt.Errorf("invoke: emulator answered %d: %s", resp.StatusCode, body)
	}
	return body, took, nil
}

// Output returns what the emulator and the function printed.
func (e *Emulator) Output() string { return e.output.String() }

// Stop ends the emulator and the function (SIGTERM, then SIGKILL after 3 s)
// and waits for them.
func (e *Emulator) Stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	pgid := e.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-e.exited
	}
	// The function may outlive the emulator in its group for a moment.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
