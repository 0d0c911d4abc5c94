//go:build unix && !linux

package testnet

import (
	"os"
	"syscall"
)

// childAttr puts each node in its own process group, so a Ctrl-C in the
// terminal reaches only the supervisor, which then stops every node once
// (a node signalled twice exits at once instead of cleanly). Without
// Linux's Pdeathsig, nodes outlive a supervisor killed with SIGKILL.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// stopSignal asks a node to shut down cleanly.
func stopSignal() os.Signal { return syscall.SIGTERM }

// diedOfStopSignal reports whether a node was ended by the stop signal
// itself: one signalled before it had set up its handler (just started)
// had done nothing yet, so that counts as a clean stop.
func diedOfStopSignal(ps *os.ProcessState) bool {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}
