package main

import "testing"

// TestLoopbackDecidesCompression: gRPC compression is turned off only for a Temporal
// frontend on loopback, where it costs CPU and saves nothing.
func TestLoopbackDecidesCompression(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:7233":     true,
		"127.0.0.2:7233":     true,
		"[::1]:7233":         true,
		"localhost:7233":     true,
		"temporal:7233":      false,
		"10.0.0.5:7233":      false,
		"[2001:db8::1]:7233": false,
		"no-port":            false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
