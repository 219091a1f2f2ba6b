package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument is the API's contract, as served at /api/v1/openapi.json; the tests check
// every request and response they make against it.
func OpenAPIDocument() []byte { return openAPIDocument }

func (s *server) openapi(c *gin.Context) { c.Data(http.StatusOK, "application/json", openAPIDocument) }
