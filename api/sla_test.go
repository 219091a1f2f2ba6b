package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/workflows"
)

type slaPolicyJSON struct {
	FirstResponse *string `json:"first_response"`
	Resolution    *string `json:"resolution"`
}

type convSLAJSON struct {
	ID  string `json:"id"`
	SLA *struct {
		FirstResponseDue *time.Time `json:"first_response_due"`
		ResolutionDue    *time.Time `json:"resolution_due"`
		Breached         []string   `json:"breached"`
		Paused           bool       `json:"paused"`
	} `json:"sla"`
}

func slaPath(ws testenv.Workspace) string {
	return "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/sla"
}

// GET/PUT /sla: everyone reads, owners and admins set; a bad duration is a 422 naming the
// field and changes nothing; a change is audited once; another workspace's token is a 404.
func TestSLAPolicy(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("SLA Co")
	other := env.NewWorkspace("SLA Other")
	_, adminTok := addMember(t, env, ws, "admin@sla.example", "admin")
	_, supportTok := addMember(t, env, ws, "support@sla.example", "support")
	_, viewerTok := addMember(t, env, ws, "viewer@sla.example", "viewer")

	var got slaPolicyJSON
	res := env.As(viewerTok, http.MethodGet, slaPath(ws), nil)
	res.JSON(t, &got)
	if res.Code != http.StatusOK || got.FirstResponse != nil || got.Resolution != nil {
		t.Fatalf("default policy (off): %d %s", res.Code, res.Body)
	}
	for _, tok := range []string{supportTok, viewerTok} {
		if res := env.As(tok, http.MethodPut, slaPath(ws), map[string]any{"first_response": "PT1H"}); res.Code != http.StatusForbidden {
			t.Errorf("PUT as support or viewer: %d", res.Code)
		}
	}
	if res := env.As(other.OwnerToken, http.MethodGet, slaPath(ws), nil); res.Code != http.StatusNotFound {
		t.Errorf("GET with another workspace's token: %d", res.Code)
	}
	if res := env.As(other.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": "PT1H"}); res.Code != http.StatusNotFound {
		t.Errorf("PUT with another workspace's token: %d", res.Code)
	}

	res = env.As(adminTok, http.MethodPut, slaPath(ws), map[string]any{"first_response": "pt90m", "resolution": "P1DT4H"})
	res.JSON(t, &got)
	if res.Code != http.StatusOK || got.FirstResponse == nil || *got.FirstResponse != "PT1H30M" || got.Resolution == nil || *got.Resolution != "P1DT4H" {
		t.Fatalf("PUT as admin: %d %s", res.Code, res.Body)
	}
	for _, bad := range []struct {
		field string
		body  map[string]any
	}{
		{"first_response", map[string]any{"first_response": "1 hour"}},
		{"first_response", map[string]any{"first_response": "PT30S"}},
		{"first_response", map[string]any{"first_response": ""}},
		{"resolution", map[string]any{"resolution": "P31D"}},
		{"resolution", map[string]any{"resolution": "P1M"}},
		{"resolution", map[string]any{"first_response": "PT1H", "resolution": "PT1H1H"}},
	} {
		res := env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), bad.body)
		if res.Code != http.StatusUnprocessableEntity || res.ErrorCode() != "invalid_value" ||
			!strings.Contains(string(res.Body), `"message":"`+bad.field+`:`) {
			t.Errorf("bad %v: %d %s", bad.body, res.Code, res.Body)
		}
	}
	if res := env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": 60}); res.Code != http.StatusBadRequest {
		t.Errorf("a number: %d %s", res.Code, res.Body)
	}
	// The refusals changed nothing; the same policy again is no new change.
	if res := env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": "PT1H30M", "resolution": "P1DT4H"}); res.Code != http.StatusOK {
		t.Fatalf("PUT again: %d", res.Code)
	}
	res = env.As(supportTok, http.MethodGet, slaPath(ws), nil)
	res.JSON(t, &got)
	if *got.FirstResponse != "PT1H30M" || *got.Resolution != "P1DT4H" {
		t.Errorf("after refusals: %s", res.Body)
	}
	var n int
	if err := env.Store.DB.NewRaw(`SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action = 'sla_changed'`,
		ws.WorkspaceID).Scan(context.Background(), &n); err != nil || n != 1 {
		t.Errorf("sla_changed audit entries: %d (%v), want 1", n, err)
	}
	// Turning a clock off is null.
	res = env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": nil, "resolution": "PT8H"})
	res.JSON(t, &got)
	if res.Code != http.StatusOK || got.FirstResponse != nil || *got.Resolution != "PT8H" {
		t.Errorf("turn first_response off: %d %s", res.Code, res.Body)
	}
}

