package p2p

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// newOrphanRelayer connects a raw peer to v that answers every headers
// request with no headers, counting them, and serves the bodies in
// byHash (nil: none, "not found"). v dials, so v runs the handshake and
// knows the peer's status (a node at genesis); then the peer waits for
// the gossip mesh.
func newOrphanRelayer(t *testing.T, g *chaingen.Generator, v *testNode, byHash map[types.Hash]*types.Block) (*rawPeer, *atomic.Int64) {
	t.Helper()
	r := newRawPeer(t, g, 0)
	headerRequests := new(atomic.Int64)
	r.h.SetStreamHandler(r.names.headers, func(s network.Stream) {
		headerRequests.Add(1)
		defer s.Close()
		if _, err := readFrame(s, maxGetHeadersSize); err != nil {
			s.Reset()
			return
		}
		_ = writeFrame(s, encodeHeaders(nil))
	})
	r.h.SetStreamHandler(r.names.blocks, func(s network.Stream) {
		defer s.Close()
		raw, err := readFrame(s, maxGetBlocksSize)
		if err != nil {
			s.Reset()
			return
		}
		req, err := decodeGetBlocks(raw)
		if err != nil {
			s.Reset()
			return
		}
		writeBlocks(s, byHash, req.Hashes)
	})
	dialRelayer(t, v, r)
	return r, headerRequests
}

// dialRelayer has v dial r and waits until both sides are ready: r sees v
// on the gossip topics and v's sync manager holds r's status.
func dialRelayer(t *testing.T, v *testNode, r *rawPeer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := v.node.Connect(ctx, r.h.Addrs()[0].String()+"/p2p/"+r.h.ID().String()); err != nil {
		t.Fatal(err)
	}
	r.connect(t, v)
	waitFor(t, 5*time.Second, "the raw peer's status", func() bool { return syncKnows(v, r.h.ID()) })
}

// writeBlocks answers a blocks request honestly from byHash.
func writeBlocks(s network.Stream, byHash map[types.Hash]*types.Block, hashes []types.Hash) {
	for _, h := range hashes {
		b, ok := byHash[h]
		if !ok {
			_ = writeFrame(s, encodeNotFoundFrame(h))
			return
		}
		if err := writeFrame(s, encodeBlockFrame(b)); err != nil {
			return
		}
	}
}

func rawScore(tn *testNode, r *rawPeer) float64 { return tn.node.peers.score(r.h.ID()) }

// hintState reads, on v's manager, whether p has a queued hint and
// whether its hints are cooling down.
func hintState(t *testing.T, v *testNode, p peer.ID) (queued, cooling bool) {
	t.Helper()
	onManager(t, v, func(s *syncer) {
		_, queued = s.hints[p]
		cooling = time.Now().Before(s.hintCool[p])
	})
	return queued, cooling
}

