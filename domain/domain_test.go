package domain

import (
	"errors"
	"net/netip"
	"testing"
)

func TestCheckTransitionCoversAllSixteenPairs(t *testing.T) {
	allowed := map[[2]State]bool{
		{Open, Pending}: true, {Open, Closed}: true,
		{Pending, Open}: true, {Pending, Closed}: true,
		{Closed, Open}: true, {Closed, Archived}: true,
		{Archived, Closed}: true,
	}
	for _, from := range States {
		for _, to := range States {
			err := CheckTransition(from, to)
			if allowed[[2]State{from, to}] {
				if err != nil {
					t.Errorf("%s -> %s: want allowed, got %v", from, to, err)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) || te.From != from || te.To != to {
				t.Errorf("%s -> %s: want TransitionError, got %v", from, to, err)
			}
		}
	}
}

func TestCanSnooze(t *testing.T) {
	for _, tc := range []struct {
		from State
		want bool
	}{
		{Open, true},
		{Pending, true}, // a new wake-up time for a snoozed one, or one for a plain Pending
		{Closed, false},
		{Archived, false},
	} {
		if got := tc.from.CanSnooze(); got != tc.want {
			t.Errorf("%s: CanSnooze = %v, want %v", tc.from, got, tc.want)
		}
		// The page's question and the workflow's check agree, snoozed or not.
		for _, snoozed := range []bool{false, true} {
			if ok := CheckSnooze(tc.from, Pending, snoozed, true) == nil; ok != tc.want {
				t.Errorf("%s, snoozed %v: CheckSnooze allows %v, CanSnooze says %v", tc.from, snoozed, ok, tc.want)
			}
		}
	}
}

func TestTransitionErrorMessages(t *testing.T) {
	if got := CheckTransition(Open, Open).Error(); got != "the conversation is already open" {
		t.Errorf("same state message: %q", got)
	}
	want := "cannot move a conversation from archived to open (from archived it can go to closed)"
	if got := CheckTransition(Archived, Open).Error(); got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestParsers(t *testing.T) {
	if _, err := ParseState("OPEN"); err == nil {
		t.Error("state names are case sensitive")
	}
	if s, err := ParseState("archived"); err != nil || s != Archived {
		t.Errorf("ParseState(archived) = %v, %v", s, err)
	}
	if _, err := ParseChannel("email"); err == nil {
		t.Error("email is not a channel")
	}
	if _, err := ParseRole("superuser"); err == nil {
		t.Error("superuser is not a role")
	}
	if _, err := ParseLeadStatus("won"); err != nil {
		t.Error(err)
	}
	if _, err := ParseMessageRole("system"); err == nil {
		t.Error("system is not a message role")
	}
}

func TestAssignableRoles(t *testing.T) {
	for _, r := range Roles {
		if got, want := r.Assignable(), r != Viewer; got != want {
			t.Errorf("%s.Assignable() = %v", r, got)
		}
	}
}

func TestMaskIP(t *testing.T) {
	cases := map[string]string{
		"203.97.42.17":            "203.97.42.0/24",
		"::ffff:203.97.42.17":     "203.97.42.0/24",
		"2001:db8:abcd:12::1":     "2001:db8:abcd::/48",
		"fe80::1%eth0":            "fe80::/48",
		"10.0.0.255":              "10.0.0.0/24",
		"2001:db8:ffff:ffff::abc": "2001:db8:ffff::/48",
	}
	for in, want := range cases {
		if got := MaskIP(netip.MustParseAddr(in)); got != want {
			t.Errorf("MaskIP(%s) = %q want %q", in, got, want)
		}
	}
	if got := MaskIP(netip.Addr{}); got != "" {
		t.Errorf("invalid address masked to %q", got)
	}
}

func TestClientIPHonoursOnlyTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct{ remote, xff, want string }{
		{"203.0.113.9:1234", "198.51.100.1", "203.0.113.9"},                  // untrusted peer: header ignored
		{"10.1.1.1:1234", "198.51.100.1", "198.51.100.1"},                    // trusted proxy: its client
		{"10.1.1.1:1234", "1.2.3.4, 198.51.100.1, 10.2.2.2", "198.51.100.1"}, // right-most untrusted hop
		{"10.1.1.1:1234", "garbage", "10.1.1.1"},                             // unparsable chain: the proxy
		{"[::ffff:203.0.113.9]:1", "", "203.0.113.9"},                        // IPv4-mapped peer
	}
	for _, tc := range cases {
		var xff []string
		if tc.xff != "" {
			xff = []string{tc.xff}
		}
		if got := ClientIP(tc.remote, xff, trusted); got.String() != tc.want {
			t.Errorf("ClientIP(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
