package main

import "syscall"

// procAttr makes the kernel kill `inbox dev` when the benchmark dies: it never outlives it.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