// TestOrphanSpamCooledDown: a peer gossips orphans (cheap: their proof of
// work is checked against their own bits) and serves none of their
// ancestors. The first costs one headers request and starts the
// relayer's cooldown; the next ones, during the cooldown, fetch nothing,
// even after the peer reconnects. None costs the relayer ban points: an
// honest relayer can end up there too (see coolOrphanRelayer). Before,
// every orphan bought a headers request and a session that pre-empted the
// real sync; then each unconnectable orphan was charged, and a reconnect
// lifted the cooldown.
func TestOrphanSpamCooledDown(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	v := newTestNode(t, g, nodeOpts{})
	r, headerRequests := newOrphanRelayer(t, g, v, nil)
	p := r.h.ID()

	const orphans = 6
	sendOrphan := func(i int) {
		t.Helper()
		memo := []byte(fmt.Sprintf("branch %d", i))
		parent := g.MustBlock(g.Genesis.Hash, nil, chaingen.BlockOpts{CoinbaseMemo: memo})
		orphan := g.MustBlock(parent.Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: memo})
		r.publish(t, r.blk, orphan.Encode())
		waitFor(t, 5*time.Second, "the orphan pooled", func() bool { return v.chain.OrphanCount() == i+1 })
	}
	for i := 0; i < orphans; i++ {
		sendOrphan(i)
		if i == 0 {
			waitFor(t, 5*time.Second, "the first orphan's ancestors asked for and the relayer cooling down", func() bool {
				_, cooling := hintState(t, v, p)
				return headerRequests.Load() == 1 && cooling
			})
		}
		time.Sleep(150 * time.Millisecond) // room for a session per orphan, were one started
	}
	if n := headerRequests.Load(); n != 1 {
		t.Fatalf("%d orphans cost %d headers requests; want 1, then a cooldown", orphans, n)
	}
	if s := rawScore(v, r); s != 0 {
		t.Fatalf("unconnectable orphans cost the relayer %.1f points; want none", s)
	}

	// Reconnecting does not lift the cooldown.
	if err := v.node.host.Network().ClosePeer(p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the sync manager to forget the relayer", func() bool {
		return !v.connectedTo(p) && !syncKnows(v, p)
	})
	dialRelayer(t, v, r)
	sendOrphan(orphans)
	time.Sleep(200 * time.Millisecond) // room for a session, were one started
	queued, cooling := hintState(t, v, p)
	if n := headerRequests.Load(); n != 1 || queued || !cooling {
		t.Fatalf("after a reconnect: %d headers requests (want 1), hint queued %v (want false), cooling down %v (want true)",
			n, queued, cooling)
	}
	if s := rawScore(v, r); s != 0 {
		t.Fatalf("after a reconnect the relayer was charged %.1f points; want none", s)
	}
}

// TestOrphanHintOvertaken: a relayer's orphan hint waits while another
// session runs. If, by the time the session ends, the orphan's missing
// parent arrived by other means (that session), or the hint is older than
// maxHintAge (its block lost a race, and the relayer would answer
// nothing), the hint is dropped: no session with the relayer starts, it
// is asked for no headers, charged nothing, and not cooled down. Before,
// a stale hint started a session that connected nothing and charged the
// honest relayer.
func TestOrphanHintOvertaken(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 40, "main")
	tip := blocks[len(blocks)-1].Hash()
	byHash := map[types.Hash]*types.Block{}
	for _, b := range blocks {
		byHash[b.Hash()] = b
	}
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)
	st := a.node.localStatus()

	lost := g.MustBlock(g.Genesis.Hash, nil, chaingen.BlockOpts{CoinbaseMemo: []byte("lost the race")})
	tests := []struct {
		name string
		// orphan's parent is the block the hint asks for.
		orphan *types.Block
		// stale backdates the queued hint past maxHintAge.
		stale bool
	}{
		{"parent arrives by other means before the session runs",
			g.MustBlock(blocks[19].Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("side")}), false},
		{"hint older than maxHintAge",
			g.MustBlock(lost.Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("lost the race")}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The source of the session the hint waits behind serves
			// the chain's headers at once and its bodies on release.
			src := newSyncRawPeer(t, g, &st)
			src.serveHeaders(func(req *getHeaders) []types.Header { return headersFrom(g, blocks, req) })
			release := make(chan struct{})
			src.serveBlocksWith(func(s network.Stream, req *getBlocks) {
				select {
				case <-release:
				case <-src.done:
					return
				}
				writeBlocks(s, byHash, req.Hashes)
			})

			v := newTestNode(t, g, nodeOpts{})
			// The relayer is honest: it serves the chain's bodies if
			// asked (its gossip raises its known height).
			r, headerRequests := newOrphanRelayer(t, g, v, byHash)
			p := r.h.ID()
			connectTo(t, v, src.addr())
			waitFor(t, 5*time.Second, "the session's first block request", func() bool { return src.blocksAsked.Load() >= 1 })

			r.publish(t, r.blk, tt.orphan.Encode())
			waitFor(t, 5*time.Second, "the orphan's hint queued behind the session", func() bool {
				queued, _ := hintState(t, v, p)
				return queued
			})
			if tt.stale {
				onManager(t, v, func(s *syncer) {
					if h, ok := s.hints[p]; ok {
						h.at = h.at.Add(-maxHintAge - time.Second)
						s.hints[p] = h
					}
				})
			}
			close(release)
			waitTip(t, v, tip, 20*time.Second)
			waitFor(t, 5*time.Second, "the session over and the hint dropped", func() bool {
				var idle bool
				onManager(t, v, func(s *syncer) { idle = s.sess == nil && len(s.hints) == 0 })
				return idle
			})
			time.Sleep(200 * time.Millisecond) // room for a session, were one started
			_, cooling := hintState(t, v, p)
			if n, s := headerRequests.Load(), rawScore(v, r); n != 0 || s != 0 || cooling {
				t.Fatalf("the relayer was asked for headers %d times (want 0), charged %.1f (want 0), cooling down %v (want false)",
					n, s, cooling)
			}
		})
	}
}

