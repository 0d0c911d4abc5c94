package p2p

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// buildSyncChain builds n blocks on parent, a transfer in every third.
func buildSyncChain(t testing.TB, g *chaingen.Generator, parent types.Hash, n int, tag string) []*types.Block {
	t.Helper()
	out := make([]*types.Block, 0, n)
	for i := 0; i < n; i++ {
		var txs []*types.Tx
		if i%3 == 0 {
			from := i % len(g.Keys)
			to := g.Addrs[(from+1)%len(g.Addrs)]
			txs = append(txs, g.Transfer(from, to, types.Amount(1000+i), 10, g.Nonce(parent, g.Addrs[from])))
		}
		b := g.MustBlock(parent, txs, chaingen.BlockOpts{CoinbaseMemo: []byte(tag)})
		out = append(out, b)
		parent = b.Hash()
	}
	return out
}

func processAll(t testing.TB, c *chain.Chain, blocks []*types.Block) {
	t.Helper()
	for _, b := range blocks {
		if _, err := c.ProcessBlock(b); err != nil {
			t.Fatalf("block %d: %v", b.Header.Height, err)
		}
	}
}

// connectTo dials each peer from tn, all at once.
func connectTo(t testing.TB, tn *testNode, addrs ...string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(addrs))
	for i, a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			errs[i] = tn.node.Connect(ctx, a)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("connect: %v", err)
	}
}

// sameChain checks that tn's tip and state are the generator's after tip.
func sameChain(t testing.TB, tn *testNode, g *chaingen.Generator, tip types.Hash) {
	t.Helper()
	got := tn.chain.Tip()
	want := g.State(tip)
	if got.Hash != tip || got.StateRoot != want.Block.Header.StateRoot {
		t.Fatalf("tip %s (height %d) root %s; want %s root %s", got.Hash, got.Height, got.StateRoot, tip, want.Block.Header.StateRoot)
	}
	for addr, acct := range want.Accounts {
		a, err := tn.chain.Account(addr)
		if err != nil || a != acct {
			t.Fatalf("account %s: %+v, %v; want %+v", addr, a, err, acct)
		}
	}
}

func waitTip(t testing.TB, tn *testNode, tip types.Hash, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "the node to reach "+tip.String(), func() bool { return tn.chain.Tip().Hash == tip })
}

// syncRawPeer is a bare libp2p host that speaks the node's protocols as a
// test wants: honestly, slowly or wrongly.
type syncRawPeer struct {
	h           host.Host
	names       networkNames
	blocksAsked atomic.Int64
	done        chan struct{}
}

// newSyncRawPeer starts a host on 127.0.0.1; with a status it answers the
// status handshake with it.
func newSyncRawPeer(t testing.TB, g *chaingen.Generator, st *PeerStatus) *syncRawPeer {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	r := &syncRawPeer{h: h, names: namesFor(g.Genesis.Hash), done: make(chan struct{})}
	t.Cleanup(func() {
		close(r.done)
		h.Close()
	})
	if st != nil {
		h.SetStreamHandler(r.names.status, func(s network.Stream) {
			defer s.Close()
			if _, err := readFrame(s, statusSize); err != nil {
				s.Reset()
				return
			}
			_ = writeFrame(s, st.encode())
		})
	}
	return r
}

func (r *syncRawPeer) addr() string {
	return r.h.Addrs()[0].String() + "/p2p/" + r.h.ID().String()
}

// serveHeaders answers header requests with fn's headers.
func (r *syncRawPeer) serveHeaders(fn func(*getHeaders) []types.Header) {
	r.h.SetStreamHandler(r.names.headers, func(s network.Stream) {
		defer s.Close()
		raw, err := readFrame(s, maxGetHeadersSize)
		if err != nil {
			s.Reset()
			return
		}
		req, err := decodeGetHeaders(raw)
		if err != nil {
			s.Reset()
			return
		}
		_ = writeFrame(s, encodeHeaders(fn(req)))
	})
}

// stallBlocks takes block requests and never answers.
func (r *syncRawPeer) stallBlocks() {
	r.h.SetStreamHandler(r.names.blocks, func(s network.Stream) {
		r.blocksAsked.Add(1)
		select {
		case <-r.done:
		case <-time.After(time.Minute):
		}
		s.Reset()
	})
}

// dial connects the raw host to a node (the node answers the handshake
// side; the raw host never starts it).
func (r *syncRawPeer) dial(t testing.TB, tn *testNode) {
	t.Helper()
	info := peer.AddrInfo{ID: tn.node.ID(), Addrs: tn.node.host.Addrs()}
	if err := r.h.Connect(context.Background(), info); err != nil {
		t.Fatal(err)
	}
}

