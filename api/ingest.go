package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// Size limits of an ingested message; a larger body is a 413, a larger field a 400.
const (
	maxMessageText  = 16_000
	maxRefLen       = 200
	maxMessageIDLen = 200
	maxPhoneLen     = 40
	maxURLLen       = 2048
	maxUserAgentLen = 1024

	// The longest channel (web_voice) and role (assistant) names.
	maxChannelLen = len(domain.WebVoice)
	maxRoleLen    = len(domain.AssistantMessage)
)

// MaxIngestBody is the ingest body limit (413 above it), sized from the largest valid
// message rather than guessed: every field limit counts characters, and JSON may spell any
// character as an escape, at worst a surrogate pair (\ud83d\ude00, 12 bytes) for one
// outside the BMP. A limit below that refuses valid messages that a client chose to escape.
const MaxIngestBody = maxIngestChars*maxEscapedCharBytes + maxSentAtBytes + ingestBodySlack

const (
	// maxIngestChars is every string field at its limit.
	maxIngestChars = maxRefLen + maxChannelLen + maxMessageIDLen + maxRoleLen + maxMessageText +
		app.MaxNameLen + app.MaxEmailLen + maxPhoneLen + 2*maxURLLen + maxUserAgentLen
	maxEscapedCharBytes = len(`\ud83d\ude00`)
	// sent_at is a time with nanoseconds and an offset; time.Time refuses escapes in it.
	maxSentAtBytes = len(`"` + time.RFC3339Nano + `"`)
	// ingestBodySlack covers the keys (about 100 characters, 1,200 bytes if escaped too),
	// quotes, braces, commas and the whitespace of a pretty-printed body.
	ingestBodySlack = 4 << 10
)

type ingestRequest struct {
	ConversationRef string         `json:"conversation_ref"`
	Channel         string         `json:"channel"`
	Visitor         *ingestVisitor `json:"visitor"`
	Message         *ingestMessage `json:"message"`
	Source          *ingestSource  `json:"source"`
}

type ingestVisitor struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
	Phone *string `json:"phone"`
}

type ingestMessage struct {
	ID     string     `json:"id"`
	Role   string     `json:"role"`
	Text   string     `json:"text"`
	SentAt *time.Time `json:"sent_at"`
}

type ingestSource struct {
	PageURL   string `json:"page_url"`
	Referrer  string `json:"referrer"`
	UserAgent string `json:"user_agent"`
}

// decodeIngest parses and validates an ingest body into the store's message. Every error is
// an *Error (400 or 413) naming the field; it never panics, whatever the input. The body
// must be valid UTF-8 without lone surrogate escapes or duplicate keys (decodeStrict).
func decodeIngest(body []byte, now time.Time) (app.IngestMessage, error) {
	if len(body) > MaxIngestBody {
		return app.IngestMessage{}, errTooLarge
	}
	var req ingestRequest
	if err := decodeStrict(body, &req); err != nil {
		return app.IngestMessage{}, err
	}
	var out app.IngestMessage
	out.Ref = strings.TrimSpace(req.ConversationRef)
	if err := app.CheckText("conversation_ref", out.Ref, maxRefLen, true); err != nil {
		return out, err
	}
	ch, err := domain.ParseChannel(req.Channel)
	if err != nil {
		return out, badRequest("channel: %v", err)
	}
	out.Channel = ch
	if req.Message == nil {
		return out, badRequest("message: required")
	}
	m := req.Message
	if err := app.CheckText("message.id", m.ID, maxMessageIDLen, false); err != nil {
		return out, err
	}
	role, err := domain.ParseMessageRole(m.Role)
	if err != nil {
		return out, badRequest("message.role: %v", err)
	}
	if strings.TrimSpace(m.Text) == "" {
		return out, badRequest("message.text: required")
	}
	if err := app.CheckText("message.text", m.Text, maxMessageText, true); err != nil {
		return out, err
	}
	out.ExternalID, out.Role, out.Text, out.SentAt = m.ID, role, m.Text, now
	if m.SentAt != nil {
		if m.SentAt.Year() < 2000 || m.SentAt.After(now.Add(24*time.Hour)) {
			return out, badRequest("message.sent_at: not a plausible time")
		}
		out.SentAt = m.SentAt.UTC()
	}
	if v := req.Visitor; v != nil {
		for _, f := range []struct {
			name string
			val  *string
			max  int
		}{{"visitor.name", v.Name, app.MaxNameLen}, {"visitor.email", v.Email, app.MaxEmailLen}, {"visitor.phone", v.Phone, maxPhoneLen}} {
			if f.val != nil {
				*f.val = strings.TrimSpace(*f.val)
				if err := app.CheckText(f.name, *f.val, f.max, false); err != nil {
					return out, err
				}
			}
		}
		if v.Email != nil && *v.Email != "" && !strings.Contains(*v.Email, "@") {
			return out, badRequest("visitor.email: not an email address")
		}
		out.Visitor = app.Visitor{Name: v.Name, Email: v.Email, Phone: v.Phone}
	}
	if src := req.Source; src != nil {
		for _, f := range []struct {
			name, val string
			max       int
		}{{"source.page_url", src.PageURL, maxURLLen}, {"source.referrer", src.Referrer, maxURLLen}, {"source.user_agent", src.UserAgent, maxUserAgentLen}} {
			if err := app.CheckText(f.name, f.val, f.max, false); err != nil {
				return out, err
			}
		}
		out.Source = app.Source{PageURL: src.PageURL, Referrer: src.Referrer, UserAgent: src.UserAgent}
	}
	return out, nil
}

// jsonProblem words a JSON decoding error without echoing large inputs.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON"
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return "a value has the wrong type" // the body itself, or a value of a map
	case errors.As(err, &typeErr):
		return "field " + typeErr.Field + " has the wrong type"
	case errors.Is(err, io.EOF):
		return "empty"
	// encoding/json's unknown-field and time errors have no type: only their text tells them.
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return strings.TrimPrefix(err.Error(), "json: ")
	case strings.Contains(err.Error(), "parsing time"):
		return "a time is not RFC 3339"
	}
	return "malformed JSON"
}

// ingest takes a message from a channel (widget, voice or phone gateway).
func (s *server) ingest(c *gin.Context) {
	wsID, err := s.App.AuthenticateIngestKey(c.Request.Context(), c.GetHeader("X-Inbox-Key"))
	if err != nil {
		respond(c, err)
		return
	}
	body, err := readJSON(c, int64(MaxIngestBody))
	if err != nil {
		respond(c, err)
		return
	}
	msg, err := decodeIngest(body, time.Now().UTC())
	if err != nil {
		respond(c, err)
		return
	}
	// The conversation first: a noisy visitor's refused messages must not spend the key's
	// tokens, which the site's other conversations share.
	if ok, wait := s.convLimiter.allow(wsID.String() + "\x00" + msg.Ref); !ok {
		respond(c, rateLimited(fmt.Sprintf("too many messages in this conversation (at most %g a second); slow down", s.IngestConversationRate), wait))
		return
	}
	msg.WorkspaceID = wsID
	msg.Source.IP = domain.ClientIP(c.Request.RemoteAddr, c.Request.Header.Values("X-Forwarded-For"), s.TrustedProxies)
	res, err := s.App.Ingest(c.Request.Context(), msg, app.IngestLimit{Rate: s.IngestRate, Burst: s.IngestBurst})
	if err != nil {
		respond(c, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	c.JSON(status, ingestAnswer{ConversationID: res.ConversationID, MessageID: res.MessageID})
}
