package testproc

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"syscall"
)

// Port range FreePorts draws from: below Linux's ephemeral range
// (32768-60999), so the kernel does not hand these ports to outgoing
// connections of other tests.
const (
	portLow  = 20000
	portHigh = 32000
)

// FreePorts finds count consecutive TCP ports, from an even base, that
// are free on 127.0.0.1 right now, and returns the base. Another process
// may take one before the caller listens on it: callers retry on a
// collision.
func FreePorts(count int) (int, error) {
	if count < 1 || count > portHigh-portLow {
		return 0, errorf(ErrNoPorts, "want 1 to %d ports, not %d", portHigh-portLow, count)
	}
	for range 200 {
		base := portLow + 2*rand.IntN((portHigh-portLow-count)/2)
		if PortsFree(base, count) {
			return base, nil
		}
	}
	return 0, errorf(ErrNoPorts, "no %d consecutive free ports on 127.0.0.1 between %d and %d", count, portLow, portHigh)
}

// PortsFree reports whether ports base to base+count-1 can all be
// listened on at 127.0.0.1 now.
func PortsFree(base, count int) bool {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for p := base; p < base+count; p++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			return false
		}
		lns = append(lns, ln)
	}
	return true
}

// EnvWithout is this process's environment without the variables whose
// names start with one of prefixes (LEDGER_ settings a developer has set
// must not change what a test runs).
func EnvWithout(prefixes ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

// ChildAttr is the process attributes Start gives its children (on Linux,
// killed with the test binary), for tests that run exec.Cmd themselves.
func ChildAttr() *syscall.SysProcAttr { return childAttr() }

// NodeEnv is the environment for a node under test: this process's
// without LEDGER_ settings, and with libp2p's SO_REUSEPORT off. With it on
// (libp2p's default), two nodes of concurrently running tests that were
// handed the same port would both bind it and silently split each other's
// incoming connections; off, the second fails to start and says so.
func NodeEnv() []string {
	return append(EnvWithout("LEDGER_", "LIBP2P_TCP_REUSEPORT="), "LIBP2P_TCP_REUSEPORT=false")
}
