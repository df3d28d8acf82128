package providers

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestCallerBoundsAndRedacts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 3*MaxAnswer)))
		case "/refused":
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"error":"echo of fake-access-token"}`))
		case "/me":
			if r.Header.Get("Authorization") != "Bearer fake-access-token" || r.Header.Get("Accept") != "application/json" {
				w.WriteHeader(401)
				return
			}
			_, _ = w.Write([]byte(`{"id":"u-1"}`))
		}
	}))
	defer srv.Close()
	c := Caller{HTTP: srv.Client()}
	ctx := context.Background()

	a, err := c.Get(ctx, srv.URL+"/big", "t", "*/*")
	if err != nil || len(a.Body) != MaxAnswer {
		t.Fatalf("big answer: %d bytes read, %v; want %d", len(a.Body), err, MaxAnswer)
	}
	var me struct{ ID string }
	if err := c.GetJSON(ctx, "me", srv.URL+"/me", "fake-access-token", &me); err != nil || me.ID != "u-1" {
		t.Fatalf("GetJSON = %v, %+v", err, me)
	}
	err = c.GetJSON(ctx, "me", srv.URL+"/refused", "fake-access-token", &me)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Status != 403 || strings.Contains(err.Error(), "fake-access-token") {
		t.Fatalf("refused: %v", err)
	}
	// A transport error names neither the URL nor its query.
	err = c.GetJSON(ctx, "me", "http://127.0.0.1:1/me?item=secret-item-id", "t", &me)
	if err == nil || strings.Contains(err.Error(), "secret-item-id") || strings.Contains(err.Error(), "127.0.0.1:1/me") {
		t.Fatalf("transport error %v", err)
	}
	if _, err := c.Get(ctx, "http://bad host/?q=secret-item-id", "t", "*/*"); err == nil || strings.Contains(err.Error(), "secret-item-id") {
		t.Fatalf("malformed URL: %v", err)
	}
}

func TestDownloadCountsAndStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"error":{"code":"itemNotFound"}}`))
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("y", 1000)))
	}))
	defer srv.Close()
	c := Caller{HTTP: srv.Client()}
	a, n, truncated, err := c.Download(context.Background(), srv.URL+"/f", "t", 400)
	if err != nil || !a.OK() || n != 400 || !truncated || a.Body != nil {
		t.Fatalf("truncated download: %+v %d %v %v", a, n, truncated, err)
	}
	if _, n, truncated, err = c.Download(context.Background(), srv.URL+"/f", "t", 5000); err != nil || n != 1000 || truncated {
		t.Fatalf("whole download: %d %v %v", n, truncated, err)
	}
	if a, n, _, err = c.Download(context.Background(), srv.URL+"/missing", "t", 5000); err != nil || a.Status != 404 || n != 0 || !strings.Contains(string(a.Body), "itemNotFound") {
		t.Fatalf("refused download: %+v %d %v", a, n, err)
	}
}

func TestRevokeRFC7009(t *testing.T) {
	tests := []struct {
		status int
		body   string
		ok     bool
	}{
		{200, ``, true},
		{400, `{"error":"invalid_token"}`, true},
		{400, `{"error":"unsupported_token_type"}`, false},
		{503, ``, false},
	}
	for _, tc := range tests {
		var form string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			form = r.PostForm.Encode()
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		err := RevokeRFC7009(context.Background(), Caller{HTTP: srv.Client()}, srv.URL, "fake-refresh-token")
		srv.Close()
		if (err == nil) != tc.ok || form != "token=fake-refresh-token" {
			t.Errorf("%d %s: %v (form %q)", tc.status, tc.body, err, form)
		}
	}
	if err := RevokeRFC7009(context.Background(), Caller{HTTP: http.DefaultClient}, "", "t"); err == nil {
		t.Error("no endpoint")
	}
	if got := RevocableToken(&oauth2.Token{AccessToken: "a", RefreshToken: "r"}); got != "r" {
		t.Errorf("RevocableToken = %q", got)
	}
}

