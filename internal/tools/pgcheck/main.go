// Command pgcheck exits non-zero with a one-line reason when the Postgres server the tests
// use (TEST_DATABASE_URL, or the local default) is not reachable. `make test` runs it first.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

func main() {
	// The same default as internal/testenv.AdminURL.
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, _ := url.Parse(dsn)
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		where := dsn
		if u != nil {
			where = u.Redacted()
		}
		fmt.Fprintf(os.Stderr, "Postgres is not reachable at %s (%v): start it, or set TEST_DATABASE_URL\n", where, err)
		os.Exit(1)
	}
}
