// Package refreshfn wires RefreshFunction: the scheduled token refresh run.
package refreshfn

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/sofie/integrations/shared/app"
	"github.com/sofie/integrations/shared/app/refreshsvc"
	"github.com/sofie/integrations/shared/refresh"
)

// Handler is RefreshFunction's Lambda handler: an EventBridge scheduled
// event in, the run's result out. The event carries nothing the run needs
// (the due-index says what to do); its deadline comes from the Lambda
// context. A run that could not read the due-index is an error, so the
// function's Errors alarm sees it.
func Handler(d *app.Deps) lambda.Handler {
	svc, buildErr := refreshsvc.New(d)
	return lambda.NewHandler(func(ctx context.Context, _ events.EventBridgeEvent) (refresh.Result, error) {
		if buildErr != nil {
			return refresh.Result{}, buildErr
		}
		return svc.Run(ctx)
	})
}
