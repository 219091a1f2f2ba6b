package live

import (
	"context"
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
	ServeStream(w, r, l, Stream{Workspaces: workspaces})
}

// Stream is what ServeStream serves to one browser.
type Stream struct {
	// Workspaces are those whose changes it carries: only ones the caller may see.
	Workspaces []uuid.UUID
	// User is the person the stream is for: it also carries their own changes (their
	// notifications, as a "change" of kind "notification"). uuid.Nil carries nobody's.
	User uuid.UUID
	// Owner holds the stream, for Options.MaxPerOwner (the web admin passes the session's
	// id); past that the stream is refused with 429 and Retry-After. "" is not capped.
	Owner string
	// Allowed is asked on every heartbeat whether the stream may go on (its session still
	// signed in, still a member); false ends it, and the browser's reconnection is then
	// checked afresh. nil never asks.
	Allowed func(context.Context) bool
}

// ServeStream is ServeSSE with an owner and a check that the stream is still allowed.
func ServeStream(w http.ResponseWriter, r *http.Request, l *Listener, st Stream) {
	sub, cancel, err := l.SubscribeFor(st.Owner, st.User, st.Workspaces)
	if errors.Is(err, ErrOwnerFull) {
		// 429, not 503: this client holds enough streams; another replica should not serve it.
		w.Header().Set("Retry-After", "30")
		http.Error(w, err.Error(), http.StatusTooManyRequests)
		return
	}
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
			// A stream must not outlive its session or membership by more than a heartbeat.
			if st.Allowed != nil && !st.Allowed(r.Context()) {
				return
			}
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
