package domain

import (
	"net/netip"
)

// MaskIP returns the network a visitor address belongs to, as the admin shows it:
// the /24 for IPv4 (IPv4-mapped IPv6 counts as IPv4) and the /48 for IPv6.
// An invalid address masks to "".
func MaskIP(addr netip.Addr) string {
	if !addr.IsValid() {
		return ""
	}
	addr = addr.Unmap().WithZone("")
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	prefix, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return prefix.String()
}
