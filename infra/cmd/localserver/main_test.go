package main_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The commands as a developer runs them: make run (this command) and make
// token, the real AWS CLI against the Invoke API, and a clean stop on
// SIGTERM that leaves the data directory usable.

type server struct {
	cmd         *exec.Cmd
	api, invoke string
	fake        string
	exited      chan struct{}
	stderr      *lockedBuilder
}

// lockedBuilder is the server's stderr, written by the reader goroutine.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func buildBinary(t *testing.T, pkg, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func startServer(t *testing.T, bin, dataDir string, extraEnv ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, "-template", "../../../template.yaml",
		"-api", "127.0.0.1:0", "-invoke", "127.0.0.1:0", "-fake", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "LOCAL_DATA_DIR="+dataDir, "FAKE_PROVIDERS=1", "LOCAL_JWT_SECRET=cmd-test-secret",
		"STORE=", "ENVIRONMENT=", "PROVIDER_ENDPOINT_OVERRIDE=")
	cmd.Env = append(cmd.Env, extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), stderr: &lockedBuilder{}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan map[string]any, 1)
	// One goroutine reads stderr to its end, then waits: Wait closes the
	// pipe, so a Wait beside the reader could drop the last lines (the
	// shutdown line was lost so on a loaded machine).
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.WriteString(line + "\n")
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "local server ready" {
				select { // one ready line; never block the reader
				case ready <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // past a line too long to scan
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	select {
	case m := <-ready:
		s.api, s.invoke, s.fake = m["api"].(string), m["invoke"].(string), m["fakeProvider"].(string)
	case <-s.exited:
		t.Fatalf("the local server exited at start:\n%s", s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("the local server was not ready within 30 s:\n%s", s.stderr)
	}
	return s
}

func TestLocalServerCommand(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, ".", dir, "localserver")
	tokenBin := buildBinary(t, "../token", dir, "token")
	data := filepath.Join(dir, "data")
	s := startServer(t, bin, data)

	get := func(url, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &body)
		return resp.StatusCode, body
	}

	if status, body := get(s.api+"/v1/providers", ""); status != 401 || body["code"] != "unauthorized" {
		t.Errorf("without a token: %d %v", status, body)
	}
	// make token signs with the same LOCAL_JWT_SECRET.
	tok := exec.Command(tokenBin, "-user", "u1", "-org", "o1", "-roles", "org_admin", "-groups", "pilot")
	tok.Env = append(os.Environ(), "LOCAL_JWT_SECRET=cmd-test-secret")
	out, err := tok.Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	token := strings.TrimSpace(string(out))
	if status, body := get(s.api+"/v1/providers", token); status != 200 || body["providers"] == nil {
		t.Errorf("GET /v1/providers with a token: %d %v", status, body)
	}
	// A token signed with another secret is refused.
	other := exec.Command(tokenBin, "-user", "u1", "-org", "o1")
	other.Env = append(os.Environ(), "LOCAL_JWT_SECRET=another-secret")
	if out, err := other.Output(); err == nil {
		if status, _ := get(s.api+"/v1/providers", strings.TrimSpace(string(out))); status != 401 {
			t.Errorf("token with the wrong secret: %d", status)
		}
	}
	// make run puts the lifecycle events in LOCAL_DATA_DIR/events.jsonl:
	// the table's stream is played into EventsFunction every second.
	put, _ := http.NewRequest("PUT", s.api+"/v1/orgs/o1/integrations/google_workspace",
		strings.NewReader(`{"enabled":true,"configMode":"default","capabilities":["email"],"rollout":{"mode":"everyone"}}`))
	put.Header.Set("Authorization", "Bearer "+token)
	put.Header.Set("Content-Type", "application/json")
	put.Header.Set("If-None-Match", "*")
	if resp, err := http.DefaultClient.Do(put); err != nil || resp.StatusCode != 201 {
		t.Fatalf("enable google_workspace: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	var published []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if published, _ = os.ReadFile(filepath.Join(data, "events.jsonl")); len(published) > 0 {
			break
		}
	}
	var ev map[string]any
	if err := json.Unmarshal(published, &ev); err != nil || ev["detail-type"] != "Integration Enabled" || ev["source"] != "integrations" {
		t.Errorf("events.jsonl after enabling a provider: %q (%v)", published, err)
	}
	if resp, err := http.Get(s.fake + "/accounts.google.com/o/oauth2/v2/auth"); err != nil {
		t.Errorf("fake provider: %v", err)
	} else {
		resp.Body.Close()
	}

	t.Run("aws lambda invoke", func(t *testing.T) {
		aws := "/usr/bin/aws" // Debian's awscli (make tools installs it)
		if _, err := os.Stat(aws); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the AWS CLI is missing at %s: apt-get install awscli", aws)
			}
			t.Skipf("the AWS CLI is missing at %s: apt-get install awscli", aws)
		}
		outFile := filepath.Join(t.TempDir(), "out.json")
		cmd := exec.Command(aws, "lambda", "invoke", "--endpoint-url", s.invoke, "--function-name", "RefreshFunction", outFile)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1",
			"AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws lambda invoke: %v\n%s", err, b)
		}
		var meta map[string]any
		if err := json.Unmarshal(b, &meta); err != nil || meta["StatusCode"] != 200.0 || meta["FunctionError"] != nil {
			t.Errorf("aws lambda invoke printed %s", b)
		}
		result, _ := os.ReadFile(outFile)
		var res map[string]any
		if err := json.Unmarshal(result, &res); err != nil || res["complete"] != true {
			t.Errorf("RefreshFunction result %s", result)
		}

		cmd = exec.Command(aws, "lambda", "invoke", "--endpoint-url", s.invoke, "--function-name", "NoSuchFunction", outFile)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null")
		if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "ResourceNotFoundException") {
			t.Errorf("unknown function: %v %s", err, b)
		}
	})

	// SIGTERM: a clean stop (exit 0), and the embedded store is released so
	// the next start opens the same data.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit within 15 s of SIGTERM:\n%s", s.stderr)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, s.stderr)
	}
	if !strings.Contains(s.stderr.String(), "shutting down") {
		t.Errorf("no shutdown log line")
	}
	s2 := startServer(t, bin, data)
	if status, _ := get(s2.api+"/v1/providers", token); status != 200 {
		t.Errorf("after a restart on the same data: %d", status)
	}
}

// TestLocalCORSOrigins: LOCAL_CORS_ORIGINS is make run's value of the
// template's CorsAllowedOrigins: the API answers preflights for those
// origins; a value the template's pattern refuses stops the start.
func TestLocalCORSOrigins(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, ".", dir, "localserver")
	s := startServer(t, bin, filepath.Join(dir, "data"), "LOCAL_CORS_ORIGINS=https://app.example.test,http://localhost:5173")
	req, _ := http.NewRequest("OPTIONS", s.api+"/v1/orgs/o1/integrations/microsoft365", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,if-match")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PUT") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}

	bad := exec.Command(bin, "-template", "../../../template.yaml", "-api", "127.0.0.1:0", "-invoke", "127.0.0.1:0", "-schedule=false")
	bad.Env = append(os.Environ(), "LOCAL_DATA_DIR="+filepath.Join(dir, "bad"), "LOCAL_JWT_SECRET=cmd-test-secret",
		"STORE=", "ENVIRONMENT=", "PROVIDER_ENDPOINT_OVERRIDE=", "FAKE_PROVIDERS=", "LOCAL_CORS_ORIGINS=https://app.example.test, https://other.example.test")
	out, err := bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "CorsAllowedOrigins") {
		t.Fatalf("a value with a space: %v\n%s", err, out)
	}
}
