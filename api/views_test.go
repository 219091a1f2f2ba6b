package api_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/testenv"
)

type viewJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Filters     map[string]any `json:"filters"`
	Query       string         `json:"query"`
	Shared      bool           `json:"shared"`
	UnreadCount *int           `json:"unread_count"`
}

type viewPage struct {
	Items      []viewJSON `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

func viewsPath(ws testenv.Workspace, suffix string) string {
	return fmt.Sprintf("/api/v1/workspaces/%s/views%s", ws.WorkspaceID, suffix)
}

func createView(t *testing.T, env *testenv.Env, token string, ws testenv.Workspace, body map[string]any) viewJSON {
	t.Helper()
	res := env.As(token, http.MethodPost, viewsPath(ws, ""), body)
	if res.Code != http.StatusCreated {
		t.Fatalf("create view %v: %d %s", body, res.Code, res.Body)
	}
	var v viewJSON
	res.JSON(t, &v)
	return v
}

// listAllViews walks every page of the views token sees, limit at a time.
func listAllViews(t *testing.T, env *testenv.Env, token string, ws testenv.Workspace, limit int) []viewJSON {
	t.Helper()
	var out []viewJSON
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 200 {
			t.Fatal("the views list never ends")
		}
		path := viewsPath(ws, fmt.Sprintf("?limit=%d", limit))
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := env.As(token, http.MethodGet, path, nil)
		if res.Code != http.StatusOK {
			t.Fatalf("list views: %d %s", res.Code, res.Body)
		}
		var p viewPage
		res.JSON(t, &p)
		if len(p.Items) > limit {
			t.Fatalf("a page of limit %d holds %d views", limit, len(p.Items))
		}
		out = append(out, p.Items...)
		if p.NextCursor == nil {
			return out
		}
		cursor = *p.NextCursor
	}
}

func viewNames(vs []viewJSON) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

func TestViewsPersonalSharedAndRoles(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := t.Context()
	ws := env.NewWorkspace("Views Co")
	other := env.NewWorkspace("Other Views Co")
	token := map[domain.Role]string{domain.Owner: ws.OwnerToken}
	userID := map[domain.Role]string{}
	for _, role := range []domain.Role{domain.Admin, domain.Support, domain.Viewer} {
		m, tok, err := env.Store.AddMember(ctx, ws.WorkspaceID, string(role)+"@views.example", string(role), role)
		if err != nil {
			t.Fatal(err)
		}
		token[role], userID[role] = tok, m.UserID.String()
	}

	// Every role keeps personal views, seen and changed by their owner only.
	personal := map[domain.Role]viewJSON{}
	for _, role := range domain.Roles {
		v := createView(t, env, token[role], ws, map[string]any{"name": "Mine " + string(role), "filters": map[string]any{"assignee": "me"}})
		if v.Shared {
			t.Errorf("%s's view without shared is shared", role)
		}
		personal[role] = v
	}
	for _, role := range domain.Roles {
		got := viewNames(listAllViews(t, env, token[role], ws, 50))
		if want := []string{"Mine " + string(role)}; !slices.Equal(got, want) {
			t.Errorf("%s sees views %v, want only their own %v", role, got, want)
		}
		for _, of := range domain.Roles {
			if of == role {
				continue
			}
			id := personal[of].ID
			if res := env.As(token[role], http.MethodPatch, viewsPath(ws, "/"+id), map[string]any{"name": "Taken"}); res.Code != http.StatusNotFound {
				t.Errorf("%s renames %s's personal view: %d %s, want 404", role, of, res.Code, res.Body)
			}
			if res := env.As(token[role], http.MethodDelete, viewsPath(ws, "/"+id), nil); res.Code != http.StatusNotFound {
				t.Errorf("%s deletes %s's personal view: %d %s, want 404", role, of, res.Code, res.Body)
			}
		}
	}

	// Shared views are made, changed and deleted by owners and admins; everyone sees them.
	for _, role := range []domain.Role{domain.Support, domain.Viewer} {
		res := env.As(token[role], http.MethodPost, viewsPath(ws, ""), map[string]any{"name": "Team " + string(role), "shared": true})
		if res.Code != http.StatusForbidden || res.ErrorCode() != "forbidden" {
			t.Errorf("%s makes a shared view: %d %s, want 403", role, res.Code, res.Body)
		}
		// Nor may they share their own.
		res = env.As(token[role], http.MethodPatch, viewsPath(ws, "/"+personal[role].ID), map[string]any{"shared": true})
		if res.Code != http.StatusForbidden {
			t.Errorf("%s shares their personal view: %d %s, want 403", role, res.Code, res.Body)
		}
	}
	shared := map[domain.Role]viewJSON{}
	for _, role := range []domain.Role{domain.Owner, domain.Admin} {
		v := createView(t, env, token[role], ws, map[string]any{"name": "Team " + string(role), "shared": true,
			"filters": map[string]any{"state": "open,pending", "unread": "true"}})
		if !v.Shared {
			t.Errorf("%s's shared view answers shared=false", role)
		}
		shared[role] = v
	}
	for _, role := range domain.Roles {
		got := viewNames(listAllViews(t, env, token[role], ws, 50))
		want := []string{"Mine " + string(role), "Team admin", "Team owner"}
		if !slices.Equal(got, want) {
			t.Errorf("%s sees views %v, want %v", role, got, want)
		}
	}
	for _, role := range []domain.Role{domain.Support, domain.Viewer} {
		id := shared[domain.Admin].ID
		if res := env.As(token[role], http.MethodPatch, viewsPath(ws, "/"+id), map[string]any{"name": "Hijacked"}); res.Code != http.StatusForbidden {
			t.Errorf("%s renames a shared view: %d %s, want 403", role, res.Code, res.Body)
		}
		if res := env.As(token[role], http.MethodDelete, viewsPath(ws, "/"+id), nil); res.Code != http.StatusForbidden {
			t.Errorf("%s deletes a shared view: %d %s, want 403", role, res.Code, res.Body)
		}
	}
	// An owner changes the admin's shared view; an admin shares their own personal view and
	// takes a shared one back as theirs.
	res := env.As(ws.OwnerToken, http.MethodPatch, viewsPath(ws, "/"+shared[domain.Admin].ID), map[string]any{"name": "Team triage"})
	if res.Code != http.StatusOK {
		t.Fatalf("owner renames a shared view: %d %s", res.Code, res.Body)
	}
	res = env.As(token[domain.Admin], http.MethodPatch, viewsPath(ws, "/"+personal[domain.Admin].ID), map[string]any{"shared": true})
	var moved viewJSON
	res.JSON(t, &moved)
	if res.Code != http.StatusOK || !moved.Shared {
		t.Fatalf("admin shares their view: %d %s", res.Code, res.Body)
	}
	if got := viewNames(listAllViews(t, env, token[domain.Viewer], ws, 50)); !slices.Contains(got, "Mine admin") {
		t.Errorf("the viewer does not see the view the admin shared: %v", got)
	}
	res = env.As(token[domain.Admin], http.MethodPatch, viewsPath(ws, "/"+shared[domain.Owner].ID), map[string]any{"shared": false})
	if res.Code != http.StatusOK {
		t.Fatalf("admin takes a shared view as theirs: %d %s", res.Code, res.Body)
	}
	if got := viewNames(listAllViews(t, env, token[domain.Viewer], ws, 50)); slices.Contains(got, "Team owner") {
		t.Errorf("the viewer still sees a view the admin made personal: %v", got)
	}
	if got := viewNames(listAllViews(t, env, token[domain.Admin], ws, 50)); !slices.Contains(got, "Team owner") {
		t.Errorf("the admin does not see the view they took: %v", got)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, viewsPath(ws, "/"+shared[domain.Admin].ID), nil); res.Code != http.StatusNoContent {
		t.Errorf("owner deletes a shared view: %d %s", res.Code, res.Body)
	}
	if res := env.As(token[domain.Viewer], http.MethodDelete, viewsPath(ws, "/"+personal[domain.Viewer].ID), nil); res.Code != http.StatusNoContent {
		t.Errorf("viewer deletes their own view: %d %s", res.Code, res.Body)
	}
	if got := viewNames(listAllViews(t, env, token[domain.Viewer], ws, 50)); !slices.Equal(got, []string{"Mine admin"}) {
		t.Errorf("after the deletions the viewer sees %v, want [Mine admin]", got)
	}

	// Another workspace: its owner is not a member here (404), and our view's id under their
	// own workspace is no view of theirs (404).
	id := personal[domain.Owner].ID
	for _, try := range []struct {
		token, path, method string
	}{
		{other.OwnerToken, viewsPath(ws, ""), http.MethodGet},
		{other.OwnerToken, viewsPath(ws, "/"+id), http.MethodDelete},
		{other.OwnerToken, viewsPath(other, "/"+id), http.MethodDelete},
		{other.OwnerToken, viewsPath(other, "/"+moved.ID), http.MethodDelete},
	} {
		if res := env.As(try.token, try.method, try.path, nil); res.Code != http.StatusNotFound {
			t.Errorf("%s %s from another workspace: %d %s, want 404", try.method, try.path, res.Code, res.Body)
		}
	}
	if res := env.As(other.OwnerToken, http.MethodPatch, viewsPath(other, "/"+moved.ID), map[string]any{"name": "x"}); res.Code != http.StatusNotFound {
		t.Errorf("renaming another workspace's shared view: %d %s, want 404", res.Code, res.Body)
	}
	if got := listAllViews(t, env, other.OwnerToken, other, 50); len(got) != 0 {
		t.Errorf("another workspace lists our views: %v", viewNames(got))
	}

	// A member's personal views go with their membership.
	personalOf := func(user string) int {
		n, err := env.Store.DB.NewSelect().Table("saved_views").Where("owner_id = ?", user).Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := personalOf(userID[domain.Support]); n != 1 {
		t.Fatalf("support has %d personal views before leaving, want 1", n)
	}
	if res := env.As(ws.OwnerToken, http.MethodDelete, fmt.Sprintf("/api/v1/workspaces/%s/members/%s", ws.WorkspaceID, userID[domain.Support]), nil); res.Code != http.StatusNoContent && res.Code != http.StatusOK {
		t.Fatalf("remove support: %d %s", res.Code, res.Body)
	}
	if n := personalOf(userID[domain.Support]); n != 0 {
		t.Errorf("a removed member keeps %d personal views", n)
	}
}

func TestViewsValidationLimitsAndPaging(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Limits Views Co")
	other := env.NewWorkspace("Elsewhere Views Co")
	owner := ws.OwnerToken
	post := func(body map[string]any) testenv.Response {
		return env.As(owner, http.MethodPost, viewsPath(ws, ""), body)
	}

	// Names: 1 to 60 characters after trimming.
	for _, name := range []string{"", "   ", strings.Repeat("n", domain.MaxViewNameLen+1)} {
		res := post(map[string]any{"name": name})
		if res.Code != http.StatusBadRequest || !strings.Contains(string(res.Body), "name:") {
			t.Errorf("name %q: %d %s, want 400 naming name", name, res.Code, res.Body)
		}
	}
	if res := post(map[string]any{"filters": map[string]any{}}); res.Code != http.StatusBadRequest || !strings.Contains(string(res.Body), "name:") {
		t.Errorf("no name: %d %s, want 400 naming name", res.Code, res.Body)
	}
	long := createView(t, env, owner, ws, map[string]any{"name": "  " + strings.Repeat("é", domain.MaxViewNameLen) + " "})
	if long.Name != strings.Repeat("é", domain.MaxViewNameLen) {
		t.Errorf("a 60-character name is stored as %q", long.Name)
	}

	// Filters are checked by the list's own rules: 422 naming the filter, nothing saved.
	otherLabel := createLabel(t, env, other, "Elsewhere", "")
	for _, tc := range []struct {
		filters map[string]any
		field   string
	}{
		{map[string]any{"state": "bogus"}, "filters.state"},
		{map[string]any{"state": []string{"open", "nope"}}, "filters.state"},
		{map[string]any{"stat": "open"}, "filters.stat"},
		{map[string]any{"limit": 5}, "filters.limit"},
		{map[string]any{"unread": "maybe"}, "filters.unread"},
		{map[string]any{"channel": "fax"}, "filters.channel"},
		{map[string]any{"assignee": "someone"}, "filters.assignee"},
		{map[string]any{"q": "ab"}, "filters.q"},
		{map[string]any{"created_after": "yesterday"}, "filters.created_after"},
		{map[string]any{"label": []string{"not-a-uuid"}}, "filters.label"},
		{map[string]any{"label": []string{otherLabel.ID}}, "filters.label"},
	} {
		res := post(map[string]any{"name": "Bad " + tc.field, "filters": tc.filters})
		if res.Code != http.StatusUnprocessableEntity || res.ErrorCode() != "invalid_filters" || !strings.Contains(string(res.Body), `"`+tc.field+":") {
			t.Errorf("filters %v: %d %s, want 422 invalid_filters naming %s", tc.filters, res.Code, res.Body, tc.field)
		}
	}
	if res := post(map[string]any{"name": "Bad shape", "filters": map[string]any{"state": map[string]any{"x": 1}}}); res.Code != http.StatusBadRequest || !strings.Contains(string(res.Body), "filters.state") {
		t.Errorf("a filter that is an object: %d %s, want 400 naming filters.state", res.Code, res.Body)
	}
	if got := listAllViews(t, env, owner, ws, 50); len(got) != 1 {
		t.Errorf("refused views were saved: %v", viewNames(got))
	}

	// Good filters come back as the list reads them, and their query is the list's.
	label := createLabel(t, env, ws, "VIP", "")
	v := createView(t, env, owner, ws, map[string]any{"name": "Open VIP", "filters": map[string]any{
		"state": "open, pending", "unread": true, "label": []string{label.ID}, "channel": []string{"chat"},
		"created_after": "2026-01-01T00:00:00Z", "q": "  ship ",
	}})
	want := map[string]any{"state": []any{"open", "pending"}, "unread": true, "label": []any{label.ID}, "channel": []any{"chat"},
		"created_after": "2026-01-01T00:00:00Z", "q": "ship"}
	if fmt.Sprint(v.Filters) != fmt.Sprint(want) {
		t.Errorf("filters answered %v, want %v", v.Filters, want)
	}
	if res := env.As(owner, http.MethodGet, "/api/v1/workspaces/"+ws.WorkspaceID.String()+"/conversations?"+v.Query, nil); res.Code != http.StatusOK {
		t.Errorf("the view's query %q is not a list query: %d %s", v.Query, res.Code, res.Body)
	}
	// PATCH: bad filters change nothing; good ones replace them whole.
	if res := env.As(owner, http.MethodPatch, viewsPath(ws, "/"+v.ID), map[string]any{"filters": map[string]any{"state": "gone"}}); res.Code != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "filters.state") {
		t.Errorf("PATCH with a bad state: %d %s", res.Code, res.Body)
	}
	res := env.As(owner, http.MethodPatch, viewsPath(ws, "/"+v.ID), map[string]any{"filters": map[string]any{"assignee": "none"}})
	var patched viewJSON
	res.JSON(t, &patched)
	if res.Code != http.StatusOK || fmt.Sprint(patched.Filters) != fmt.Sprint(map[string]any{"assignee": "none"}) {
		t.Errorf("PATCH filters: %d %s", res.Code, res.Body)
	}
	if res := env.As(owner, http.MethodPatch, viewsPath(ws, "/"+v.ID), map[string]any{"name": strings.Repeat("x", 61)}); res.Code != http.StatusBadRequest {
		t.Errorf("PATCH with a 61-character name: %d %s", res.Code, res.Body)
	}
	if res := env.As(owner, http.MethodPatch, viewsPath(ws, "/"+v.ID), map[string]any{}); res.Code != http.StatusBadRequest {
		t.Errorf("PATCH with nothing: %d %s", res.Code, res.Body)
	}

	// Names are unique ignoring case among one's personal views, and among the shared ones;
	// a shared view may have a personal view's name.
	if res := post(map[string]any{"name": "open vip"}); res.Code != http.StatusConflict {
		t.Errorf("a second personal view named like the first: %d %s", res.Code, res.Body)
	}
	createView(t, env, owner, ws, map[string]any{"name": "OPEN VIP", "shared": true})
	if res := post(map[string]any{"name": "Open Vip", "shared": true}); res.Code != http.StatusConflict {
		t.Errorf("a second shared view of one name: %d %s", res.Code, res.Body)
	}

	// At most 50 personal views (3 made so far: the long one, Open VIP; the shared one does
	// not count) and 50 shared ones.
	for i := 2; i < domain.MaxPersonalViews; i++ {
		createView(t, env, owner, ws, map[string]any{"name": fmt.Sprintf("P%02d", i)})
	}
	if res := post(map[string]any{"name": "One too many"}); res.Code != http.StatusConflict || !strings.Contains(string(res.Body), "50 personal views") {
		t.Errorf("a 51st personal view: %d %s", res.Code, res.Body)
	}
	for i := 1; i < domain.MaxSharedViews; i++ {
		createView(t, env, owner, ws, map[string]any{"name": fmt.Sprintf("S%02d", i), "shared": true})
	}
	if res := post(map[string]any{"name": "Shared too many", "shared": true}); res.Code != http.StatusConflict || !strings.Contains(string(res.Body), "shares 50 views") {
		t.Errorf("a 51st shared view: %d %s", res.Code, res.Body)
	}
	// Moving a view into a full scope is refused too.
	if res := env.As(owner, http.MethodPatch, viewsPath(ws, "/"+v.ID), map[string]any{"shared": true}); res.Code != http.StatusConflict {
		t.Errorf("sharing a view when 50 are shared: %d %s", res.Code, res.Body)
	}

	// Paging: 100 views in pages of 7, each once, ordered by name ignoring case.
	all := listAllViews(t, env, owner, ws, 7)
	if len(all) != domain.MaxPersonalViews+domain.MaxSharedViews {
		t.Fatalf("paging returned %d views, want %d", len(all), domain.MaxPersonalViews+domain.MaxSharedViews)
	}
	seen := map[string]bool{}
	for i, v := range all {
		if seen[v.ID] {
			t.Errorf("view %s listed twice", v.Name)
		}
		seen[v.ID] = true
		if i > 0 && strings.ToLower(all[i-1].Name) > strings.ToLower(v.Name) {
			t.Errorf("%q listed before %q", all[i-1].Name, v.Name)
		}
	}
	for _, q := range []string{"?limit=0", "?limit=201", "?cursor=bogus", "?shared=true"} {
		if res := env.As(owner, http.MethodGet, viewsPath(ws, q), nil); res.Code != http.StatusBadRequest {
			t.Errorf("GET views%s: %d %s, want 400", q, res.Code, res.Body)
		}
	}
}

