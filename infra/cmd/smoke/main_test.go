package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/config"
)

// TestMain runs the command itself when a test re-executes the test binary
// with SMOKE_TEST_MAIN=1, so the tests see its exit code and output.
func TestMain(m *testing.M) {
	if os.Getenv("SMOKE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// smokeCmd runs the command with env (plus SMOKE_TEST_MAIN) and returns its
// exit code and output.
func smokeCmd(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = []string{"SMOKE_TEST_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("run the command: %v", err)
	return 0, ""
}

// TestCommand: make smoke against the local server, as the README shows
// with make run (SMOKE_REFRESH_FUNCTION=RefreshFunction
// SMOKE_INVOKE_ENDPOINT=<the Invoke API>): exit 0 when every step passes, 1
// when one fails, 2 when it is not configured; the token never printed.
func TestCommand(t *testing.T) {
	env := localtest.New(t)
	const org = "o-smoke"
	admin := env.AdminToken("u-smoke-admin", org)
	if resp := env.Do("PUT", "/v1/orgs/"+org+"/integrations/"+catalog.Salesforce, admin, map[string]any{
		"enabled": true, "configMode": "default", "capabilities": []string{"crm"}, "authBaseUrl": "https://login.salesforce.com",
		"rollout": map[string]any{"mode": "everyone"},
	}); resp.Status != http.StatusCreated {
		t.Fatalf("enable: %s", resp)
	}
	vars := map[string]string{
		"SMOKE_API": env.URL, "SMOKE_TOKEN": admin, "SMOKE_ORG": org,
		"SMOKE_REFRESH_FUNCTION": config.RefreshFunction, "SMOKE_INVOKE_ENDPOINT": env.InvokeURL,
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range vars {
			m[a] = b
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name string
		env  map[string]string
		code int
		says string
	}{
		{"every step passes", vars, 0, "5 steps, 0 failed, 0 skipped"},
		{"a step fails", with("SMOKE_REFRESH_FUNCTION", "NoSuchFunction"), 1, "[FAIL] invoke NoSuchFunction once"},
		{"the API is unreachable", with("SMOKE_API", "http://127.0.0.1:1"), 1, "4 failed"},
		{"not configured", with("SMOKE_ORG", ""), 2, "set SMOKE_ORG"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := smokeCmd(t, tc.env)
			if code != tc.code || !strings.Contains(out, tc.says) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.says, out)
			}
			if strings.Contains(out, admin) {
				t.Fatalf("the output shows the token:\n%s", out)
			}
		})
	}
}
