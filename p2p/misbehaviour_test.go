package p2p

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// rawPeer is a bare libp2p host that speaks the network's protocols and
// topics, with a gossipsub router of its own that validates nothing: it
// publishes whatever the test gives it, as a broken or hostile node would.
type rawPeer struct {
	h     host.Host
	ps    *pubsub.PubSub
	names networkNames
	tx    *pubsub.Topic
	blk   *pubsub.Topic
}

// newRawPeer starts a raw peer of g's network. maxMsg is its gossip
// message limit (0: the network's, as honest nodes have).
func newRawPeer(t testing.TB, g *chaingen.Generator, maxMsg int) *rawPeer {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		h.Close()
	})
	names := namesFor(g.Genesis.Hash)
	// Answer the status handshake as a node at genesis would.
	st := PeerStatus{Genesis: g.Genesis.Hash, Best: g.Genesis.Hash, TotalWork: big.NewInt(1)}
	h.SetStreamHandler(names.status, func(s network.Stream) {
		defer s.Close()
		if _, err := readFrame(s, statusSize); err == nil {
			_ = writeFrame(s, st.encode())
		}
	})
	if maxMsg == 0 {
		maxMsg = int(g.Params.MaxBlockSize) + gossipFraming
	}
	gs := pubsub.DefaultGossipSubParams()
	gs.HeartbeatInterval = tpHeartbeat
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMaxMessageSize(maxMsg),
		pubsub.WithGossipSubParams(gs),
	)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawPeer{h: h, ps: ps, names: names}
	if r.tx, err = ps.Join(names.txTopic); err != nil {
		t.Fatal(err)
	}
	if r.blk, err = ps.Join(names.blockTopic); err != nil {
		t.Fatal(err)
	}
	return r
}

// connect dials a node and waits until the raw peer sees it on both
// topics.
func (r *rawPeer) connect(t testing.TB, tn *testNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.h.Connect(ctx, peer.AddrInfo{ID: tn.node.ID(), Addrs: tn.node.host.Addrs()}); err != nil {
		t.Fatalf("raw peer: connect: %v", err)
	}
	waitFor(t, 10*time.Second, "the raw peer to see the node on both topics", func() bool {
		return hasPeer(r.tx.ListPeers(), tn.node.ID()) && hasPeer(r.blk.ListPeers(), tn.node.ID())
	})
}

func hasPeer(ps []peer.ID, p peer.ID) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func (r *rawPeer) publish(t testing.TB, topic *pubsub.Topic, data []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := topic.Publish(ctx, data); err != nil {
		t.Fatalf("raw peer: publish: %v", err)
	}
}

// sendOversizedStatus opens a status stream to the node and sends a frame
// announcing 1 GiB, followed by a few bytes.
func (r *rawPeer) sendOversizedStatus(t testing.TB, tn *testNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := r.h.NewStream(ctx, tn.node.ID(), r.names.status)
	if err != nil {
		t.Fatalf("raw peer: status stream: %v", err)
	}
	defer s.Reset()
	// The length prefix is written by hand: only the prefix claims 1 GiB.
	var prefix []byte
	for v := uint64(1 << 30); ; v >>= 7 {
		if v < 0x80 {
			prefix = append(prefix, byte(v))
			break
		}
		prefix = append(prefix, byte(v)|0x80)
	}
	_, _ = s.Write(append(prefix, make([]byte, 1024)...))
	_, _ = s.Read(make([]byte, 1)) // until the node resets the stream
}

func (tn *testNode) connectedTo(p peer.ID) bool {
	return tn.node.host.Network().Connectedness(p) == network.Connected
}

func banned(tn *testNode, p peer.ID) bool {
	for _, b := range tn.node.Bans() {
		if b.Peer == p {
			return true
		}
	}
	return false
}

