package worker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/server/temporaltest"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/worker"
	"github.com/bestai/inbox/workflows"
)

func TestCheckSearchAttributes(t *testing.T) {
	srv := temporaltest.NewServer(temporaltest.WithT(t))
	c, ns := srv.GetDefaultClient(), srv.GetDefaultNamespace()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	// A bare namespace: all four are named, each with the command that creates it.
	err := worker.CheckSearchAttributes(ctx, c, ns)
	var saErr *worker.SearchAttributesError
	if !errors.As(err, &saErr) || len(saErr.Missing) != len(workflows.SearchAttributeNames) {
		t.Fatalf("bare namespace: %v", err)
	}
	t.Logf("what `inbox worker` prints:\n%v", err)
	for _, name := range workflows.SearchAttributeNames {
		want := "temporal operator search-attribute create --namespace " + ns + " --name " + name + " --type Keyword"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the message lacks %q:\n%s", want, err)
		}
	}
	if !strings.Contains(err.Error(), "temporal-search-attributes") {
		t.Errorf("the message does not point at the docker-compose job:\n%s", err)
	}

	// One registered with the wrong type: named as such, with remove before create.
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: ns, SearchAttributes: map[string]enums.IndexedValueType{"InboxState": enums.INDEXED_VALUE_TYPE_TEXT},
	}); err != nil {
		t.Fatal(err)
	}
	err = worker.CheckSearchAttributes(ctx, c, ns)
	if !errors.As(err, &saErr) || saErr.WrongType["InboxState"] != "Text" || len(saErr.Missing) != 3 {
		t.Fatalf("InboxState as Text: %v", err)
	}
	msg := err.Error()
	remove := strings.Index(msg, "search-attribute remove --namespace "+ns+" --name InboxState")
	create := strings.Index(msg, "search-attribute create --namespace "+ns+" --name InboxState --type Keyword")
	if !strings.Contains(msg, "InboxState: registered as Text, want Keyword") || remove < 0 || create < remove {
		t.Errorf("the wrong type is not explained:\n%s", msg)
	}

	// Fixed as the message says: the check passes.
	if _, err := c.OperatorService().RemoveSearchAttributes(ctx, &operatorservice.RemoveSearchAttributesRequest{
		Namespace: ns, SearchAttributes: []string{"InboxState"},
	}); err != nil {
		t.Fatal(err)
	}
	testenv.RegisterSearchAttributes(t, c, ns)
	if err := worker.CheckSearchAttributes(ctx, c, ns); err != nil {
		t.Fatalf("all four registered: %v", err)
	}

	// A namespace that does not exist says how to create it.
	err = worker.CheckSearchAttributes(ctx, c, "no-such-namespace")
	if err == nil || !strings.Contains(err.Error(), "temporal operator namespace create --namespace no-such-namespace") {
		t.Errorf("missing namespace: %v", err)
	}
}
