package eventbridge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sofie/integrations/shared/events"
	"github.com/sofie/integrations/shared/events/eventbridge"
)

type fakeAPI struct {
	got  *sdk.PutEventsInput
	out  *sdk.PutEventsOutput
	err  error
	hits int
}

func (f *fakeAPI) PutEvents(_ context.Context, in *sdk.PutEventsInput, _ ...func(*sdk.Options)) (*sdk.PutEventsOutput, error) {
	f.got, f.hits = in, f.hits+1
	return f.out, f.err
}

func entries(n int) []events.Entry {
	out := make([]events.Entry, n)
	for i := range out {
		out[i] = events.Entry{DetailType: events.ConnectionNeedsReconnect, Detail: []byte(`{"eventId":"e"}`), Time: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
	}
	return out
}

func TestPublish(t *testing.T) {
	api := &fakeAPI{out: &sdk.PutEventsOutput{FailedEntryCount: 1, Entries: []types.PutEventsResultEntry{
		{EventId: aws.String("id-1")},
		{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")},
		{EventId: aws.String("id-3")},
	}}}
	failed, err := eventbridge.New(api, "support-bus").Publish(t.Context(), entries(3))
	if err != nil {
		t.Fatal(err)
	}
	if failed[0] != nil || failed[2] != nil || failed[1] == nil || !strings.Contains(failed[1].Error(), "ThrottlingException") {
		t.Errorf("per-entry results %v", failed)
	}
	e := api.got.Entries[0]
	if aws.ToString(e.EventBusName) != "support-bus" || aws.ToString(e.Source) != "integrations" ||
		aws.ToString(e.DetailType) != "Connection Needs Reconnect" || aws.ToString(e.Detail) != `{"eventId":"e"}` ||
		!aws.ToTime(e.Time).Equal(time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("entry %+v", e)
	}
}

func TestPublishRefusesWhatPutEventsWould(t *testing.T) {
	api := &fakeAPI{out: &sdk.PutEventsOutput{}}
	p := eventbridge.New(api, "default")
	for _, n := range []int{0, events.MaxBatch + 1} {
		if _, err := p.Publish(t.Context(), entries(n)); err == nil {
			t.Errorf("%d entries accepted", n)
		}
	}
	if api.hits != 0 {
		t.Errorf("%d calls made for refused batches", api.hits)
	}
	// A call that fails, or answers for the wrong number of entries, fails whole.
	api.err = errors.New("AccessDeniedException")
	if _, err := p.Publish(t.Context(), entries(2)); err == nil {
		t.Error("a failed call reported success")
	}
	api.err, api.out = nil, &sdk.PutEventsOutput{Entries: []types.PutEventsResultEntry{{EventId: aws.String("x")}}}
	if _, err := p.Publish(t.Context(), entries(2)); err == nil {
		t.Error("an answer for 1 of 2 entries reported success")
	}
}
