package diagnostics

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// MaxImportBytes bounds the workspace-import download: enough to prove the
// content streams, without pulling a large file through a Lambda.
const MaxImportBytes = 25 << 20

// TestRequest asks for the product page's "Test after changes", with the
// org's test account when it has one, else the caller's (an admin's) own
// connection.
type TestRequest struct {
	Caller   auth.Principal
	Provider catalog.Provider
	// Item, when set, is fetched by id as part of the read step of
	// ItemCapability.
	Item           string
	ItemCapability catalog.Capability
	// ImportItem, when set, is a file whose metadata and content are
	// downloaded as the workspace-import step.
	ImportItem string
	// Writes asks for the reversible write test (writetest.go): refused
	// unless the org allows writes and the test runs as its test account.
	Writes bool
}

// TestReport is the answer of POST /v1/orgs/{orgId}/integrations/{provider}/test.
type TestReport struct {
	Provider string `json:"provider"`
	// User is the admin who ran the test.
	User string `json:"user"`
	// Account is the account the test ran as (testaccount.go).
	Account TestAccountInfo `json:"account"`
	Overall string          `json:"overall"`
	// WritesPerformed is true only when the test created an item at the
	// provider (asked for with writes.confirm); each write step then
	// carries its confirmations. Without writes nothing is ever created,
	// changed, sent or deleted.
	WritesPerformed bool    `json:"writesPerformed"`
	Steps           []Check `json:"steps"`
}

// accountGraph is the part of the diagnostics graph that decides whether a
// test account can be used at all; test_account_connected summarizes it.
var accountGraph = subGraph(diagnosticsGraph, ProviderEnabled, EnvironmentAvailable, ConfigurationComplete, ClientHealthy, UserConnected, ConnectionHealthy)

// subGraph keeps the listed checks of g (their needs must be among them).
func subGraph(g *graph, ids ...CheckID) *graph {
	var defs []checkDef
	for _, d := range g.defs {
		if slices.Contains(ids, d.ID) {
			defs = append(defs, d)
		}
	}
	return mustGraph(defs, g.cfgCause)
}

// testGraph builds the steps for the capabilities the org enabled, in
// catalog order:
//
//	test_account_connected  -                       (summarizes accountGraph)
//	read_<capability>       test_account_connected
//	write_<capability>      - (the org's record; reads only stored scopes)
//	                        with writes: test_account_connected (it writes with the token)
//	workspace_import        read_files              (only when files is enabled)
func testGraph(p catalog.Provider, enabled []string, writes bool) *graph {
	defs := []checkDef{{ID: TestAccountConnected, Owner: OwnerUser, Run: stepTestAccount}}
	var caps []catalog.CapabilitySpec
	for _, cs := range p.Capabilities {
		if slices.Contains(enabled, string(cs.ID)) {
			caps = append(caps, cs)
		}
	}
	for _, cs := range caps {
		defs = append(defs, checkDef{
			ID: CheckID(readStepPrefix + string(cs.ID)), Owner: OwnerExternalAdmin,
			Needs: []CheckID{TestAccountConnected}, Run: stepRead(cs),
		})
	}
	for _, cs := range caps {
		d := checkDef{ID: CheckID(writeStepPrefix + string(cs.ID)), Owner: OwnerUser, NeedsConfig: true, Run: stepWrite(cs)}
		if writes && cs.WriteTest != "" {
			d.Needs = []CheckID{TestAccountConnected}
		}
		defs = append(defs, d)
	}
	for _, cs := range caps {
		if cs.ID == catalog.Files {
			defs = append(defs, checkDef{
				ID: WorkspaceImport, Owner: OwnerUser,
				Needs: []CheckID{CheckID(readStepPrefix + string(catalog.Files))}, Run: stepImport(cs),
			})
		}
	}
	return mustGraph(defs, TestAccountConnected)
}

