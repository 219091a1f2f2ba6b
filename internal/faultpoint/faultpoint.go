// Package faultpoint lets the fault suite stop a process at a named seam, so that a kill -9
// lands exactly there rather than by chance. INBOX_FAULTPOINTS lists the seams and how long
// each holds, as name=duration pairs separated by commas (for example
// "after-completed=2m"); unset, as everywhere but in the fault suite, Hold returns at once.
package faultpoint

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"time"
)

// The seams the fault suite holds.
const (
	// AfterCompleted: an Update has completed and its caller has not written the change.
	AfterCompleted = "after-completed"
	// WriteBack: the workflow's write-back is about to write its changes.
	WriteBack = "write-back"
	// LazyStart: a conversation's first change has started its workflow with the change
	// (Update-with-Start), and its caller has not written the change.
	LazyStart = "lazy-start"
	// BeforeSend: a lifecycle change holds its admission slot and has not been sent to its
	// workflow (with INBOX_MAX_UPDATES_IN_FLIGHT=1, the changes after it are queued).
	BeforeSend = "before-send"
)

var holds = parse(os.Getenv("INBOX_FAULTPOINTS"))

func parse(spec string) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, pair := range strings.Split(spec, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		if d, err := time.ParseDuration(value); err == nil && d > 0 {
			out[name] = d
		}
	}
	return out
}

// Hold waits at seam name for as long as INBOX_FAULTPOINTS says (or until ctx ends), and
// logs that it does, for the test to kill the process then.
func Hold(ctx context.Context, name string) {
	d, ok := holds[name]
	if !ok {
		return
	}
	slog.Warn("fault point holding", "faultpoint", name, "for", d)
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}
