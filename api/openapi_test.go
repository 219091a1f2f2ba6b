package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/bestai/inbox/api"
)

// openAPIDoc is the part of the OpenAPI document these tests look at.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	Summary   string                     `json:"summary"`
	Responses map[string]json.RawMessage `json:"responses"`
}

// openAPIMethods are the keys of a path item that name operations.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// fetchOpenAPI serves GET /api/v1/openapi.json from a router built with no dependencies:
// the route and the route table need neither Postgres nor Temporal.
func fetchOpenAPI(t *testing.T) ([]byte, map[string]any, openAPIDoc) {
	t.Helper()
	router := api.NewRouter(api.Deps{})
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: status %d, body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET /api/v1/openapi.json: Content-Type %q, want application/json", ct)
	}
	body := rec.Body.Bytes()
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the OpenAPI document does not have the expected shape: %v", err)
	}
	return body, raw, doc
}

var ginParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// registeredRoutes is the router's route table as "method path" with OpenAPI {param}s.
func registeredRoutes(t *testing.T) map[string]bool {
	t.Helper()
	routes := map[string]bool{}
	for _, r := range api.NewRouter(api.Deps{}).Routes() {
		if strings.Contains(r.Path, "*") {
			t.Errorf("route %s %s has a wildcard; the OpenAPI check does not handle it", r.Method, r.Path)
		}
		routes[strings.ToLower(r.Method)+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(routes) == 0 {
		t.Fatal("the router has no routes")
	}
	return routes
}

// operations lists the document's operations as "method path".
func operations(t *testing.T, doc openAPIDoc) map[string]openAPIOperation {
	t.Helper()
	ops := map[string]openAPIOperation{}
	for path, item := range doc.Paths {
		for key, rawOp := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue // parameters, summary, servers...
			}
			var op openAPIOperation
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[key+" "+path] = op
		}
	}
	return ops
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestOpenAPIServedAsJSON(t *testing.T) {
	_, raw, doc := fetchOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf(`openapi = %q, want "3.x"`, doc.OpenAPI)
	}
	for _, key := range []string{"info", "paths", "components"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("the document has no %q", key)
		}
	}
	var comps struct {
		Components struct {
			SecuritySchemes map[string]struct {
				Type   string `json:"type"`
				Scheme string `json:"scheme"`
				In     string `json:"in"`
				Name   string `json:"name"`
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &comps)
	var bearer, ingestKey bool
	for _, s := range comps.Components.SecuritySchemes {
		bearer = bearer || (s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"))
		ingestKey = ingestKey || (s.Type == "apiKey" && s.In == "header" && s.Name == "X-Inbox-Key")
	}
	if !bearer || !ingestKey {
		t.Errorf("securitySchemes: bearer %v, X-Inbox-Key %v; want both", bearer, ingestKey)
	}
}

func TestOpenAPIMatchesRouter(t *testing.T) {
	_, _, doc := fetchOpenAPI(t)
	routes := registeredRoutes(t)
	ops := operations(t, doc)
	for _, r := range sortedKeys(routes) {
		if _, ok := ops[r]; !ok {
			t.Errorf("route %s is registered but not in the OpenAPI document", r)
		}
	}
	for _, o := range sortedKeys(ops) {
		if !routes[o] {
			t.Errorf("operation %s is in the OpenAPI document but not registered", o)
		}
	}
}

func TestOpenAPIOperationResponses(t *testing.T) {
	_, _, doc := fetchOpenAPI(t)
	ops := operations(t, doc)
	for _, key := range sortedKeys(ops) {
		op := ops[key]
		if op.Summary == "" {
			t.Errorf("%s: no summary", key)
		}
		has2xx := false
		for code := range op.Responses {
			has2xx = has2xx || (len(code) == 3 && code[0] == '2')
		}
		if !has2xx {
			t.Errorf("%s: no 2xx response", key)
		}
		if path := strings.SplitN(key, " ", 2)[1]; strings.HasPrefix(path, "/api/v1/workspaces/") {
			for _, code := range []string{"401", "403", "404"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s: no %s response", key, code)
				}
			}
		}
	}
}

// TestOpenAPIRefsResolve follows every $ref (local JSON pointers only) to a value.
func TestOpenAPIRefsResolve(t *testing.T) {
	_, raw, _ := fetchOpenAPI(t)
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if s, ok := child.(string); ok && k == "$ref" {
					refs = append(refs, s)
					continue
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(raw)
	if len(refs) == 0 {
		t.Fatal("the document has no $ref at all; components are expected to be reused")
	}
	for _, ref := range refs {
		pointer, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			t.Errorf("$ref %q does not point into this document", ref)
			continue
		}
		var cur any = raw
		for _, tok := range strings.Split(pointer, "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[tok]
		}
		if cur == nil {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

// TestOpenAPIConversationItemAndCSV pins the item fields and the CSV header of api.md.
func TestOpenAPIConversationItemAndCSV(t *testing.T) {
	body, _, doc := fetchOpenAPI(t)
	rawItem, ok := doc.Components.Schemas["ConversationItem"]
	if !ok {
		t.Fatal("components.schemas has no ConversationItem")
	}
	var item struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(rawItem, &item); err != nil {
		t.Fatal(err)
	}
	want := []string{"assignee", "channel", "closed_at", "created_at", "id", "labels", "last_message_at", "pending_until", "sla", "state", "summary_status", "unread", "visitor"}
	if got := sortedKeys(item.Properties); !slices.Equal(got, want) {
		t.Errorf("ConversationItem properties = %v, want %v", got, want)
	}
	for _, field := range []string{"assignee", "closed_at", "pending_until", "sla"} {
		var prop struct {
			Nullable bool `json:"nullable"` // OpenAPI 3.0
			Type     any  `json:"type"`     // OpenAPI 3.1: ["string", "null"]
		}
		if err := json.Unmarshal(item.Properties[field], &prop); err != nil {
			t.Fatal(err)
		}
		types, _ := prop.Type.([]any)
		if !prop.Nullable && !slices.Contains(types, any("null")) {
			t.Errorf("ConversationItem.%s is not marked nullable", field)
		}
	}

	const header = "created_at,name,email,phone,summary,status,page_url,assignee,labels"
	if !strings.Contains(string(body), header) {
		t.Errorf("the document does not mention the CSV header %q", header)
	}
	var export struct {
		Responses map[string]struct {
			Content map[string]json.RawMessage `json:"content"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(doc.Paths["/api/v1/workspaces/{workspace_id}/leads/export.csv"]["get"], &export); err != nil {
		t.Fatal(err)
	}
	if _, ok := export.Responses["200"].Content["text/csv"]; !ok {
		t.Error("GET /leads/export.csv: the 200 response is not text/csv")
	}
}