// TestAfterChanges runs the admin's test. It writes to the provider only
// when req.Writes asks for it, and then only what writetest.go says; a
// refused request is a *problem.Problem.
func (s *Service) TestAfterChanges(ctx context.Context, req TestRequest) (TestReport, error) {
	start := s.now()
	r, err := s.testRun(ctx, req.Caller, req.Provider)
	if err != nil {
		return TestReport{}, err
	}
	if req.Writes {
		if err := writesRefused(r); err != nil {
			return TestReport{}, err
		}
		r.writes = &writeRun{deadline: start.Add(s.opts.TestDeadline)}
	}
	r.action = catalog.Read
	var enabled []string
	if r.integration != nil {
		enabled = r.integration.Capabilities
	}
	r.item, r.itemCap, r.importItem = req.Item, req.ItemCapability, req.ImportItem
	steps := testGraph(req.Provider, enabled, r.writes != nil).evaluate(ctx, r)
	rep := TestReport{
		Provider:        req.Provider.ID,
		User:            req.Caller.UserID,
		Account:         r.usedAccount(),
		Overall:         Overall(steps),
		WritesPerformed: writesPerformed(steps),
		Steps:           steps,
	}
	logReport(ctx, "test after changes", rep.Provider, r, rep.Overall, steps)
	if r.writes != nil {
		s.auditWrites(ctx, r, steps)
	}
	return rep, nil
}

func stepTestAccount(ctx context.Context, r *run) outcome {
	checks := accountGraph.evaluate(ctx, r)
	var worst *Check
	for i := range checks {
		c := &checks[i]
		switch {
		case c.Status == Fail:
			if worst == nil || worst.Status != Fail {
				worst = c
			}
		case c.Status == Warn && worst == nil:
			worst = c
		}
	}
	if worst != nil {
		return outcome{Status: worst.Status, Owner: worst.Owner,
			Message:     string(worst.ID) + ": " + worst.Message,
			Remediation: testAccountRemedy(r, *worst)}
	}
	acct := r.conn.Account.Email
	if acct == "" {
		acct = r.conn.Account.Name
	}
	msg := "Your test account is connected"
	if r.testAccount {
		msg = "The organization's test account is connected"
	}
	if acct != "" {
		msg += " (" + acct + ")"
	}
	return pass(msg + ", and " + r.provider.DisplayName + " accepts its access token.")
}

func stepRead(cs catalog.CapabilitySpec) func(context.Context, *run) outcome {
	return func(ctx context.Context, r *run) outcome {
		if r.token == "" {
			return blockedBy(TestAccountConnected, "")
		}
		p := r.provider
		if missing := p.MissingScopes(cs.ReadScopes, r.conn.GrantedScopes); len(missing) > 0 {
			return fail(OwnerUser, "The test account did not grant the permissions to read "+cs.Label+": "+strings.Join(missing, ", ")+".",
				"Reconnect the test account and approve every requested permission.")
		}
		u, err := r.provider.ProbeURL(cs.Probe.ReadURL, r.conn.Account, "")
		if err != nil {
			return fail(OwnerUser, "The connection does not record a usable "+p.DisplayName+" instance address.",
				"Reconnect the test account in Connected apps.")
		}
		res, failed := r.get(ctx, u)
		if failed != nil {
			return *failed
		}
		o := readOutcome(p, cs, res)
		if o.Status != Pass || r.item == "" || r.itemCap != cs.ID {
			return o
		}
		iu, err := r.provider.ProbeURL(cs.Probe.ItemURL, r.conn.Account, r.item)
		if err != nil {
			return fail(OwnerUser, "The item id cannot be used here.", "Check the id; it should be "+cs.Probe.ItemHint+".")
		}
		ires, failed := r.get(ctx, iu)
		if failed != nil {
			return *failed
		}
		io := itemOutcome(p, cs, ires)
		if io.Status != Pass {
			io.Message = "The live read succeeded, but the named item could not be read: " + io.Message
			return io
		}
		return pass("A live read of " + cs.Label + " succeeded, and the named item exists and is readable.")
	}
}

