package p2p

import (
	"context"
	"crypto/rand"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// testFee is a fee well above the minimum relay fee rate for a transfer.
const testFee = types.Amount(1000)

// topology keeps a set of test nodes connected only along given edges. The
// DHT connects every node of a small loopback network to every other
// within a second; a keeper goroutine closes the connections that are not
// edges, so gossip must hop along the sparse graph.
type topology struct {
	t     testing.TB
	nodes []*testNode
	mu    sync.Mutex
	edges map[[2]int]bool // guarded by mu
	stop  chan struct{}
	done  chan struct{}
}

// newTopology starts keeping nodes to edges (pairs of indexes in nodes).
func newTopology(t testing.TB, nodes []*testNode, edges ...[2]int) *topology {
	tp := &topology{t: t, nodes: nodes, edges: map[[2]int]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	for _, e := range edges {
		tp.edges[e], tp.edges[[2]int{e[1], e[0]}] = true, true
	}
	go tp.keep()
	t.Cleanup(func() {
		close(tp.stop)
		<-tp.done
	})
	return tp
}

// link adds an edge and dials it (i dials j).
func (tp *topology) link(i, j int) {
	tp.t.Helper()
	tp.mu.Lock()
	tp.edges[[2]int{i, j}], tp.edges[[2]int{j, i}] = true, true
	tp.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tp.nodes[i].node.Connect(ctx, tp.nodes[j].addr()); err != nil {
		tp.t.Fatalf("connect node %d to node %d: %v", i, j, err)
	}
}

func (tp *topology) isEdge(i, j int) bool {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.edges[[2]int{i, j}]
}

func (tp *topology) keep() {
	defer close(tp.done)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-tp.stop:
			return
		case <-tick.C:
		}
		for i, a := range tp.nodes {
			n := a.node
			if n == nil {
				continue
			}
			for j, b := range tp.nodes {
				if i == j || b.node == nil || tp.isEdge(i, j) {
					continue
				}
				if n.host.Network().Connectedness(b.node.ID()) == network.Connected {
					_ = n.host.Network().ClosePeer(b.node.ID())
				}
			}
		}
	}
}

// waitMeshes waits until every node sees each of its topology neighbours
// subscribed to both topics, and only those.
func (tp *topology) waitMeshes(timeout time.Duration) {
	tp.t.Helper()
	waitFor(tp.t, timeout, "gossip topics to reach every neighbour", func() bool {
		for i, a := range tp.nodes {
			want := 0
			for j := range tp.nodes {
				if i != j && tp.isEdge(i, j) {
					want++
				}
			}
			g := a.node.gossip
			if len(g.txT.ListPeers()) != want || len(g.blockT.ListPeers()) != want {
				return false
			}
		}
		return true
	})
	// One heartbeat more for the meshes to graft.
	time.Sleep(3 * tpHeartbeat)
}

const tpHeartbeat = 100 * time.Millisecond

// lineOf starts n nodes, each given the previous one as its bootnode, and
// keeps them in that line: a message from one end crosses n-1 hops.
func lineOf(t *testing.T, g *chaingen.Generator, n int) ([]*testNode, *topology) {
	t.Helper()
	nodes := []*testNode{newTestNode(t, g, nodeOpts{lowPeers: 1})}
	for i := 1; i < n; i++ {
		nodes = append(nodes, newTestNode(t, g, nodeOpts{lowPeers: 1, bootnodes: []string{nodes[i-1].addr()}}))
	}
	var edges [][2]int
	for i := 1; i < n; i++ {
		edges = append(edges, [2]int{i - 1, i})
	}
	tp := newTopology(t, nodes, edges...)
	tp.waitMeshes(15 * time.Second)
	return nodes, tp
}

