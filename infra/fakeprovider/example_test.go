package fakeprovider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/sofie/integrations/infra/fakeprovider"
	"github.com/sofie/integrations/shared/catalog"
	"github.com/sofie/integrations/shared/outbound"
)

// The service's view: real provider URLs from the catalog, sent through
// outbound's rewriting client to the fake.
func Example() {
	fake := fakeprovider.New(fakeprovider.Options{AutoApprove: true})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	rw, _ := outbound.NewRewriter(srv.URL)
	hc := outbound.NewClient(rw, 0)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)

	fake.RegisterClient(fakeprovider.ClientSpec{
		Provider: catalog.GoogleWorkspace, ClientID: "123456789012-example.apps.googleusercontent.com",
		Secret: "fake-client-secret-1", RedirectURIs: []string{"https://app.example.com/oauth/callback"},
	})
	p, _ := catalog.New().Get(catalog.GoogleWorkspace)
	cfg := &oauth2.Config{
		ClientID: "123456789012-example.apps.googleusercontent.com", ClientSecret: "fake-client-secret-1",
		Endpoint: p.Endpoints(catalog.Settings{}).OAuth2, RedirectURL: "https://app.example.com/oauth/callback",
		Scopes: p.RequestedScopes([]catalog.Capability{catalog.Files}, false),
	}

	// The browser follows the (rewritten) authorization URL; the fake
	// approves at once and redirects back with a code.
	verifier := oauth2.GenerateVerifier()
	authURL := rw.URL(cfg.AuthCodeURL("state-1", append(p.AuthCodeOptions(), oauth2.S256ChallengeOption(verifier))...))
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))

	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token type:", tok.TokenType, "refresh token:", tok.RefreshToken != "")
	fmt.Println("scope:", tok.Extra("scope"))
	fmt.Println("exchanges:", fake.Count(fakeprovider.Filter{Kind: fakeprovider.KindExchange, Outcome: fakeprovider.OutcomeOK}))
	// Output:
	// token type: Bearer refresh token: true
	// scope: openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/drive.readonly
	// exchanges: 1
}

// Inject a Microsoft refresh failure for one user, once.
func ExampleServer_Inject() {
	fake := fakeprovider.New(fakeprovider.Options{})
	remove := fake.Inject(fakeprovider.Fault{
		Provider: catalog.Microsoft365, Kind: fakeprovider.KindRefresh, User: fakeprovider.DefaultMicrosoftUser,
		Error: fakeprovider.ErrInvalidGrant, AADSTS: 700082, Times: 1,
	})
	defer remove()
	fmt.Println("injected")
	// Output: injected
}
