package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"time"

	"github.com/sofie/integrations/shared/store"
)

// MaxBatch is the most entries one PutEvents call takes
// (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html:
// Entries, "Array Members: Minimum number of 1 item. Maximum number of 10
// items"). An entry here is well under a kilobyte, far from the 256 KB a
// request may carry.
const MaxBatch = 10

// Defaults of Options.
const (
	DefaultAttempts       = 4
	DefaultBackoff        = 200 * time.Millisecond
	DefaultDeadlineMargin = 3 * time.Second
)

// Entry is one event as it is put: what a PutEventsRequestEntry carries
// besides the bus and the source.
type Entry struct {
	DetailType string
	// Detail is the JSON of a Detail.
	Detail []byte
	Time   time.Time
}

// Detail is an event's detail as published. It identifies and classifies;
// it never holds a token, a secret or a setting's value.
type Detail struct {
	// EventID is the same on every delivery of one change: deduplicate on it.
	EventID  string `json:"eventId"`
	OrgID    string `json:"orgId"`
	Provider string `json:"provider"`
	// UserID and AccountName: the connection's user and account.
	UserID      string `json:"userId,omitempty"`
	AccountName string `json:"accountName,omitempty"`
	// TestAccount: the org's test account (issue 15), which its admins own;
	// it names no user.
	TestAccount bool `json:"testAccount,omitempty"`
	// Cause is a stable code (invalid_grant, client_changed, ...).
	Cause string `json:"cause,omitempty"`
	// Owner is who must act: user, admin or external_admin.
	Owner string `json:"owner,omitempty"`
	// Actor is who made the change: the admin who saved, the user who
	// disconnected.
	Actor string `json:"actor,omitempty"`
	// Changes names the integration fields a save changed.
	Changes []string `json:"changes,omitempty"`
	// SupportContact is the integration's support contact, when one is set.
	SupportContact *SupportContact `json:"supportContact,omitempty"`
	Time           time.Time       `json:"time"`
}

// SupportContact is who owns support for an integration's connection
// failures, as the org's admins set it (the integration's supportContact).
type SupportContact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

// SupportContactOf is the integration's support contact, nil when none is
// set.
func SupportContactOf(in store.Integration) *SupportContact {
	c := in.SupportContact
	if c == nil || (c.Name == "" && c.Email == "" && c.URL == "") {
		return nil
	}
	return &SupportContact{Name: c.Name, Email: c.Email, URL: c.URL}
}

// NewDetail is e's published detail.
func NewDetail(e Event, contact *SupportContact) Detail {
	return Detail{
		EventID: e.ID, OrgID: e.OrgID, Provider: e.Provider, UserID: e.UserID, AccountName: e.AccountName, TestAccount: e.TestAccount,
		Cause: e.Cause, Owner: e.Owner, Actor: e.Actor, Changes: e.Changes, SupportContact: contact, Time: e.At.UTC(),
	}
}

// Publisher puts entries on the event bus: EventBridge (package
// events/eventbridge), or in local runs a file.
type Publisher interface {
	// Publish puts at most MaxBatch entries and returns, for each, nil or
	// why it was not put; err is a failure of the whole call (nothing put,
	// as far as is known).
	Publish(ctx context.Context, entries []Entry) (failed []error, err error)
}

// Integrations reads an integration, for the support contact of its
// connections' events (store.Store has it).
type Integrations interface {
	GetIntegration(ctx context.Context, orgID, provider string) (store.Integration, error)
}

// Options configure a Processor.
type Options struct {
	Publisher    Publisher
	Integrations Integrations
	// Attempts is how often a batch's failed entries are put in all, Backoff
	// the first pause between attempts (doubling, with jitter).
	Attempts int
	Backoff  time.Duration
	// DeadlineMargin: no call is started when the invocation's deadline is
	// this close (its records are reported failed, and retried).
	DeadlineMargin time.Duration

	// Logger gets a line per failure and per invocation; slog.Default()
	// when nil.
	Logger *slog.Logger
	// Metrics receives the EMF lines (os.Stdout when nil); FunctionName is
	// their Function dimension and LogLevel the function's application log
	// level, as refresh.Options' are.
	Metrics      io.Writer
	FunctionName string
	LogLevel     string
	// Rand is the jitter source (nil: math/rand/v2's).
	Rand *mrand.Rand
}

// Processor turns changes into published events.
type Processor struct {
	o       Options
	metrics emf
}

