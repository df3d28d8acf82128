package refresh

import (
	"testing"

	"github.com/sofie/integrations/shared/store"
)

func TestRunOutcome(t *testing.T) {
	for _, tc := range []struct {
		m    map[string]int
		want string
	}{
		{map[string]int{OutcomeRefreshed: 3, OutcomeNotDue: 1, OutcomeSkipped: 1, OutcomeOffIndex: 1}, store.RunOutcomeOK},
		{map[string]int{OutcomeRefreshed: 3, OutcomeLeftForNext: 2}, store.RunOutcomePartial},
		{map[string]int{OutcomeRefreshed: 3, OutcomeLeftForNext: 2, OutcomeTransient: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeNeedsReconnect: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeExhausted: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeError: 1}, store.RunOutcomeFailures},
		{map[string]int{OutcomeLeaseLost: 1}, store.RunOutcomeFailures},
	} {
		if got := runOutcome(tc.m); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.m, got, tc.want)
		}
	}
}
