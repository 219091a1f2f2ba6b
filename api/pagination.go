package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Page sizes of every list (api.md).
const (
	defaultLimit = 50
	maxLimit     = 200
)

// pageParams reads ?limit= and ?cursor=; limit defaults to 50 and may not exceed 200.
// Either given twice is a 400, as any repeated single-value parameter is: which one would
// count is a guess.
func pageParams(c *gin.Context) (int, string, error) {
	values := c.Request.URL.Query()
	for _, name := range []string{"limit", "cursor"} {
		if len(values[name]) > 1 {
			return 0, "", badRequest("%s: given more than once", name)
		}
	}
	limit := defaultLimit
	if raw, ok := values["limit"]; ok {
		n, err := strconv.Atoi(raw[0])
		if err != nil || n < 1 || n > maxLimit {
			return 0, "", badRequest("limit: want a whole number from 1 to %d", maxLimit)
		}
		limit = n
	}
	return limit, values.Get("cursor"), nil
}

// writePage writes {"items": [...], "next_cursor": "..." | null}.
func writePage[T any](c *gin.Context, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	var cursor *string
	if next != "" {
		cursor = &next
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": cursor})
}
