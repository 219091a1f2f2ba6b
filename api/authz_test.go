package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

// TestEveryRoleAgainstEveryAdminRoute walks each admin route of the router with no token,
// with each role, and from another workspace, against the table of api.md.
func TestEveryRoleAgainstEveryAdminRoute(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	ws := env.NewWorkspace("Authz Co")
	other := env.NewWorkspace("Other Co")
	tokens := map[domain.Role]string{domain.Owner: ws.OwnerToken}
	for _, role := range []domain.Role{domain.Admin, domain.Support, domain.Viewer} {
		_, tok, err := env.Store.AddMember(ctx, ws.WorkspaceID, string(role)+"@authz.example", string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	convID := newConversation(t, env, ws, "authz-conv")
	otherConv := newConversation(t, env, other, "other-conv")
	leadOf := func(w testenv.Workspace, conv string) string {
		res := env.As(w.OwnerToken, http.MethodGet, fmt.Sprintf("/api/v1/workspaces/%s/conversations/%s", w.WorkspaceID, conv), nil)
		var d detail
		res.JSON(t, &d)
		return d.Lead.ID
	}
	leadID, otherLead := leadOf(ws, convID), leadOf(other, otherConv)
	spare := 0
	// newTarget adds a support member for member-management routes to act on.
	newTarget := func() string {
		spare++
		m, _, err := env.Store.AddMember(ctx, ws.WorkspaceID, fmt.Sprintf("target%d@authz.example", spare), "Target", domain.Support)
		if err != nil {
			t.Fatal(err)
		}
		return m.UserID.String()
	}

	all := []domain.Role{domain.Owner, domain.Admin, domain.Support, domain.Viewer}
	changers := []domain.Role{domain.Owner, domain.Admin, domain.Support}
	admins := []domain.Role{domain.Owner, domain.Admin}
	owners := []domain.Role{domain.Owner}
	type route struct {
		allowed []domain.Role
		body    any
	}
	table := map[string]route{
		"GET /conversations":                       {allowed: all},
		"GET /conversations/:id":                   {allowed: all},
		"POST /conversations/bulk":                 {allowed: changers, body: map[string]any{"ids": []string{"0192a5e4-0000-7000-8000-000000000005"}, "action": "state", "state": "closed"}},
		"GET /conversations/bulk/:bulk_id":         {allowed: all},
		"POST /conversations/bulk/:bulk_id/cancel": {allowed: all},
		"GET /conversations/:id/messages":          {allowed: all},
		"POST /conversations/:id/state":            {allowed: changers, body: map[string]any{"state": "pending"}},
		"PUT /conversations/:id/assignee":          {allowed: changers, body: map[string]any{"user_id": nil}},
		"POST /conversations/:id/read":             {allowed: all},
		"POST /conversations/:id/unread":           {allowed: all},
		"POST /conversations/:id/summary/retry":    {allowed: changers},
		"GET /conversations/:id/audit":             {allowed: admins},
		"GET /leads":                               {allowed: all},
		"GET /leads/export.csv":                    {allowed: all},
		"PATCH /leads/:id":                         {allowed: changers, body: map[string]any{"status": "contacted"}},
		"GET /members":                             {allowed: all},
		"POST /members":                            {allowed: admins},
		"PATCH /members/:user_id":                  {allowed: admins, body: map[string]any{"role": "viewer"}},
		"DELETE /members/:user_id":                 {allowed: admins},
		"POST /members/:user_id/invite":            {allowed: admins},
		"GET /settings":                            {allowed: admins},
		"PATCH /settings":                          {allowed: admins, body: map[string]any{"auto_archive_days": 30}},
		"PUT /settings/openai-key":                 {allowed: owners, body: map[string]any{"api_key": "sk-test-authz-1234"}},
		"DELETE /settings/openai-key":              {allowed: owners},
		"GET /business-hours":                      {allowed: admins},
		"PUT /business-hours":                      {allowed: admins, body: map[string]any{"time_zone": "UTC"}},
		"GET /sla":                                 {allowed: all},
		"PUT /sla":                                 {allowed: admins, body: map[string]any{"first_response": "PT1H"}},
		"GET /labels":                              {allowed: all},
		"POST /labels":                             {allowed: admins, body: map[string]any{"name": "Authz", "color": "blue"}},
		"PATCH /labels/:label_id":                  {allowed: admins, body: map[string]any{"color": "red"}},
		"DELETE /labels/:label_id":                 {allowed: admins},
		"PUT /conversations/:id/labels":            {allowed: changers, body: map[string]any{"labels": []string{}}},
		// Every member keeps personal views; a shared view is the owners' and admins' (TestViews*).
		"GET /views":                    {allowed: all},
		"POST /views":                   {allowed: all, body: map[string]any{"name": "Authz", "filters": map[string]any{"unread": true}}},
		"PATCH /views/:view_id":         {allowed: all, body: map[string]any{"name": "Authz 2"}},
		"DELETE /views/:view_id":        {allowed: all},
		"GET /reports":                  {allowed: all},
		"GET /conversations/:id/notes":  {allowed: all},
		"POST /conversations/:id/notes": {allowed: changers, body: map[string]any{"text": "Authz note"}},
		// A note that is not there: 404 for those who may delete notes at all.
		"DELETE /conversations/:id/notes/:note_id": {allowed: changers},

		"GET /webhooks":                                        {allowed: admins},
		"POST /webhooks":                                       {allowed: admins, body: map[string]any{"url": "https://example.com/hook", "events": []string{"message.created"}}},
		"GET /webhooks/:id":                                    {allowed: admins},
		"PATCH /webhooks/:id":                                  {allowed: admins, body: map[string]any{"enabled": false}},
		"DELETE /webhooks/:id":                                 {allowed: admins},
		"POST /webhooks/:id/rotate-secret":                     {allowed: admins},
		"GET /webhooks/:id/deliveries":                         {allowed: admins},
		"GET /webhooks/:id/deliveries/:delivery_id":            {allowed: admins},
		"POST /webhooks/:id/deliveries/:delivery_id/redeliver": {allowed: admins},
	}
	const prefix = "/api/v1/workspaces/:workspace_id"
	seen := map[string]bool{}
	for _, r := range env.Router.Routes() {
		if !strings.HasPrefix(r.Path, prefix) {
			continue
		}
		key := r.Method + " " + strings.TrimPrefix(r.Path, prefix)
		seen[key] = true
		rt, ok := table[key]
		if !ok {
			t.Errorf("route %s is not in the authorisation table of this test", key)
			continue
		}
		path := func(workspace string, conv, lead string) string {
			p := strings.Replace(r.Path, ":workspace_id", workspace, 1)
			if strings.Contains(p, "/leads/:id") {
				return strings.Replace(p, ":id", lead, 1)
			}
			p = strings.Replace(p, ":delivery_id", "0192a5e4-0000-7000-8000-000000000001", 1)
			p = strings.Replace(p, ":label_id", "0192a5e4-0000-7000-8000-000000000002", 1)
			p = strings.Replace(p, ":view_id", "0192a5e4-0000-7000-8000-000000000003", 1)
			p = strings.Replace(p, ":note_id", "0192a5e4-0000-7000-8000-000000000003", 1)
			p = strings.Replace(p, ":bulk_id", "0192a5e4-0000-7000-8000-000000000004", 1)
			p = strings.Replace(p, ":id", conv, 1)
			return strings.Replace(p, ":user_id", newTarget(), 1)
		}
		body := func() any {
			if r.Path == prefix+"/members" {
				spare++
				return map[string]any{"email": fmt.Sprintf("new%d@authz.example", spare), "name": "New", "role": "support"}
			}
			return rt.body
		}
		own := ws.WorkspaceID.String()

		if res := env.Do(r.Method, path(own, convID, leadID), body()); res.Code != http.StatusUnauthorized || res.ErrorCode() != "unauthenticated" {
			t.Errorf("%s without a token: %d %s", key, res.Code, res.Body)
		}
		if res := env.As("inbox_tok_unknown", r.Method, path(own, convID, leadID), body()); res.Code != http.StatusUnauthorized {
			t.Errorf("%s with an unknown token: %d", key, res.Code)
		}
		for _, role := range all {
			res := env.As(tokens[role], r.Method, path(own, convID, leadID), body())
			allowed := false
			for _, a := range rt.allowed {
				allowed = allowed || a == role
			}
			if allowed && (res.Code == http.StatusUnauthorized || res.Code == http.StatusForbidden || res.Code >= 500) {
				t.Errorf("%s as %s: want allowed, got %d %s", key, role, res.Code, res.Body)
			}
			if !allowed && (res.Code != http.StatusForbidden || res.ErrorCode() != "forbidden") {
				t.Errorf("%s as %s: want 403 forbidden, got %d %s", key, role, res.Code, res.Body)
			}
		}
		// Another workspace: not a member there, so its routes are 404 ...
		if res := env.As(other.OwnerToken, r.Method, path(own, convID, leadID), body()); res.Code != http.StatusNotFound {
			t.Errorf("%s from another workspace's owner: want 404, got %d %s", key, res.Code, res.Body)
		}
		// ... and its objects, named under our own workspace, are 404 too.
		if strings.Contains(r.Path, ":id") {
			if res := env.As(ws.OwnerToken, r.Method, path(own, otherConv, otherLead), body()); res.Code != http.StatusNotFound {
				t.Errorf("%s on another workspace's object: want 404, got %d %s", key, res.Code, res.Body)
			}
		}
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("the table names %s but the router has no such route", key)
		}
	}
}
