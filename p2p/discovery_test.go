package p2p

import (
	"fmt"
	"testing"
	"time"

	"github.com/ledger-node/ledger/internal/chaingen"
)

// TestDiscoveryThroughDHT: five nodes, each told only one bootnode (the
// first node), find each other through the DHT and each connects to at
// least three others.
func TestDiscoveryThroughDHT(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	boot := newTestNode(t, g, nodeOpts{})
	nodes := []*testNode{boot}
	for i := 0; i < 4; i++ {
		nodes = append(nodes, newTestNode(t, g, nodeOpts{bootnodes: []string{boot.addr()}}))
	}
	waitFor(t, 30*time.Second, "every node connected to at least 3 others", func() bool {
		for _, n := range nodes {
			if n.peerCount() < 3 {
				return false
			}
		}
		return true
	})
	for i, n := range nodes {
		if _, ok := n.node.peers.status(boot.node.ID()); !ok && i != 0 {
			t.Fatalf("node %d has no status from the bootnode", i)
		}
	}
}

// TestDifferentGenesisNeverConnect: a node of another network that dials
// in is refused after the handshake, banned, and never exchanges blocks.
func TestDifferentGenesisNeverConnect(t *testing.T) {
	a := newTestNode(t, chaingen.New(chaingen.Options{}), nodeOpts{})
	other := chaingen.New(chaingen.Options{ChainID: 99})
	b := newTestNode(t, other, nodeOpts{bootnodes: []string{a.addr()}})
	waitFor(t, 10*time.Second, "the foreign peer to be banned", func() bool {
		return len(b.node.Bans()) > 0 || len(a.node.Bans()) > 0
	})
	waitFor(t, 10*time.Second, "the nodes to be disconnected", func() bool {
		return a.peerCount() == 0 && b.peerCount() == 0
	})
	// They stay apart: b keeps trying its bootnode, and is refused.
	time.Sleep(1500 * time.Millisecond)
	if a.peerCount() != 0 || b.peerCount() != 0 {
		t.Fatalf("nodes of different networks reconnected: %d and %d peers", a.peerCount(), b.peerCount())
	}
	if err := b.node.Connect(t.Context(), a.addr()); err == nil {
		t.Fatal(fmt.Sprintf("dialling a banned peer of another network succeeded"))
	}
}
