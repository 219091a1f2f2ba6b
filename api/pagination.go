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
func pageParams(c *gin.Context) (int, string, error) {
	limit := defaultLimit
	if raw, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			return 0, "", badRequest("limit: want a whole number from 1 to %d", maxLimit)
		}
		limit = n
	}
	return limit, c.Query("cursor"), nil
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
