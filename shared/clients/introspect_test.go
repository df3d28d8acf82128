package clients

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/shared/catalog"
)

func TestAccessExpiry(t *testing.T) {
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
			c := Client{
				Endpoints: catalog.Endpoints{IntrospectURL: srv.URL + "/services/oauth2/introspect"},
				OAuth2:    oauth2.Config{ClientID: "fake-consumer-key", ClientSecret: "fake-client-secret-1"},
			}
			got, err := AccessExpiry(context.Background(), srv.Client(), c, "fake-access-token")
			if tc.wantErr == "" {
				if err != nil || !got.Equal(tc.want) {
					t.Fatalf("AccessExpiry = %v, %v; want %v", got, err, tc.want)
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
	if _, err := AccessExpiry(context.Background(), http.DefaultClient, Client{}, "t"); !errors.Is(err, ErrNoIntrospection) {
		t.Fatalf("no endpoint: %v", err)
	}
}
