// Package diagnostics runs the product page's "If a user cannot use an
// integration" checklist for real, check by check, and its "Test after
// changes" steps for an admin's own connection. Each check says whether it
// passed, why not, and who can fix it.
//
// Checks form a dependency graph, written as data below: a check runs only
// when the checks it needs passed (or only warned), and is otherwise reported
// as skipped, naming the check that did not pass. The graph is drawn so that
// breaking one thing fails exactly one check: the checks that do not need the
// broken thing are still evaluated and still pass.
package diagnostics

import (
	"context"
	"fmt"
	"slices"
)

// CheckID names a check. Ids are stable: support documentation and clients
// key on them (see the README, Diagnostics).
type CheckID string

// The diagnostics checks, in report order.
const (
	ProviderEnabled       CheckID = "provider_enabled"
	EnvironmentAvailable  CheckID = "environment_available"
	ConfigurationComplete CheckID = "configuration_complete"
	ClientHealthy         CheckID = "client_healthy"
	UserInRollout         CheckID = "user_in_rollout"
	UserConnected         CheckID = "user_connected"
	ConnectionHealthy     CheckID = "connection_healthy"
	ScopesGranted         CheckID = "scopes_granted"
	ActionSupported       CheckID = "action_supported"
	ExternalPermission    CheckID = "external_permission"
	ItemAccessible        CheckID = "item_accessible"
)

// Steps of the admin's "Test after changes". read_<capability> and
// write_<capability> are built per enabled capability.
const (
	TestAccountConnected CheckID = "test_account_connected"
	WorkspaceImport      CheckID = "workspace_import"
	readStepPrefix               = "read_"
	writeStepPrefix              = "write_"
)

// Status of one check.
type Status string

const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
	Skipped Status = "skipped"
)

// Owner is who can fix what a check found.
type Owner string

const (
	OwnerAdmin         Owner = "admin"          // an admin of the org, in the integration settings
	OwnerUser          Owner = "user"           // the user, usually by (re)connecting
	OwnerExternalAdmin Owner = "external_admin" // an admin of the provider tenant or org
)

// Overall verdicts.
const (
	OverallOK       = "ok"       // every check passed, or did not apply
	OverallBlocked  = "blocked"  // at least one check failed
	OverallDegraded = "degraded" // nothing failed, but something warned or could not be verified
)

// Check is one line of a report.
type Check struct {
	ID          CheckID `json:"id"`
	Status      Status  `json:"status"`
	Message     string  `json:"message"`
	Remediation string  `json:"remediation"`
	Owner       Owner   `json:"owner"`
	// Write is a write step's confirmations, when the test wrote (or was
	// asked to and did not): "Test after changes" only.
	Write *WriteConfirmation `json:"write,omitempty"`

	// notApplicable marks a skip that is not a problem (no item was asked
	// about, writes are off by policy): it does not make the overall verdict
	// worse and does not block dependants.
	notApplicable bool
	// cause is the check whose failure made this one skip (the root, when
	// skips chain).
	cause CheckID
}

// outcome is what a check function decides. Owner may be empty: the check's
// static owner is used.
type outcome struct {
	Status        Status
	Message       string
	Remediation   string
	Owner         Owner
	notApplicable bool
	cause         CheckID            // for a skip the check decided itself
	write         *WriteConfirmation // a write step's confirmations
}

func pass(msg string) outcome { return outcome{Status: Pass, Message: msg} }

func fail(owner Owner, msg, fix string) outcome {
	return outcome{Status: Fail, Owner: owner, Message: msg, Remediation: fix}
}

func warn(owner Owner, msg, fix string) outcome {
	return outcome{Status: Warn, Owner: owner, Message: msg, Remediation: fix}
}

// notApplicable is a skip that is fine: the check has nothing to look at.
func notApplicable(msg string) outcome {
	return outcome{Status: Skipped, Message: msg, notApplicable: true}
}

// blockedBy is a skip the check decides itself because something another
// check reports is missing (for example no token after connection_healthy
// only warned).
func blockedBy(id CheckID, msg string) outcome {
	return outcome{Status: Skipped, Message: msg, cause: id}
}

// checkDef is one node of a check graph.
type checkDef struct {
	ID CheckID
	// Owner is who usually fixes a failure of this check; outcomes may name
	// another one for a particular cause.
	Owner Owner
	// Needs are the checks that must pass (or only warn) before this one can
	// run. A failed or blocked need makes this check skip.
	Needs []CheckID
	// NeedsConfig: the check reads the org's integration record; when the
	// org never configured the provider it is skipped, citing CfgCause.
	NeedsConfig bool
	Run         func(ctx context.Context, r *run) outcome
}

// graph is a validated check graph: defs in report order and the order to
// evaluate them in (every check after its needs).
type graph struct {
	defs  []checkDef
	order []int
	// cfgCause is the check that reports a missing integration record.
	cfgCause CheckID
}

