package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
)

// Error is the one error type handlers return: the application layer's, which respond
// turns into the JSON body of api.md: {"error": {"code", "message"}}.
type Error = app.Error

func badRequest(format string, args ...any) *Error { return app.BadRequest(format, args...) }

var (
	errUnauthenticated = app.ErrUnauthenticated
	errTooLarge        = &Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: "the request body is too large"}
)

// statusClientClosedRequest is what the logs and metrics record when the caller went away
// before the answer; nobody reads the answer.
const statusClientClosedRequest = 499

func rateLimited(message string, retryAfter int) *Error { return app.RateLimited(message, retryAfter) }

// respond writes err as the API's error body. Postgres or Temporal being down or too slow
// is a logged 503 with Retry-After; a caller that went away is not a fault of ours and is
// not logged; anything else that is not an *Error is a server fault: it is logged and
// answered with a 500 that says nothing of the cause.
func respond(c *gin.Context, err error) {
	if clientWentAway(c, err) {
		c.AbortWithStatus(statusClientClosedRequest)
		return
	}
	apiErr, fault := app.Classify(err)
	if fault {
		_ = c.Error(err)
	}
	if apiErr.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(apiErr.RetryAfter))
	}
	c.AbortWithStatusJSON(apiErr.Status, errorAnswer{Error: errorBody{Code: apiErr.Code, Message: apiErr.Message}})
}

// clientWentAway reports whether err is the cancellation of the request's own context: the
// caller closed the connection, and what failed was only waiting for it.
func clientWentAway(c *gin.Context, err error) bool {
	return errors.Is(c.Request.Context().Err(), context.Canceled) && app.Canceled(err)
}