func stepWrite(cs catalog.CapabilitySpec) func(context.Context, *run) outcome {
	return func(ctx context.Context, r *run) outcome {
		const none = " No write was performed."
		var writes []catalog.Action
		for _, a := range cs.Actions {
			if a.IsWrite() {
				writes = append(writes, a)
			}
		}
		if len(writes) == 0 {
			return notApplicable(r.provider.DisplayName + " supports no write actions for " + cs.Label + "." + none)
		}
		if !r.integration.AllowWriteActions {
			return notApplicable("Write actions are turned off for this organization, so none apply to " + cs.Label + "." + none)
		}
		if r.writes != nil {
			return stepWriteLive(ctx, r, cs)
		}
		if r.conn == nil {
			return blockedBy(TestAccountConnected, "Write permissions cannot be checked without a connected test account."+none)
		}
		var lacking []string
		var missingScopes []string
		for _, a := range writes {
			if m := r.provider.MissingScopes(cs.ScopesFor(a), r.conn.GrantedScopes); len(m) > 0 {
				lacking = append(lacking, string(a))
				for _, s := range m {
					if !slices.Contains(missingScopes, s) {
						missingScopes = append(missingScopes, s)
					}
				}
			}
		}
		if len(lacking) > 0 {
			return warn(OwnerUser, fmt.Sprintf("Write actions are allowed, but the test account did not grant the permissions for %s on %s: %s.%s",
				strings.Join(lacking, ", "), cs.Label, strings.Join(missingScopes, ", "), none),
				"Reconnect the test account and approve every requested permission; then run the test with writes confirmed.")
		}
		return outcome{Status: Pass, Message: fmt.Sprintf("Write actions (%s) on %s are allowed by policy and their permissions are granted.%s",
			joinActions(writes), cs.Label, none),
			Remediation: "To test them, run the test with writes confirmed: each capability then creates one item in the test account and deletes it, with every confirmation shown."}
	}
}

func stepImport(cs catalog.CapabilitySpec) func(context.Context, *run) outcome {
	return func(ctx context.Context, r *run) outcome {
		if r.importItem == "" {
			return notApplicable("No file was named; pass importItem (" + cs.Probe.ItemHint + ") to test workspace import.")
		}
		if r.token == "" {
			// The provider refused the token and refreshing it failed.
			return blockedBy(CheckID(readStepPrefix+string(catalog.Files)), "")
		}
		p := r.provider
		mu, err := p.ProbeURL(cs.Probe.ItemURL, r.conn.Account, r.importItem)
		if err != nil {
			return fail(OwnerUser, "The file id cannot be used here.", "Check the id; it should be "+cs.Probe.ItemHint+".")
		}
		res, failed := r.get(ctx, mu)
		if failed != nil {
			return *failed
		}
		if res.kind != oauthfail.APIOK {
			o := itemOutcome(p, cs, res)
			o.Message = "The file's metadata could not be read: " + o.Message
			return o
		}
		meta, ok := p.Dialect.FileMeta(res.body)
		switch {
		case !ok:
			return warn(OwnerUser, p.DisplayName+" gave unreadable file metadata.", "Try again in a few minutes.")
		case meta.Folder:
			return fail(OwnerUser, "The named item is a folder; workspace import takes files.", "Name a file instead.")
		case meta.Exported:
			return warn(OwnerUser, "The named file is a Google Docs editors file ("+meta.MimeType+"); such files are exported rather than downloaded, which this test does not cover.",
				"Name a regular file (for example a PDF) to test the download.")
		}
		cu, err := r.provider.ProbeURL(cs.Probe.ContentURL, r.conn.Account, r.importItem)
		if err != nil {
			return fail(OwnerUser, "The file id cannot be used here.", "Check the id; it should be "+cs.Probe.ItemHint+".")
		}
		dres, n, truncated := r.svc.probe.download(ctx, p, cu, r.token, MaxImportBytes)
		if dres.kind != oauthfail.APIOK {
			o := itemOutcome(p, cs, dres)
			o.Message = "The file's metadata was read, but its content could not be downloaded: " + o.Message
			return o
		}
		typ := meta.MimeType
		if typ == "" {
			typ = mediaType(dres.contentType)
		}
		if typ == "" {
			typ = "unknown type"
		}
		if truncated {
			return pass(fmt.Sprintf("Downloaded the first %d bytes of the file (%s) and stopped there; its metadata says %s.", n, typ, sizeText(meta)))
		}
		if meta.SizeKnown && meta.Size != n {
			return warn(OwnerUser, fmt.Sprintf("Downloaded %d bytes (%s), but the file's metadata says %s.", n, typ, sizeText(meta)),
				"Try again; if it persists, the file may be changing or the provider is serving partial content.")
		}
		return pass(fmt.Sprintf("Downloaded the file's metadata and content: %d bytes, %s.", n, typ))
	}
}

func sizeText(m providers.FileMeta) string {
	if !m.SizeKnown {
		return "no size"
	}
	return strconv.FormatInt(m.Size, 10) + " bytes"
}

func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
