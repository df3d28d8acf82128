package diagnostics

import (
	"context"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/providers"
)

// probeResult is a provider's answer, classified by its dialect in the one
// vocabulary of package oauthfail. It never holds the provider's error
// text: messages shown to people are ours.
type probeResult struct {
	kind   oauthfail.API
	status int // HTTP status, 0 when no answer came
	// body of a successful answer (bounded), for metadata probes.
	body        []byte
	contentType string
}

// prober makes the probe calls through the one provider Caller: GET with
// the user's bearer token, a bounded timeout, a bounded body.
type prober struct {
	call    providers.Caller
	timeout time.Duration
}

func (p *prober) get(ctx context.Context, prov catalog.Provider, rawURL, token string) probeResult {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	a, err := p.call.Get(ctx, rawURL, token, "application/json")
	if err != nil {
		return probeResult{kind: oauthfail.APIUnavailable, status: a.Status}
	}
	res := probeResult{kind: prov.Dialect.ClassifyAPI(a.Status, a.Header, a.Body), status: a.Status}
	if res.kind == oauthfail.APIOK {
		res.body, res.contentType = a.Body, a.Header.Get("Content-Type")
	}
	return res
}

// download reads an item's content, counting at most limit bytes and keeping
// none of them.
func (p *prober) download(ctx context.Context, prov catalog.Provider, rawURL, token string, limit int64) (res probeResult, size int64, truncated bool) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	a, n, truncated, err := p.call.Download(ctx, rawURL, token, limit)
	if err != nil {
		return probeResult{kind: oauthfail.APIUnavailable, status: a.Status}, 0, false
	}
	if !a.OK() {
		return probeResult{kind: prov.Dialect.ClassifyAPI(a.Status, a.Header, a.Body), status: a.Status}, 0, false
	}
	return probeResult{kind: oauthfail.APIOK, status: a.Status, contentType: a.Header.Get("Content-Type")}, n, truncated
}
