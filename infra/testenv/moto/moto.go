// Package moto runs moto_server (moto 5.2.1: DynamoDB with transactions,
// TTL, GSIs and conditions; Secrets Manager) for the tests of one test
// binary, on a free loopback port:
//
//	func TestMain(m *testing.M) { moto.Main(m) }
//
//	func TestX(t *testing.T) {
//		cfg := moto.Config(t)          // aws.Config pointed at the server
//		table := moto.Prefix(t) + "table"
//		...
//	}
//
// The server starts on the first Endpoint call (tests that do not need it
// pay nothing) and Main stops it when the tests end. A test that needs it
// fails, never skips, when it cannot start, with how to install it.
// MOTO_ENDPOINT=http://host:port uses an already running server instead.
//
// moto keeps state for the life of the server: tests isolate themselves by
// naming every table and secret with Prefix(t).
//
// Tests reach moto through a proxy in the test binary that passes one
// request at a time. moto_server handles requests on threads without
// locking its DynamoDB tables, so two concurrent conditional writes to one
// item can both pass their condition (seen here: two of 50 concurrent
// conditional DeleteItems "won"). DynamoDB applies each item write
// atomically; serialising restores that, at little cost since moto runs
// one request at a time under Python's GIL anyway.
//
// The proxy is also where tests inject faults at the wire (Inject: DynamoDB
// throttling, conditional-check failures, a concurrent writer landing just
// before a request), so the SDK's real retry path runs.
package moto

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Install is how to get moto_server where it is missing.
const Install = "pip install 'moto[server]==5.2.1'"

// Region is the region every test client uses.
const Region = "us-east-1"

var server struct {
	once     sync.Once
	endpoint string
	err      error
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the started process has exited
	output   *syncBuffer
	proxy    *http.Server
}

// Main runs the package's tests and stops moto_server (if they started it)
// before exiting.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Endpoint returns the base URL of this test binary's moto_server,
// starting it on first use. It fails t when the server cannot start.
func Endpoint(t testing.TB) string {
	t.Helper()
	server.once.Do(start)
	if server.err != nil {
		t.Fatalf("moto_server is required for this test and could not be started: %v\nInstall it with: %s", server.err, Install)
	}
	return server.endpoint
}

// Config returns an SDK configuration for the server: fixed fake
// credentials, region us-east-1, and the server as every service's endpoint.
func Config(t testing.TB) aws.Config {
	t.Helper()
	ep := Endpoint(t)
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(ep),
		// moto never throttles (Inject does); keep the SDK's default retryer.
	}
}

var seq atomic.Int64

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9-]+`)

// Prefix returns a name prefix unique to this test within the server's
// lifetime ("t17-TestFoo-bar-"), valid in DynamoDB table names and Secrets
// Manager secret names.
func Prefix(t testing.TB) string {
	name := unsafeName.ReplaceAllString(t.Name(), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return fmt.Sprintf("t%d-%s-", seq.Add(1), strings.Trim(name, "-"))
}

// Stop stops the server if this binary started it.
func Stop() {
	if server.proxy != nil {
		server.proxy.Close()
		server.proxy = nil
	}
	if server.cmd == nil || server.cmd.Process == nil {
		return
	}
	// The process group: moto_server may be a wrapper script's child.
	_ = syscall.Kill(-server.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-server.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-server.cmd.Process.Pid, syscall.SIGKILL)
		<-server.exited
	}
	server.cmd = nil
}

func start() {
	startServer()
	if server.err != nil {
		return
	}
	ep, err := serialize(server.endpoint)
	if err != nil {
		server.err = err
		return
	}
	server.endpoint = ep
}

// serialize starts the one-request-at-a-time proxy to moto at target and
// returns its base URL.
func serialize(target string) (string, error) {
	srv, ep, err := newSerialProxy(target)
	if err != nil {
		return "", err
	}
	server.proxy = srv
	return ep, nil
}

// newSerialProxy serves a reverse proxy to target on a free loopback port
// that passes one request at a time.
func newSerialProxy(target string) (*http.Server, string, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, "", fmt.Errorf("moto endpoint %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("listen for the moto proxy: %w", err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(u) }}
	var mu sync.Mutex
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Injected faults (Inject) first, outside the serialised section:
		// a fault's Before may itself call moto.
		if intercept(w, r) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

func startServer() {
	if ep := os.Getenv("MOTO_ENDPOINT"); ep != "" {
		server.endpoint = strings.TrimRight(ep, "/")
		server.err = waitReady(server.endpoint, 10*time.Second, nil)
		return
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		server.err = fmt.Errorf("moto_server is not on PATH")
		return
	}
	// A port freed by the kernel can be taken by someone else before
	// moto_server binds it: try a few.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			server.err = err
			return
		}
		out := &syncBuffer{}
		cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = sysProcAttr()
		if err := cmd.Start(); err != nil {
			server.err = fmt.Errorf("start %s: %w", bin, err)
			return
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		ep := "http://127.0.0.1:" + strconv.Itoa(port)
		err = waitReady(ep, 30*time.Second, exited)
		if err == nil {
			server.endpoint, server.cmd, server.exited, server.output, server.err = ep, cmd, exited, out, nil
			return
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		server.err = fmt.Errorf("%w; moto_server output:\n%s", err, out.tail(2000))
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls the server's moto-api until it answers.
func waitReady(ep string, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ep+"/moto-api/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("moto_server exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("moto_server at %s not ready after %v", ep, timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // moto logs every request: keep memory bounded
		s.b.Reset()
	}
	return s.b.Write(p)
}

func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
