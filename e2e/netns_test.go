package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ledger-node/ledger/internal/testnet"
	"github.com/ledger-node/ledger/internal/testproc"
	"github.com/ledger-node/ledger/rpc"
)

// Scenario 6: separate hosts. Three nodes, each in a network namespace of
// its own with its own address, joined by a bridge (see netnsLab), form a
// network through node 0 as bootnode and sync the chain node 0 mines. Each
// node's JSON-RPC listens on 127.0.0.1 inside its namespace, so the test
// reaches it only by running the ledger CLI in that namespace.

const (
	// netnsDeadline bounds the whole scenario.
	netnsDeadline = 120 * time.Second
	// labP2PPort and labRPCAddr are the same in every namespace: each
	// has its own addresses and ports.
	labP2PPort = 7400
	labRPCAddr = "127.0.0.1:7401"
	// netnsMinHeight is how far the chain grows before the miner stops.
	netnsMinHeight = 4
)

// labNode is one node of the lab: its namespace, process and data.
type labNode struct {
	ns      string
	addr    string // the namespace's address
	datadir string
	peerID  string
	proc    *testproc.Proc
}

func TestSeparateHosts(t *testing.T) {
	skipShort(t)
	requireNetns(t)
	ledgerd, ledger := labBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), netnsDeadline)
	defer cancel()
	start := time.Now()

	// The directory first: cleanups run last-registered first, so it is
	// removed after the namespaces and the processes in them are gone.
	dir := filepath.Join(t.TempDir(), "testnet")
	lab := newNetnsLab(t, 3)
	opts := testnet.DefaultOptions()
	opts.Dir, opts.Nodes, opts.Miners, opts.BlockTime = dir, 3, 1, 1
	tn, err := testnet.Prepare(opts, nil, testnet.Env{})
	if err != nil {
		t.Fatalf("preparing the testnet: %v", err)
	}

	nodes := make([]*labNode, len(lab.nodes))
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range nodes {
				if n != nil && n.proc != nil {
					t.Logf("node %d (%s, %s) last output:\n%s", i, n.ns, n.addr, n.proc.Tail(40))
				}
			}
		}
	})
	bootnode := ""
	for i, ns := range lab.nodes {
		rec := tn.Manifest.Nodes[i]
		n := &labNode{ns: ns, addr: lab.addrs[i], datadir: rec.DataDir, peerID: rec.PeerID}
		nodes[i] = n
		// Flags win over the config file written for loopback: the node
		// listens on its namespace's address, serves RPC on the
		// namespace's loopback, and joins through node 0's address.
		args := []string{"--config", filepath.Join(rec.DataDir, testnet.ConfigFile),
			"--p2p.listen", fmt.Sprintf("/ip4/%s/tcp/%d", n.addr, labP2PPort),
			"--rpc.addr", labRPCAddr}
		if i > 0 {
			args = append(args, "--p2p.bootnodes", bootnode)
		}
		path, full := lab.command(ns, ledgerd, args...)
		n.proc, err = testproc.Start(t, testproc.Spec{
			Path: path, Args: full,
			Env:          testproc.NodeEnv(),
			LogFile:      filepath.Join(rec.DataDir, testnet.LogFile),
			Name:         fmt.Sprintf("node%d@%s", i, ns),
			GracefulStop: 10 * time.Second,
		})
		if err != nil {
			t.Fatalf("starting node %d in %s: %v", i, ns, err)
		}
		if i == 0 {
			bootnode = fmt.Sprintf("/ip4/%s/tcp/%d/p2p/%s", n.addr, labP2PPort, n.peerID)
		}
	}

	// Every node answers in its own namespace.
	for i, n := range nodes {
		waitLab(ctx, t, fmt.Sprintf("node %d to answer JSON-RPC in %s", i, n.ns), func() (bool, string) {
			var info rpc.NodeInfo
			if err := labRPC(ctx, lab, ledger, n, &info, "node_info"); err != nil {
				return false, err.Error()
			}
			if info.PeerID != n.peerID {
				return false, fmt.Sprintf("peer id %s, want %s", info.PeerID, n.peerID)
			}
			for _, a := range info.ListenAddrs {
				if !strings.HasPrefix(a, "/ip4/"+n.addr+"/") {
					return false, "listens on " + a + ", outside its namespace's address"
				}
			}
			return len(info.ListenAddrs) > 0, fmt.Sprintf("listen addresses %v", info.ListenAddrs)
		})
	}

	// They find each other: node 1 and node 2 know only node 0, and find
	// one another through the DHT; every peer is at a lab address.
	for i, n := range nodes {
		waitLab(ctx, t, fmt.Sprintf("node %d to be connected to both others", i), func() (bool, string) {
			var peers []rpc.Peer
			if err := labRPC(ctx, lab, ledger, n, &peers, "node_peers"); err != nil {
				return false, err.Error()
			}
			seen := map[string]bool{}
			for _, p := range peers {
				for _, a := range p.Addrs {
					if !strings.HasPrefix(a, "/ip4/"+labSubnet+".") {
						return false, fmt.Sprintf("peer %s at %s, not a lab address", p.PeerID, a)
					}
				}
				seen[p.PeerID] = true
			}
			for j, m := range nodes {
				if j != i && !seen[m.peerID] {
					return false, fmt.Sprintf("%d peers, not node %d", len(peers), j)
				}
			}
			return true, ""
		})
	}

	// Node 0 mines; the others follow. Once every node is past
	// netnsMinHeight the miner stops, so the tip holds still to compare.
	for i, n := range nodes {
		waitLab(ctx, t, fmt.Sprintf("node %d to reach height %d", i, netnsMinHeight), func() (bool, string) {
			var head rpc.Head
			if err := labRPC(ctx, lab, ledger, n, &head, "chain_head"); err != nil {
				return false, err.Error()
			}
			return head.Height >= netnsMinHeight, fmt.Sprintf("height %d", head.Height)
		})
	}
	var status rpc.MinerStatus
	if err := labRPC(ctx, lab, ledger, nodes[0], &status, "miner_stop"); err != nil {
		t.Fatalf("miner_stop on node 0: %v", err)
	}
	var tip rpc.Head
	waitLab(ctx, t, "all three nodes on one tip", func() (bool, string) {
		heads := make([]rpc.Head, len(nodes))
		for i, n := range nodes {
			if err := labRPC(ctx, lab, ledger, n, &heads[i], "chain_head"); err != nil {
				return false, err.Error()
			}
		}
		for i := range heads {
			if heads[i].Hash != heads[0].Hash {
				return false, fmt.Sprintf("node 0 at %d %s, node %d at %d %s", heads[0].Height, heads[0].Hash, i, heads[i].Height, heads[i].Hash)
			}
		}
		tip = heads[0]
		return true, ""
	})
	if tip.Height < netnsMinHeight {
		t.Fatalf("common tip at height %d, want at least %d", tip.Height, netnsMinHeight)
	}
	t.Logf("three namespaces synced at height %d (%s) in %v", tip.Height, tip.Hash, time.Since(start).Round(time.Millisecond))
	for i, n := range nodes {
		if n.proc.Exited() {
			t.Errorf("node %d exited: %v", i, n.proc.ExitErr())
		}
	}
}

