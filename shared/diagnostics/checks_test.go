package diagnostics

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
)

func TestGraphsAreValid(t *testing.T) {
	if got, want := CheckIDs(), []CheckID{ProviderEnabled, EnvironmentAvailable, ConfigurationComplete, ClientHealthy, UserInRollout, UserConnected, ConnectionHealthy, ScopesGranted, ActionSupported, ExternalPermission, ItemAccessible}; !slices.Equal(got, want) {
		t.Fatalf("report order = %v, want the issue's order %v", got, want)
	}
	for _, p := range catalog.New().All() {
		for _, writes := range []bool{false, true} {
			g := testGraph(p, capStrings(p.CapabilityIDs()), writes)
			for _, c := range p.CapabilityIDs() {
				needs := g.needsOf(CheckID("write_" + c))
				if writes != slices.Contains(needs, TestAccountConnected) {
					t.Errorf("%s: write_%s needs %v with writes %v", p.ID, c, needs, writes)
				}
			}
		}
		g := testGraph(p, capStrings(p.CapabilityIDs()), false)
		ids := g.ids()
		if ids[0] != TestAccountConnected {
			t.Errorf("%s: first step = %s", p.ID, ids[0])
		}
		for _, c := range p.CapabilityIDs() {
			for _, want := range []CheckID{CheckID("read_" + c), CheckID("write_" + c)} {
				if !slices.Contains(ids, want) {
					t.Errorf("%s: no step %s in %v", p.ID, want, ids)
				}
			}
		}
		if hasFiles := slices.Contains(p.CapabilityIDs(), catalog.Files); hasFiles != slices.Contains(ids, WorkspaceImport) {
			t.Errorf("%s: workspace_import present = %v, files capability = %v", p.ID, !hasFiles, hasFiles)
		}
	}
}

