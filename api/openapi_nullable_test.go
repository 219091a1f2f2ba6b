package api_test

import (
	"encoding/json"
	"testing"

	"github.com/bestai/inbox/api"
)

// TestNullableReferencesHaveAType: in OpenAPI 3.0.3, nullable applies only beside a type,
// so a nullable allOf reference without one is not nullable to a strict validator.
func TestNullableReferencesHaveAType(t *testing.T) {
	var doc any
	if err := json.Unmarshal(api.OpenAPIDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch o := v.(type) {
		case map[string]any:
			if _, all := o["allOf"]; all && o["nullable"] == true && o["type"] == nil {
				t.Errorf("%s: nullable allOf without a type", path)
			}
			for k, child := range o {
				walk(child, path+"/"+k)
			}
		case []any:
			for _, child := range o {
				walk(child, path+"/[]")
			}
		}
	}
	walk(doc, "")
}
