package hygiene_test

import (
	"fmt"
	"strings"

	"github.com/sofie/integrations/shared/hygiene"
)

func ExampleCheck() {
	// A Google client secret pasted into a tenant field (built at runtime:
	// the repository holds no credential-shaped literal).
	pasted := "GOCSPX-" + strings.Repeat("x", 28)
	if f, found := hygiene.Check(pasted); found {
		fmt.Println(f.Kind)
		fmt.Println(strings.Contains(hygiene.Message(f, "tenant"), pasted))
	}
	_, found := hygiene.Check("contoso.onmicrosoft.com")
	fmt.Println(found)
	// Output:
	// google_client_secret
	// false
	// false
}