// With a 1-minute first-response policy and no business hours (all the time counts), a new
// conversation carries its due time, is listed as due soon, and breaches once: the list
// and detail show it, with one sla_breached audit entry by the system and one sla.breached
// webhook event.
func TestSLABreach(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("SLA Breach Co")
	hook, _ := createWebhook(t, env, ws, "http://127.0.0.1:9/hook", "sla.breached")
	if res := env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": "PT1M"}); res.Code != http.StatusOK {
		t.Fatalf("PUT sla: %d %s", res.Code, res.Body)
	}
	before := time.Now()
	id := newConversation(t, env, ws, "sla-breach")
	list := func(q string) []convSLAJSON {
		t.Helper()
		res := env.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations"+q, nil)
		if res.Code != http.StatusOK {
			t.Fatalf("list %s: %d %s", q, res.Code, res.Body)
		}
		var page struct {
			Items []convSLAJSON `json:"items"`
		}
		res.JSON(t, &page)
		return page.Items
	}
	var item convSLAJSON
	testenv.Eventually(t, 20*time.Second, "the first-response due time", func() bool {
		items := list("")
		if len(items) == 1 && items[0].SLA != nil && items[0].SLA.FirstResponseDue != nil {
			item = items[0]
			return true
		}
		return false
	})
	due := *item.SLA.FirstResponseDue
	if due.Before(before.Add(time.Minute-5*time.Second)) || due.After(time.Now().Add(time.Minute)) || item.SLA.ResolutionDue != nil {
		t.Fatalf("due %v, want a minute after the first message (%v)", due, before)
	}
	if items := list("?sla=due_soon"); len(items) != 1 || items[0].ID != id {
		t.Errorf("due soon: %+v", items)
	}
	if items := list("?sla=breached"); len(items) != 0 {
		t.Errorf("breached before its time: %+v", items)
	}
	if res := env.As(ws.OwnerToken, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations?sla=late", nil); res.Code != http.StatusBadRequest || !strings.Contains(string(res.Body), `"message":"sla:`) {
		t.Errorf("sla=late: %d %s", res.Code, res.Body)
	}

	testenv.Eventually(t, 2*time.Minute, "the breach", func() bool {
		items := list("?sla=breached")
		return len(items) == 1 && items[0].ID == id
	})
	var d convSLAJSON
	res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil)
	res.JSON(t, &d)
	if d.SLA == nil || strings.Join(d.SLA.Breached, ",") != "first_response" || d.SLA.FirstResponseDue != nil {
		t.Errorf("detail after the breach: %s", res.Body)
	}
	if items := list("?sla=due_soon"); len(items) != 0 {
		t.Errorf("still due soon after the breach: %+v", items)
	}
	ctx := context.Background()
	var audits []struct {
		ActorID *string        `bun:"actor_id"`
		After   map[string]any `bun:"after,type:jsonb"`
	}
	if err := env.Store.DB.NewRaw(`SELECT actor_id, after FROM audit_log WHERE conversation_id = ? AND action = 'sla_breached'`,
		id).Scan(ctx, &audits); err != nil {
		t.Fatal(err)
	}
	if len(audits) != 1 || audits[0].ActorID != nil || audits[0].After["clock"] != "first_response" {
		t.Errorf("sla_breached audit entries: %+v", audits)
	}
	if at, err := time.Parse(time.RFC3339Nano, audits[0].After["due"].(string)); err != nil || !at.Equal(due) {
		t.Errorf("audited due %v (%v), want %v", audits[0].After["due"], err, due)
	}
	var events []string
	for _, dl := range deliveries(t, env, ws, hook.ID) {
		events = append(events, dl.Event)
	}
	if strings.Join(events, ",") != "sla.breached" {
		t.Errorf("webhook deliveries: %v, want one sla.breached", events)
	}
}

// A new conversation's workflow is handed the SLA setting when it starts: its first task
// starts the clocks, with no activity to load the setting and no second task. With a
// policy on, the first-response clock still runs from the start.
func TestNewConversationStartsWithItsSLASetting(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("SLA Start Co")
	if res := env.As(ws.OwnerToken, http.MethodPut, slaPath(ws), map[string]any{"first_response": "PT1H"}); res.Code != http.StatusOK {
		t.Fatalf("set SLA: %d %s", res.Code, res.Body)
	}
	id := newConversation(t, env, ws, "sla-start")
	testenv.Eventually(t, 30*time.Second, "the first-response due time to show", func() bool {
		var d convSLAJSON
		env.As(ws.OwnerToken, http.MethodGet, convPath(ws, id, ""), nil).JSON(t, &d)
		return d.SLA != nil && d.SLA.FirstResponseDue != nil
	})
	iter := env.Client.GetWorkflowHistory(context.Background(), "conversation/"+id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
			ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == workflows.ActivityLoadSLA {
			t.Errorf("event %d: the workflow loaded the SLA setting it was handed", ev.GetEventId())
		}
	}
}
