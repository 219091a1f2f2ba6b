package devserver

import (
	"testing"

	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
)

// TestQueuesArePolledFasterThanTemporalsDefault: the server reads the dynamic configuration
// this package gives it, and its history queues may be polled queuePollRPS times a second,
// not Temporal's default of 20, which capped one conversation at about 22 changes a second.
func TestQueuesArePolledFasterThanTemporalsDefault(t *testing.T) {
	c := dynamicconfig.NewCollection(dynamicConfig(), log.NewNoopLogger())
	for name, setting := range map[string]dynamicconfig.IntPropertyFn{
		"transfer":   dynamicconfig.TransferProcessorMaxPollRPS.Get(c),
		"timer":      dynamicconfig.TimerProcessorMaxPollRPS.Get(c),
		"visibility": dynamicconfig.VisibilityProcessorMaxPollRPS.Get(c),
		"outbound":   dynamicconfig.OutboundProcessorMaxPollRPS.Get(c),
	} {
		if got := setting(); got != queuePollRPS {
			t.Errorf("%s queue poll RPS = %d, want %d", name, got, queuePollRPS)
		}
	}
	if def := dynamicconfig.TransferProcessorMaxPollRPS.Get(dynamicconfig.NewNoopCollection())(); def >= queuePollRPS {
		t.Errorf("Temporal's default transfer poll RPS is %d now: the override may no longer be needed", def)
	}
}