// headersFrom answers a header request honestly from blocks.
func headersFrom(g *chaingen.Generator, blocks []*types.Block, req *getHeaders) []types.Header {
	pos := map[types.Hash]int{g.Genesis.Hash: 0}
	for i, b := range blocks {
		pos[b.Hash()] = i + 1
	}
	start := 0
	for _, h := range req.Locator {
		if p, ok := pos[h]; ok {
			start = p
			break
		}
	}
	var out []types.Header
	for i := start; i < len(blocks) && len(out) < int(req.Max); i++ {
		out = append(out, blocks[i].Header)
		if blocks[i].Hash() == req.Stop {
			break
		}
	}
	return out
}

func TestSyncWireEncodings(t *testing.T) {
	gh := &getHeaders{Locator: []types.Hash{{1}, {2}}, Stop: types.Hash{3}, Max: 2000}
	got, err := decodeGetHeaders(gh.encode())
	if err != nil || len(got.Locator) != 2 || got.Locator[1] != (types.Hash{2}) || got.Stop != gh.Stop || got.Max != 2000 {
		t.Fatalf("getheaders round trip: %+v, %v", got, err)
	}
	if len((&getHeaders{Locator: make([]types.Hash, maxLocatorHashes), Max: 1}).encode()) != maxGetHeadersSize {
		t.Fatal("maxGetHeadersSize is not the largest getheaders")
	}
	for _, bad := range []*getHeaders{{Max: 0}, {Max: maxHeadersPerRequest + 1}, {Max: 65535}, {Locator: make([]types.Hash, maxLocatorHashes+1), Max: 1}} {
		if _, err := decodeGetHeaders(bad.encode()); !errors.Is(err, ErrProtocol) {
			t.Errorf("getheaders %d hashes max %d: %v, want ErrProtocol", len(bad.Locator), bad.Max, err)
		}
	}
	if _, err := decodeGetHeaders(append(gh.encode(), 0)); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}

	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 3, "w")
	hdrs := []types.Header{blocks[0].Header, blocks[1].Header, blocks[2].Header}
	enc := encodeHeaders(hdrs)
	if len(enc) != headersMsgSize(3) {
		t.Fatalf("headers message of %d bytes", len(enc))
	}
	back, err := decodeHeaders(enc, 3)
	if err != nil || len(back) != 3 || back[2] != hdrs[2] {
		t.Fatalf("headers round trip: %v", err)
	}
	if _, err := decodeHeaders(enc, 2); !errors.Is(err, ErrProtocol) {
		t.Errorf("more headers than asked: %v", err)
	}

	gb := &getBlocks{Hashes: []types.Hash{{9}, {8}}}
	if b, err := decodeGetBlocks(gb.encode()); err != nil || len(b.Hashes) != 2 || b.Hashes[1] != (types.Hash{8}) {
		t.Fatalf("getblocks round trip: %+v, %v", b, err)
	}
	for _, n := range []int{0, maxBlocksPerRequest + 1} {
		if _, err := decodeGetBlocks((&getBlocks{Hashes: make([]types.Hash, n)}).encode()); !errors.Is(err, ErrProtocol) {
			t.Errorf("getblocks for %d: %v", n, err)
		}
	}

	f, err := decodeBlockFrame(encodeBlockFrame(blocks[0]), g.Params.MaxBlockSize)
	if err != nil || f.NotFound || f.Block.Hash() != blocks[0].Hash() {
		t.Fatalf("block frame: %+v, %v", f, err)
	}
	f, err = decodeBlockFrame(encodeNotFoundFrame(types.Hash{5}), g.Params.MaxBlockSize)
	if err != nil || !f.NotFound || f.Hash != (types.Hash{5}) {
		t.Fatalf("not-found frame: %+v, %v", f, err)
	}
	if _, err := decodeBlockFrame(encodeBlockFrame(blocks[0]), 100); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("block over the size limit: %v", err)
	}
}

