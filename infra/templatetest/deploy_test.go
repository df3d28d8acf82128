package templatetest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/shared/config"
	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/refresh"
	"github.com/sofie/integrations/shared/store/awssecrets"
)

// rawResources reads the template's resources with their attributes
// (DeletionPolicy, UpdateReplacePolicy), which the local server's parser
// keeps only in part.
func rawResources(t *testing.T) map[string]struct {
	Type                string         `yaml:"Type"`
	DeletionPolicy      string         `yaml:"DeletionPolicy"`
	UpdateReplacePolicy string         `yaml:"UpdateReplacePolicy"`
	Properties          map[string]any `yaml:"Properties"`
} {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type                string         `yaml:"Type"`
			DeletionPolicy      string         `yaml:"DeletionPolicy"`
			UpdateReplacePolicy string         `yaml:"UpdateReplacePolicy"`
			Properties          map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Resources
}

// TestRollbackLeavesNothingBehind: the stateful resources survive a stack
// deletion and a replacement, but not the rollback of the operation that
// created them. With DeletionPolicy Retain a failed first deployment keeps
// the table and the named token-key secret, and the next attempt fails with
// "already exists"; RetainExceptOnCreate deletes what the rolled-back
// operation created
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html).
func TestRollbackLeavesNothingBehind(t *testing.T) {
	res := rawResources(t)
	for _, id := range []string{"Table", "TokenKeySecret"} {
		r, ok := res[id]
		if !ok {
			t.Fatalf("no resource %s", id)
		}
		if r.DeletionPolicy != "RetainExceptOnCreate" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("%s: DeletionPolicy %q, UpdateReplacePolicy %q; want RetainExceptOnCreate and Retain", id, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
	}
	for id, r := range res {
		if r.DeletionPolicy == "Retain" {
			t.Errorf("%s: DeletionPolicy Retain survives the rollback of a failed first deployment", id)
		}
	}
}

// TestSecretNamesAreTheStacks: every secret name of a deployment starts
// with integrations/<stack name>. Stack names are unique in an account and
// region, so two stacks of the same Environment never share a secret (the
// token key, an org's client secret, a default client); and every name so
// built keeps Secrets Manager's naming rule (awssecrets.CheckName).
func TestSecretNamesAreTheStacks(t *testing.T) {
	tmpl := loadTemplate(t)
	prefix := resolveSub(t, tmpl.Globals["Function"], "Environment", "Variables", "SECRETS_PREFIX")
	if prefix != "integrations/${AWS::StackName}" {
		t.Fatalf("SECRETS_PREFIX is %q, want integrations/${AWS::StackName}", prefix)
	}
	name := resolveSub(t, map[string]any{"r": tmpl.Resources["TokenKeySecret"].Properties}, "r", "Name")
	if name != prefix+"/token-key" {
		t.Errorf("the token key secret is named %q, want %s/token-key", name, prefix)
	}
	// The only secret names the template spells out are under the prefix
	// (TestPoliciesGrantExactlyWhatTheCodeCalls holds the policies to it).
	b, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.Index(line, "integrations/${"); j >= 0 && !strings.HasPrefix(line[j:], prefix+"/") && !strings.HasPrefix(line[j:], prefix+"\n") && strings.TrimSpace(line[j:]) != prefix {
			t.Errorf("template.yaml:%d names a secret outside %s: %s", i+1, prefix, strings.TrimSpace(line))
		}
	}

	seen := map[string]string{}
	for _, stack := range []string{"integrations-prod", "integrations-staging", "team-a-abcdef", strings.Repeat("s", 128)} {
		p := strings.ReplaceAll(prefix, "${AWS::StackName}", stack)
		key, err := awssecrets.TokenKeyName(p)
		if err != nil {
			t.Fatalf("stack %s: %v", stack, err)
		}
		if key != strings.ReplaceAll(name, "${AWS::StackName}", stack) {
			t.Errorf("stack %s: the template's token key name and awssecrets.TokenKeyName differ", stack)
		}
		if other, dup := seen[key]; dup {
			t.Errorf("stacks %s and %s share the secret %s", other, stack, key)
		}
		seen[key] = stack
		if _, err := awssecrets.ClientSecretName(p, strings.Repeat("o", 128), strings.Repeat("p", 64)); err != nil {
			t.Errorf("stack %s: the longest client secret name: %v", stack, err)
		}
	}
	// make run with STORE=aws uses the names a stack called "local" would.
	local := strings.ReplaceAll(prefix, "${AWS::StackName}", "local")
	key, _ := awssecrets.TokenKeyName(local)
	if localserver.LocalDefaults["SECRETS_PREFIX"] != local || localserver.LocalDefaults["TOKEN_KEY_SECRET_ID"] != key {
		t.Errorf("local defaults %s, %s; want %s, %s", localserver.LocalDefaults["SECRETS_PREFIX"], localserver.LocalDefaults["TOKEN_KEY_SECRET_ID"], local, key)
	}
}

