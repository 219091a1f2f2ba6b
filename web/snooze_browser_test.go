package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/internal/browser"
	"github.com/bestai/inbox/internal/testenv"
	"github.com/bestai/inbox/web"
)

// TestSnoozePresetInBrowser snoozes a conversation with the "Tomorrow morning" preset, as a
// viewer in Auckland: the page shows "Pending until …", the stored wake-up time is 9:00
// tomorrow in Auckland, the list shows it too, and "Wakes today" leaves it out.
func TestSnoozePresetInBrowser(t *testing.T) {
	t.Parallel()
	e := testenv.New(t, testenv.Options{})
	ws := e.NewWorkspace("Snoozers")
	e.SetPassword(testenv.OwnerEmail("Snoozers"), password)
	base := e.Serve("http://127.0.0.1:8233")
	inbox := base + web.WorkspacePath(ws.WorkspaceID.String(), web.SectionInbox)
	id := ingest(t, e, ws.IngestKey, "ref-snooze", "Sam", "Can you call me back tomorrow?")

	b := browser.New(t)
	tab := signInTab(t, b, base, testenv.OwnerEmail("Snoozers"), password)
	const zone = "Pacific/Auckland"
	tab.SetTimezone(zone)
	tab.Navigate(inbox + "c/" + id)
	tab.WaitText("h1", "Sam", 5*time.Second)
	if got := browser.Eval[string](tab, `document.querySelector('#snooze input[name=tz]').value`); got != zone {
		t.Fatalf("the snooze form's time zone = %q, want %q", got, zone)
	}
	tab.Click("#snooze-tomorrow")
	tab.WaitText("#pending-until", "Pending until", 10*time.Second)
	tab.WaitText(".conv-state", "pending", 5*time.Second)

	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Store.GetConversation(context.Background(), ws.WorkspaceID, uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	if v.State != domain.Pending || !v.PendingUntil.Valid {
		t.Fatalf("stored: state %s, pending_until %v", v.State, v.PendingUntil)
	}
	got := v.PendingUntil.Time.In(loc)
	tomorrow := time.Now().In(loc).AddDate(0, 0, 1)
	if got.Hour() != 9 || got.Minute() != 0 || got.Day() != tomorrow.Day() {
		t.Errorf("pending_until = %s in %s, want 9:00 on the %d", got, zone, tomorrow.Day())
	}
	// The time on the page is the viewer's: 9:00 in Auckland.
	tab.WaitText("#pending-until time[data-localized]", "9:00", 5*time.Second)

	// The list shows it; Wakes today leaves it out (it wakes tomorrow).
	tab.Navigate(inbox)
	row := `tr.conversation-row[data-id="` + id + `"]`
	tab.WaitText(row+" .pending-until", "until", 5*time.Second)
	tab.Navigate(inbox + "?wakes_today=" + zone)
	tab.WaitText("h1", "Inbox", 5*time.Second)
	if tab.Exists(row) {
		t.Error("Wakes today lists a conversation that wakes tomorrow")
	}
	if !strings.Contains(tab.Text(".filters"), "Wakes today") || !browser.Eval[bool](tab, `document.querySelector("#f-wakes-today").checked`) {
		t.Error("no ticked Wakes today filter")
	}
	tab.AssertClean(t)
	b.AssertClean(t)
}