func randomPeerID(t testing.TB) peer.ID {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestGossipTxReachesEveryPool: a transaction admitted at one end of a
// line of five nodes reaches every pool, relayed hop by hop.
func TestGossipTxReachesEveryPool(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	nodes, _ := lineOf(t, g, 5)
	tx := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	if err := nodes[0].pool.Add(tx); err != nil {
		t.Fatalf("pool.Add: %v", err)
	}
	waitFor(t, 10*time.Second, "the transaction in every pool", func() bool {
		for _, n := range nodes {
			if _, ok := n.pool.Get(tx.Hash()); !ok {
				return false
			}
		}
		return true
	})
	// PublishTx from the other end: a new transaction goes in and out.
	tx2 := g.Transfer(2, g.Addrs[0], 7000, testFee, 0)
	if err := nodes[4].node.PublishTx(tx2); err != nil {
		t.Fatalf("PublishTx: %v", err)
	}
	waitFor(t, 10*time.Second, "the second transaction in every pool", func() bool {
		for _, n := range nodes {
			if _, ok := n.pool.Get(tx2.Hash()); !ok {
				return false
			}
		}
		return true
	})
	for i, n := range nodes {
		if s := n.node.peers.score(nodes[(i+1)%len(nodes)].node.ID()); s != 0 {
			t.Errorf("node %d holds a ban score of %v against an honest peer", i, s)
		}
	}
}

// TestGossipBlockReachesEveryNode: a block mined in the middle of a line,
// then one mined at an end, reach every node; all agree on the tip, and
// the confirmed transaction leaves every pool.
func TestGossipBlockReachesEveryNode(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	nodes, _ := lineOf(t, g, 5)
	tx := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	if err := nodes[0].pool.Add(tx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the transaction in every pool", func() bool {
		_, ok := nodes[4].pool.Get(tx.Hash())
		return ok
	})
	parent := g.Genesis.Hash
	for _, miner := range []int{2, 4} {
		var txs []*types.Tx
		if miner == 2 {
			txs = []*types.Tx{tx}
		}
		blk := g.MustBlock(parent, txs)
		if _, err := nodes[miner].chain.ProcessBlock(blk); err != nil {
			t.Fatalf("ProcessBlock at the miner: %v", err)
		}
		if err := nodes[miner].node.PublishBlock(blk); err != nil {
			t.Fatalf("PublishBlock: %v", err)
		}
		waitFor(t, 10*time.Second, "every node on the new tip", func() bool {
			for _, n := range nodes {
				if n.chain.Tip().Hash != blk.Hash() {
					return false
				}
			}
			return true
		})
		parent = blk.Hash()
	}
	waitFor(t, 5*time.Second, "the confirmed transaction to leave every pool", func() bool {
		for _, n := range nodes {
			if _, ok := n.pool.Get(tx.Hash()); ok {
				return false
			}
		}
		return true
	})
	// A block the store does not hold is never published.
	stray := g.MustBlock(parent, nil, chaingen.BlockOpts{CoinbaseMemo: []byte("stray")})
	if err := nodes[0].node.PublishBlock(stray); err == nil {
		t.Fatal("PublishBlock published a block the chain does not hold")
	}
}

// TestGossipOrphanRelayedAfterParent: a gossiped block whose parent is
// unknown is ignored without penalty (and handed to sync); once its parent
// arrives (here: processed directly, as sync would), the node relays it,
// so the peers behind it get it without waiting for the next block.
func TestGossipOrphanRelayedAfterParent(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	nodes, _ := lineOf(t, g, 2)
	x, y := nodes[0], nodes[1]
	b1 := g.MustBlock(g.Genesis.Hash, nil)
	b2 := g.MustBlock(b1.Hash(), nil)
	if _, err := y.chain.ProcessBlock(b1); err != nil {
		t.Fatal(err)
	}
	r := newRawPeer(t, g, 0)
	r.connect(t, x)
	r.publish(t, r.blk, b2.Encode())
	waitFor(t, 5*time.Second, "the orphan to be held", func() bool { return x.chain.HaveBlock(b2.Hash()) })
	if s := x.node.peers.score(r.h.ID()); s != 0 {
		t.Fatalf("an orphan cost its relayer %v points", s)
	}
	if y.chain.HaveBlock(b2.Hash()) {
		t.Fatal("the orphan was relayed before its parent arrived")
	}
	if _, err := x.chain.ProcessBlock(b1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the orphan relayed once connected", func() bool {
		return x.chain.Tip().Hash == b2.Hash() && y.chain.Tip().Hash == b2.Hash()
	})
}

