package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bestai/inbox/internal/testenv"
)

// GET/PUT /business-hours: owners and admins only; a bad calendar is a 400 naming the field
// and changes nothing; what is stored is the normalized calendar, audited once per change.
func TestBusinessHoursSettings(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{NoWorker: true})
	ws := env.NewWorkspace("Hours Co")
	other := env.NewWorkspace("Hours Other")
	path := "/api/v1/workspaces/" + ws.WorkspaceID.String() + "/business-hours"
	_, adminTok := addMember(t, env, ws, "admin@hours.example", "admin")
	_, supportTok := addMember(t, env, ws, "support@hours.example", "support")
	_, viewerTok := addMember(t, env, ws, "viewer@hours.example", "viewer")

	type hours struct {
		Configured bool                `json:"configured"`
		TimeZone   *string             `json:"time_zone"`
		Weekly     map[string][]string `json:"weekly"`
		Holidays   []string            `json:"holidays"`
	}
	var got hours
	res := env.As(ws.OwnerToken, http.MethodGet, path, nil)
	res.JSON(t, &got)
	if res.Code != http.StatusOK || got.Configured || got.TimeZone != nil || len(got.Weekly) != 0 {
		t.Fatalf("unset business hours: %d %s", res.Code, res.Body)
	}
	for _, tok := range []string{supportTok, viewerTok} {
		if res := env.As(tok, http.MethodGet, path, nil); res.Code != http.StatusForbidden {
			t.Errorf("GET as support or viewer: %d", res.Code)
		}
		if res := env.As(tok, http.MethodPut, path, map[string]any{"time_zone": "UTC"}); res.Code != http.StatusForbidden {
			t.Errorf("PUT as support or viewer: %d", res.Code)
		}
	}
	if res := env.As(other.OwnerToken, http.MethodPut, path, map[string]any{"time_zone": "UTC"}); res.Code != http.StatusNotFound {
		t.Errorf("PUT with another workspace's token: %d", res.Code)
	}

	body := map[string]any{
		"time_zone": "Pacific/Auckland",
		"weekly":    map[string]any{"MON": []string{"13:00-17:30", "09:00-12:00"}, "fri": []string{"09:00-16:00"}},
		"holidays":  []string{"2026-12-25", "2026-12-24", "2026-12-25"},
	}
	res = env.As(adminTok, http.MethodPut, path, body)
	res.JSON(t, &got)
	if res.Code != http.StatusOK || !got.Configured || got.TimeZone == nil || *got.TimeZone != "Pacific/Auckland" ||
		strings.Join(got.Weekly["mon"], ",") != "09:00-12:00,13:00-17:30" || strings.Join(got.Holidays, ",") != "2026-12-24,2026-12-25" {
		t.Fatalf("PUT as admin: %d %s", res.Code, res.Body)
	}
	for field, bad := range map[string]map[string]any{
		"time_zone":  {"time_zone": "Mars/Olympus"},
		"weekly.mon": {"time_zone": "UTC", "weekly": map[string]any{"mon": []string{"09:00-13:00", "12:00-17:00"}}},
		"weekly.tue": {"time_zone": "UTC", "weekly": map[string]any{"tue": []string{"18:00-09:00"}}},
		"weekly":     {"time_zone": "UTC", "weekly": map[string]any{"someday": []string{"09:00-17:00"}}},
		"holidays":   {"time_zone": "UTC", "holidays": []string{"Christmas"}},
		"unknown":    {"time_zone": "UTC", "extra": 1},
	} {
		res := env.As(ws.OwnerToken, http.MethodPut, path, bad)
		if res.Code != http.StatusBadRequest || (field != "unknown" && !strings.Contains(string(res.Body), `"message":"`+field+`:`)) {
			t.Errorf("bad %s: %d %s", field, res.Code, res.Body)
		}
	}
	// The refusals changed nothing, and the same hours again are no new change.
	if res := env.As(ws.OwnerToken, http.MethodPut, path, body); res.Code != http.StatusOK {
		t.Fatalf("PUT again: %d", res.Code)
	}
	res = env.As(ws.OwnerToken, http.MethodGet, path, nil)
	res.JSON(t, &got)
	if *got.TimeZone != "Pacific/Auckland" || len(got.Weekly) != 2 {
		t.Errorf("after refusals: %s", res.Body)
	}
	var audits int
	if err := env.Store.DB.NewRaw(`SELECT count(*) FROM audit_log WHERE workspace_id = ? AND action = 'business_hours_changed'`, ws.WorkspaceID).
		Scan(context.Background(), &audits); err != nil || audits != 1 {
		t.Errorf("%d business-hours audit entries (%v), want 1", audits, err)
	}
}
