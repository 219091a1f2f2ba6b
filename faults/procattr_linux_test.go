package faults

import "syscall"

// procAttr puts inbox in its own process group (a ^C on `go test` reaches our cleanup
// first) and has the kernel kill it if the test binary dies without cleaning up (a panic,
// the -timeout alarm), so no orphan keeps its ports.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