// TestGossipInvalidTxNeverEntersPool: a transaction with a bad signature
// published by a peer is rejected by the first node, reaches no pool, and
// costs the peer ScoreInvalidTx; a valid one published after it crosses
// the same path, showing the bad one was dropped rather than slow. A
// duplicate of a transaction the node already has costs nothing.
func TestGossipInvalidTxNeverEntersPool(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	nodes, _ := lineOf(t, g, 2)
	v, h := nodes[0], nodes[1]
	r := newRawPeer(t, g, 0)
	r.connect(t, v)

	bad := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	bad.Sig[3] ^= 0x40
	good := g.Transfer(1, g.Addrs[2], 5000, testFee, 0)
	r.publish(t, r.tx, bad.Encode())
	r.publish(t, r.tx, good.Encode())
	waitFor(t, 10*time.Second, "the valid transaction in both pools", func() bool {
		_, a := v.pool.Get(good.Hash())
		_, b := h.pool.Get(good.Hash())
		return a && b
	})
	waitFor(t, 5*time.Second, "the bad transaction to be charged", func() bool {
		return v.node.peers.score(r.h.ID()) >= ScoreInvalidTx-0.01
	})
	for i, n := range nodes {
		if _, ok := n.pool.Get(bad.Hash()); ok {
			t.Fatalf("node %d admitted a transaction with a bad signature", i)
		}
	}
	before := v.node.peers.score(r.h.ID())
	// The honest node relays a transaction v already has: pubsub drops the
	// duplicate by its content id; and the raw peer sends it again too.
	r.publish(t, r.tx, good.Encode())
	dup := g.Transfer(2, g.Addrs[0], 5000, testFee, 0)
	if err := h.pool.Add(dup); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the next transaction at v", func() bool {
		_, ok := v.pool.Get(dup.Hash())
		return ok
	})
	r.publish(t, r.tx, dup.Encode())
	time.Sleep(300 * time.Millisecond)
	if after := v.node.peers.score(r.h.ID()); math.Abs(after-before) > 0.01 {
		t.Fatalf("duplicates cost the peer %v points", after-before)
	}
	if s := v.node.peers.score(h.node.ID()); s != 0 {
		t.Fatalf("the honest peer has a ban score of %v", s)
	}
}

// validateTxAs runs the tx validator as if from relayed data.
func validateTxAs(n *Node, from peer.ID, data []byte) pubsub.ValidationResult {
	topic := n.names.txTopic
	msg := &pubsub.Message{Message: &pb.Message{Data: data, Topic: &topic}, ReceivedFrom: from}
	return n.gossip.validateTx(context.Background(), from, msg)
}

func validateBlockAs(n *Node, from peer.ID, data []byte) pubsub.ValidationResult {
	topic := n.names.blockTopic
	msg := &pubsub.Message{Message: &pb.Message{Data: data, Topic: &topic}, ReceivedFrom: from}
	return n.gossip.validateBlock(context.Background(), from, msg)
}

// checkCharge asserts that peer p was charged points: a ban at or above
// the threshold, a decaying score below it.
func checkCharge(t *testing.T, n *Node, p peer.ID, points int, what string) {
	t.Helper()
	banned := n.bans.isBanned(p)
	switch {
	case points >= n.cfg.BanThreshold && !banned:
		t.Errorf("%s: peer not banned (score %v)", what, n.peers.score(p))
	case points < n.cfg.BanThreshold && banned:
		t.Errorf("%s: peer banned, want %d points", what, points)
	case points < n.cfg.BanThreshold && math.Abs(n.peers.score(p)-float64(points)) > 0.01:
		t.Errorf("%s: peer charged %v points, want %d", what, n.peers.score(p), points)
	}
}

func verdictName(r pubsub.ValidationResult) string {
	switch r {
	case pubsub.ValidationAccept:
		return "Accept"
	case pubsub.ValidationReject:
		return "Reject"
	case pubsub.ValidationIgnore:
		return "Ignore"
	}
	return "?"
}

// highS returns a copy of tx with the signature's s replaced by n - s:
// mathematically valid, but non-canonical.
func highS(tx *types.Tx) *types.Tx {
	c := *tx
	var s secp256k1.ModNScalar
	s.SetByteSlice(c.Sig[32:])
	if !s.IsOverHalfOrder() {
		s.Negate()
	}
	b := s.Bytes()
	copy(c.Sig[32:], b[:])
	return &c
}

