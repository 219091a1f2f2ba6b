package api

import (
	"github.com/gin-gonic/gin"

	"github.com/bestai/inbox/app"
)

// listConversations is the inbox list: filters of api.md, newest activity first, keyset pages.
func (s *server) listConversations(c *gin.Context) {
	q, err := app.ReadQuery(c.Request.URL.Query(), app.ConversationListParams...)
	if err != nil {
		respond(c, err)
		return
	}
	page, err := s.App.ListConversations(c.Request.Context(), caller(c), q)
	if err != nil {
		respond(c, err)
		return
	}
	items := make([]conversationItem, len(page.Items))
	for i := range page.Items {
		items[i] = toItem(&page.Items[i])
	}
	writePage(c, items, page.NextCursor)
}