// TestHintCooldownsBounded: the relayers' cooldowns, which outlive their
// connections, are capped at maxHintCooldowns; a new one past the cap
// takes the place of an expired one, else of the one ending soonest, and
// the tick's prune forgets the ended ones and stale hints.
func TestHintCooldownsBounded(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	v := newTestNode(t, g, nodeOpts{})
	unknown := types.Hash{0xee} // the session's missing block, never stored
	onManager(t, v, func(s *syncer) {
		now := time.Now()
		id := func(i int) peer.ID { return peer.ID(fmt.Sprintf("relayer-%d", i)) }
		for i := 0; i < maxHintCooldowns; i++ {
			// relayer-0 ends soonest; none has ended.
			s.hintCool[id(i)] = now.Add(time.Second + time.Duration(i)*time.Millisecond)
		}
		newcomer := id(maxHintCooldowns)
		s.coolOrphanRelayer(&syncSession{origin: newcomer, stop: unknown, ancestors: true}, now)
		if n := len(s.hintCool); n != maxHintCooldowns {
			t.Errorf("%d cooldowns after one past the cap; want %d", n, maxHintCooldowns)
		}
		if _, ok := s.hintCool[id(0)]; ok {
			t.Error("the cooldown ending soonest was kept past the cap")
		}
		if until := s.hintCool[newcomer]; !until.Equal(now.Add(ancestorCooldown)) {
			t.Errorf("the newcomer cools down until %v; want %v", until, now.Add(ancestorCooldown))
		}
		// An ended cooldown makes room without evicting a running one.
		s.hintCool[id(1)] = now.Add(-time.Second)
		late := id(maxHintCooldowns + 1)
		s.coolOrphanRelayer(&syncSession{origin: late, stop: unknown, ancestors: true}, now)
		if _, ok := s.hintCool[id(2)]; !ok {
			t.Error("a running cooldown was evicted while an ended one could go")
		}
		if _, ok := s.hintCool[id(1)]; ok {
			t.Error("the ended cooldown was kept")
		}
		// A session whose missing block is known now cools down no one.
		known := id(maxHintCooldowns + 2)
		s.coolOrphanRelayer(&syncSession{origin: known, stop: g.Genesis.Hash, ancestors: true}, now)
		if _, ok := s.hintCool[known]; ok {
			t.Error("a relayer whose missing block is known was cooled down")
		}
		// The prune forgets stale hints, then the cooldowns that ended.
		stale, fresh := id(5), id(6)
		s.hints[stale] = ancestorHint{missing: unknown, at: now.Add(-maxHintAge - time.Second)}
		s.hints[fresh] = ancestorHint{missing: unknown, at: now}
		running := len(s.hintCool)
		s.pruneHints(now)
		if _, ok := s.hints[stale]; ok {
			t.Error("a hint older than maxHintAge was kept")
		}
		if _, ok := s.hints[fresh]; !ok {
			t.Error("a fresh hint was dropped")
		}
		if n := len(s.hintCool); n != running {
			t.Errorf("%d cooldowns after a prune while all run; want %d", n, running)
		}
		s.pruneHints(now.Add(ancestorCooldown))
		if n := len(s.hintCool); n != 0 {
			t.Errorf("%d cooldowns left after every one ended; want 0", n)
		}
		delete(s.hints, fresh)
	})
}