// TestTxValidatorVerdicts runs the tx topic validator on each kind of
// input: what it answers pubsub, and what it charges the relaying peer.
func TestTxValidatorVerdicts(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 4})
	tn := newTestNode(t, g, nodeOpts{})
	n := tn.node
	// Key 3 spends nonce 0 in a block, so its nonce 0 is used.
	used := g.Transfer(3, g.Addrs[0], 1000, testFee, 0)
	b1 := g.MustBlock(g.Genesis.Hash, []*types.Tx{used})
	if _, err := tn.chain.ProcessBlock(b1); err != nil {
		t.Fatal(err)
	}
	valid := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	otherChain := &types.Tx{Kind: types.TxTransfer, ChainID: 99, To: g.Addrs[1], Amount: 5000, Fee: testFee}
	types.SignTx(otherChain, g.Keys[1], g.Genesis.Hash)
	otherGenesis := &types.Tx{Kind: types.TxTransfer, ChainID: g.Params.ChainID, To: g.Addrs[1], Amount: 5000, Fee: testFee}
	types.SignTx(otherGenesis, g.Keys[1], types.DoubleSHA256([]byte("another network")))
	badSig := g.Transfer(1, g.Addrs[2], 5000, testFee, 0)
	badSig.Sig[5] ^= 1
	coinbase := &types.Tx{Kind: types.TxCoinbase, ChainID: g.Params.ChainID, Nonce: 9, To: g.Addrs[0], Amount: 1}
	cases := []struct {
		name   string
		data   []byte
		want   pubsub.ValidationResult
		points int
	}{
		{"valid", valid.Encode(), pubsub.ValidationAccept, 0},
		{"duplicate", valid.Encode(), pubsub.ValidationIgnore, 0},
		{"oversized", make([]byte, types.MaxTxSize+1), pubsub.ValidationReject, ScoreFrameTooLarge},
		{"junk", []byte("not a transaction"), pubsub.ValidationReject, ScoreMalformed},
		{"trailing bytes", append(g.Transfer(1, g.Addrs[2], 1, testFee, 0).Encode(), 0), pubsub.ValidationReject, ScoreMalformed},
		{"bad signature", badSig.Encode(), pubsub.ValidationReject, ScoreInvalidTx},
		{"high-S signature", highS(g.Transfer(1, g.Addrs[2], 5000, testFee, 0)).Encode(), pubsub.ValidationReject, ScoreInvalidTx},
		{"other chain id", otherChain.Encode(), pubsub.ValidationReject, ScoreInvalidTx},
		{"signed for another genesis", otherGenesis.Encode(), pubsub.ValidationReject, ScoreInvalidTx},
		{"zero amount", g.Transfer(1, g.Addrs[2], 0, testFee, 0).Encode(), pubsub.ValidationReject, ScoreInvalidTx},
		{"coinbase", coinbase.Encode(), pubsub.ValidationReject, ScoreInvalidTx},
		{"fee too low", g.Transfer(1, g.Addrs[2], 5000, 0, 0).Encode(), pubsub.ValidationIgnore, 0},
		{"nonce gap", g.Transfer(1, g.Addrs[2], 5000, testFee, 1000).Encode(), pubsub.ValidationIgnore, 0},
		{"used nonce (confirmed meanwhile)", g.Transfer(3, g.Addrs[2], 777, testFee, 0).Encode(), pubsub.ValidationIgnore, 0},
		{"balance too low", g.Transfer(2, g.Addrs[1], 1<<62, testFee, 0).Encode(), pubsub.ValidationIgnore, 0},
	}
	for _, c := range cases {
		p := randomPeerID(t)
		got := validateTxAs(n, p, c.data)
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, verdictName(got), verdictName(c.want))
		}
		checkCharge(t, n, p, c.points, c.name)
	}
	if _, ok := tn.pool.Get(valid.Hash()); !ok {
		t.Error("the valid transaction is not in the pool")
	}
	if _, ok := tn.pool.Get(badSig.Hash()); ok {
		t.Error("the bad-signature transaction is in the pool")
	}
	// Our own publish is accepted as is: the pool admitted it already.
	if got := validateTxAs(n, n.ID(), []byte("anything")); got != pubsub.ValidationAccept {
		t.Errorf("own message: %s", verdictName(got))
	}
}

