package templatetest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// featurePackages are each function's own packages: its wiring package and
// the feature it serves. shared/refresh (the token refresh service) is
// RefreshFunction's run and DiagnosticsFunction's on-demand token source,
// one lease and one code path by design, so it belongs to both.
var featurePackages = map[string][]string{
	"admin":       {"shared/app/adminfn", "shared/admin"},
	"oauth":       {"shared/app/oauthfn", "shared/connections"},
	"refresh":     {"shared/app/refreshfn", "shared/app/refreshsvc", "shared/refresh"},
	"diagnostics": {"shared/app/diagnosticsfn", "shared/app/refreshsvc", "shared/refresh", "shared/diagnostics"},
	"events":      {"shared/app/eventsfn", "shared/events", "shared/events/eventbridge"},
}

// ownSDKClients are AWS SDK clients only one function may link: the
// EventBridge client costs a bootstrap 393,216 B (see shared/events), which
// the API functions have no room for within issue 13's 1.10× budget.
var ownSDKClients = map[string]string{
	"github.com/aws/aws-sdk-go-v2/service/eventbridge": "events",
}

// localOnly are packages no Lambda build may link: the embedded store and
// the local composition root, and html/template, whose reflection keeps
// every exported method of the binary alive.
var localOnly = []string{"go.etcd.io/bbolt", "github.com/sofie/integrations/shared/store/boltstore",
	"github.com/sofie/integrations/infra/", "html/template", "text/template"}

// TestFunctionsLinkOnlyWhatTheyServe: go list -deps of each function's
// command, built as sam build builds it (-tags lambda.norpc), holds no other
// function's feature package and nothing local-only.
func TestFunctionsLinkOnlyWhatTheyServe(t *testing.T) {
	const module = "github.com/sofie/integrations/"
	for fn, own := range featurePackages {
		t.Run(fn, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", "./functions/"+fn)
			cmd.Dir = root
			cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			for other, pkgs := range featurePackages {
				for _, p := range pkgs {
					if slices.Contains(own, p) {
						continue
					}
					if slices.Contains(deps, module+p) {
						t.Errorf("functions/%s links %s, a package of functions/%s", fn, p, other)
					}
				}
			}
			for _, p := range own {
				if !slices.Contains(deps, module+p) {
					t.Errorf("functions/%s does not link its own %s: is the table above stale?", fn, p)
				}
			}
			for client, owner := range ownSDKClients {
				if linked := slices.Contains(deps, client); linked != (fn == owner) {
					t.Errorf("functions/%s links %s: %v; only functions/%s may", fn, client, linked, owner)
				}
			}
			for _, d := range deps {
				for _, bad := range localOnly {
					if d == bad || strings.HasPrefix(d, strings.TrimSuffix(bad, "/")+"/") || (strings.HasSuffix(bad, "/") && strings.HasPrefix(d, bad)) {
						t.Errorf("functions/%s links %s, which no Lambda build may link", fn, d)
					}
				}
			}
		})
	}
}
