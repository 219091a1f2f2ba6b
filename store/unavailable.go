package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/uptrace/bun/driver/pgdriver"
)

// IsUnavailable reports whether err means Postgres could not be reached or could not serve
// the call right now (down, restarting, out of connections, a lock or statement timeout),
// as opposed to a fault in the query or the data. Such a call may succeed if retried later.
// It is the one place that knows which driver errors mean that.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Field('C'))
	}
	var netErr net.Error
	switch {
	case errors.As(err, &netErr), // refused, reset, unreachable, DNS, read deadline
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // the server closed the connection
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	// database/sql does not export the error of a closed pool (the process is shutting down).
	return strings.Contains(err.Error(), "sql: database is closed")
}

// unavailableState reports whether a SQLSTATE says the server could not serve the call now.
func unavailableState(code string) bool {
	if strings.HasPrefix(code, "08") { // connection exception
		return true
	}
	switch code {
	case "57P01", // admin_shutdown: the server is shutting down, or the backend was terminated
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: starting up or shutting down
		"53300", // too_many_connections
		"57014", // query_canceled: statement_timeout
		"55P03": // lock_not_available: lock_timeout
		return true
	}
	return false
}
