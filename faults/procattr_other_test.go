//go:build !linux

package faults

import "syscall"

// procAttr puts inbox in its own process group; outside Linux there is no parent-death
// signal, so only the cleanups stop it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