// TestMisbehavingPeersBanned: four hostile peers attack a node, each one
// way: junk on the block topic, a block with an invalid signature, a status
// frame announcing 1 GiB, and a gossip frame above the network's message
// limit. Each is disconnected and banned, cannot reconnect, and is still
// banned after the node restarts on the same data dir; nothing they sent
// reaches the honest nodes, which keep gossiping blocks and transactions.
func TestMisbehavingPeersBanned(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3, MaxBlockSize: 100_000, MaxBlockTxs: 1000})
	v := newTestNode(t, g, nodeOpts{})
	h1 := newTestNode(t, g, nodeOpts{bootnodes: []string{v.addr()}})
	h2 := newTestNode(t, g, nodeOpts{bootnodes: []string{v.addr(), h1.addr()}})
	honest := []*testNode{v, h1, h2}
	waitFor(t, 10*time.Second, "the honest nodes to mesh", func() bool {
		for _, n := range honest {
			if len(n.node.gossip.blockT.ListPeers()) < 2 || len(n.node.gossip.txT.ListPeers()) < 2 {
				return false
			}
		}
		return true
	})

	junk := newRawPeer(t, g, 0)
	forger := newRawPeer(t, g, 0)
	bigStatus := newRawPeer(t, g, 0)
	bigGossip := newRawPeer(t, g, 1<<20)
	attackers := map[string]*rawPeer{"junk": junk, "invalid block": forger, "1 GiB status frame": bigStatus, "oversized gossip": bigGossip}
	for _, a := range attackers {
		a.connect(t, v)
	}

	// Junk costs ScoreMalformed per message: the second one bans.
	for i := 0; i < 10 && !banned(v, junk.h.ID()); i++ {
		if junk.h.Network().Connectedness(v.node.ID()) == network.Connected {
			_ = junk.blk.Publish(context.Background(), []byte(fmt.Sprintf("junk %d: not a block, not even a header", i)))
		}
		time.Sleep(100 * time.Millisecond)
	}
	tx := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	good := g.MustBlock(g.Genesis.Hash, []*types.Tx{tx})
	bad := g.Mutate(good, true, func(b *types.Block) { b.Txs[1].Sig[9] ^= 1 })
	forger.publish(t, forger.blk, bad.Encode())
	bigStatus.sendOversizedStatus(t, v)
	bigGossip.publish(t, bigGossip.blk, make([]byte, 200_000))

	for what, a := range attackers {
		waitFor(t, 10*time.Second, what+": peer banned and disconnected", func() bool {
			return banned(v, a.h.ID()) && !v.connectedTo(a.h.ID())
		})
	}
	if !v.chain.IsKnownInvalid(bad.Hash()) {
		t.Error("the invalid block is not remembered as invalid")
	}
	for i, n := range []*testNode{h1, h2} {
		if n.chain.HaveBlock(bad.Hash()) {
			t.Errorf("honest node %d received the invalid block", i+1)
		}
	}
	// Refused when they come back, whoever dials.
	checkRefused := func(v *testNode) {
		t.Helper()
		for what, a := range attackers {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = a.h.Connect(ctx, peer.AddrInfo{ID: v.node.ID(), Addrs: v.node.host.Addrs()})
			cancel()
			time.Sleep(50 * time.Millisecond)
			if v.connectedTo(a.h.ID()) {
				t.Errorf("%s: banned peer reconnected", what)
			}
			if err := v.node.Connect(context.Background(), a.h.Addrs()[0].String()+"/p2p/"+a.h.ID().String()); err == nil {
				t.Errorf("%s: node dialled a banned peer", what)
			}
		}
	}
	checkRefused(v)

	// The honest nodes carry on: a block from h1, a transaction from h2.
	if _, err := h1.chain.ProcessBlock(good); err != nil {
		t.Fatal(err)
	}
	if err := h1.node.PublishBlock(good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the honest block everywhere", func() bool {
		return v.chain.Tip().Hash == good.Hash() && h2.chain.Tip().Hash == good.Hash()
	})
	tx2 := g.Transfer(1, g.Addrs[2], 5000, testFee, 0)
	if err := h2.pool.Add(tx2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the honest transaction everywhere", func() bool {
		_, a := v.pool.Get(tx2.Hash())
		_, b := h1.pool.Get(tx2.Hash())
		return a && b
	})

	// Bans survive a restart.
	dir := v.dir
	v.stop()
	v2 := newTestNode(t, g, nodeOpts{dir: dir, bootnodes: []string{h1.addr()}})
	for what, a := range attackers {
		if !banned(v2, a.h.ID()) {
			t.Errorf("%s: ban lost on restart", what)
		}
	}
	checkRefused(v2)
	waitFor(t, 10*time.Second, "the restarted node back in the mesh", func() bool {
		return len(v2.node.gossip.blockT.ListPeers()) > 0
	})
	next := g.MustBlock(good.Hash(), []*types.Tx{tx2})
	if _, err := h2.chain.ProcessBlock(next); err != nil {
		t.Fatal(err)
	}
	if err := h2.node.PublishBlock(next); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the next block at the restarted node", func() bool {
		return v2.chain.Tip().Hash == next.Hash() && h1.chain.Tip().Hash == next.Hash()
	})
}

// TestInvalidTxSpamBanned: a peer relaying transactions with bad
// signatures is charged for each; by the fourth, pubsub's score graylists
// it, and the node bans it rather than leave it muted but connected. Its
// transactions reach no pool.
func TestInvalidTxSpamBanned(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	v := newTestNode(t, g, nodeOpts{})
	r := newRawPeer(t, g, 0)
	r.connect(t, v)
	var sent []*types.Tx
	for i := 0; i < 4; i++ {
		tx := g.Transfer(0, g.Addrs[1], types.Amount(1000+i), testFee, 0)
		tx.Sig[4] ^= 0x20
		sent = append(sent, tx)
		r.publish(t, r.tx, tx.Encode())
	}
	waitFor(t, 5*time.Second, "the spammer banned and disconnected after four", func() bool {
		return banned(v, r.h.ID()) && !v.connectedTo(r.h.ID())
	})
	for _, tx := range sent {
		if _, ok := v.pool.Get(tx.Hash()); ok {
			t.Fatal("a transaction with a bad signature entered the pool")
		}
	}
}