// NewProcessor checks the options.
func NewProcessor(o Options) (*Processor, error) {
	if o.Publisher == nil || o.Integrations == nil {
		return nil, errors.New("events: publisher and integrations are required")
	}
	if o.Attempts <= 0 {
		o.Attempts = DefaultAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.DeadlineMargin <= 0 {
		o.DeadlineMargin = DefaultDeadlineMargin
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = os.Stdout
	}
	if o.FunctionName == "" {
		o.FunctionName = DefaultMetricsFunction
	}
	return &Processor{o: o, metrics: emf{w: o.Metrics, function: o.FunctionName, level: MetricsLevel(o.LogLevel)}}, nil
}

// Result is what one invocation did.
type Result struct {
	// Changes processed, Skipped (records that could not be decoded, counted
	// by the caller), Events derived, Published, Failed (not put after
	// every attempt, or not tried before the deadline), Retried (entries put
	// again after a failed attempt), Calls (PutEvents calls).
	Changes    int   `json:"changes"`
	Skipped    int   `json:"skipped"`
	Events     int   `json:"events"`
	Published  int   `json:"published"`
	Failed     int   `json:"failed"`
	Retried    int   `json:"retried"`
	Calls      int   `json:"calls"`
	DurationMs int64 `json:"durationMs"`
}

type pending struct {
	change int // index of the change it comes from
	event  Event
	entry  Entry
}

// Process derives the events of changes (in stream order), puts them in
// batches of at most MaxBatch, retrying failed entries with backoff, and
// reports how far it got: failedAt is the index of the first change one of
// whose events was not put (len(changes) when every one was), for the
// partial batch response that makes Lambda retry from that record. It stops
// at the first batch that still fails after every attempt: EventBridge is
// failing, and the records after it wait for the retry rather than hammer
// it.
func (p *Processor) Process(ctx context.Context, changes []Change, skipped int) (res Result, failedAt int) {
	start := time.Now()
	res.Changes, res.Skipped = len(changes), skipped
	failedAt = len(changes)
	contacts := map[string]*SupportContact{}
	var todo []pending
	for i, ch := range changes {
		for _, e := range Derive(ch) {
			contact := p.contact(ctx, contacts, e, ch)
			detail, err := json.Marshal(NewDetail(e, contact))
			if err != nil { // cannot happen: strings and times only
				p.o.Logger.ErrorContext(ctx, "event detail does not encode", "eventId", e.ID, "err", err.Error())
				continue
			}
			todo = append(todo, pending{change: i, event: e, entry: Entry{DetailType: e.Type, Detail: detail, Time: e.At}})
		}
	}
	res.Events = len(todo)
	for i := 0; i < len(todo) && failedAt == len(changes); i += MaxBatch {
		if failed := p.publish(ctx, todo[i:min(i+MaxBatch, len(todo))], &res); len(failed) > 0 {
			failedAt = failed[0].change // in stream order: the first failed record
		}
	}
	// Events of the records before failedAt are out for good; the others
	// come again with Lambda's retry of their records (some of them, put in
	// the failing call, are put twice: at least once).
	for _, t := range todo {
		if t.change < failedAt {
			res.Published++
		} else {
			res.Failed++
		}
	}
	res.DurationMs = time.Since(start).Milliseconds()
	p.metrics.run(time.Now(), res)
	lvl := slog.LevelDebug
	switch {
	case res.Failed > 0:
		lvl = slog.LevelError
	case res.Events > 0 || res.Skipped > 0:
		lvl = slog.LevelInfo
	}
	p.o.Logger.Log(ctx, lvl, "events processed", "changes", res.Changes, "skipped", res.Skipped, "events", res.Events,
		"published", res.Published, "failed", res.Failed, "retried", res.Retried, "calls", res.Calls, "durationMs", res.DurationMs)
	return res, failedAt
}

// publish puts one batch, trying failed entries again with backoff, and
// returns the ones still not put.
func (p *Processor) publish(ctx context.Context, batch []pending, res *Result) []pending {
	todo := batch
	delay := p.o.Backoff
	for attempt := 1; ; attempt++ {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < p.o.DeadlineMargin {
			p.o.Logger.WarnContext(ctx, "events left for Lambda's retry: the invocation's deadline is near", "events", len(todo))
			return todo
		}
		if attempt > 1 {
			res.Retried += len(todo)
		}
		res.Calls++
		entries := make([]Entry, len(todo))
		for i, t := range todo {
			entries[i] = t.entry
		}
		failed, err := p.o.Publisher.Publish(ctx, entries)
		var again []pending
		for i, t := range todo {
			why := err
			if why == nil && i < len(failed) {
				why = failed[i]
			}
			if why == nil {
				continue
			}
			again = append(again, t)
			if attempt == p.o.Attempts {
				p.o.Logger.ErrorContext(ctx, "event not put on the bus; its stream record will be retried",
					"eventId", t.event.ID, "detailType", t.event.Type, "org", t.event.OrgID, "provider", t.event.Provider,
					"attempts", attempt, "err", why.Error())
			}
		}
		if len(again) == 0 || attempt == p.o.Attempts {
			return again
		}
		todo = again
		if sleep(ctx, p.jitter(delay)) != nil {
			return todo
		}
		delay *= 2
	}
}

// jitter is delay ± 50 %.
func (p *Processor) jitter(delay time.Duration) time.Duration {
	f := mrand.Float64()
	if p.o.Rand != nil {
		f = p.o.Rand.Float64()
	}
	return time.Duration(float64(delay) * (0.5 + f))
}

// contact is the support contact of e's integration: an integration's
// events take it from the change; a connection's read the integration once
// per invocation. An integration that cannot be read gives none: the event
// still goes out.
func (p *Processor) contact(ctx context.Context, cache map[string]*SupportContact, e Event, ch Change) *SupportContact {
	if in := ch.New.Integration; in != nil {
		return SupportContactOf(*in)
	}
	if in := ch.Old.Integration; in != nil {
		return SupportContactOf(*in)
	}
	k := e.OrgID + "\x00" + e.Provider
	if c, ok := cache[k]; ok {
		return c
	}
	in, err := p.o.Integrations.GetIntegration(ctx, e.OrgID, e.Provider)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.o.Logger.WarnContext(ctx, "integration unreadable: event sent without its support contact",
			"org", e.OrgID, "provider", e.Provider, "err", err.Error())
		return nil
	}
	c := SupportContactOf(in)
	cache[k] = c
	return c
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