// TestViewUnreadCountAndDeletedLabel: a view counts its unread conversations, and a view
// whose label was deleted keeps working with the label dropped from its filters.
func TestViewUnreadCountAndDeletedLabel(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ws := env.NewWorkspace("Counting Views Co")
	label := createLabel(t, env, ws, "Refund", "red")
	a := newConversation(t, env, ws, "count-a")
	b := newConversation(t, env, ws, "count-b")
	newConversation(t, env, ws, "count-c")
	for _, c := range []string{a, b} {
		if res := setLabels(env, ws.OwnerToken, ws, c, label.ID); res.Code != http.StatusOK {
			t.Fatalf("label %s: %d %s", c, res.Code, res.Body)
		}
	}
	v := createView(t, env, ws.OwnerToken, ws, map[string]any{"name": "Refunds", "filters": map[string]any{"label": label.ID}})
	count := func() (int, viewJSON) {
		t.Helper()
		views := listAllViews(t, env, ws.OwnerToken, ws, 50)
		for _, got := range views {
			if got.ID == v.ID {
				if got.UnreadCount == nil {
					t.Fatalf("the list carries no unread_count: %+v", got)
				}
				return *got.UnreadCount, got
			}
		}
		t.Fatalf("the view is not listed: %v", viewNames(views))
		return 0, viewJSON{}
	}
	if n, _ := count(); n != 2 {
		t.Errorf("unread count %d, want 2 (two labelled, unread)", n)
	}
	// Opening one marks it read.
	if res := env.As(ws.OwnerToken, http.MethodGet, convPath(ws, a, ""), nil); res.Code != http.StatusOK {
		t.Fatal(res.Code)
	}
	if n, _ := count(); n != 1 {
		t.Errorf("unread count %d after reading one, want 1", n)
	}

	if res := env.As(ws.OwnerToken, http.MethodDelete, labelsPath(ws, "/"+label.ID), nil); res.Code != http.StatusNoContent {
		t.Fatalf("delete label: %d %s", res.Code, res.Body)
	}
	n, got := count()
	if _, has := got.Filters["label"]; has || strings.Contains(got.Query, "label") {
		t.Errorf("the deleted label is still in the view's filters: %v %q", got.Filters, got.Query)
	}
	if n != 2 {
		t.Errorf("unread count %d once the label is gone, want 2 (the whole unread list)", n)
	}
}
