package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bestai/inbox/migrations"
	"github.com/bestai/inbox/store"
)

// productionApp is the app of `serve` and `worker`: an external Temporal, an explicit
// secret key, and a schema migrated beforehand by `inbox migrate up`.
func productionApp(ctx context.Context) (*app, error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, err
	}
	if err := cfg.RequireSecretKey(); err != nil {
		return nil, err
	}
	return newApp(ctx, cfg, cfg.SecretKey, false)
}

// runServe runs the HTTP API against an external Temporal and Postgres.
func runServe(ctx context.Context) error {
	a, err := productionApp(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	srv, ln, err := a.listenAPI()
	if err != nil {
		return err
	}
	a.logger.Info("inbox API listening", "addr", ln.Addr().String(), "temporal", a.cfg.TemporalAddress)
	return serveUntilDone(ctx, srv, ln)
}

// runWorker runs the conversation workflows and activities until interrupted.
func runWorker(ctx context.Context) error {
	a, err := productionApp(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	stop, err := a.startWorker()
	if err != nil {
		return err
	}
	a.logger.Info("inbox worker polling", "task_queue", "inbox", "temporal", a.cfg.TemporalAddress)
	<-ctx.Done()
	// A signal is the normal way to stop: report nil so the process exits 0.
	a.logger.Info("inbox worker stopping: no new tasks, letting in-flight activities finish", "bound", a.cfg.WorkerStopTimeout)
	start := time.Now()
	stop()
	a.logger.Info("inbox worker stopped", "after", time.Since(start).Round(time.Millisecond))
	return nil
}

// runMigrate applies, rolls back or lists the schema migrations.
func runMigrate(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: inbox migrate up|down|status")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	s, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer s.Close()
	switch args[0] {
	case "up":
		names, err := migrations.Up(ctx, s.DB)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Println("the schema is up to date")
		}
		for _, n := range names {
			fmt.Println("applied", n)
		}
	case "down":
		names, err := migrations.Down(ctx, s.DB)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Println("nothing to roll back")
		}
		for _, n := range names {
			fmt.Println("rolled back", n)
		}
	case "status":
		out, err := migrations.Status(ctx, s.DB)
		if err != nil {
			return err
		}
		fmt.Print(out)
	default:
		return fmt.Errorf("usage: inbox migrate up|down|status (not %q)", args[0])
	}
	return nil
}
