package moto

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestProxySerializes: however many requests arrive at once, the proxy
// lets one at a time reach the server behind it, and passes each through
// unchanged (path, body, and the response).
func TestProxySerializes(t *testing.T) {
	var inFlight, maxInFlight, served atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		body, _ := io.ReadAll(r.Body)
		served.Add(1)
		w.Write(append([]byte(r.URL.Path+":"), body...))
	}))
	defer backend.Close()
	srv, ep, err := newSerialProxy(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := http.Post(ep+"/x", "text/plain", strings.NewReader("hello"))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if b, _ := io.ReadAll(resp.Body); string(b) != "/x:hello" {
				t.Errorf("response %q", b)
			}
		})
	}
	wg.Wait()
	if served.Load() != 20 || maxInFlight.Load() != 1 {
		t.Fatalf("served %d, at most %d in flight; want 20 and 1", served.Load(), maxInFlight.Load())
	}
}
