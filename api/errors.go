package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"

	"github.com/bestai/inbox/store"
)

// Error is the one error type handlers return; respond turns it into the JSON body of
// api.md: {"error": {"code", "message"}}.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds, for 429 and 503
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func badRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthenticated = &Error{Status: http.StatusUnauthorized, Code: "unauthenticated", Message: "a valid API token is required (Authorization: Bearer <token>)"}
	errForbidden       = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "your role in this workspace may not do this"}
	errNotFound        = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such object"}
	errTooLarge        = &Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: "the request body is too large"}
)

func conflict(message string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: message}
}

func invalidTransition(message string) *Error {
	return &Error{Status: http.StatusConflict, Code: "invalid_transition", Message: message}
}

func notAssignable(message string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "not_assignable", Message: message}
}

func idempotencyKeyReused() *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
		Message: "this Idempotency-Key was used for a different request on this conversation; use a new key for a new request"}
}

// unavailable is a 503: a service the inbox depends on is down or did not answer in time.
// The request may succeed if repeated after retryAfter seconds.
func unavailable(message string, retryAfter int) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: message, RetryAfter: retryAfter}
}

var (
	errDatabaseUnavailable = unavailable("the database is unavailable right now; retry in a few seconds", 5)
	errWorkflowUnavailable = unavailable("the workflow service is unavailable right now; retry in a few seconds", 5)
	// errNotConfirmed: the Update was sent but its result did not arrive within UpdateTimeout.
	// The workflow may still apply it, so only a retry under the same key is safe.
	errNotConfirmed = unavailable("the change was not confirmed in time; it may still be applied: retry with the same Idempotency-Key to get its result", 2)
)

// statusClientClosedRequest is what the logs and metrics record when the caller went away
// before the answer; nobody reads the answer.
const statusClientClosedRequest = 499

func rateLimited(message string, retryAfter int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: message, RetryAfter: retryAfter}
}

// respond writes err as the API's error body. Postgres or Temporal being down or too slow
// is a logged 503 with Retry-After; a caller that went away is not a fault of ours and is
// not logged; anything else that is not an *Error is a server fault: it is logged and
// answered with a 500 that says nothing of the cause.
func respond(c *gin.Context, err error) {
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
	case errors.Is(err, store.ErrNotFound):
		apiErr = errNotFound
	case errors.Is(err, store.ErrBadCursor):
		apiErr = badRequest("cursor: not a cursor this server handed out")
	case clientWentAway(c, err):
		c.AbortWithStatus(statusClientClosedRequest)
		return
	case workflowUnavailable(err):
		_ = c.Error(err)
		apiErr = errWorkflowUnavailable
	case store.IsUnavailable(err):
		_ = c.Error(err)
		apiErr = errDatabaseUnavailable
	default:
		_ = c.Error(err)
		apiErr = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "something went wrong on our side; it has been logged"}
	}
	if apiErr.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(apiErr.RetryAfter))
	}
	c.AbortWithStatusJSON(apiErr.Status, gin.H{"error": gin.H{"code": apiErr.Code, "message": apiErr.Message}})
}

// clientWentAway reports whether err is the cancellation of the request's own context: the
// caller closed the connection, and what failed was only waiting for it.
func clientWentAway(c *gin.Context, err error) bool {
	if !errors.Is(c.Request.Context().Err(), context.Canceled) {
		return false
	}
	var canceled *serviceerror.Canceled
	return errors.Is(err, context.Canceled) || errors.As(err, &canceled)
}

// workflowUnavailable reports whether a Temporal call failed because the service could not
// serve it now: unreachable, overloaded, not enough hosts, or out of time.
func workflowUnavailable(err error) bool {
	var (
		down      *serviceerror.Unavailable
		exhausted *serviceerror.ResourceExhausted
		late      *serviceerror.DeadlineExceeded
	)
	return errors.As(err, &down) || errors.As(err, &exhausted) || errors.As(err, &late) ||
		strings.Contains(err.Error(), "Not enough hosts")
}
