package app

import (
	"context"
	"strings"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// Settings shows the workspace's settings: whether it has its own OpenAI key, and the key's
// last four characters. The key itself never leaves the server.
func (s *Service) Settings(ctx context.Context, c *Caller) (store.OpenAIKeySetting, error) {
	if err := s.Authorize(c, domain.ManageSettings); err != nil {
		return store.OpenAIKeySetting{}, err
	}
	_, setting, err := s.Store.OpenAIKey(ctx, c.WorkspaceID)
	return setting, err
}

// The lengths an OpenAI key may have: real ones are 50 to 200 characters; these bounds only
// refuse what cannot be one.
const (
	MinOpenAIKeyLen = 8
	MaxOpenAIKeyLen = 512
)

// SetOpenAIKey stores the workspace's own OpenAI key, sealed; it is never returned or logged.
func (s *Service) SetOpenAIKey(ctx context.Context, c *Caller, apiKey string) (store.OpenAIKeySetting, error) {
	if err := s.Authorize(c, domain.ManageSettings); err != nil {
		return store.OpenAIKeySetting{}, err
	}
	key := strings.TrimSpace(apiKey)
	if len(key) < MinOpenAIKeyLen || len(key) > MaxOpenAIKeyLen || strings.ContainsAny(key, " \t\r\n") {
		return store.OpenAIKeySetting{}, BadRequest("api_key: want an OpenAI API key (e.g. sk-...)")
	}
	if err := CheckText("api_key", key, MaxOpenAIKeyLen, true); err != nil {
		return store.OpenAIKeySetting{}, err
	}
	ws := c.WorkspaceID
	sealed := s.Secrets.Seal([]byte(key), ws[:])
	if err := s.Store.SetOpenAIKey(ctx, ws, sealed, key[len(key)-4:]); err != nil {
		return store.OpenAIKeySetting{}, err
	}
	_, setting, err := s.Store.OpenAIKey(ctx, ws)
	return setting, err
}

// DeleteOpenAIKey removes the workspace's own key; summaries fall back to the platform key.
func (s *Service) DeleteOpenAIKey(ctx context.Context, c *Caller) error {
	if err := s.Authorize(c, domain.ManageSettings); err != nil {
		return err
	}
	return s.Store.DeleteOpenAIKey(ctx, c.WorkspaceID)
}
