package systemtest_test

import (
	"net/http"
	"testing"

	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/admin"
	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/store/awscount"
)

// TestWarmProvidersMakeNoAWSCalls: a warm AdminFunction answers
// GET /v1/providers from its caches, whether or not the platform's default
// clients exist (issue 13: a missing default client was asked for on every
// request). Counted on the AWS adapters, on moto_server, at the SDK.
func TestWarmProvidersMakeNoAWSCalls(t *testing.T) {
	for _, c := range []struct {
		name        string
		opts        []localtest.Option
		withDefault bool
	}{
		{"default clients stored", nil, true},
		{"no default client", []localtest.Option{localtest.WithoutFakeProvider()}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var calls awscount.Counter
			env := localtest.New(t, append(c.opts, localtest.WithAWS(), localtest.WithBuildOptions(app.WithAWSAPIOptions(calls.Middleware)))...)
			tok := env.MemberToken("u-warm", "o-warm")
			get := func() {
				t.Helper()
				resp := env.Do("GET", "/v1/providers", tok, nil)
				want(t, resp, http.StatusOK, "")
				var body admin.ProvidersResponse
				if err := resp.Decode(&body); err != nil || len(body.Providers) != 3 {
					t.Fatalf("providers: %v %s", err, resp)
				}
				for _, p := range body.Providers {
					if p.DefaultClientAvailable != c.withDefault {
						t.Fatalf("%s: defaultClientAvailable %v, want %v", p.ID, p.DefaultClientAvailable, c.withDefault)
					}
				}
			}
			get() // cold: fills the caches
			if calls.Calls("Secrets Manager", "GetSecretValue") == 0 {
				t.Fatalf("the cold request made no GetSecretValue call (%s): is the counter attached?", calls.String())
			}
			calls.Reset()
			for range 3 {
				get()
			}
			if n := calls.Total(); n != 0 {
				t.Fatalf("3 warm requests made %d AWS calls, want 0: %s", n, calls.String())
			}
		})
	}
}
