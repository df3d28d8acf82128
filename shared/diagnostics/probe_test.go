package diagnostics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/oauthfail"
	"github.com/sofie/integrations/shared/outbound"
	"github.com/sofie/integrations/shared/providers"
	"github.com/sofie/integrations/shared/store"
)

func TestProberSendsTokenAndBoundsCalls(t *testing.T) {
	var gotAuth, gotPath string
	mux := http.NewServeMux()
	mux.HandleFunc("/graph.microsoft.com/v1.0/me/drive/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x","size":3}`))
	})
	mux.HandleFunc("/graph.microsoft.com/v1.0/me/drive/items/{id}/content", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write([]byte(strings.Repeat("x", 100)))
	})
	mux.HandleFunc("/graph.microsoft.com/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rw, err := outbound.NewRewriter(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &prober{call: providers.Caller{HTTP: outbound.NewClient(rw, 5*time.Second)}, timeout: 200 * time.Millisecond}
	ctx := context.Background()

	ms, _ := catalog.New().Get(catalog.Microsoft365)
	u, _ := ms.ProbeURL("https://graph.microsoft.com/v1.0/me/drive/items/{id}", store.Account{}, "b!x")
	res := p.get(ctx, ms, u, "fake-access-token-1")
	if res.kind != oauthfail.APIOK || gotAuth != "Bearer fake-access-token-1" || gotPath != "/graph.microsoft.com/v1.0/me/drive/items/b%21x" {
		t.Fatalf("get = %+v, auth %q, path %q", res, gotAuth, gotPath)
	}
	if string(res.body) != `{"id":"x","size":3}` {
		t.Fatalf("body = %q", res.body)
	}

	start := time.Now()
	if res := p.get(ctx, ms, "https://graph.microsoft.com/slow", "t"); res.kind != oauthfail.APIUnavailable {
		t.Fatalf("slow answer = %+v, want transient", res)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the probe timeout did not bound the call: %v", d)
	}

	cu, _ := ms.ProbeURL("https://graph.microsoft.com/v1.0/me/drive/items/{id}/content", store.Account{}, "b!x")
	res, n, truncated := p.download(ctx, ms, cu, "t", 1000)
	if res.kind != oauthfail.APIOK || n != 100 || truncated || res.contentType != "application/pdf" {
		t.Fatalf("download = %+v %d %v", res, n, truncated)
	}
	_, n, truncated = p.download(ctx, ms, cu, "t", 10)
	if n != 10 || !truncated {
		t.Fatalf("bounded download = %d %v, want 10 true", n, truncated)
	}
	if res := p.get(ctx, ms, "https://graph.microsoft.com/nothing-here", "t"); res.kind != oauthfail.APINotFound {
		t.Fatalf("404 = %+v", res)
	}
}
