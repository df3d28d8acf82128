// Package refreshfn wires RefreshFunction: the scheduled token refresh run,
// and the operator's re-seal of every connection after a token key
// rotation.
package refreshfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/refreshsvc"
	"github.com/sofie/integrations/shared/refresh"
)

// Handler is RefreshFunction's Lambda handler.
//
// An EventBridge scheduled event runs the refresh: the event carries
// nothing the run needs (the due-index says what to do); its deadline comes
// from the Lambda context. A run that could not read the due-index is an
// error, so the function's Errors alarm sees it.
//
// An operator's invocation with {"action":"reseal","cursor":"..."} seals
// every stored connection's tokens again under the current token key
// version (refresh.Service.Reseal; see the README's key rotation procedure)
// and answers how far it got and the cursor to continue with. Any other
// action is refused.
func Handler(d *app.Deps) lambda.Handler {
	svc, buildErr := refreshsvc.New(d)
	return lambda.NewHandler(func(ctx context.Context, payload json.RawMessage) (any, error) {
		if buildErr != nil {
			return nil, buildErr
		}
		var probe struct {
			Action *string `json:"action"`
		}
		if err := json.Unmarshal(payload, &probe); err != nil {
			return nil, fmt.Errorf("refresh function: payload is not a JSON object: %w", err)
		}
		if probe.Action == nil {
			// A scheduled event (an EventBridge event has no "action").
			return svc.Run(ctx)
		}
		var req refresh.ResealRequest
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return nil, fmt.Errorf("refresh function: maintenance payload: %w", err)
		}
		if req.Action != refresh.ActionReseal {
			return nil, fmt.Errorf("refresh function: unknown action %q (known: %s)", req.Action, refresh.ActionReseal)
		}
		return svc.Reseal(ctx, req.Cursor)
	})
}