// TestSyncReadTimedFrame: the frame reader refuses an oversized length
// before the body exists, ends cleanly between frames, and times out.
func TestSyncReadTimedFrame(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		_ = writeFrame(a, []byte("hello"))
		// A length prefix of 1 MiB and no body.
		var buf [binary.MaxVarintLen64]byte
		a.Write(buf[:binary.PutUvarint(buf[:], 1<<20)])
	}()
	got, err := readTimedFrame(b, 100, time.Second)
	if err != nil || string(got) != "hello" {
		t.Fatalf("frame: %q, %v", got, err)
	}
	if _, err := readTimedFrame(b, 1000, time.Second); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized frame: %v", err)
	}
	if _, err := readTimedFrame(b, 1000, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent peer: %v", err)
	}
	c, d := net.Pipe()
	c.Close()
	if _, err := readTimedFrame(d, 1000, time.Second); !errors.Is(err, errEndOfStream) {
		t.Fatalf("clean end: %v", err)
	}
}

// TestSyncFromTwoPeersAndRestart: a node started after 200 blocks syncs to
// the tip from two peers, both of which serve bodies, and ends with the
// same state; a node stopped mid-sync finishes after a restart on the same
// data directory.
func TestSyncFromTwoPeersAndRestart(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 200, "main")
	tip := blocks[len(blocks)-1].Hash()
	a := newTestNode(t, g, nodeOpts{})
	b := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)
	processAll(t, b.chain, blocks)

	late := newTestNode(t, g, nodeOpts{})
	start := time.Now()
	connectTo(t, late, a.addr(), b.addr())
	waitTip(t, late, tip, 30*time.Second)
	t.Logf("synced 200 blocks in %v; served by a: %d, b: %d", time.Since(start).Round(time.Millisecond),
		a.node.sync.servedBlocks.Load(), b.node.sync.servedBlocks.Load())
	if a.node.sync.servedBlocks.Load() == 0 || b.node.sync.servedBlocks.Load() == 0 {
		t.Fatal("bodies did not come from both peers")
	}
	sameChain(t, late, g, tip)

	// Stop a syncing node once block 80 is connected (its connector is
	// held inside ProcessBlock until the node is closing), then restart.
	r := newTestNode(t, g, nodeOpts{})
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r.chain.Subscribe(func(n chain.Notification) {
		if n.Type == chain.BlockConnected && n.Height == 80 {
			once.Do(func() {
				close(reached)
				<-release
			})
		}
	})
	connectTo(t, r, a.addr(), b.addr())
	select {
	case <-reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the second node never reached height 80")
	}
	time.AfterFunc(100*time.Millisecond, func() { close(release) })
	r.stop()
	r2 := newTestNode(t, g, nodeOpts{dir: r.dir})
	h := r2.chain.Tip().Height
	if h < 80 || h >= 200 {
		t.Fatalf("restarted at height %d, want mid-sync", h)
	}
	connectTo(t, r2, a.addr(), b.addr())
	waitTip(t, r2, tip, 30*time.Second)
	sameChain(t, r2, g, tip)
	t.Logf("restarted at height %d and finished", h)
}

// TestSyncBadPoWHeaderBansPeer: the peer claiming the most work serves a
// header without proof of work: it is banned and sync finishes from an
// honest peer.
func TestSyncBadPoWHeaderBansPeer(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 60, "main")
	tip := blocks[len(blocks)-1].Hash()
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)

	var hdrs []types.Header
	for _, b := range blocks[:30] {
		hdrs = append(hdrs, b.Header)
	}
	bad := &hdrs[29]
	for consensus.CheckProofOfWork(bad.Hash(), bad.Bits, g.Params.PowLimit) == nil {
		bad.Nonce++
	}
	work := new(big.Int).Mul(a.chain.Tip().TotalWork, big.NewInt(2))
	liar := newSyncRawPeer(t, g, &PeerStatus{Genesis: g.Genesis.Hash, Best: types.Hash{1}, Height: 500, TotalWork: work})
	liar.serveHeaders(func(*getHeaders) []types.Header { return hdrs })

	l := newTestNode(t, g, nodeOpts{})
	connectTo(t, l, liar.addr(), a.addr())
	waitFor(t, 10*time.Second, "the peer with a bad header to be banned", func() bool { return l.node.bans.isBanned(liar.h.ID()) })
	waitTip(t, l, tip, 20*time.Second)
	sameChain(t, l, g, tip)
}

