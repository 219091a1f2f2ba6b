package domain

// Permission is something a role may be allowed to do in a workspace: an (object, action)
// pair of the Casbin policy in package policies, which decides who has it. The front doors
// name permissions to ask which controls to show; only the policy grants them.
type Permission struct{ Object, Action string }

// The permissions the inbox asks for.
var (
	ReadConversations   = Permission{"conversations", "read"}
	MarkRead            = Permission{"conversations", "mark_read"}
	ChangeConversations = Permission{"conversations", "change"}
	ReadLeads           = Permission{"leads", "read"}
	ExportLeads         = Permission{"leads", "export"}
	ChangeLeads         = Permission{"leads", "change"}
	ReadAudit           = Permission{"audit", "read"}
	ReadMembers         = Permission{"members", "read"}
	ManageMembers       = Permission{"members", "manage"}
	ManageOwners        = Permission{"owners", "manage"}
	ManageSettings      = Permission{"settings", "manage"}
	ManageWebhooks      = Permission{"webhooks", "manage"}
	ManageAutoArchive   = Permission{"auto_archive", "manage"}
	ManageOwnTokens     = Permission{"tokens", "manage_own"}
	ManageBusinessHours = Permission{"business_hours", "manage"}
	ManageLabels        = Permission{"labels", "manage"}
	// ManageOwnViews is making, changing and deleting one's own personal saved views (and
	// reading the workspace's shared ones); ManageSharedViews is doing so for shared views.
	ManageOwnViews    = Permission{"views", "manage_own"}
	ManageSharedViews = Permission{"shared_views", "manage"}
	ReadReports       = Permission{"reports", "read"}
	ManageSLA         = Permission{"sla", "manage"}
)

// Permissions of internal notes and of a person's own notifications.
var (
	WriteNotes           = Permission{"notes", "write"}
	DeleteAnyNote        = Permission{"notes", "delete_any"}
	ReadOwnNotifications = Permission{"notifications", "read_own"}
)
