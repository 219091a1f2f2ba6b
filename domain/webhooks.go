package domain

import (
	"fmt"
	"net/netip"
	"slices"
)

// WebhookEvent is the type of an event a webhook endpoint may subscribe to.
type WebhookEvent string

// The fixed list of webhook event types (api.md).
const (
	EventConversationCreated       WebhookEvent = "conversation.created"
	EventMessageCreated            WebhookEvent = "message.created"
	EventConversationStateChanged  WebhookEvent = "conversation.state_changed"
	EventConversationAssigned      WebhookEvent = "conversation.assigned"
	EventSummaryReady              WebhookEvent = "summary.ready"
	EventSummaryFailed             WebhookEvent = "summary.failed"
	EventLeadStatusChanged         WebhookEvent = "lead.status_changed"
	EventConversationLabelsChanged WebhookEvent = "conversation.labels_changed"
	EventSLABreached               WebhookEvent = "sla.breached"
)

// WebhookEvents lists every event type, in the order api.md names them.
var WebhookEvents = []WebhookEvent{
	EventConversationCreated, EventMessageCreated, EventConversationStateChanged,
	EventConversationAssigned, EventSummaryReady, EventSummaryFailed, EventLeadStatusChanged,
	EventConversationLabelsChanged, EventSLABreached,
}

// ParseWebhookEvent accepts one of WebhookEvents.
func ParseWebhookEvent(s string) (WebhookEvent, error) {
	if e := WebhookEvent(s); slices.Contains(WebhookEvents, e) {
		return e, nil
	}
	return "", fmt.Errorf("unknown event type %q (want one of %v)", s, WebhookEvents)
}

// DeliveryStatus is where a webhook delivery stands: pending while it is queued or between
// retries, succeeded once a receiver answered 2xx, failed when the retries ran out, the
// receiver answered 410 Gone, or the endpoint was disabled.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
)

// Workspace-level audit actions of webhook settings.
const (
	AuditWebhookCreated       AuditAction = "webhook_created"
	AuditWebhookUpdated       AuditAction = "webhook_updated"
	AuditWebhookDeleted       AuditAction = "webhook_deleted"
	AuditWebhookSecretRotated AuditAction = "webhook_secret_rotated"
	AuditWebhookRedelivered   AuditAction = "webhook_redelivered"
)

// nonPublic are ranges a webhook must not reach unless private targets are allowed: beyond
// what netip's predicates name (loopback, private, link-local, multicast, unspecified).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: may translate to a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: embeds an arbitrary IPv4
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("::ffff:0:0/96"),  // IPv4-mapped (checked unmapped first)
	netip.MustParsePrefix("::/96"),          // IPv4-compatible (deprecated)
}

// PublicAddr reports whether a webhook may be sent to a: a global unicast address outside
// every private, loopback, link-local, unspecified, CGNAT, multicast, unique-local and
// reserved range.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}
