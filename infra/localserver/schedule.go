package localserver

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
)

// ScheduledEvent is the EventBridge event a Schedule event of the template
// delivers at t.
func ScheduledEvent(functionID, eventName string, t time.Time) events.EventBridgeEvent {
	return events.EventBridgeEvent{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  AccountID,
		Time:       t.UTC().Truncate(time.Second),
		Region:     Region,
		Resources:  []string{"arn:aws:events:" + Region + ":" + AccountID + ":rule/local-" + functionID + eventName},
		Detail:     json.RawMessage(`{}`),
	}
}

// InvokeScheduled runs one scheduled invocation of a function now, as its
// first Schedule event would, and returns the function's result payload.
func (s *Server) InvokeScheduled(ctx context.Context, functionID string) ([]byte, error) {
	f, ok := s.functions[functionID]
	event := "Schedule"
	if ok && len(f.def.Schedules) > 0 {
		event = f.def.Schedules[0].Event
	}
	return s.Invoke(ctx, functionID, marshalEvent(ScheduledEvent(functionID, event, s.now())))
}

// RunSchedule invokes every function with an enabled rate() Schedule event
// on that rate (or Options.ScheduleInterval), until ctx ends. A run that is
// still going when the next one is due is not overlapped: the tick is
// skipped, as a slow local machine should not pile runs up. cron()
// schedules are not run locally (logged once).
func (s *Server) RunSchedule(ctx context.Context) {
	var wg sync.WaitGroup
	for _, id := range s.tmpl.FunctionIDs() {
		f := s.functions[id]
		for _, sc := range f.def.Schedules {
			if !sc.Enabled {
				continue
			}
			every := sc.Every
			if s.every > 0 {
				every = s.every
			}
			if every == 0 {
				s.log.Warn("schedule not run locally (only rate() expressions are)", "function", id, "schedule", sc.Expression)
				continue
			}
			s.log.Info("schedule started", "function", id, "event", sc.Event, "every", every.String())
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.runEvery(ctx, f, sc.Event, every)
			}()
		}
	}
	wg.Wait()
}

func (s *Server) runEvery(ctx context.Context, f *function, event string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !f.mu.TryLock() {
			s.log.Warn("scheduled run skipped: the previous run is still going", "function", f.def.LogicalID)
			continue
		}
		start := time.Now()
		out, reqID, err := s.invoke(ctx, f, marshalEvent(ScheduledEvent(f.def.LogicalID, event, s.now())))
		f.mu.Unlock()
		if err != nil {
			s.log.Error("scheduled run failed", "function", f.def.LogicalID, "lambdaRequestId", reqID, "err", err.Error(),
				"durationMs", time.Since(start).Milliseconds())
			continue
		}
		var result any
		if json.Unmarshal(out, &result) != nil {
			result = string(out)
		}
		s.log.Info("scheduled run", "function", f.def.LogicalID, "lambdaRequestId", reqID, "result", result,
			"durationMs", time.Since(start).Milliseconds())
	}
}
