//go:build !unix

package testnet

import (
	"os"
	"syscall"
)

// childAttr: no process groups here; nodes share the console's.
func childAttr() *syscall.SysProcAttr { return nil }

// stopSignal: only Kill can be sent to another process here, so nodes
// are stopped abruptly (their store is consistent at every batch).
func stopSignal() os.Signal { return os.Kill }

// diedOfStopSignal: a kill is never clean here.
func diedOfStopSignal(*os.ProcessState) bool { return false }
