package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

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

func rateLimited(message string, retryAfter int) *Error {
	return &Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: message, RetryAfter: retryAfter}
}

// respond writes err as the API's error body. Anything that is not an *Error is a server
// fault: it is logged and answered with a 500 that says nothing of the cause.
func respond(c *gin.Context, err error) {
	var apiErr *Error
	switch {
	case errors.As(err, &apiErr):
	case errors.Is(err, store.ErrNotFound):
		apiErr = errNotFound
	case errors.Is(err, store.ErrBadCursor):
		apiErr = badRequest("cursor: not a cursor this server handed out")
	default:
		_ = c.Error(err)
		apiErr = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: "something went wrong on our side; it has been logged"}
	}
	if apiErr.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(apiErr.RetryAfter))
	}
	c.AbortWithStatusJSON(apiErr.Status, gin.H{"error": gin.H{"code": apiErr.Code, "message": apiErr.Message}})
}