func TestJWTClaims(t *testing.T) {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	var c struct {
		TID string `json:"tid"`
	}
	if err := JWTClaims(enc(map[string]string{"alg": "none"})+"."+enc(map[string]string{"tid": "t-1"})+".", &c); err != nil || c.TID != "t-1" {
		t.Fatalf("JWTClaims = %v, %+v", err, c)
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		if err := JWTClaims(bad, &c); err == nil {
			t.Errorf("JWTClaims(%q) accepted", bad)
		}
	}
}

func TestIntrospect(t *testing.T) {
	exp := time.Date(2026, 11, 29, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		status  int
		body    string
		want    time.Time
		wantErr string
	}{
		{"active", 200, `{"active":true,"exp":` + strconv.FormatInt(exp.Unix(), 10) + `,"scope":"api"}`, exp, ""},
		{"inactive", 200, `{"active":false}`, time.Time{}, "inactive"},
		{"no exp", 200, `{"active":true}`, time.Time{}, "without exp"},
		{"malformed", 200, `{"active":tru`, time.Time{}, "malformed answer"},
		{"refused", 401, `{"error":"invalid_client"}`, time.Time{}, "HTTP 401"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var form string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				form = r.PostForm.Encode()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			s := Session{
				Endpoints: Endpoints{IntrospectURL: srv.URL + "/services/oauth2/introspect"},
				ClientID:  "fake-consumer-key", ClientSecret: "fake-client-secret-1",
				Token: &oauth2.Token{AccessToken: "fake-access-token"},
			}
			got, err := Introspect(context.Background(), Caller{HTTP: srv.Client()}, s)
			if tc.wantErr == "" {
				if err != nil || !got.Equal(tc.want) {
					t.Fatalf("Introspect = %v, %v; want %v", got, err, tc.want)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "fake-access-token") || strings.Contains(err.Error(), "fake-client-secret-1") || strings.Contains(err.Error(), "invalid_client")) {
				t.Fatalf("error %q repeats the token, the secret or the answer", err)
			}
			for _, want := range []string{"token=fake-access-token", "token_type_hint=access_token", "client_id=fake-consumer-key"} {
				if !strings.Contains(form, want) {
					t.Errorf("form %q lacks %s", form, want)
				}
			}
		})
	}
	if _, err := Introspect(context.Background(), Caller{HTTP: http.DefaultClient}, Session{Token: &oauth2.Token{}}); err == nil {
		t.Fatal("no endpoint")
	}
}

// expiryDialect states an expiry (or fails to) and nothing else.
type expiryDialect struct {
	Dialect
	exp time.Time
	err error
}

func (d expiryDialect) AccessExpiry(context.Context, Caller, Session) (time.Time, error) {
	return d.exp, d.err
}

// TestAccessExpiryRule: one rule for the callback and the refresh job.
func TestAccessExpiryRule(t *testing.T) {
	requested := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	now := requested.Add(2 * time.Second)
	stated := now.Add(90 * time.Minute)
	tests := []struct {
		name      string
		d         expiryDialect
		tok       *oauth2.Token
		want      time.Time
		wantCause string
	}{
		{"the provider's statement wins", expiryDialect{exp: stated}, &oauth2.Token{ExpiresIn: 3600}, stated, ""},
		{"a statement in the past is no statement", expiryDialect{exp: now.Add(-time.Second)}, &oauth2.Token{}, time.Time{}, ExpiryIntrospectionFailed},
		{"introspection failed", expiryDialect{err: errors.New("introspection: HTTP 503")}, &oauth2.Token{}, time.Time{}, ExpiryIntrospectionFailed},
		{"expires_in from when the request was sent", expiryDialect{err: ErrNoExpiryStatement}, &oauth2.Token{ExpiresIn: 3600, Expiry: now.Add(99 * time.Hour)}, requested.Add(time.Hour), ""},
		{"nothing said", expiryDialect{err: ErrNoExpiryStatement}, &oauth2.Token{Expiry: stated}, time.Time{}, ExpiryNotGiven},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Provider{Dialect: tc.d}
			got, cause := p.AccessExpiry(context.Background(), Caller{}, Session{Token: tc.tok}, requested, now)
			if !got.Equal(tc.want) || cause != tc.wantCause {
				t.Fatalf("AccessExpiry = %v, %q; want %v, %q", got, cause, tc.want, tc.wantCause)
			}
		})
	}
}
