package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestConnectGroupsOf(t *testing.T) {
	if g := ConnectGroupsOf(nil); g == nil || g.Groups == nil || len(g.Groups) != 0 || g.Truncated {
		t.Fatalf("no groups: %+v", g)
	}
	g := ConnectGroupsOf([]string{"pilot", "", "pilot", strings.Repeat("x", MaxConnectGroupLen+1), "Sales EMEA", strings.Repeat("y", MaxConnectGroupLen)})
	if !slices.Equal(g.Groups, []string{"pilot", "Sales EMEA", strings.Repeat("y", MaxConnectGroupLen)}) || g.Truncated {
		t.Fatalf("kept %q (truncated %v)", g.Groups, g.Truncated)
	}
	many := make([]string, MaxConnectGroups+5)
	for i := range many {
		many[i] = fmt.Sprintf("g-%03d", i)
	}
	g = ConnectGroupsOf(many)
	if len(g.Groups) != MaxConnectGroups || !g.Truncated || g.Groups[0] != "g-000" {
		t.Fatalf("%d groups, truncated %v", len(g.Groups), g.Truncated)
	}
	if g = ConnectGroupsOf(many[:MaxConnectGroups]); g.Truncated {
		t.Fatal("exactly the maximum is not truncated")
	}
}