// TestSyncOversizedResponseBansPeer: a headers response announcing more
// bytes than the request allows is refused before its body is read.
func TestSyncOversizedResponseBansPeer(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 20, "main")
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)

	work := new(big.Int).Mul(a.chain.Tip().TotalWork, big.NewInt(2))
	huge := newSyncRawPeer(t, g, &PeerStatus{Genesis: g.Genesis.Hash, Best: types.Hash{1}, Height: 500, TotalWork: work})
	huge.h.SetStreamHandler(huge.names.headers, func(s network.Stream) {
		var buf [binary.MaxVarintLen64]byte
		s.Write(buf[:binary.PutUvarint(buf[:], 64<<20)])
		<-huge.done
		s.Reset()
	})
	l := newTestNode(t, g, nodeOpts{})
	connectTo(t, l, huge.addr(), a.addr())
	waitFor(t, 10*time.Second, "the peer to be banned", func() bool { return l.node.bans.isBanned(huge.h.ID()) })
	waitTip(t, l, blocks[len(blocks)-1].Hash(), 20*time.Second)
}

// TestSyncStallingPeerLosesBatch: a peer that takes block requests and
// never answers loses them to another peer and is penalised.
func TestSyncStallingPeerLosesBatch(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 120, "main")
	tip := blocks[len(blocks)-1].Hash()
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)

	st := a.node.localStatus()
	staller := newSyncRawPeer(t, g, &st)
	staller.serveHeaders(func(req *getHeaders) []types.Header { return headersFrom(g, blocks, req) })
	staller.stallBlocks()

	l := newTestNode(t, g, nodeOpts{})
	connectTo(t, l, staller.addr())
	waitFor(t, 10*time.Second, "a block request to the staller", func() bool { return staller.blocksAsked.Load() > 0 })
	connectTo(t, l, a.addr())
	start := time.Now()
	waitTip(t, l, tip, 30*time.Second)
	t.Logf("finished %v after the honest peer joined", time.Since(start).Round(time.Millisecond))
	if a.node.sync.servedBlocks.Load() == 0 {
		t.Fatal("the honest peer served nothing")
	}
	if s := l.node.peers.score(staller.h.ID()); s < ScoreStall/2 {
		t.Fatalf("staller's score is %.1f, want a stall penalty", s)
	}
	sameChain(t, l, g, tip)
}

// TestSyncServerRefusesOverLimitRequests: oversized frames and requests
// for more than the limits are refused (the stream reset) and penalised;
// oversized frames before their body is sent.
func TestSyncServerRefusesOverLimitRequests(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 5, "main")
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)

	// send opens a stream and writes raw bytes; it returns how long the
	// server took to reset the stream.
	names := namesFor(g.Genesis.Hash)
	send := func(r *syncRawPeer, proto protocol.ID, data []byte) (time.Duration, error) {
		s, err := r.h.NewStream(context.Background(), a.node.ID(), proto)
		if err != nil {
			return 0, err
		}
		defer s.Reset()
		start := time.Now()
		if _, err := s.Write(data); err != nil {
			return time.Since(start), err
		}
		_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(s)
		return time.Since(start), err
	}
	prefix := func(n int) []byte {
		var buf [binary.MaxVarintLen64]byte
		return buf[:binary.PutUvarint(buf[:], uint64(n))]
	}
	tests := []struct {
		name   string
		proto  protocol.ID
		data   []byte
		points int
	}{
		// Only the length is sent: the server must not wait for the body.
		{"getheaders with 10,000 locator hashes", names.headers, prefix(2 + 10_000*32 + 32 + 2), ScoreFrameTooLarge},
		{"getblocks for 1,000 blocks", names.blocks, prefix(2 + 1000*32), ScoreFrameTooLarge},
		{"getheaders for 65,535 headers", names.headers, frame((&getHeaders{Max: 65535}).encode()), ScoreProtocol},
		{"getheaders for 2,001 headers", names.headers, frame((&getHeaders{Max: 2001}).encode()), ScoreProtocol},
		{"getblocks for no block", names.blocks, frame((&getBlocks{}).encode()), ScoreProtocol},
		{"getblocks that does not decode", names.blocks, frame([]byte{0, 2, 1}), ScoreMalformed},
	}
	for _, tt := range tests {
		r := newSyncRawPeer(t, g, nil)
		r.dial(t, a)
		took, err := send(r, tt.proto, tt.data)
		if err == nil || isTimeout(err) || took > 3*time.Second {
			t.Errorf("%s: answered %v after %v; want the stream reset at once", tt.name, err, took)
		}
		if tt.points >= 100 {
			waitFor(t, 5*time.Second, tt.name+": ban", func() bool { return a.node.bans.isBanned(r.h.ID()) })
			continue
		}
		if s := a.node.peers.score(r.h.ID()); s < float64(tt.points)*0.9 || s > float64(tt.points)*1.1 {
			t.Errorf("%s: score %.1f, want %d", tt.name, s, tt.points)
		}
	}
}

