package p2p

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/mempool"
)

// testNode is a full node in the test process: a real chain store and
// pool on a chaingen network, and a p2p Node on 127.0.0.1.
type testNode struct {
	t     testing.TB
	dir   string
	chain *chain.Chain
	pool  *mempool.Pool
	node  *Node
}

type nodeOpts struct {
	bootnodes []string
	dir       string // reuse a data dir (restart); a new temp dir if empty
	lowPeers  int
	maxPeers  int
	mod       func(*Config)
}

func testLogger() *slog.Logger {
	if os.Getenv("LEDGER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestNode starts a node of g's network listening on 127.0.0.1 only.
func newTestNode(t testing.TB, g *chaingen.Generator, o nodeOpts) *testNode {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	log := testLogger()
	c, err := chain.Open(chain.Config{Dir: dir + "/chaindata", Genesis: g.Genesis, Logger: log, SkipStateCheck: true})
	if err != nil {
		t.Fatalf("open chain: %v", err)
	}
	pool, err := mempool.New(mempool.Config{Chain: c, Logger: log})
	if err != nil {
		c.Close()
		t.Fatalf("mempool: %v", err)
	}
	cfg := Config{
		DataDir:           dir,
		Listen:            []string{"/ip4/127.0.0.1/tcp/0"},
		Bootnodes:         o.bootnodes,
		LowPeers:          o.lowPeers,
		MaxPeers:          o.maxPeers,
		DiscoveryInterval: time.Second,
		GossipHeartbeat:   100 * time.Millisecond,
		Chain:             c,
		Mempool:           pool,
		Logger:            log,
	}
	if o.mod != nil {
		o.mod(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		pool.Close()
		c.Close()
		t.Fatalf("p2p: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		n.Close()
		pool.Close()
		c.Close()
		t.Fatalf("start: %v", err)
	}
	tn := &testNode{t: t, dir: dir, chain: c, pool: pool, node: n}
	t.Cleanup(tn.stop)
	return tn
}

// stop shuts the node down; safe to call twice.
func (tn *testNode) stop() {
	if tn.node == nil {
		return
	}
	tn.node.Close()
	tn.pool.Close()
	tn.chain.Close()
	tn.node = nil
}

// addr is the node's loopback multiaddr with its peer id.
func (tn *testNode) addr() string {
	for _, a := range tn.node.Addrs() {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			return a
		}
	}
	tn.t.Fatalf("node has no loopback address: %v", tn.node.Addrs())
	return ""
}

func (tn *testNode) peerCount() int { return len(tn.node.host.Network().Peers()) }

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
