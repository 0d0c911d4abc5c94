package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A netns lab is a small private network of Linux network namespaces that
// belongs to one test: one namespace per node, each with lo up and an
// eth0 holding its own address, and a fourth namespace holding the bridge
// that joins them through veth pairs. Nothing is created in the test's own
// (the machine's) namespace, so the lab can neither reach nor disturb the
// machine's network, and the only addresses in play are the lab's
// (labSubnet) and each namespace's 127.0.0.1.
//
// Names carry the test process's pid (labPrefix-<pid>-...), so parallel
// runs never collide, and a run finds what a crashed earlier run left
// behind (a prefix with a pid that is no longer alive) and removes it.

const (
	// labPrefix starts the name of every namespace a lab makes.
	labPrefix = "ledger-e2e-"
	// labSubnet is the lab's private /24: node i has labSubnet.(i+1); no
	// machine's interface carries these addresses, and the lab is cut off
	// from the machine anyway.
	labSubnet = "10.213.0"
	// labCmdTimeout bounds one ip(8) command.
	labCmdTimeout = 20 * time.Second
)

// netnsLab is a lab made by newNetnsLab; its fields are read-only.
type netnsLab struct {
	// nodes are the node namespaces, bridge the bridge's.
	nodes  []string
	bridge string
	// addrs are the nodes' addresses (without the /24).
	addrs []string
}

// netnsSupport reports whether this process can make network namespaces,
// and if not, why, for the skip message. euid is the effective user id;
// run runs an ip(8) command. Probing really creates a namespace with a
// name no other run uses and deletes it: being root is not enough inside
// a container that forbids it.
func netnsSupport(euid int, ipPath string, run func(args ...string) error) (bool, string) {
	if euid != 0 {
		return false, fmt.Sprintf("needs root to create network namespaces (running as uid %d)", euid)
	}
	if ipPath == "" {
		return false, "needs the ip command (iproute2), which is not in PATH"
	}
	probe := fmt.Sprintf("%s%d-probe", labPrefix, os.Getpid())
	if err := run("netns", "add", probe); err != nil {
		return false, fmt.Sprintf("`ip netns add` does not work here: %v", err)
	}
	if err := run("netns", "del", probe); err != nil {
		return false, fmt.Sprintf("`ip netns del %s` failed after it was added: %v", probe, err)
	}
	return true, ""
}

// requireNetns skips the test unless network namespaces can be made here.
func requireNetns(t *testing.T) {
	t.Helper()
	ipPath, _ := exec.LookPath("ip")
	ok, why := netnsSupport(os.Geteuid(), ipPath, func(args ...string) error {
		_, err := runIP(args...)
		return err
	})
	if !ok {
		t.Skip("separate-hosts scenario skipped: " + why)
	}
}

// runIP runs ip(8) with args and returns its combined output; a failure's
// error includes the output.
func runIP(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), labCmdTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// newNetnsLab makes a lab of n node namespaces. Its removal is registered
// with t.Cleanup before anything is made, so a failure half-way (or a
// failing test) still removes every namespace, and with them their veth
// ends and the bridge; processes in them are killed first.
func newNetnsLab(t *testing.T, n int) *netnsLab {
	t.Helper()
	if n < 1 || n > 200 {
		t.Fatalf("netns lab of %d nodes: want 1 to 200", n)
	}
	removeStaleLabs(t)
	base := fmt.Sprintf("%s%d-", labPrefix, os.Getpid())
	lab := &netnsLab{bridge: base + "br"}
	for i := 0; i < n; i++ {
		lab.nodes = append(lab.nodes, fmt.Sprintf("%s%d", base, i))
		lab.addrs = append(lab.addrs, fmt.Sprintf("%s.%d", labSubnet, i+1))
	}
	t.Cleanup(func() { lab.remove(t) })

	must := func(args ...string) {
		t.Helper()
		if _, err := runIP(args...); err != nil {
			t.Fatalf("netns lab: %v", err)
		}
	}
	for _, ns := range append([]string{lab.bridge}, lab.nodes...) {
		must("netns", "add", ns)
		must("-n", ns, "link", "set", "lo", "up")
	}
	must("-n", lab.bridge, "link", "add", "br0", "type", "bridge")
	must("-n", lab.bridge, "link", "set", "br0", "up")
	for i, ns := range lab.nodes {
		// Both ends are made inside namespaces: the bridge end in the
		// bridge's, the other moved at once into the node's as eth0.
		port := fmt.Sprintf("port%d", i)
		must("-n", lab.bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		must("-n", lab.bridge, "link", "set", port, "master", "br0")
		must("-n", lab.bridge, "link", "set", port, "up")
		must("-n", ns, "addr", "add", lab.addrs[i]+"/24", "dev", "eth0")
		must("-n", ns, "link", "set", "eth0", "up")
	}
	return lab
}

// command is name with args run inside namespace ns.
func (l *netnsLab) command(ns, name string, args ...string) (string, []string) {
	return "ip", append([]string{"netns", "exec", ns, name}, args...)
}

// remove kills whatever runs in the lab's namespaces and deletes them.
// Deleting a namespace destroys its interfaces; a veth pair goes with
// either end, and the bridge with its namespace.
func (l *netnsLab) remove(t *testing.T) {
	for _, ns := range append(append([]string{}, l.nodes...), l.bridge) {
		if err := deleteNetns(ns); err != nil {
			t.Errorf("netns lab cleanup: %v", err)
		}
	}
}

// deleteNetns kills the processes in namespace ns, if it exists, and
// deletes it.
func deleteNetns(ns string) error {
	if !netnsExists(ns) {
		return nil
	}
	killNetnsProcs(ns)
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if _, err = runIP("netns", "del", ns); err == nil || !netnsExists(ns) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// netnsList lists the names of the machine's named network namespaces.
func netnsList() []string {
	out, err := runIP("netns", "list")
	if err != nil {
		return nil
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func netnsExists(ns string) bool {
	for _, n := range netnsList() {
		if n == ns {
			return true
		}
	}
	return false
}

// killNetnsProcs sends SIGKILL to every process in namespace ns: only
// processes a lab started run there.
func killNetnsProcs(ns string) {
	out, err := runIP("netns", "pids", ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeStaleLabs deletes the namespaces of labs whose test process is
// gone (a run killed before its cleanups ran).
func removeStaleLabs(t *testing.T) {
	for _, ns := range netnsList() {
		pid, ok := labOwner(ns)
		if !ok || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		t.Logf("removing network namespace %s left by an earlier run (pid %d)", ns, pid)
		if err := deleteNetns(ns); err != nil {
			t.Logf("could not remove %s: %v", ns, err)
		}
	}
}

// labOwner is the pid in a lab namespace's name (labPrefix<pid>-...).
func labOwner(ns string) (int, bool) {
	rest, ok := strings.CutPrefix(ns, labPrefix)
	if !ok {
		return 0, false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
