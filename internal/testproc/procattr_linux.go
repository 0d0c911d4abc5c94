//go:build linux

package testproc

import "syscall"

// childAttr asks the kernel to SIGKILL the child when the test binary
// dies (a -timeout panic skips the cleanups), so no process outlives its
// test. The signal follows the thread that started the child; the Go
// runtime does not end threads unless a goroutine that locked one exits,
// which test code does not do.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
