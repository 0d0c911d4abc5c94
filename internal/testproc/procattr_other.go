//go:build !linux

package testproc

import "syscall"

// childAttr: without Pdeathsig, a child outlives a test binary killed
// before its cleanups run.
func childAttr() *syscall.SysProcAttr { return nil }