// TestBlockValidatorVerdicts runs the block topic validator on each kind
// of input.
func TestBlockValidatorVerdicts(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3, MaxBlockSize: 200_000, MaxBlockTxs: 1000})
	tn := newTestNode(t, g, nodeOpts{})
	n := tn.node
	tx := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	b1 := g.MustBlock(g.Genesis.Hash, []*types.Tx{tx})
	// Siblings of b1's child, each broken one way.
	b2 := g.MustBlock(b1.Hash(), []*types.Tx{g.Transfer(1, g.Addrs[2], 5000, testFee, 0)})
	badSig := g.Mutate(b2, true, func(b *types.Block) { b.Txs[1].Sig[7] ^= 1 })
	mismatch := g.Mutate(b2, false, func(b *types.Block) { b.Txs[1].Amount++ })
	future := g.MustBlock(b1.Hash(), nil, chaingen.BlockOpts{Time: uint64(time.Now().Add(5 * time.Hour).Unix())})
	lowWork := g.Mutate(b2, false, func(b *types.Block) {})
	for lowWork.Header.Nonce = 0; ; lowWork.Header.Nonce++ {
		if consensus.CheckProofOfWork(lowWork.Hash(), lowWork.Header.Bits, g.Params.PowLimit) != nil {
			break
		}
	}
	// An orphan: the parent is a block the node never saw.
	side := g.MustBlock(g.Genesis.Hash, nil, chaingen.BlockOpts{CoinbaseMemo: []byte("side")})
	orphan := g.MustBlock(side.Hash(), nil)
	cases := []struct {
		name   string
		data   []byte
		want   pubsub.ValidationResult
		points int
	}{
		{"valid", b1.Encode(), pubsub.ValidationAccept, 0},
		{"duplicate", b1.Encode(), pubsub.ValidationIgnore, 0},
		{"oversized", make([]byte, 200_001), pubsub.ValidationReject, ScoreFrameTooLarge},
		{"junk", []byte("not a block at all, not even a header"), pubsub.ValidationReject, ScoreMalformed},
		{"orphan", orphan.Encode(), pubsub.ValidationIgnore, 0},
		{"orphan again", orphan.Encode(), pubsub.ValidationIgnore, 0},
		{"timestamp too far ahead", future.Encode(), pubsub.ValidationIgnore, 0},
		{"body does not match header", mismatch.Encode(), pubsub.ValidationReject, ScoreMalformed},
		{"insufficient proof of work", lowWork.Encode(), pubsub.ValidationReject, ScoreInvalidBlock},
		{"invalid signature", badSig.Encode(), pubsub.ValidationReject, ScoreInvalidBlock},
		{"known invalid", badSig.Encode(), pubsub.ValidationReject, ScoreInvalidBlock},
		{"valid after all that", b2.Encode(), pubsub.ValidationAccept, 0},
	}
	for _, c := range cases {
		p := randomPeerID(t)
		got := validateBlockAs(n, p, c.data)
		if got != c.want {
			t.Errorf("%s: %s, want %s", c.name, verdictName(got), verdictName(c.want))
		}
		checkCharge(t, n, p, c.points, c.name)
	}
	if tip := tn.chain.Tip().Hash; tip != b2.Hash() {
		t.Errorf("tip %s, want b2 %s", tip, b2.Hash())
	}
	if !tn.chain.IsKnownInvalid(badSig.Hash()) {
		t.Error("the bad-signature block is not remembered as invalid")
	}
	if tn.chain.IsKnownInvalid(future.Hash()) || tn.chain.HaveBlock(future.Hash()) {
		t.Error("the block from the future was stored or condemned")
	}
	if got := validateBlockAs(n, n.ID(), []byte("own")); got != pubsub.ValidationAccept {
		t.Errorf("own message: %s", verdictName(got))
	}
	if err := n.PublishBlock(badSig); err == nil {
		t.Error("PublishBlock published a block known to be invalid")
	}
}