// frame returns payload as one length-prefixed frame.
func frame(payload []byte) []byte {
	var buf bytes.Buffer
	_ = writeFrame(&buf, payload)
	return buf.Bytes()
}

// TestSyncServerRateLimit: a peer asking faster than the limit is refused
// and penalised, while other peers are still served.
func TestSyncServerRateLimit(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 10, "main")
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)

	r := newSyncRawPeer(t, g, nil)
	r.dial(t, a)
	req := frame((&getHeaders{Locator: []types.Hash{g.Genesis.Hash}, Max: 2000}).encode())
	served := 0
	for i := 0; i < 3*serveHeadersBurst; i++ {
		s, err := r.h.NewStream(context.Background(), a.node.ID(), r.names.headers)
		if err != nil {
			t.Fatal(err)
		}
		s.Write(req)
		s.CloseWrite()
		_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
		raw, err := readFrame(s, headersMsgSize(2000))
		s.Close()
		if err != nil {
			break
		}
		if hdrs, err := decodeHeaders(raw, 2000); err != nil || len(hdrs) != len(blocks) {
			t.Fatalf("request %d: %d headers, %v", i, len(hdrs), err)
		}
		served++
	}
	if served < serveHeadersBurst || served >= 3*serveHeadersBurst {
		t.Fatalf("served %d requests in a burst; the limit is %d plus %d/s", served, serveHeadersBurst, serveHeadersRate)
	}
	if s := a.node.peers.score(r.h.ID()); s < ScoreProtocol*0.9 {
		t.Fatalf("score %.1f after going over the rate limit", s)
	}
	// Others are still served.
	l := newTestNode(t, g, nodeOpts{})
	connectTo(t, l, a.addr())
	waitTip(t, l, blocks[len(blocks)-1].Hash(), 20*time.Second)
}

// TestSyncReorgsToBestChain: a node back from a partition, on a shorter
// branch, switches to the branch with more work.
func TestSyncReorgsToBestChain(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	common := buildSyncChain(t, g, g.Genesis.Hash, 20, "common")
	fork := common[len(common)-1].Hash()
	long := buildSyncChain(t, g, fork, 30, "long")
	short := buildSyncChain(t, g, fork, 10, "short")
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, append(append([]*types.Block{}, common...), long...))
	l := newTestNode(t, g, nodeOpts{})
	processAll(t, l.chain, append(append([]*types.Block{}, common...), short...))

	connectTo(t, l, a.addr())
	tip := long[len(long)-1].Hash()
	waitTip(t, l, tip, 20*time.Second)
	sameChain(t, l, g, tip)
}

// TestSyncRequestAncestors: gossip's orphan hint fetches the missing
// ancestors from the relaying peer, up to the missing block and no
// further.
func TestSyncRequestAncestors(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 60, "main")
	a := newTestNode(t, g, nodeOpts{})
	l := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks[:20])
	processAll(t, l.chain, blocks[:20])
	connectTo(t, l, a.addr())
	waitFor(t, 5*time.Second, "statuses", func() bool {
		_, ok := l.node.peers.status(a.node.ID())
		return ok
	})
	// a learns 40 more blocks behind l's back; an orphan child of block
	// 50 names block 50 as missing.
	processAll(t, a.chain, blocks[20:])
	l.node.sync.requestAncestors(a.node.ID(), blocks[49].Hash())
	waitTip(t, l, blocks[49].Hash(), 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if h := l.chain.Tip().Height; h != 50 {
		t.Fatalf("fetched up to height %d, want 50", h)
	}
}

// TestSyncEmptyClaimCosts: a peer claiming more work than ours that then
// has no headers to show pays for the claim, and sync carries on from an
// honest peer.
func TestSyncEmptyClaimCosts(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 20, "main")
	tip := blocks[len(blocks)-1].Hash()
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)
	work := new(big.Int).Mul(a.chain.Tip().TotalWork, big.NewInt(4))
	liar := newSyncRawPeer(t, g, &PeerStatus{Genesis: g.Genesis.Hash, Best: types.Hash{1}, Height: 500, TotalWork: work})
	liar.serveHeaders(func(*getHeaders) []types.Header { return nil })

	l := newTestNode(t, g, nodeOpts{})
	connectTo(t, l, liar.addr())
	waitFor(t, 10*time.Second, "the empty claim to cost the liar", func() bool {
		return l.node.peers.score(liar.h.ID()) >= ScoreProtocol-1
	})
	connectTo(t, l, a.addr())
	waitTip(t, l, tip, 20*time.Second)
}
