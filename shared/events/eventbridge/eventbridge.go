// Package eventbridge puts lifecycle events on an Amazon EventBridge bus
// with the SDK's PutEvents. Only EventsFunction links it: the SDK client
// adds 393,216 B to a bootstrap (see package events).
package eventbridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/sofie/integrations/shared/events"
)

// API is the part of *eventbridge.Client the publisher uses.
type API interface {
	PutEvents(ctx context.Context, in *sdk.PutEventsInput, opts ...func(*sdk.Options)) (*sdk.PutEventsOutput, error)
}

// Publisher implements events.Publisher on one bus.
type Publisher struct {
	api API
	bus string
}

var _ events.Publisher = (*Publisher)(nil)

// New returns a publisher to the bus named bus (a name or an ARN, as
// PutEventsRequestEntry.EventBusName takes).
func New(api API, bus string) *Publisher { return &Publisher{api: api, bus: bus} }

// NewFromConfig is New with an SDK client of cfg.
func NewFromConfig(cfg aws.Config, bus string) *Publisher { return New(sdk.NewFromConfig(cfg), bus) }

// Publish implements events.Publisher: one PutEvents call. EventBridge
// processes every entry and answers each in order, with an EventId or an
// ErrorCode, so one failed entry (ThrottlingException,
// InternalException) fails only itself
// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html,
// "Handling failures with PutEvents"). The SDK retries a throttled or
// failed call itself first (its standard retryer).
func (p *Publisher) Publish(ctx context.Context, entries []events.Entry) ([]error, error) {
	if len(entries) == 0 || len(entries) > events.MaxBatch {
		return nil, fmt.Errorf("eventbridge: %d entries in one PutEvents call, 1 to %d allowed", len(entries), events.MaxBatch)
	}
	in := &sdk.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(entries))}
	for i, e := range entries {
		in.Entries[i] = types.PutEventsRequestEntry{
			EventBusName: aws.String(p.bus),
			Source:       aws.String(events.Source),
			DetailType:   aws.String(e.DetailType),
			Detail:       aws.String(string(e.Detail)),
			Time:         aws.Time(e.Time),
		}
	}
	out, err := p.api.PutEvents(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("eventbridge: put events: %w", err)
	}
	if len(out.Entries) != len(entries) {
		return nil, fmt.Errorf("eventbridge: put events answered %d entries for %d", len(out.Entries), len(entries))
	}
	failed := make([]error, len(entries))
	for i, r := range out.Entries {
		if r.ErrorCode != nil || r.EventId == nil {
			failed[i] = errors.New(aws.ToString(r.ErrorCode) + ": " + aws.ToString(r.ErrorMessage))
		}
	}
	return failed, nil
}