func capStrings(cs []catalog.Capability) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func TestNewGraphRefusesBadGraphs(t *testing.T) {
	run := func(context.Context, *run) outcome { return pass("") }
	tests := []struct {
		name string
		defs []checkDef
		want string
	}{
		{"duplicate", []checkDef{{ID: "a", Run: run}, {ID: "a", Run: run}}, "duplicate"},
		{"unknown need", []checkDef{{ID: "a", Needs: []CheckID{"b"}, Run: run}}, "unknown check"},
		{"cycle", []checkDef{{ID: "a", Needs: []CheckID{"b"}, Run: run}, {ID: "b", Needs: []CheckID{"a"}, Run: run}}, "cycle"},
		{"config cause missing", []checkDef{{ID: "a", NeedsConfig: true, Run: run}}, "cannot report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newGraph(tt.defs, "z")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// dependants is the documented graph, written out by hand: breaking the
// key fails it and skips exactly these. A change to the graph must change
// this table (and the README, Diagnostics) on purpose.
var dependants = map[CheckID][]CheckID{
	ProviderEnabled:       {ClientHealthy, ConnectionHealthy, ExternalPermission, ItemAccessible},
	EnvironmentAvailable:  {ClientHealthy, ConnectionHealthy, ExternalPermission, ItemAccessible},
	ConfigurationComplete: {ClientHealthy, ConnectionHealthy, ExternalPermission, ItemAccessible},
	ClientHealthy:         {ConnectionHealthy, ExternalPermission, ItemAccessible},
	UserInRollout:         nil,
	UserConnected:         {ConnectionHealthy, ScopesGranted, ExternalPermission, ItemAccessible},
	ConnectionHealthy:     {ExternalPermission, ItemAccessible},
	ScopesGranted:         {ExternalPermission, ItemAccessible},
	ActionSupported:       {ScopesGranted, ExternalPermission, ItemAccessible},
	ExternalPermission:    {ItemAccessible},
	ItemAccessible:        nil,
}

// TestBreakOneCheck evaluates the real graph with every check stubbed to
// pass except one: exactly that one fails, its dependants are skipped
// naming it, and every other check still passes.
func TestBreakOneCheck(t *testing.T) {
	for _, broken := range CheckIDs() {
		t.Run(string(broken), func(t *testing.T) {
			defs := slices.Clone(diagnosticsGraph.defs)
			for i := range defs {
				id := defs[i].ID
				defs[i].Run = func(context.Context, *run) outcome {
					if id == broken {
						return fail(OwnerAdmin, "broken", "fix it")
					}
					return pass("fine")
				}
			}
			g := mustGraph(defs, ProviderEnabled)
			checks := g.evaluate(context.Background(), &run{integration: &store.Integration{}})
			for _, c := range checks {
				switch {
				case c.ID == broken:
					if c.Status != Fail {
						t.Errorf("%s = %s, want fail", c.ID, c.Status)
					}
				case slices.Contains(dependants[broken], c.ID):
					if c.Status != Skipped || !strings.Contains(c.Message, string(broken)) || c.cause != broken {
						t.Errorf("%s = %s %q (cause %s), want skipped naming %s", c.ID, c.Status, c.Message, c.cause, broken)
					}
				default:
					if c.Status != Pass {
						t.Errorf("%s = %s, want pass (not a dependant of %s)", c.ID, c.Status, broken)
					}
				}
			}
			if got := Overall(checks); got != OverallBlocked {
				t.Errorf("overall = %s, want blocked", got)
			}
		})
	}
}

func TestMissingConfigurationSkipsConfigChecks(t *testing.T) {
	defs := slices.Clone(diagnosticsGraph.defs)
	for i := range defs {
		id := defs[i].ID
		defs[i].Run = func(context.Context, *run) outcome {
			if id == ProviderEnabled {
				return fail(OwnerAdmin, "not set up", "")
			}
			return pass("fine")
		}
	}
	checks := mustGraph(defs, ProviderEnabled).evaluate(context.Background(), &run{})
	want := map[CheckID]Status{
		ProviderEnabled: Fail, EnvironmentAvailable: Pass, ConfigurationComplete: Skipped, ClientHealthy: Skipped, UserInRollout: Skipped,
		UserConnected: Pass, ConnectionHealthy: Skipped, ScopesGranted: Skipped, ActionSupported: Skipped,
		ExternalPermission: Skipped, ItemAccessible: Skipped,
	}
	for _, c := range checks {
		if c.Status != want[c.ID] {
			t.Errorf("%s = %s, want %s", c.ID, c.Status, want[c.ID])
		}
		if c.Status == Skipped && c.cause != ProviderEnabled {
			t.Errorf("%s skipped for %s, want provider_enabled", c.ID, c.cause)
		}
	}
}

func TestEvaluateSkipRules(t *testing.T) {
	res := func(o outcome) func(context.Context, *run) outcome {
		return func(context.Context, *run) outcome { return o }
	}
	g := mustGraph([]checkDef{
		{ID: "warns", Owner: OwnerUser, Run: res(warn(OwnerUser, "slow", "retry"))},
		{ID: "after_warn", Owner: OwnerAdmin, Needs: []CheckID{"warns"}, Run: res(pass("ran"))},
		{ID: "na", Owner: OwnerUser, Run: res(notApplicable("nothing to do"))},
		{ID: "after_na", Owner: OwnerUser, Needs: []CheckID{"na"}, Run: res(pass("ran"))},
		{ID: "self_blocked", Owner: OwnerUser, Needs: []CheckID{"warns"}, Run: res(blockedBy("warns", ""))},
		{ID: "chain", Owner: OwnerAdmin, Needs: []CheckID{"self_blocked"}, Run: res(pass("never"))},
	}, "warns")
	got := map[CheckID]Check{}
	checks := g.evaluate(context.Background(), &run{})
	for _, c := range checks {
		got[c.ID] = c
	}
	if got["after_warn"].Status != Pass {
		t.Errorf("a warning need must not block: %+v", got["after_warn"])
	}
	if got["after_na"].Status != Pass {
		t.Errorf("a not-applicable need must not block: %+v", got["after_na"])
	}
	if c := got["self_blocked"]; c.Status != Skipped || c.cause != "warns" || !strings.Contains(c.Message, "warns") || c.Owner != OwnerUser {
		t.Errorf("self-decided skip = %+v", c)
	}
	if c := got["chain"]; c.Status != Skipped || c.cause != "warns" || !strings.Contains(c.Message, "warns did not pass") {
		t.Errorf("a chained skip must name the root cause: %+v", c)
	}
	if Overall(checks) != OverallDegraded {
		t.Errorf("overall = %s, want degraded", Overall(checks))
	}
}

func TestOverall(t *testing.T) {
	c := func(s Status, na bool) Check { return Check{Status: s, notApplicable: na} }
	tests := []struct {
		name   string
		checks []Check
		want   string
	}{
		{"all pass", []Check{c(Pass, false), c(Pass, false)}, OverallOK},
		{"pass and not applicable", []Check{c(Pass, false), c(Skipped, true)}, OverallOK},
		{"a warning", []Check{c(Pass, false), c(Warn, false)}, OverallDegraded},
		{"a blocked skip without failure", []Check{c(Pass, false), c(Skipped, false)}, OverallDegraded},
		{"a failure wins", []Check{c(Warn, false), c(Fail, false), c(Skipped, false)}, OverallBlocked},
	}
	for _, tt := range tests {
		if got := Overall(tt.checks); got != tt.want {
			t.Errorf("%s: overall = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestReadmeListsEveryCheck: the people who own support for connection
// failures read the check ids, meanings and remediations in the README.
func TestReadmeListsEveryCheck(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range CheckIDs() {
		row := "| `" + string(id) + "` |"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README has no row for check %s", id)
		}
	}
	for _, step := range []string{"test_account_connected", "read_<capability>", "write_<capability>", "workspace_import"} {
		if !strings.Contains(string(readme), "| `"+step+"` |") {
			t.Errorf("README has no row for test step %s", step)
		}
	}
}
