package localtest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/infra/localtest"
	"github.com/sofie/integrations/shared/catalog"
)

// TestWireAndScanTable: a whole Google connection records every kind of
// credential off the wire, each one the fake really issued or received, and
// ScanTable reads the stored items raw.
func TestWireAndScanTable(t *testing.T) {
	t.Parallel()
	wire := &localtest.Wire{}
	env := localtest.New(t, localtest.WithAWS(), localtest.WithWire(wire))
	admin, member := env.AdminToken("u-admin", "o1"), env.MemberToken("u-member", "o1")
	if r := env.Do("PUT", "/v1/orgs/o1/integrations/"+catalog.GoogleWorkspace, admin, map[string]any{"enabled": true, "capabilities": []string{"email"}}); r.Status != 201 {
		t.Fatalf("enable: %s", r)
	}
	r := env.Do("POST", "/v1/orgs/o1/connections/"+catalog.GoogleWorkspace, member, map[string]any{"returnTo": localtest.ReturnURL})
	authURL, _ := r.Object()["authorizationUrl"].(string)
	if done := env.Complete(member, "o1", env.Authorize(authURL)); done.Status != 200 {
		t.Fatalf("connect: %s", done)
	}

	kinds := wire.Kinds()
	for _, k := range []string{"access_token", "refresh_token", "id_token", "code", "state", "code_verifier", "client_secret", "bearer_token"} {
		if kinds[k] == 0 {
			t.Errorf("no %s recorded (recorded: %v)", k, kinds)
		}
	}
	for v, kind := range wire.Values() {
		switch kind {
		case "access_token", "refresh_token":
			if _, ok := env.Fake.TokenInfo(v); !ok {
				t.Errorf("a recorded %s was not issued by the fake", kind)
			}
		case "client_secret":
			if v != fakeprovider.DefaultClients()[catalog.GoogleWorkspace].ClientSecret {
				t.Errorf("recorded client secret is not the one the service holds")
			}
		}
	}

	var conn map[string]types.AttributeValue
	for _, item := range env.ScanTable() {
		if s, ok := item["SK"].(*types.AttributeValueMemberS); ok && s.Value == "CONN#"+catalog.GoogleWorkspace {
			conn = item
		}
	}
	if _, sealed := conn["sealedTokens"].(*types.AttributeValueMemberB); !sealed {
		t.Fatalf("no connection item with sealed tokens in the scan: %v", conn)
	}
}
