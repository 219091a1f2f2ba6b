package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// writePage writes {"items": [...], "next_cursor": "..." | null}.
func writePage[T any](c *gin.Context, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	var cursor *string
	if next != "" {
		cursor = &next
	}
	c.JSON(http.StatusOK, page[T]{Items: items, NextCursor: cursor})
}
