package app

import "github.com/bestai/inbox/store"

// The read model's rows as the front doors receive them from the operations here. They are
// the store's types, named in app so that api and web reach the inbox through app alone
// (TestFrontDoorsImportOnlyApp). The API answers with wire types of its own, built from
// these; the pages render them.
type (
	ConversationView    = store.ConversationView
	ConversationPage    = store.ConversationPage
	Message             = store.Message
	AuditEntry          = store.AuditEntry
	LeadView            = store.LeadView
	LeadPage            = store.LeadPage
	Member              = store.Member
	MemberPage          = store.MemberPage
	Label               = store.Label
	LabelRef            = store.LabelRef
	LabelPage           = store.LabelPage
	Webhook             = store.Webhook
	Delivery            = store.Delivery
	DeliveryAttempt     = store.DeliveryAttempt
	OpenAIKeySetting    = store.OpenAIKeySetting
	WorkspaceMembership = store.WorkspaceMembership
	IngestMessage       = store.IngestMessage
	Visitor             = store.Visitor
	Source              = store.Source
)
