package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
)

// retryMillis is the reconnection delay suggested to the browser's EventSource.
const retryMillis = 3000

// ServeSSE streams the changes of workspaces to one browser as Server-Sent Events until the
// request's context ends (the page closed) or the Listener stops. The caller has
// authenticated the session and passes only the workspaces it may see.
//
// The stream starts with a retry hint and a "ready" event; then each change is an event
// "change" with data {"conversation_id","kind"}, and "resync" means changes were lost and
// the page must re-fetch what it shows. A page that reconnects must re-fetch too: whatever
// changed while it was away was not sent to anyone.
func ServeSSE(w http.ResponseWriter, r *http.Request, l *Listener, workspaces []uuid.UUID) {
	sub, cancel, err := l.Subscribe(workspaces)
	if err != nil { // full, or shutting down: either way another replica or a retry can serve
		if errors.Is(err, ErrFull) {
			w.Header().Set("Retry-After", "30")
		}
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer cancel()

	rc := http.NewResponseController(w)
	// The stream outlives any server-wide write timeout meant for ordinary responses.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise hold events back
	w.WriteHeader(http.StatusOK)

	send := func(chunk string) bool {
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// EventSource drops an event without a data line, hence the empty objects.
	if !send(fmt.Sprintf("retry: %d\nevent: ready\ndata: {}\n\n", retryMillis)) {
		return
	}
	heartbeat := time.NewTicker(l.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		var chunk string
		select {
		case <-r.Context().Done():
			return
		case <-sub.Done():
			return
		case <-heartbeat.C:
			chunk = ": keep-alive\n\n"
		case ev := <-sub.Events():
			chunk = formatEvent(ev)
		}
		if !send(chunk) {
			return
		}
	}
}

// changeData is the data of a "change" event. The workspace is left out: the page only
// hears its own, and needs just the conversation to decide what to re-fetch.
type changeData struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	Kind           string    `json:"kind"`
}

func formatEvent(ev Event) string {
	if ev.Resync {
		return "event: resync\ndata: {}\n\n"
	}
	data, _ := json.Marshal(changeData{ConversationID: ev.Change.ConversationID, Kind: ev.Change.Kind})
	return "event: change\ndata: " + string(data) + "\n\n"
}
