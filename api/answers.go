package api

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/bestai/inbox/app"
	"github.com/bestai/inbox/domain"
)

// The API's answers that are not a conversation, a lead or a webhook (those have their
// types beside their handlers). Each is a named type whose JSON is the contract of
// openapi.json, so renaming a field of the store or of app cannot change the contract
// unnoticed: the tests check every answer against the document.

// page is one page of a list: {"items": [...], "next_cursor": "..." | null}.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// errorAnswer is every error: {"error": {"code", "message"}}.
type errorAnswer struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// healthAnswer is /healthz's.
type healthAnswer struct {
	Status string `json:"status"`
}

// memberItem is a member of the workspace.
type memberItem struct {
	UserID        uuid.UUID   `json:"user_id"`
	Email         string      `json:"email"`
	Name          string      `json:"name"`
	Role          domain.Role `json:"role"`
	CreatedAt     time.Time   `json:"created_at"`
	InvitePending bool        `json:"invite_pending"`
}

func toMember(m *app.Member) memberItem {
	return memberItem{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: m.Role, CreatedAt: m.CreatedAt.UTC(),
		InvitePending: m.InvitePending}
}

// addedMember is the answer to POST /members. A newcomer's secrets are in it, shown once; a
// person who already has an account gets neither field: only the membership was made.
type addedMember struct {
	Member     memberItem `json:"member"`
	HasAccount bool       `json:"has_account"`
	APIToken   *string    `json:"api_token,omitempty"`
	InviteURL  *string    `json:"invite_url,omitempty"`
}

// inviteAnswer is a new invite link, shown once.
type inviteAnswer struct {
	InviteURL string    `json:"invite_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// settingsAnswer is GET and PATCH /settings: the BYOK part only for owners.
type settingsAnswer struct {
	AutoArchiveDays *int           `json:"auto_archive_days"`
	OpenAIKey       *openAIKeyItem `json:"openai_key,omitempty"`
}

// openAIKeyItem says whether the workspace has its own key, by its last 4 characters.
type openAIKeyItem struct {
	Configured bool   `json:"configured"`
	Last4      string `json:"last4,omitempty"`
}

func toOpenAIKey(k app.OpenAIKeySetting) *openAIKeyItem {
	return &openAIKeyItem{Configured: k.Configured, Last4: k.Last4}
}

// openAIKeyAnswer is PUT /settings/openai-key's.
type openAIKeyAnswer struct {
	OpenAIKey *openAIKeyItem `json:"openai_key"`
}

// summaryAnswer is POST .../summary/retry's: the summary as it is now.
type summaryAnswer struct {
	Summary summaryJSON `json:"summary"`
}

// ingestAnswer names the conversation and the message a channel's message became.
type ingestAnswer struct {
	ConversationID uuid.UUID `json:"conversation_id"`
	MessageID      uuid.UUID `json:"message_id"`
}

// newWebhookAnswer is a webhook with its signing secret, shown once.
type newWebhookAnswer struct {
	Webhook webhookItem `json:"webhook"`
	Secret  string      `json:"secret"`
}

// deliveryAnswer is one delivery, with its body as sent and every attempt.
type deliveryAnswer struct {
	Delivery   deliveryItem    `json:"delivery"`
	Body       json.RawMessage `json:"body"`
	AttemptLog []attemptItem   `json:"attempt_log"`
}

// redeliveryAnswer is the delivery sent again.
type redeliveryAnswer struct {
	Delivery deliveryItem `json:"delivery"`
}
