package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/bestai/inbox/workflows"
)

// SearchAttributesError says which of the inbox's search attributes a namespace lacks or
// has with the wrong type, and what to run to fix it.
type SearchAttributesError struct {
	Namespace string
	Missing   []string          // not registered at all
	WrongType map[string]string // name -> the type it has instead of Keyword
}

func (e *SearchAttributesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Temporal namespace %q lacks search attributes the inbox workflows upsert (without them conversation workflows cannot start or run):\n", e.Namespace)
	for _, name := range e.Missing {
		fmt.Fprintf(&b, "  %s: missing, want Keyword\n", name)
	}
	for _, name := range sortedKeys(e.WrongType) {
		fmt.Fprintf(&b, "  %s: registered as %s, want Keyword\n", name, e.WrongType[name])
	}
	b.WriteString("Fix it with the Temporal CLI, TEMPORAL_ADDRESS set as for the inbox (docker-compose.yml's temporal-search-attributes job runs the same):\n")
	// A type cannot be changed in place: the attribute is removed, then created again.
	for _, name := range sortedKeys(e.WrongType) {
		fmt.Fprintf(&b, "  temporal operator search-attribute remove --namespace %s --name %s --yes\n", e.Namespace, name)
	}
	for _, name := range append(append([]string{}, e.Missing...), sortedKeys(e.WrongType)...) {
		fmt.Fprintf(&b, "  temporal operator search-attribute create --namespace %s --name %s --type Keyword\n", e.Namespace, name)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// CheckSearchAttributes verifies that namespace has every workflows.SearchAttributeNames
// attribute as a Keyword. It returns a *SearchAttributesError naming each one that is missing
// or mistyped; other errors mean Temporal could not be asked.
func CheckSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	res, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		var nf *serviceerror.NamespaceNotFound
		if errors.As(err, &nf) {
			return fmt.Errorf("the Temporal namespace %q does not exist; create it, then register the search attributes (docker-compose.yml's temporal-search-attributes job does both):\n  temporal operator namespace create --namespace %s", namespace, namespace)
		}
		return fmt.Errorf("list the search attributes of Temporal namespace %q: %w", namespace, err)
	}
	e := &SearchAttributesError{Namespace: namespace, WrongType: map[string]string{}}
	for _, name := range workflows.SearchAttributeNames {
		t, ok := res.GetCustomAttributes()[name]
		switch {
		case !ok:
			e.Missing = append(e.Missing, name)
		case t != enums.INDEXED_VALUE_TYPE_KEYWORD:
			e.WrongType[name] = t.String()
		}
	}
	if len(e.Missing) == 0 && len(e.WrongType) == 0 {
		return nil
	}
	return e
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
