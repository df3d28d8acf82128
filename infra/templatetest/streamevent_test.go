package templatetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/sofie/integrations/infra/localevents"
	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/shared/store"
	"github.com/sofie/integrations/shared/store/boltstore"
)

// sampleStreamEvent is a batch of the table's stream as the event source
// mapping delivers it to EventsFunction: an admin enabling Microsoft 365
// for org o-acme, u-bob's connection being created, claimed by a refresh
// run and marked needs_reconnect (invalid_grant), u-carol's being deleted,
// and the org's client starting to fail (invalid_client). The records come from the embedded store's change feed
// (localevents.Bolt, what make run hands the function), with what a
// deployment's records carry in place of the local ones, deterministically,
// and only those the mapping's filters pass.
func sampleStreamEvent(t *testing.T, st localserver.Stream) awsevents.DynamoDBEvent {
	t.Helper()
	ctx := context.Background()
	s, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := sampleTime
	in := store.Integration{
		OrgID: "o-acme", Provider: "microsoft365", Enabled: true, ConfigMode: store.ConfigModeDefault,
		Tenant: "contoso.example", Capabilities: []string{"email", "calendar"},
		Rollout: store.Rollout{Mode: store.RolloutGroups, Groups: []string{"pilot"}}, UpdatedAt: at, UpdatedBy: "u-alice",
	}
	if _, err := s.PutIntegration(ctx, in, 0); err != nil {
		t.Fatal(err)
	}
	conn := func(user string) store.Connection {
		return store.Connection{
			ConnKey: store.ConnKey{OrgID: "o-acme", UserID: user, Provider: "microsoft365"},
			Status:  store.StatusConnected, ClientRef: store.ConfigModeDefault, ConfigVersion: 1,
			Account:         store.Account{ID: "00000000-0000-0000-0000-0000000" + user[2:], Email: user[2:] + "@acme.example", Tenant: "contoso.example"},
			RequestedScopes: []string{"offline_access", "Mail.Read", "Calendars.Read"},
			GrantedScopes:   []string{"offline_access", "Mail.Read", "Calendars.Read"},
			// Sealed tokens travel in the stream (never opened or
			// published by EventsFunction); a placeholder here.
			SealedTokens: []byte("PLACEHOLDER-SEALED-TOKENS-NOT-A-CIPHERTEXT"), TokenKeyID: "00000000-placeholder-key-version",
			AccessExpiresAt: at.Add(time.Hour), ConnectedAt: at.Add(-48 * time.Hour), NextRefreshAt: at, UpdatedAt: at.Add(-48 * time.Hour),
		}
	}
	bob, err := s.PutConnection(ctx, conn("u-bob"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutConnection(ctx, conn("u-carol"), 0); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimLease(ctx, bob.ConnKey, "run-1a2b3c", at, at.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	out := claimed
	out.Status, out.StatusReason, out.LastAttemptAt, out.ConsecutiveFailures = store.StatusNeedsReconnect, "invalid_grant", at, 1
	out.LastError = &store.ConnError{Code: "invalid_grant", Message: "The refresh token was revoked or has expired. Reconnect the account.", Owner: "user", At: at}
	out.NextRefreshAt, out.OffIndexReason = time.Time{}, store.ReasonNeedsReconnect
	if _, err := s.CompleteLease(ctx, out, "run-1a2b3c"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConnection(ctx, store.ConnKey{OrgID: "o-acme", UserID: "u-carol", Provider: "microsoft365"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ReportClientFailure(ctx, "o-acme", "microsoft365", "invalid_client", 1, at); err != nil {
		t.Fatal(err)
	}
	src := &localevents.Bolt{Store: s, Table: "integrations-prod-Table-1A2B3C4D5E6F"}
	records, err := src.Read(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ev awsevents.DynamoDBEvent
	for i, r := range records {
		if !st.Passes(r) {
			continue
		}
		sum := sha256.Sum256([]byte(fmt.Sprint("record-", i)))
		// Real event ids are 32 hex digits; in UUID form here, so the
		// fixture check (no long hexadecimal strings) still holds.
		h := hex.EncodeToString(sum[:16])
		r.EventID = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		r.EventSourceArn = "arn:aws:dynamodb:us-east-1:" + sampleAccount + ":table/integrations-prod-Table-1A2B3C4D5E6F/stream/2026-10-01T08:00:00.000"
		r.Change.SequenceNumber = fmt.Sprintf("4421584500000000%06d", 17535+i)
		r.Change.ApproximateCreationDateTime = awsevents.SecondsEpochTime{Time: at.Add(time.Duration(i) * time.Second)}
		r.Change.SizeBytes = int64(600 + 37*i)
		ev.Records = append(ev.Records, r)
	}
	return ev
}
