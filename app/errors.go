package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/bestai/inbox/store"
)

// Error is a refusal or failure worded for the person who asked: the HTTP status and code of
// api.md, a sentence saying what to do, and for 429 and 503 when to try again.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// BadRequest is a 400 whose message starts with the name of the input at fault.
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

// Invalid is a 422: the request is well formed but a value is out of what is allowed; the
// message starts with the field's name.
func Invalid(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_value", Message: fmt.Sprintf(format, args...)}
}

// Conflict is a 409: the request is well formed but the objects' current state refuses it.
func Conflict(message string) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: message}
}

// InvalidTransition is a 409 for a state change the transition table forbids.
func InvalidTransition(message string) *Error {
	return &Error{Status: http.StatusConflict, Code: "invalid_transition", Message: message}
}

// NotAssignable is a 422 for an assignee that cannot be given the conversation.
func NotAssignable(message string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "not_assignable", Message: message}
}

// IdempotencyKeyReused is a 422: the key named another request on this conversation.
func IdempotencyKeyReused() *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused",
		Message: "this Idempotency-Key was used for a different request on this conversation; use a new key for a new request"}
}

// RateLimited is a 429 with the seconds to wait.
func RateLimited(message string, retryAfter int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: message, RetryAfter: retryAfter}
}

// Unavailable is a 503: a service the inbox depends on is down or did not answer in time.
// The request may succeed if repeated after retryAfter seconds.
func Unavailable(message string, retryAfter int) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: message, RetryAfter: retryAfter}
}

var (
	// ErrForbidden: the caller's role in this workspace may not do this.
	ErrForbidden = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "your role in this workspace may not do this"}
	// ErrNotFound: no such object in the caller's workspace; another workspace's objects
	// are answered the same way, so their existence does not leak.
	ErrNotFound = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such object"}

	errDatabaseUnavailable = Unavailable("the database is unavailable right now; retry in a few seconds", 5)
	errWorkflowUnavailable = Unavailable("the workflow service is unavailable right now; retry in a few seconds", 5)
	// ErrNotConfirmed: the Update was sent but its result did not arrive in time. The
	// workflow may still apply it, so only a retry under the same key is safe.
	ErrNotConfirmed = Unavailable("the change was not confirmed in time; it may still be applied: retry with the same Idempotency-Key to get its result", 2)
	// ErrAccepted: the workflow accepted the change (it is in its history and will be
	// applied) but its result did not arrive in time. It is a 202, not a failure.
	ErrAccepted = &Error{Status: http.StatusAccepted, Code: "accepted",
		Message: "the change is accepted and will be applied in a moment; read the conversation to see it"}
	errInternal = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "something went wrong on our side; it has been logged"}
)

// Classify words any error of an operation for the person who asked. fault is true when
// the error is ours (a 500, or a dependency down) and must be logged.
func Classify(err error) (e *Error, fault bool) {
	switch {
	case errors.As(err, &e):
		return e, false
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound, false
	case errors.Is(err, store.ErrBadCursor):
		return BadRequest("cursor: not a cursor this server handed out"), false
	case WorkflowUnavailable(err):
		return errWorkflowUnavailable, true
	case store.IsUnavailable(err):
		return errDatabaseUnavailable, true
	}
	return errInternal, true
}

// Canceled reports whether err is only the cancellation of a wait, as when the caller of an
// operation went away before its answer.
func Canceled(err error) bool {
	var canceled *serviceerror.Canceled
	return errors.Is(err, context.Canceled) || errors.As(err, &canceled)
}

// WorkflowUnavailable reports whether a Temporal call failed because the service could not
// serve it now: unreachable, overloaded, not enough hosts, or out of time.
func WorkflowUnavailable(err error) bool {
	var (
		down      *serviceerror.Unavailable
		exhausted *serviceerror.ResourceExhausted
		late      *serviceerror.DeadlineExceeded
	)
	// The SDK reports a cluster without history hosts as an untyped error: only its text
	// tells it apart.
	return errors.As(err, &down) || errors.As(err, &exhausted) || errors.As(err, &late) ||
		strings.Contains(err.Error(), "Not enough hosts")
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least one, for Retry-After:
// rounding down would send the client back a moment too early, to be refused again.
func RetryAfterSeconds(d time.Duration) int {
	return int(math.Max(1, math.Ceil(d.Seconds())))
}
