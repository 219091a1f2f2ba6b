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

// TestHistoryCacheIsBoundedByBytes: the server's cache of workflow states is limited by its
// size, historyCacheBytes, not by Temporal's default of 128,000 entries, which let an idle
// inbox's memory grow with every conversation touched in the last hour.
func TestHistoryCacheIsBoundedByBytes(t *testing.T) {
	c := dynamicconfig.NewCollection(dynamicConfig(), log.NewNoopLogger())
	if !dynamicconfig.HistoryCacheSizeBasedLimit.Get(c)() {
		t.Error("the history cache is limited by its entry count, not its size")
	}
	if got := dynamicconfig.HistoryCacheHostLevelMaxSizeBytes.Get(c)(); got != historyCacheBytes {
		t.Errorf("history cache limit = %d bytes, want %d", got, historyCacheBytes)
	}
	if def := dynamicconfig.HistoryCacheHostLevelMaxSizeBytes.Get(dynamicconfig.NewNoopCollection())(); def <= historyCacheBytes {
		t.Errorf("Temporal's default history cache limit is %d bytes now: the override may no longer be needed", def)
	}
}
