package awssecrets_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/awssecrets"
)

// TestNames pins the documented naming scheme.
func TestNames(t *testing.T) {
	n, err := awssecrets.ClientSecretName("integrations/prod", "org-1", "google_workspace")
	if err != nil || n != "integrations/prod/orgs/org-1/google_workspace/client_secret" {
		t.Fatalf("client secret name %q, %v", n, err)
	}
	n, err = awssecrets.DefaultClientName("integrations/prod/", "salesforce")
	if err != nil || n != "integrations/prod/default-clients/salesforce" {
		t.Fatalf("default client name %q, %v", n, err)
	}
	for _, bad := range [][2]string{{"org/x", "salesforce"}, {"..", "salesforce"}, {"org-1", "a/b"}, {"org-1", "UPPER"}, {"", "salesforce"}} {
		if _, err := awssecrets.ClientSecretName("p", bad[0], bad[1]); err == nil {
			t.Errorf("name accepted for org %q provider %q", bad[0], bad[1])
		}
	}
	if _, err := awssecrets.New(nil, awssecrets.Options{Prefix: ""}); err == nil {
		t.Error("empty prefix accepted")
	}
}

// TestNamesNeverEndLikeAnARNSuffix holds every secret name this package
// builds to Secrets Manager's rule: no name ends in a hyphen followed by six
// characters, or a partial ARN lookup takes it for a complete ARN ("Finding
// a secret from a partial ARN",
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen;
// the warning in
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html).
// Org ids, prefixes and stack names are chosen to end that way themselves.
func TestNamesNeverEndLikeAnARNSuffix(t *testing.T) {
	rule := regexp.MustCompile(`-.{6}$`)
	prefixes := []string{"integrations/prod", "integrations/my-stack-abcdef", "integrations/dev-123456/", "p"}
	orgs := []string{"o-acme", "org-123456", "x", strings.Repeat("a", 121) + "-abcdef"}
	var names []string
	for _, prefix := range prefixes {
		n, err := awssecrets.TokenKeyName(prefix)
		if err != nil {
			t.Fatalf("token key name under %q: %v", prefix, err)
		}
		names = append(names, n)
		for _, p := range catalog.New().IDs() {
			n, err := awssecrets.DefaultClientName(prefix, p)
			if err != nil {
				t.Fatalf("default client name of %s under %q: %v", p, prefix, err)
			}
			names = append(names, n)
			for _, org := range orgs {
				n, err := awssecrets.ClientSecretName(prefix, org, p)
				if err != nil {
					t.Fatalf("client secret name of %s/%s under %q: %v", org, p, prefix, err)
				}
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		if rule.MatchString(n) {
			t.Errorf("secret name %q ends in a hyphen and six characters", n)
		}
	}
	// A provider id that would end a name that way is refused, not used.
	if n, err := awssecrets.DefaultClientName("integrations/prod", "crm-abcdef"); err == nil {
		t.Errorf("default client name %q accepted", n)
	}
	for _, bad := range []string{"integrations/prod/client-secret", "a-123456"} {
		if _, err := awssecrets.CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

// TestThrottled: throttling that outlasts the SDK's retries is
// store.ErrThrottled, after the SDK retried.
func TestThrottled(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
	}))
	defer srv.Close()
	sm := secretsmanager.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}, func(o *secretsmanager.Options) { o.RetryMaxAttempts = 2 })
	s, _ := awssecrets.New(sm, awssecrets.Options{Prefix: "p"})
	_, err := s.GetClientSecret(t.Context(), "org-1", "salesforce")
	if !errors.Is(err, store.ErrThrottled) {
		t.Fatalf("error %v, want ErrThrottled", err)
	}
	if attempts.Load() != 2 {
		t.Fatalf("%d attempts, want the SDK's 2", attempts.Load())
	}
}
