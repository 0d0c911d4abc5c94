package p2p

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// onManager runs fn on tn's sync manager goroutine, which owns the sync
// state, and waits for it.
func onManager(t testing.TB, tn *testNode, fn func(s *syncer)) {
	t.Helper()
	done := make(chan struct{})
	tn.node.sync.post(func() {
		defer close(done)
		fn(tn.node.sync)
	})
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the sync manager did not run the test's closure")
	}
}

// serveBlocksWith answers block requests with answer, counting them.
func (r *syncRawPeer) serveBlocksWith(answer func(s network.Stream, req *getBlocks)) {
	r.h.SetStreamHandler(r.names.blocks, func(s network.Stream) {
		r.blocksAsked.Add(1)
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
		answer(s, req)
		s.Close()
	})
}

// TestSyncMissedBlocksCost: a peer that claims the chain, serves its
// headers, then does not deliver the bodies it is asked for (an empty
// response, a response cut short, or "not found" for blocks whose headers
// it sent) pays ScoreMissedBlocks per miss, short of a ban, is not asked
// again while it cools down, and its blocks come from an honest peer.
// Before, each of these cost nothing, and the peer, idle at once, was
// handed the front batch again and again, holding up the blocks the
// connector waits for.
func TestSyncMissedBlocksCost(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 40, "main")
	tip := blocks[len(blocks)-1].Hash()
	byHash := map[types.Hash]*types.Block{}
	for _, b := range blocks {
		byHash[b.Hash()] = b
	}
	tests := []struct {
		name   string
		answer func(s network.Stream, req *getBlocks)
	}{
		{"empty response", func(network.Stream, *getBlocks) {}},
		{"one block, then the end", func(s network.Stream, req *getBlocks) {
			_ = writeFrame(s, encodeBlockFrame(byHash[req.Hashes[0]]))
		}},
		{"not found for its own headers", func(s network.Stream, req *getBlocks) {
			_ = writeFrame(s, encodeNotFoundFrame(req.Hashes[0]))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestNode(t, g, nodeOpts{})
			processAll(t, a.chain, blocks)
			st := a.node.localStatus()
			liar := newSyncRawPeer(t, g, &st)
			liar.serveHeaders(func(req *getHeaders) []types.Header { return headersFrom(g, blocks, req) })
			liar.serveBlocksWith(tt.answer)

			l := newTestNode(t, g, nodeOpts{})
			connectTo(t, l, liar.addr())
			waitFor(t, 10*time.Second, "the miss to cost the liar", func() bool {
				return l.node.peers.score(liar.h.ID()) >= ScoreMissedBlocks*0.9
			})
			if s := l.node.peers.score(liar.h.ID()); s >= float64(l.node.cfg.BanThreshold) {
				t.Fatalf("one miss cost %.0f: a ban", s)
			}
			connectTo(t, l, a.addr())
			waitTip(t, l, tip, 20*time.Second)
			sameChain(t, l, g, tip)
			// The requests made before the first miss came back, and no
			// more while it cools down.
			if n := liar.blocksAsked.Load(); n > maxBatchesPerPeer {
				t.Fatalf("the liar was asked for blocks %d times; want at most %d", n, maxBatchesPerPeer)
			}
			if s := l.node.peers.score(a.node.ID()); s != 0 {
				t.Fatalf("the honest peer was charged %.1f", s)
			}
		})
	}
}

// TestSyncDroppedPeerRequestsReleased: the manager learns that a peer with
// block requests in flight left, then that it is back (a new status),
// before the old requests end, as a reconnect can order these events. Its
// requests go back to be asked for at once, its new record starts with
// nothing in flight, and the old requests' ends touch neither its new
// record nor the session's counts. Before, the requests stayed assigned to
// the gone peer until they failed, and their ends were counted against
// the new record, which went below zero.
func TestSyncDroppedPeerRequestsReleased(t *testing.T) {
	g := chaingen.New(chaingen.Options{})
	blocks := buildSyncChain(t, g, g.Genesis.Hash, 60, "main")
	a := newTestNode(t, g, nodeOpts{})
	processAll(t, a.chain, blocks)
	st := a.node.localStatus()
	r := newSyncRawPeer(t, g, &st)
	r.serveHeaders(func(req *getHeaders) []types.Header { return headersFrom(g, blocks, req) })
	release := make(chan struct{})
	r.h.SetStreamHandler(r.names.blocks, func(s network.Stream) {
		r.blocksAsked.Add(1)
		select {
		case <-release:
		case <-r.done:
		}
		s.Reset()
	})

	l := newTestNode(t, g, nodeOpts{})
	connectTo(t, l, r.addr())
	// Two batches (maxBatchesPerPeer) go to the only peer; they stall.
	waitFor(t, 3*time.Second, "two block requests", func() bool { return r.blocksAsked.Load() == maxBatchesPerPeer })
	p := r.h.ID()
	var sessInflight, peerInflight, stillAsked int
	onManager(t, l, func(s *syncer) {
		if s.sess == nil {
			sessInflight = -100 // reported below
			return
		}
		s.dropPeer(p)
		s.gotStatus(p, st)
		sessInflight, peerInflight = s.sess.inflight, s.peers[p].inflight
		for _, e := range s.sess.entries {
			if e.state == stInflight {
				stillAsked++
			}
		}
	})
	if sessInflight != 0 || peerInflight != 0 || stillAsked != 0 {
		t.Fatalf("after the drop: %d batches in flight in the session, %d for the peer, %d blocks still assigned; want none",
			sessInflight, peerInflight, stillAsked)
	}
	// The released blocks are asked for again at once, from the peer's
	// new record.
	waitFor(t, 3*time.Second, "the blocks asked for again", func() bool { return r.blocksAsked.Load() == 2*maxBatchesPerPeer })
	// All four requests end now: the two old ones must count for nothing.
	close(release)
	var final struct{ sess, peer, asked int }
	waitFor(t, 5*time.Second, "every request ended", func() bool {
		onManager(t, l, func(s *syncer) {
			if s.sess == nil || s.peers[p] == nil {
				final.sess, final.peer, final.asked = -100, -100, 0 // reported below
				return
			}
			final.sess, final.peer, final.asked = s.sess.inflight, s.peers[p].inflight, 0
			for _, e := range s.sess.entries {
				if e.state == stInflight {
					final.asked++
				}
			}
		})
		return final.sess <= 0 && final.asked == 0
	})
	if final.sess != 0 || final.peer != 0 {
		t.Fatalf("in flight after every request ended: %d in the session, %d for the peer; want 0 and 0", final.sess, final.peer)
	}
}
