// Command inbox is the one binary of the inbox: `dev` runs everything in one process for
// local work; `serve` and `worker` run the API and the Temporal worker in production;
// `migrate` manages the schema; `workspace create` bootstraps a customer; `user invite`
// gives a person who lost their password a new link.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: inbox <command>

commands:
  dev                       embedded Temporal + UI, migrations, worker and API in one process
  temporal                  only the embedded Temporal + UI (namespace, search attributes), for
                            running serve and worker as separate processes on one machine
  serve                     the HTTP API, against an external Temporal (TEMPORAL_ADDRESS)
  worker                    the Temporal worker (conversation workflows and activities)
  migrate up|down|status    manage the Postgres schema (DATABASE_URL)
  workspace create --name NAME --owner-email EMAIL [--owner-name NAME]
                            create a workspace; prints its ingest key, the owner's token
                            and the owner's invite link (to set a web admin password);
                            an owner who already has an account gets no link
  user invite --email EMAIL a one-time link on which a person sets a new password: the way
                            back in for a lost password (a workspace admin cannot reset it)

Configuration is read from environment variables; see README.md. The embedded Temporal of
dev and temporal keeps its data in Postgres, in <db>_temporal and <db>_temporal_visibility
next to DATABASE_URL's database (created if missing); INBOX_TEMPORAL_STORE=sqlite keeps it
in a file under INBOX_DATA_DIR instead.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "dev":
		err = runDev(ctx)
	case "temporal":
		err = runTemporal(ctx)
	case "serve":
		err = runServe(ctx)
	case "worker":
		err = runWorker(ctx)
	case "migrate":
		err = runMigrate(ctx, os.Args[2:])
	case "workspace":
		err = runWorkspace(ctx, os.Args[2:], os.Stdout)
	case "user":
		err = runUser(ctx, os.Args[2:], os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "inbox: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "inbox %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
