package app

import (
	"net/netip"

	"github.com/bestai/inbox/domain"
	"github.com/bestai/inbox/store"
)

// Moves lists the states a conversation in from may move to, in display order, as the
// domain's transition table allows them: what the pages offer as buttons.
func Moves(from domain.State) []domain.State {
	var out []domain.State
	for _, to := range domain.States {
		if domain.CheckTransition(from, to) == nil {
			out = append(out, to)
		}
	}
	return out
}

// MaskedIP is the visitor's network as the admin shows it (domain.MaskIP); "" when the
// address is unknown. The full address never leaves the server.
func MaskedIP(v *store.ConversationView) string {
	if !v.IP.Valid {
		return ""
	}
	addr, err := netip.ParseAddr(v.IP.String)
	if err != nil {
		return ""
	}
	return domain.MaskIP(addr)
}