// newGraph validates defs (unique ids, needs that exist, no cycles) and
// computes an evaluation order that keeps report order where needs allow.
func newGraph(defs []checkDef, cfgCause CheckID) (*graph, error) {
	index := map[CheckID]int{}
	for i, d := range defs {
		if _, dup := index[d.ID]; dup {
			return nil, fmt.Errorf("check graph: duplicate check %q", d.ID)
		}
		index[d.ID] = i
	}
	for _, d := range defs {
		for _, n := range d.Needs {
			if _, ok := index[n]; !ok {
				return nil, fmt.Errorf("check graph: %q needs unknown check %q", d.ID, n)
			}
		}
		if d.NeedsConfig {
			if _, ok := index[cfgCause]; !ok || d.ID == cfgCause {
				return nil, fmt.Errorf("check graph: %q needs the configuration but %q cannot report it", d.ID, cfgCause)
			}
		}
	}
	const (
		unseen = iota
		visiting
		done
	)
	state := make([]int, len(defs))
	order := make([]int, 0, len(defs))
	var visit func(i int, path []CheckID) error
	visit = func(i int, path []CheckID) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("check graph: cycle %v", append(path, defs[i].ID))
		}
		state[i] = visiting
		for _, n := range defs[i].Needs {
			if err := visit(index[n], append(path, defs[i].ID)); err != nil {
				return err
			}
		}
		state[i] = done
		order = append(order, i)
		return nil
	}
	for i := range defs {
		if err := visit(i, nil); err != nil {
			return nil, err
		}
	}
	return &graph{defs: defs, order: order, cfgCause: cfgCause}, nil
}

func mustGraph(defs []checkDef, cfgCause CheckID) *graph {
	g, err := newGraph(defs, cfgCause)
	if err != nil {
		panic(err) // a programming error in the tables below; TestGraphs covers it
	}
	return g
}

// evaluate runs every check of g against r and returns the checks in report
// order.
func (g *graph) evaluate(ctx context.Context, r *run) []Check {
	results := make(map[CheckID]Check, len(g.defs))
	for _, i := range g.order {
		d := g.defs[i]
		results[d.ID] = g.evaluateOne(ctx, r, d, results)
	}
	out := make([]Check, len(g.defs))
	for i, d := range g.defs {
		out[i] = results[d.ID]
	}
	return out
}

func (g *graph) evaluateOne(ctx context.Context, r *run, d checkDef, results map[CheckID]Check) Check {
	for _, n := range d.Needs {
		dep := results[n]
		if dep.Status == Fail || (dep.Status == Skipped && !dep.notApplicable) {
			return skippedFor(d, rootCause(dep), results)
		}
	}
	if d.NeedsConfig && !r.hasIntegration() {
		return skippedFor(d, g.cfgCause, results)
	}
	o := d.Run(ctx, r)
	c := Check{ID: d.ID, Status: o.Status, Message: o.Message, Remediation: o.Remediation, Owner: o.Owner, notApplicable: o.notApplicable, Write: o.write}
	if c.Owner == "" {
		c.Owner = d.Owner
	}
	if o.Status == Skipped && !o.notApplicable {
		cause := o.cause
		if dep, ok := results[cause]; ok && dep.Status == Skipped {
			cause = rootCause(dep)
		}
		c.cause = cause
		if c.Message == "" {
			c.Message = fmt.Sprintf("Not checked because %s did not pass.", cause)
		}
		if c.Remediation == "" {
			c.Remediation = fmt.Sprintf("Fix %s first, then run diagnostics again.", cause)
		}
		if dep, ok := results[cause]; ok {
			c.Owner = dep.Owner
		}
	}
	return c
}

// rootCause is the check whose failure a skipped check stands for.
func rootCause(dep Check) CheckID {
	if dep.Status == Skipped && dep.cause != "" {
		return dep.cause
	}
	return dep.ID
}

func skippedFor(d checkDef, cause CheckID, results map[CheckID]Check) Check {
	owner := d.Owner
	if dep, ok := results[cause]; ok {
		owner = dep.Owner
	}
	return Check{
		ID:          d.ID,
		Status:      Skipped,
		Message:     fmt.Sprintf("Not checked because %s did not pass.", cause),
		Remediation: fmt.Sprintf("Fix %s first, then run diagnostics again.", cause),
		Owner:       owner,
		cause:       cause,
	}
}

// Overall folds checks into one verdict: blocked when any failed, degraded
// when any warned or was skipped for a reason other than not applying, ok
// otherwise.
func Overall(checks []Check) string {
	verdict := OverallOK
	for _, c := range checks {
		switch {
		case c.Status == Fail:
			return OverallBlocked
		case c.Status == Warn, c.Status == Skipped && !c.notApplicable:
			verdict = OverallDegraded
		}
	}
	return verdict
}

// ids lists the ids of defs, for documentation and tests.
func (g *graph) ids() []CheckID {
	out := make([]CheckID, len(g.defs))
	for i, d := range g.defs {
		out[i] = d.ID
	}
	return out
}

// needsOf returns the direct needs of id.
func (g *graph) needsOf(id CheckID) []CheckID {
	for _, d := range g.defs {
		if d.ID == id {
			return slices.Clone(d.Needs)
		}
	}
	return nil
}
