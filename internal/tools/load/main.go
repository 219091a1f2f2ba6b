// Command load measures the lifecycle-write throughput of a running inbox (`inbox dev`):
// -c clients, each on its own conversation created through the ingest API, toggle it
// between open and pending with POST .../conversations/{id}/state as fast as the answers
// come back, for -d. It prints the transitions per second, the p50/p99/max latency of the
// successful ones, and the errors by HTTP status (or "transport" when no answer came).
//
// Every client waits for each answer before sending its next request, so the load is
// bounded by -c requests in flight; -c and -d are capped. Run it against loopback only:
//
//	go run ./internal/tools/load -api http://127.0.0.1:8080 -token T -workspace W -ingest-key K -c 8 -d 10s
//
// `make bench-lifecycle` runs the same loop (internal/loadgen) on a fresh `inbox dev`.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/internal/loadgen"
)

const (
	maxClients  = 256
	maxDuration = 5 * time.Minute
)

func main() {
	apiURL := flag.String("api", "http://127.0.0.1:8080", "inbox API")
	token := flag.String("token", "", "owner token")
	workspace := flag.String("workspace", "", "workspace id")
	ingestKey := flag.String("ingest-key", "", "ingest key")
	clients := flag.Int("c", 8, "concurrent clients, each on its own conversation (at most 256)")
	duration := flag.Duration("d", 10*time.Second, "how long to send transitions (at most 5m)")
	flag.Parse()
	if *token == "" || *workspace == "" || *ingestKey == "" || *clients < 1 || *clients > maxClients ||
		*duration <= 0 || *duration > maxDuration {
		flag.Usage()
		os.Exit(2)
	}
	c := loadgen.NewClient(*apiURL, *clients)

	// Set up one conversation per client before the clock starts; ingest is rate limited,
	// so a 429 waits for its Retry-After.
	ctx := context.Background()
	run := uuid.NewString()
	ids := make([]string, *clients)
	for i := range ids {
		id, err := c.MustIngest(ctx, *ingestKey, fmt.Sprintf("load-%s-%d", run, i), "load probe")
		if err != nil {
			log.Fatalf("ingest: %v", err)
		}
		ids[i] = id
	}
	s := loadgen.Transitions(ctx, c, *token, *workspace, ids, *duration)
	fmt.Printf("clients %d  elapsed %s  transitions %d  %.1f/s  p50 %s  p99 %s  max %s  errors %d %v\n",
		s.Clients, s.Elapsed.Round(time.Millisecond), len(s.OK), s.Rate(),
		s.Quantile(0.5).Round(100*time.Microsecond), s.Quantile(0.99).Round(100*time.Microsecond),
		s.Quantile(1).Round(100*time.Microsecond), s.ErrorCount(), s.Errors)
}
