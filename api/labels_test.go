package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

type labelJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Color     string `json:"color"`
	CreatedAt string `json:"created_at"`
}

type labelledJSON struct {
	ID     string      `json:"id"`
	Labels []labelJSON `json:"labels"`
}

func labelsPath(ws testenv.Workspace, suffix string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/labels%s", ws.WorkspaceID, suffix)
}

func createLabel(t *testing.T, env *testenv.Env, ws testenv.Workspace, name, color string) labelJSON {
	t.Helper()
	body := map[string]any{"name": name}
	if color != "" {
		body["color"] = color
	}
	res := env.As(ws.OwnerToken, http.MethodPost, labelsPath(ws, ""), body)
	if res.Code != http.StatusCreated {
		t.Fatalf("create label %q: %d %s", name, res.Code, res.Body)
	}
	var l labelJSON
	res.JSON(t, &l)
	return l
}

func setLabels(env *testenv.Env, token string, ws testenv.Workspace, conv string, ids ...string) testenv.Response {
	if ids == nil {
		ids = []string{}
	}
	return env.As(token, http.MethodPut, convPath(ws, conv, "/labels"), map[string]any{"labels": ids})
}

func names(ls []labelJSON) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

func TestLabelsRolesValidationAndLimits(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := t.Context()
	ws := env.NewWorkspace("Labels Co")
	other := env.NewWorkspace("Other Labels Co")
	token := map[domain.Role]string{}
	for _, role := range []domain.Role{domain.Admin, domain.Support, domain.Viewer} {
		_, tok, err := env.Store.AddMember(ctx, ws.WorkspaceID, string(role)+"@labels.example", string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		token[role] = tok
	}
	conv := newConversation(t, env, ws, "lab-1")
	otherConv := newConversation(t, env, other, "lab-other")

	// An admin manages labels; the name is trimmed and the colour defaults to gray.
	res := env.As(token[domain.Admin], http.MethodPost, labelsPath(ws, ""), map[string]any{"name": "  Urgent ", "color": "red"})
	if res.Code != http.StatusCreated {
		t.Fatalf("admin create: %d %s", res.Code, res.Body)
	}
	var urgent labelJSON
	res.JSON(t, &urgent)
	if urgent.Name != "Urgent" || urgent.Color != "red" || urgent.ID == "" {
		t.Errorf("created %+v", urgent)
	}
	billing := createLabel(t, env, ws, "billing", "")
	if billing.Color != "gray" {
		t.Errorf("default colour %q, want gray", billing.Color)
	}

	// Support and viewer may not manage labels; everyone may read them.
	for _, role := range []domain.Role{domain.Support, domain.Viewer} {
		if res := env.As(token[role], http.MethodPost, labelsPath(ws, ""), map[string]any{"name": "Nope"}); res.Code != http.StatusForbidden {
			t.Errorf("%s create: %d", role, res.Code)
		}
		if res := env.As(token[role], http.MethodPatch, labelsPath(ws, "/"+urgent.ID), map[string]any{"color": "blue"}); res.Code != http.StatusForbidden {
			t.Errorf("%s patch: %d", role, res.Code)
		}
		if res := env.As(token[role], http.MethodDelete, labelsPath(ws, "/"+urgent.ID), nil); res.Code != http.StatusForbidden {
			t.Errorf("%s delete: %d", role, res.Code)
		}
	}
	res = env.As(token[domain.Viewer], http.MethodGet, labelsPath(ws, ""), nil)
	var page struct {
		Items []labelJSON `json:"items"`
	}
	res.JSON(t, &page)
	if res.Code != http.StatusOK || !slices.Equal(names(page.Items), []string{"billing", "Urgent"}) {
		t.Errorf("viewer list: %d %v", res.Code, names(page.Items))
	}

	// Validation: name length after trimming, the palette, unknown fields, duplicates in any case.
	for _, body := range []map[string]any{
		{"name": "   "}, {"name": strings.Repeat("é", 41)}, {"name": "x", "color": "black"},
		{"name": "x", "shade": "dark"}, {"color": "red"}, {"name": "bad\x01name"},
	} {
		if res := env.As(ws.OwnerToken, http.MethodPost, labelsPath(ws, ""), body); res.Code != http.StatusBadRequest {
			t.Errorf("create %v: %d %s", body, res.Code, res.Body)
		}
	}
	createLabel(t, env, ws, strings.Repeat("é", 40), "teal")
	res = env.As(ws.OwnerToken, http.MethodPost, labelsPath(ws, ""), map[string]any{"name": "URGENT"})
	if res.Code != http.StatusConflict || res.ErrorCode() != "conflict" || !strings.Contains(string(res.Body), "ignoring case") {
		t.Errorf("duplicate name: %d %s", res.Code, res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodPatch, labelsPath(ws, "/"+billing.ID), map[string]any{"name": "urgent"})
	if res.Code != http.StatusConflict {
		t.Errorf("rename onto another's name: %d %s", res.Code, res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodPatch, labelsPath(ws, "/"+billing.ID), map[string]any{"name": "Billing", "color": "green"})
	var renamed labelJSON
	res.JSON(t, &renamed)
	if res.Code != http.StatusOK || renamed.Name != "Billing" || renamed.Color != "green" {
		t.Errorf("patch: %d %+v", res.Code, renamed)
	}
	if res := env.As(ws.OwnerToken, http.MethodPatch, labelsPath(ws, "/"+billing.ID), map[string]any{}); res.Code != http.StatusBadRequest {
		t.Errorf("empty patch: %d", res.Code)
	}

	// Another workspace's labels and conversations are not found.
	for _, r := range []struct{ method, path string }{
		{http.MethodPatch, labelsPath(other, "/"+urgent.ID)},
		{http.MethodDelete, labelsPath(other, "/"+urgent.ID)},
	} {
		if res := env.As(other.OwnerToken, r.method, r.path, map[string]any{"color": "pink"}); res.Code != http.StatusNotFound {
			t.Errorf("%s %s from another workspace: %d", r.method, r.path, res.Code)
		}
	}
	if res := setLabels(env, other.OwnerToken, other, otherConv, urgent.ID); res.Code != http.StatusNotFound {
		t.Errorf("another workspace's label on a conversation: %d %s", res.Code, res.Body)
	}
	if res := setLabels(env, ws.OwnerToken, ws, otherConv, urgent.ID); res.Code != http.StatusNotFound {
		t.Errorf("another workspace's conversation: %d %s", res.Code, res.Body)
	}

	// Setting labels: support may, viewer may not.
	if res := setLabels(env, token[domain.Viewer], ws, conv, urgent.ID); res.Code != http.StatusForbidden {
		t.Errorf("viewer set: %d", res.Code)
	}
	res = setLabels(env, token[domain.Support], ws, conv, urgent.ID, billing.ID, urgent.ID)
	var item labelledJSON
	res.JSON(t, &item)
	if res.Code != http.StatusOK || item.ID != conv || !slices.Equal(names(item.Labels), []string{"Billing", "Urgent"}) {
		t.Errorf("support set: %d %s", res.Code, res.Body)
	}
	for _, body := range []map[string]any{{"labels": []string{"nope"}}, {}, {"labels": []string{}, "extra": 1}} {
		if res := env.As(ws.OwnerToken, http.MethodPut, convPath(ws, conv, "/labels"), body); res.Code != http.StatusBadRequest {
			t.Errorf("put %v: %d", body, res.Code)
		}
	}

	// At most 20 labels on a conversation, and 100 in a workspace.
	var ids []string
	for i := range domain.MaxLabels - 3 {
		ids = append(ids, createLabel(t, env, ws, fmt.Sprintf("L%03d", i), "").ID)
	}
	if res := setLabels(env, ws.OwnerToken, ws, conv, ids[:21]...); res.Code != http.StatusBadRequest {
		t.Errorf("21 labels: %d %s", res.Code, res.Body)
	}
	if res := setLabels(env, ws.OwnerToken, ws, conv, ids[:20]...); res.Code != http.StatusOK {
		t.Errorf("20 labels: %d %s", res.Code, res.Body)
	}
	res = env.As(ws.OwnerToken, http.MethodPost, labelsPath(ws, ""), map[string]any{"name": "one too many"})
	if res.Code != http.StatusConflict || !strings.Contains(string(res.Body), "100 labels") {
		t.Errorf("101st label: %d %s", res.Code, res.Body)
	}

	// Deleting a label takes it off the conversations.
	if res := setLabels(env, ws.OwnerToken, ws, conv, urgent.ID, billing.ID); res.Code != http.StatusOK {
		t.Fatalf("set: %d", res.Code)
	}
	if res := env.As(token[domain.Admin], http.MethodDelete, labelsPath(ws, "/"+urgent.ID), nil); res.Code != http.StatusNoContent {
		t.Errorf("delete: %d %s", res.Code, res.Body)
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, conv, ""), nil).JSON(t, &item)
	if !slices.Equal(names(item.Labels), []string{"Billing"}) {
		t.Errorf("after delete the conversation has %v", names(item.Labels))
	}
}

func TestConversationLabelsAuditWebhookFilterAndExport(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Labelled Co")
	rcv := newReceiver(t, nil)
	createWebhook(t, env, ws, rcv.srv.URL+"/hook", string(domain.EventConversationLabelsChanged))
	one := newConversation(t, env, ws, "lab-a")
	two := newConversation(t, env, ws, "lab-b")
	newConversation(t, env, ws, "lab-c")
	alpha := createLabel(t, env, ws, "Alpha", "blue")
	beta := createLabel(t, env, ws, "=Beta", "pink") // a formula in a spreadsheet, unless neutralised

	if res := setLabels(env, ws.OwnerToken, ws, one, beta.ID, alpha.ID); res.Code != http.StatusOK {
		t.Fatalf("set one: %d %s", res.Code, res.Body)
	}
	for range 2 { // the second sets the same labels: nothing is written or sent
		if res := setLabels(env, ws.OwnerToken, ws, two, alpha.ID); res.Code != http.StatusOK {
			t.Fatalf("set two: %d %s", res.Code, res.Body)
		}
	}

	// The list filter: every label given must match.
	list := func(query string) (int, []string) {
		res := env.As(ws.OwnerToken, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/conversations?%s", ws.WorkspaceID, query), nil)
		var page struct {
			Items []labelledJSON `json:"items"`
		}
		if res.Code == http.StatusOK {
			res.JSON(t, &page)
		}
		var ids []string
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		return res.Code, ids
	}
	if code, ids := list("label=" + alpha.ID + "&label=" + beta.ID); code != 200 || !slices.Equal(ids, []string{one}) {
		t.Errorf("alpha and beta: %d %v, want [%s]", code, ids, one)
	}
	if code, ids := list("label=" + alpha.ID); code != 200 || len(ids) != 2 {
		t.Errorf("alpha: %d %v", code, ids)
	}
	if code, _ := list("label=not-a-uuid"); code != http.StatusBadRequest {
		t.Errorf("bad label id: %d", code)
	}
	res := env.As(ws.OwnerToken, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/conversations", ws.WorkspaceID), nil)
	var page struct {
		Items []labelledJSON `json:"items"`
	}
	res.JSON(t, &page)
	for _, it := range page.Items {
		want := map[string][]string{one: {"=Beta", "Alpha"}, two: {"Alpha"}}[it.ID]
		if !slices.Equal(names(it.Labels), want) {
			t.Errorf("list item %s has labels %v, want %v", it.ID, names(it.Labels), want)
		}
	}

	// The audit log of the conversation: one entry per change, before and after by id and name.
	var audit struct {
		Items []struct {
			Action string         `json:"action"`
			Before map[string]any `json:"before"`
			After  map[string]any `json:"after"`
		} `json:"items"`
	}
	env.As(ws.OwnerToken, http.MethodGet, convPath(ws, two, "/audit"), nil).JSON(t, &audit)
	var changes []string
	for _, e := range audit.Items {
		if e.Action == "labels_changed" {
			b, _ := json.Marshal(e.Before)
			a, _ := json.Marshal(e.After)
			changes = append(changes, string(b)+" -> "+string(a))
		}
	}
	want := fmt.Sprintf(`{"labels":[]} -> {"labels":[{"id":"%s","name":"Alpha"}]}`, alpha.ID)
	if !slices.Equal(changes, []string{want}) {
		t.Errorf("audit:\n got %q\nwant %q", changes, want)
	}

	// One event per change, delivered.
	testenv.Eventually(t, 30*time.Second, "two labels_changed events", func() bool { return len(rcv.requests()) >= 2 })
	time.Sleep(300 * time.Millisecond) // an event the repeat wrongly queued would be here by now
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("%d events, want 2", len(got))
	}
	seen := map[string][]string{}
	for _, r := range got {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				ConversationID string      `json:"conversation_id"`
				Labels         []labelJSON `json:"labels"`
				Previous       []labelJSON `json:"previous_labels"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &ev); err != nil || ev.Type != "conversation.labels_changed" {
			t.Fatalf("event %s: %v", r.Body, err)
		}
		seen[ev.Data.ConversationID] = names(ev.Data.Labels)
	}
	if !slices.Equal(seen[one], []string{"=Beta", "Alpha"}) || !slices.Equal(seen[two], []string{"Alpha"}) {
		t.Errorf("events carried %v", seen)
	}

	// The CSV export ends with the labels, joined and neutralised.
	rows := rsCSV(t, env.As(ws.OwnerToken, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/leads/export.csv", ws.WorkspaceID), nil))
	if h := rows[0]; h[len(h)-1] != "labels" {
		t.Errorf("header %q", h)
	}
	var cells []string
	for _, r := range rows[1:] {
		cells = append(cells, r[len(r)-1])
	}
	slices.Sort(cells)
	if !slices.Equal(cells, []string{"", "'=Beta; Alpha", "Alpha"}) {
		t.Errorf("labels cells %q", cells)
	}
}
