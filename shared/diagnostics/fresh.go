package diagnostics

import (
	"context"
	"log/slog"

	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/refresh"
)

// A provider may refuse an access token whose expiry says it is good: it
// was revoked at the provider, or the provider ended the session early
// (Microsoft continuous access evaluation, a Salesforce session revoked, a
// password reset). The refresh token may still work, and a refreshed token
// with it. So before a diagnosis concludes from a 401 that the user must
// reconnect, it refreshes the token once (forced, through the scheduled
// refresh's lease: never a second refresh alongside one under way) and asks
// again.

// useToken makes tok the token the checks call the provider with.
func (r *run) useToken(tok refresh.Token) {
	r.token = tok.AccessToken
	r.tokenConn = tok.Connection
	if tok.Refreshed {
		r.fresh = true
	}
}

// get makes a probe call with the connection's access token. When the
// provider refuses the token and it was not refreshed during this diagnosis,
// get forces a refresh and repeats the call once with the new token. When
// the forced refresh fails, failed is the outcome that says why (the check
// reports it as is).
func (r *run) get(ctx context.Context, url string) (res probeResult, failed *outcome) {
	res = r.svc.probe.get(ctx, r.provider, url, r.token)
	if res.kind != oauthfail.APITokenRejected || r.fresh {
		return res, nil
	}
	if o := r.forceRefresh(ctx); o != nil {
		return res, o
	}
	return r.svc.probe.get(ctx, r.provider, url, r.token), nil
}

// forceRefresh replaces the refused token with a freshly refreshed one;
// non-nil is the outcome when it could not.
func (r *run) forceRefresh(ctx context.Context) *outcome {
	r.fresh = true // one forced refresh per diagnosis, whatever happens
	tctx, cancel := context.WithTimeout(ctx, r.svc.opts.TokenTimeout)
	tok, err := r.svc.opts.Tokens.ForceRefresh(tctx, r.key(), r.token)
	cancel()
	if err != nil {
		r.token = "" // refused, and no other: the checks that need one are blocked
		slog.InfoContext(ctx, "diagnostics: the provider refused the access token and a forced refresh failed",
			"org", r.caller.OrgID, "provider", r.provider.ID, "user", r.userID)
		o := tokenFailure(ctx, r, err)
		return &o
	}
	slog.InfoContext(ctx, "diagnostics: the provider refused the access token; retrying with a refreshed one",
		"org", r.caller.OrgID, "provider", r.provider.ID, "user", r.userID, "refreshedHere", tok.Refreshed)
	r.useToken(tok)
	r.fresh = true
	return nil
}