// TestGossipFrameGuard: the guard follows frames split anywhere across
// reads and flags the first length above the limit, and only that.
func TestGossipFrameGuard(t *testing.T) {
	frame := func(n int) []byte {
		var b []byte
		for v := uint64(n); ; v >>= 7 {
			if v < 0x80 {
				b = append(b, byte(v))
				break
			}
			b = append(b, byte(v)|0x80)
		}
		return append(b, make([]byte, n)...)
	}
	var stream []byte
	for _, n := range []int{0, 1, 127, 128, 300, 1000} {
		stream = append(stream, frame(n)...)
	}
	for _, chunk := range []int{1, 2, 3, 7, 64, len(stream)} {
		f := &frameGuard{max: 1000}
		for i := 0; i < len(stream); i += chunk {
			if _, bad := f.scan(stream[i:min(i+chunk, len(stream))]); bad {
				t.Fatalf("chunk %d: frames within the limit flagged", chunk)
			}
		}
		if f.remaining != 0 || f.shift != 0 {
			t.Fatalf("chunk %d: guard lost track of frames", chunk)
		}
		big := frame(1001)[:4]
		if size, bad := f.scan(big); !bad || size != 1001 {
			t.Fatalf("chunk %d: 1001-byte frame: size %d flagged %v", chunk, size, bad)
		}
	}
	// An endless varint is flagged too.
	f := &frameGuard{max: 1000}
	if _, bad := f.scan([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); !bad {
		t.Fatal("overlong varint not flagged")
	}
}

// TestPartitionsConverge: two partitions of two nodes mine separately from
// a common tip: A a one-block branch confirming a transaction, B a longer
// empty branch. Joined (each A node dials a B node), every node moves to
// B's branch, the one with the most work, through sync; the transaction
// confirmed only on A returns to A's pools; and a block mined on the new
// tip then reaches every node by gossip, taking the transaction with it.
// Depends on sync (sync.go) for the catch-up after the join.
func TestPartitionsConverge(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 3})
	a1 := newTestNode(t, g, nodeOpts{lowPeers: 1})
	a2 := newTestNode(t, g, nodeOpts{lowPeers: 1, bootnodes: []string{a1.addr()}})
	b1 := newTestNode(t, g, nodeOpts{lowPeers: 1})
	b2 := newTestNode(t, g, nodeOpts{lowPeers: 1, bootnodes: []string{b1.addr()}})
	nodes := []*testNode{a1, a2, b1, b2}
	tp := newTopology(t, nodes, [2]int{0, 1}, [2]int{2, 3})
	tp.waitMeshes(15 * time.Second)

	common := g.MustBlock(g.Genesis.Hash, nil)
	for _, n := range nodes {
		if _, err := n.chain.ProcessBlock(common); err != nil {
			t.Fatal(err)
		}
	}
	tx := g.Transfer(0, g.Addrs[1], 5000, testFee, 0)
	branchA := []*types.Block{g.MustBlock(common.Hash(), []*types.Tx{tx}, chaingen.BlockOpts{CoinbaseMemo: []byte("A")})}
	branchB := g.Chain(common.Hash(), 2, "B")
	mine := func(miner *testNode, blocks []*types.Block, others ...*testNode) {
		t.Helper()
		for _, b := range blocks {
			if _, err := miner.chain.ProcessBlock(b); err != nil {
				t.Fatal(err)
			}
			if err := miner.node.PublishBlock(b); err != nil {
				t.Fatal(err)
			}
		}
		tip := blocks[len(blocks)-1].Hash()
		waitFor(t, 10*time.Second, "the partition on its branch", func() bool {
			for _, n := range others {
				if n.chain.Tip().Hash != tip {
					return false
				}
			}
			return true
		})
	}
	mine(a1, branchA, a2)
	mine(b1, branchB, b2)
	for _, n := range []*testNode{a1, a2} {
		if _, ok := n.pool.Get(tx.Hash()); ok {
			t.Fatal("the confirmed transaction is still in a pool")
		}
	}

	tp.link(0, 2)
	tp.link(1, 3)
	bTip := branchB[len(branchB)-1].Hash()
	waitFor(t, 30*time.Second, "every node on the branch with the most work", func() bool {
		for _, n := range nodes {
			if n.chain.Tip().Hash != bTip {
				return false
			}
		}
		return true
	})
	waitFor(t, 5*time.Second, "the transaction back in A's pools", func() bool {
		for _, n := range []*testNode{a1, a2} {
			if _, ok := n.pool.Get(tx.Hash()); !ok {
				return false
			}
		}
		return true
	})
	tp.waitMeshes(10 * time.Second)
	next := g.MustBlock(bTip, []*types.Tx{tx})
	mine(a2, []*types.Block{next}, nodes...)
	waitFor(t, 5*time.Second, "the transaction confirmed and out of every pool", func() bool {
		for _, n := range nodes {
			if _, ok := n.pool.Get(tx.Hash()); ok {
				return false
			}
		}
		return true
	})
}