// TestRefreshSchedulePattern holds RefreshSchedule's AllowedPattern (read
// from template.yaml) to EventBridge's schedule expressions: a rate of 1
// takes the singular unit and a larger one the plural; cron() has six
// fields (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html,
// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
// For rate(), the local server's parser agrees with the pattern, so make run
// refuses what a deployment would.
func TestRefreshSchedulePattern(t *testing.T) {
	tmpl := loadTemplate(t)
	valid := []string{
		"rate(1 minute)", "rate(1 hour)", "rate(1 day)",
		"rate(2 minutes)", "rate(5 minutes)", "rate(10 minutes)", "rate(12 hours)", "rate(7 days)", "rate(100 minutes)",
		"cron(0/5 * * * ? *)", "cron(0 8 ? * MON-FRI *)", "cron(15 10 ? * 6L 2026-2030)", "cron(0 0 1,15 * ? *)", "cron(0 9 ? * 2#1 *)",
	}
	invalid := []string{
		"rate(1 minutes)", "rate(5 minute)", "rate(1 hours)", "rate(2 hour)", "rate(1 days)", "rate(3 day)",
		"rate(0 minutes)", "rate(0 minute)", "rate(05 minutes)", "rate(-5 minutes)", "rate(5 weeks)", "rate(5  minutes)",
		"rate(5minutes)", "rate(5 minutes", "rate( 5 minutes)", "Rate(5 minutes)", "rate(1.5 hours)",
		"cron(* * * * *)", "cron(0 8 * * ? * *)", "cron()", "cron(0 8 * * ? *", "cron(0  8 * * ? *)", "cron(0 8 * * ? *); x",
		"", "5 minutes", "at(2030-01-01T00:00:00)", "rate(5 minutes) ",
	}
	for _, v := range valid {
		if err := tmpl.CheckParameter("RefreshSchedule", v); err != nil {
			t.Errorf("refused %q: %v", v, err)
		}
	}
	for _, v := range invalid {
		if err := tmpl.CheckParameter("RefreshSchedule", v); err == nil {
			t.Errorf("accepted %q", v)
		}
	}
	for _, v := range append(slices.Clone(valid), invalid...) {
		if !strings.HasPrefix(v, "rate(") {
			continue
		}
		_, parseErr := localserver.ParseRate(v)
		if (parseErr == nil) != (tmpl.CheckParameter("RefreshSchedule", v) == nil) {
			t.Errorf("%q: the template's pattern and localserver.ParseRate disagree (parse: %v)", v, parseErr)
		}
	}
	if def := fmt.Sprint(tmpl.Parameters["RefreshSchedule"].Default); tmpl.CheckParameter("RefreshSchedule", def) != nil {
		t.Errorf("the default %q does not match the pattern", def)
	}
}

// TestMetricLinesSurviveTheLogLevel holds RefreshFunction's LoggingConfig
// to its metric lines: Lambda filters application logs by level only with
// LogFormat JSON, sending a line when its level is the configured one or
// more severe, a line without a valid level counting as INFO
// (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
// The level the metric lines carry at the template's ApplicationLogLevel
// (refresh.MetricsLevel, which the function gets from AWS_LAMBDA_LOG_LEVEL)
// must be one Lambda keeps; shared/refresh tests every other level.
func TestMetricLinesSurviveTheLogLevel(t *testing.T) {
	tmpl := loadTemplate(t)
	props := tmpl.Functions[config.RefreshFunction].Properties
	if f := dig(props, "LoggingConfig", "LogFormat"); f != "JSON" {
		t.Fatalf("RefreshFunction LogFormat %v: the metric lines are parsed as JSON", f)
	}
	level, _ := dig(props, "LoggingConfig", "ApplicationLogLevel").(string)
	configured := slices.Index(refresh.LambdaLogLevels, level)
	if configured < 0 {
		t.Fatalf("ApplicationLogLevel %q is not one of Lambda's levels %v", level, refresh.LambdaLogLevels)
	}
	line := refresh.MetricsLevel(level)
	if slices.Index(refresh.LambdaLogLevels, line) < configured {
		t.Errorf("at ApplicationLogLevel %s Lambda drops the metric lines (level %s), and the refresh alarm goes quiet", level, line)
	}
	// EventsFunction's metric lines, which EventsFailureAlarm reads, the
	// same way.
	props = tmpl.Functions[config.EventsFunction].Properties
	evLevel, _ := dig(props, "LoggingConfig", "ApplicationLogLevel").(string)
	if f := dig(props, "LoggingConfig", "LogFormat"); f != "JSON" || slices.Index(refresh.LambdaLogLevels, events.MetricsLevel(evLevel)) < slices.Index(refresh.LambdaLogLevels, evLevel) {
		t.Errorf("EventsFunction (LogFormat %v, ApplicationLogLevel %s) drops its metric lines (level %s), and EventsFailureAlarm goes quiet", f, evLevel, events.MetricsLevel(evLevel))
	}
}
