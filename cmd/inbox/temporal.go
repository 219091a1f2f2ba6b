package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bestai/inbox/config"
	"github.com/bestai/inbox/devserver"
	"github.com/bestai/inbox/workflows"
)

// runTemporal serves only the embedded Temporal server and its Web UI, with the namespace
// and the search attributes registered: a one-node cluster for running `serve` and `worker`
// as separate processes on one machine (and the production test). It is not a production
// Temporal: one process, on two Postgres databases (the default) or on one SQLite file.
func runTemporal(ctx context.Context) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ts, err := startTemporal(cfg, "inbox temporal")
	if err != nil {
		return err
	}
	fmt.Printf(`inbox temporal is running. Ctrl-C stops it.

  Temporal     %s (namespace %s)
  Temporal UI  http://%s/namespaces/%s/workflows
  search attrs %s
  data         %s
  log          %s
`, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.TemporalUIAddr, cfg.TemporalNamespace,
		strings.Join(workflows.SearchAttributeNames, ", "), temporalData(cfg), ts.LogFile)
	<-ctx.Done()
	fmt.Println("\ninbox temporal: stopping ...")
	ts.Stop()
	return nil
}

// startTemporal starts the embedded Temporal and UI as `inbox dev` and `inbox temporal`
// both need them: data under INBOX_DATA_DIR, the namespace and search attributes registered.
func startTemporal(cfg config.Config, who string) (*devserver.Server, error) {
	if cfg.TemporalStore == devserver.StorePostgres {
		if _, _, err := devserver.PostgresDatabases(cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
	}
	fmt.Printf("%s: starting Temporal on %s (data in %s) ...\n", who, cfg.TemporalAddress, temporalData(cfg))
	return devserver.Start(devserver.Options{
		FrontendAddr:      cfg.TemporalAddress,
		UIAddr:            cfg.TemporalUIAddr,
		DataDir:           cfg.DataDir,
		Namespace:         cfg.TemporalNamespace,
		SearchAttributes:  workflows.SearchAttributeNames,
		Store:             cfg.TemporalStore,
		Shards:            cfg.TemporalShards,
		PostgresURL:       cfg.DatabaseURL,
		SynchronousCommit: cfg.TemporalSynchronousCommit,
		DBMaxConns:        cfg.TemporalDBMaxConns,
	})
}

// temporalData says where the embedded Temporal keeps its data, for the banners.
func temporalData(cfg config.Config) string {
	if cfg.TemporalStore != devserver.StorePostgres {
		return filepath.Join(cfg.DataDir, "temporal.sqlite")
	}
	main, vis, err := devserver.PostgresDatabases(cfg.DatabaseURL)
	if err != nil {
		return "Postgres (DATABASE_URL names no database)"
	}
	return "Postgres databases " + main + " and " + vis
}
