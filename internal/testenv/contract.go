package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/bestai/inbox/api"
)

// The contract check: every request a test sends through Env.Do, and the answer it gets, is
// checked against the OpenAPI document the API serves. An answer whose status or body the
// document does not describe fails the test, and so does a request the server accepted
// (2xx) that the document says is not valid. So the hand-written document cannot drift
// from the code without a test noticing.

var contract struct {
	once   sync.Once
	router routers.Router
	err    error
}

func contractRouter() (routers.Router, error) {
	contract.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPIDocument())
		if err != nil {
			contract.err = fmt.Errorf("load the OpenAPI document: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			contract.err = fmt.Errorf("the OpenAPI document is not valid OpenAPI 3: %w", err)
			return
		}
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	return contract.router, contract.err
}

func init() {
	// CSV exports are checked for their status and headers; their body is a stream of text.
	openapi3filter.RegisterBodyDecoder("text/csv", func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	})
}

// documented reports whether path is the API's, which the document covers; the pages and
// static files are not.
func documented(path string) bool {
	return strings.HasPrefix(path, "/api/") || path == "/healthz" || path == "/readyz"
}

// CheckContract checks one exchange against the document: the request as sent (with its
// body) and the answer's status, headers and body. It returns nil for a path the document
// does not cover, and for an unknown route answered 404 or 405.
func CheckContract(req *http.Request, reqBody []byte, status int, header http.Header, body []byte) error {
	if !documented(req.URL.Path) || req.URL.Path == "/api/v1/openapi.json" {
		return nil
	}
	router, err := contractRouter()
	if err != nil {
		return err
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // an unknown path or method, answered as such
		}
		return fmt.Errorf("%s %s answered %d but is not in the OpenAPI document: %v", req.Method, req.URL.Path, status, err)
	}
	input := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if status < 300 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
			return fmt.Errorf("%s %s was accepted (%d), but the OpenAPI document says the request is not valid: %v", req.Method, req.URL.Path, status, err)
		}
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input, Status: status, Header: header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		return fmt.Errorf("%s %s answered %d %.300s, which the OpenAPI document does not describe: %v", req.Method, req.URL.Path, status, body, err)
	}
	return nil
}