// labBinaries are the ledgerd and ledger binaries TestMain built.
func labBinaries(t *testing.T) (ledgerd, ledger string) {
	t.Helper()
	ledgerd, ledger = bins["ledgerd"], bins["ledger"]
	if ledgerd == "" || ledger == "" {
		t.Fatalf("TestMain built no ledgerd and ledger binaries (have %v)", bins)
	}
	return ledgerd, ledger
}

// labRPC calls method on node n through the ledger CLI run inside the
// node's namespace (the only place its RPC address is reachable) and
// decodes the printed result into result.
func labRPC(ctx context.Context, lab *netnsLab, ledger string, n *labNode, result any, method string, params ...string) error {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	args := append([]string{"--rpc", "http://" + labRPCAddr, "--datadir", n.datadir, "--json", "rpc", method}, params...)
	path, full := lab.command(n.ns, ledger, args...)
	cmd := exec.CommandContext(cctx, path, full...)
	cmd.Env = testproc.EnvWithout("LEDGER_")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("ledger rpc %s in %s: %v: %s", method, n.ns, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(out, result); err != nil {
		return fmt.Errorf("ledger rpc %s in %s: output %q: %v", method, n.ns, out, err)
	}
	return nil
}

// waitLab polls cond every 200 ms until it holds; it fails the test when
// ctx ends first, with cond's last explanation.
func waitLab(ctx context.Context, t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s: %s (%v)", what, last, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestNetnsSupport checks the skip decision without needing root: a
// non-root user is told so before anything is tried, and a machine where
// `ip netns add` fails is told what failed.
func TestNetnsSupport(t *testing.T) {
	boom := errors.New("mount --make-shared /run/netns: permission denied")
	tests := []struct {
		name    string
		euid    int
		ipPath  string
		failAt  int // fail the n-th ip command (1-based); 0: none
		want    bool
		wantMsg string
		calls   int
	}{
		{"root with ip netns", 0, "/usr/sbin/ip", 0, true, "", 2},
		{"not root", 1000, "/usr/sbin/ip", 0, false, "needs root", 0},
		{"no ip command", 0, "", 0, false, "ip command", 0},
		{"netns add refused", 0, "/usr/sbin/ip", 1, false, "ip netns add` does not work here: " + boom.Error(), 1},
		{"netns del refused", 0, "/usr/sbin/ip", 2, false, "failed after it was added", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var ran [][]string
			ok, msg := netnsSupport(tc.euid, tc.ipPath, func(args ...string) error {
				calls++
				ran = append(ran, args)
				if calls == tc.failAt {
					return boom
				}
				return nil
			})
			if ok != tc.want || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("netnsSupport = %v, %q; want %v and a message with %q", ok, msg, tc.want, tc.wantMsg)
			}
			if calls != tc.calls {
				t.Errorf("%d ip commands run (%v), want %d", calls, ran, tc.calls)
			}
			for _, args := range ran {
				if len(args) != 3 || args[0] != "netns" || !strings.HasPrefix(args[2], labPrefix) {
					t.Errorf("ip %v: want only netns add/del of a %s... namespace", args, labPrefix)
				}
			}
		})
	}
}

func TestLabOwner(t *testing.T) {
	tests := []struct {
		ns   string
		pid  int
		ours bool
	}{
		{labPrefix + "1234-0", 1234, true},
		{labPrefix + "1234-br", 1234, true},
		{labPrefix + "1234-probe", 1234, true},
		{labPrefix + "x-0", 0, false},
		{labPrefix + "0-0", 0, false},
		{labPrefix + "1234", 0, false},
		{"other-1234-0", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		pid, ok := labOwner(tc.ns)
		if ok != tc.ours || (ok && pid != tc.pid) {
			t.Errorf("labOwner(%q) = %d, %v; want %d, %v", tc.ns, pid, ok, tc.pid, tc.ours)
		}
	}
}
