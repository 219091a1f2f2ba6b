//go:build !linux

package main

import "syscall"

// procAttr: without Pdeathsig, the benchmark's own cleanup is what stops `inbox dev`.
func procAttr() *syscall.SysProcAttr { return nil }
