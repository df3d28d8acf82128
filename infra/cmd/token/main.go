// Command token mints a local bearer token for make run: an HS256 JWT
// signed with LOCAL_JWT_SECRET (or the local server's development secret),
// with the issuer and audience the local server accepts.
//
//	go run ./infra/cmd/token -user u1 -org o1 -roles org_admin -groups pilot
//	make token USER=u1 ORG=o1 ROLES=org_admin GROUPS=pilot
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sofie/integrations/infra/localserver"
	"github.com/sofie/integrations/shared/auth"
	"github.com/sofie/integrations/shared/config"
)

func main() {
	var (
		user   = flag.String("user", "", "user id (sub claim)")
		org    = flag.String("org", "", "organization id (org_id claim)")
		roles  = flag.String("roles", "", "comma-separated roles, e.g. org_admin")
		groups = flag.String("groups", "", "comma-separated groups, e.g. pilot")
		ttl    = flag.Duration("ttl", 12*time.Hour, "token lifetime")
	)
	flag.Parse()
	if *user == "" || *org == "" {
		fmt.Fprintln(os.Stderr, "token: -user and -org are required (make token USER=u1 ORG=o1 ROLES=org_admin GROUPS=pilot)")
		os.Exit(2)
	}
	secret := os.Getenv("LOCAL_JWT_SECRET")
	if secret == "" {
		secret = localserver.DevJWTSecret
	}
	// The claim names are the functions' own settings (CLAIM_*).
	names := auth.DefaultClaimNames()
	if cfg, err := config.FromEnv(localserver.LocalEnv(os.Getenv)); err == nil {
		names = cfg.Claims
	}
	tok, err := localserver.MintToken([]byte(secret), localserver.Claims{
		User:   *user,
		Org:    *org,
		Roles:  nonNil(config.List(*roles)),
		Groups: nonNil(config.List(*groups)),
		Names:  names,
		TTL:    *ttl,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	fmt.Println(tok)
}

// nonNil keeps an empty list claim in the token ("[]"), as identity
// providers send it.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
