package domain

import (
	"net"
	"net/netip"
	"strings"
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

// ClientIP is the address of whoever sent a request: the peer (remoteAddr, host:port),
// unless the peer is a trusted proxy, in which case the right-most X-Forwarded-For entry
// that is not itself a trusted proxy. An unreadable peer is the zero Addr.
func ClientIP(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(forwardedFor, ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a garbled chain is not believed past this point
		}
		if a = a.Unmap(); !isTrusted(a) {
			return a
		}
	}
	return peer
}
