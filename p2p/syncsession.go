package p2p

// This file holds a sync session: its state, the download and validation
// of its headers, and the assignment and download of its block bodies.

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// syncSession is one headers-first download from a header source.
type syncSession struct {
	id     uint64
	source peer.ID
	// origin is the first source: for an ancestors session, the peer
	// that relayed the orphan (source is cleared if it leaves).
	origin peer.ID
	// stop, for an ancestors session, is the block to fetch up to.
	stop      types.Hash
	ancestors bool
	started   time.Time
	// entries are the downloaded headers whose blocks are not connected
	// yet, in chain order; sendIdx is the next one for the connector.
	entries []*hdrEntry
	sendIdx int
	// tail is the context of the last downloaded header (nil before the
	// first response).
	tail *hdrCtx
	// hdrWork is the work of the downloaded headers after the fork point
	// base; ourWork the work of our chain above base.
	base    types.Hash
	hdrWork *big.Int
	ourWork *big.Int
	// better: the headers outweigh our chain; bodies may be fetched.
	better      bool
	headersDone bool
	// exhausted: the source's own answer showed it has nothing more for
	// us (as opposed to a failure).
	exhausted   bool
	hdrInflight bool
	inflight    int // block batches in flight
	bufBytes    int
	// inflightEst estimates the bytes of the batches in flight;
	// avgBlock is the running average block size.
	inflightEst int
	avgBlock    int
	connected   int
	lastEvent   time.Time
	aborted     atomic.Bool
}

type entryState uint8

const (
	stWant     entryState = iota // body not asked for
	stInflight                   // asked for, in batch
	stHave                       // body buffered in blk
	stQueued                     // handed to the connector
	stDone                       // connected or already stored
)

// hdrEntry is a downloaded header and the state of its body.
type hdrEntry struct {
	hash   types.Hash
	header types.Header
	state  entryState
	batch  *blockBatch
	blk    *types.Block
	txids  []types.Hash
	size   int
	from   peer.ID
}

// blockBatch is one body request.
type blockBatch struct {
	sess *syncSession
	peer peer.ID
	// sp is the peer's record the request was made under: a peer that
	// disconnects gets a new one, which its old requests do not touch.
	sp      *syncPeer
	entries []*hdrEntry
	est     int // its share of sess.inflightEst
	// released: taken out of the counts (releaseBatch), at its end or
	// when its peer left.
	released bool
}

// hdrCtx is a header as the parent of the next one:
// consensus.HeaderContext for stored blocks and downloaded headers alike.
type hdrCtx struct {
	hash   types.Hash
	height uint32
	time   uint64
	anchor uint64
	// times are this block's time and up to MedianTimeBlocks-1 of its
	// ancestors', oldest first.
	times []uint64
}

func (c *hdrCtx) Hash() types.Hash       { return c.hash }
func (c *hdrCtx) Height() uint32         { return c.height }
func (c *hdrCtx) Timestamp() uint64      { return c.time }
func (c *hdrCtx) AnchorTime() uint64     { return c.anchor }
func (c *hdrCtx) MedianTimePast() uint64 { return consensus.MedianTime(c.times) }
func (c *hdrCtx) child(h *types.Header, hash types.Hash) *hdrCtx {
	keep := c.times
	if len(keep) >= consensus.MedianTimeBlocks {
		keep = keep[len(keep)-(consensus.MedianTimeBlocks-1):]
	}
	times := make([]uint64, 0, len(keep)+1)
	times = append(append(times, keep...), h.Time)
	anchor := c.anchor
	if h.Height == 1 {
		anchor = h.Time
	}
	return &hdrCtx{hash: hash, height: h.Height, time: h.Time, anchor: anchor, times: times}
}

// ---------------------------------------------------------------------
// Headers

func (s *syncer) requestHeaders(now time.Time) {
	sess := s.sess
	if sess.hdrInflight || sess.headersDone {
		return
	}
	if len(sess.entries) > 0 && len(sess.entries)+maxHeadersPerRequest > maxHeadersAhead {
		return // wait for bodies to connect
	}
	sp := s.peers[sess.source]
	if sp == nil || !s.usable(sp, now) {
		sess.headersDone = true
		sess.source = ""
		return
	}
	if sp.hdrBusy || !sp.askHeaders.ready(now, askHeadersRate, askHeadersBurst) {
		return
	}
	sp.askHeaders.take(now, askHeadersRate, askHeadersBurst)
	req := &getHeaders{Stop: sess.stop, Max: uint16(min(maxHeadersPerRequest, maxHeadersAhead-len(sess.entries)))}
	loc := s.chain.Locator()
	if sess.tail != nil && (len(loc) == 0 || loc[0] != sess.tail.hash) {
		req.Locator = append(req.Locator, sess.tail.hash)
	}
	req.Locator = append(req.Locator, loc...)
	if len(req.Locator) > maxLocatorHashes {
		// Keep the dense recent part and genesis.
		req.Locator = append(req.Locator[:maxLocatorHashes-1], loc[len(loc)-1])
	}
	sess.hdrInflight = true
	sp.hdrBusy = true
	s.protect(sp.id)
	s.n.goRun(func() {
		hdrs, err := s.fetchHeaders(sp.id, req)
		s.post(func() { s.gotHeaders(sess, sp, req, hdrs, err) })
	})
}

// fetchHeaders runs one headers request. Peer failures are scored here.
func (s *syncer) fetchHeaders(p peer.ID, req *getHeaders) ([]types.Header, error) {
	st, err := s.openStream(p, s.n.names.headers, req.encode())
	if err != nil {
		return nil, err
	}
	defer context.AfterFunc(s.n.ctx, func() { st.Reset() })()
	raw, err := readTimedFrame(st, headersMsgSize(int(req.Max)), frameTimeout)
	if errors.Is(err, errEndOfStream) {
		err = errors.New("peer closed the stream without answering")
	}
	if err == nil {
		var hdrs []types.Header
		if hdrs, err = decodeHeaders(raw, int(req.Max)); err == nil {
			st.Close()
			return hdrs, nil
		}
	}
	s.n.protocolFailure(p, err)
	st.Reset()
	return nil, err
}

// openStream opens a stream to p for protocol proto and sends req.
func (s *syncer) openStream(p peer.ID, proto protocol.ID, req []byte) (network.Stream, error) {
	ctx, cancel := context.WithTimeout(s.n.ctx, frameTimeout)
	defer cancel()
	st, err := s.n.host.NewStream(ctx, p, proto)
	if err != nil {
		return nil, err
	}
	setDeadline(st, streamDeadline)
	if err := writeFrame(st, req); err != nil {
		st.Reset()
		return nil, err
	}
	if err := st.CloseWrite(); err != nil {
		st.Reset()
		return nil, err
	}
	return st, nil
}

func (s *syncer) gotHeaders(sess *syncSession, sp *syncPeer, req *getHeaders, hdrs []types.Header, err error) {
	p := sp.id
	sp.hdrBusy = false
	if err != nil {
		sp.coolUntil = time.Now().Add(stallCooldown)
	}
	if sess != s.sess {
		return
	}
	sess.hdrInflight = false
	sess.lastEvent = time.Now()
	if s.peers[p] != sp {
		// The peer left since (dropPeer ended the session's headers
		// from it): what its old connection answered is not used.
		return
	}
	if err != nil {
		if s.n.ctx.Err() == nil {
			s.n.log.Debug("headers request failed", "peer", p, "err", err)
		}
		// Finish the bodies we have headers for; the next session picks
		// another source.
		sess.headersDone = true
		return
	}
	if len(hdrs) == 0 {
		sess.headersDone, sess.exhausted = true, !sess.ancestors
		s.checkBetter(sess)
		return
	}
	if err := s.addHeaders(sess, hdrs); err != nil {
		return
	}
	last := sess.tail
	sp.height = max(sp.height, last.height)
	switch {
	case sess.ancestors && last.hash == sess.stop:
		sess.headersDone = true
	case len(hdrs) < int(req.Max):
		sess.headersDone, sess.exhausted = true, !sess.ancestors
	}
	s.checkBetter(sess)
}

// checkBetter lets bodies be fetched once the headers outweigh our chain
// above the fork point, and ends a session whose complete headers do not.
// An ancestors session needs only as much work: the orphan that asked for
// them adds its own.
func (s *syncer) checkBetter(sess *syncSession) {
	if !sess.better && sess.tail != nil {
		c := sess.hdrWork.Cmp(sess.ourWork)
		sess.better = c > 0 || (sess.ancestors && c == 0)
	}
	if sess.headersDone && !sess.better {
		sess.exhausted = true
		if sess.tail != nil {
			s.n.log.Debug("peer's chain has no more work than ours", "peer", sess.source, "headers_height", sess.tail.height)
		}
		s.endSession(false)
	}
}

// addHeaders validates hdrs and appends them to the session. A header that
// breaks a rule ends the session and costs the source its peering.
func (s *syncer) addHeaders(sess *syncSession, hdrs []types.Header) error {
	first := &hdrs[0]
	if sess.tail == nil || first.PrevBlock != sess.tail.hash {
		if len(sess.entries) > 0 {
			s.n.Misbehaving(sess.source, ScoreProtocol, "headers do not continue the ones it sent")
			s.abort("headers do not connect", "peer", sess.source)
			return errSessionAborted
		}
		base, err := s.storedContext(first.PrevBlock)
		if err != nil {
			s.n.Misbehaving(sess.source, ScoreProtocol, "headers do not connect to our chain: "+err.Error())
			s.abort("headers do not connect", "peer", sess.source)
			return err
		}
		sess.tail, sess.base, sess.better = base, base.hash, false
		sess.hdrWork.SetInt64(0)
		sess.ourWork = s.workAbove(base)
	}
	now := uint64(s.n.cfg.Clock().Unix())
	for i := range hdrs {
		h := &hdrs[i]
		hash := h.Hash()
		err := consensus.CheckHeaderSanity(h, hash, s.params)
		if err == nil {
			err = consensus.CheckHeaderContext(h, sess.tail, s.params)
		}
		if err == nil && s.chain.IsKnownInvalid(hash) {
			err = fmt.Errorf("header %s is of a block known to be invalid", hash)
		}
		if err == nil {
			if err = consensus.CheckHeaderTime(h, now, s.params); err != nil {
				// Not invalid for ever: stop here; ask again once
				// our tip or the peer's status moves.
				s.n.log.Debug("header from the future; stopping there", "peer", sess.source, "hash", hash, "err", err)
				sess.headersDone, sess.exhausted = true, true
				return nil
			}
		}
		if err != nil {
			s.n.Misbehaving(sess.source, ScoreInvalidHeader, fmt.Sprintf("invalid header %s at height %d: %v", hash, h.Height, err))
			s.abort("invalid header", "peer", sess.source, "height", h.Height, "err", err)
			return err
		}
		e := &hdrEntry{hash: hash, header: *h}
		if _, err := s.chain.HeaderByHash(hash); err == nil {
			e.state = stDone // stored already
		}
		sess.entries = append(sess.entries, e)
		sess.tail = sess.tail.child(h, hash)
		sess.hdrWork.Add(sess.hdrWork, consensus.CalcWork(h.Bits))
	}
	s.popDone(sess)
	return nil
}

// storedContext builds the header context of a stored block.
func (s *syncer) storedContext(hash types.Hash) (*hdrCtx, error) {
	h, err := s.chain.HeaderByHash(hash)
	if err != nil {
		return nil, err
	}
	c := &hdrCtx{hash: hash, height: h.Height, time: h.Time}
	times := []uint64{h.Time}
	cur := h
	for len(times) < consensus.MedianTimeBlocks && cur.Height > 0 {
		if cur, err = s.chain.HeaderByHash(cur.PrevBlock); err != nil {
			return nil, err
		}
		times = append(times, cur.Time)
	}
	for i, j := 0, len(times)-1; i < j; i, j = i+1, j-1 {
		times[i], times[j] = times[j], times[i]
	}
	c.times = times
	// The anchor is block 1 of the block's own chain: walk down its
	// branch to the main chain (or to block 1), then read block 1.
	if h.Height >= 1 {
		cur, at := h, hash
		for cur.Height > 1 && !s.chain.IsMainChain(at) {
			at = cur.PrevBlock
			if cur, err = s.chain.HeaderByHash(at); err != nil {
				return nil, err
			}
		}
		if cur.Height != 1 {
			one, err := s.chain.HashAtHeight(1)
			if err != nil {
				return nil, err
			}
			if cur, err = s.chain.HeaderByHash(one); err != nil {
				return nil, err
			}
		}
		c.anchor = cur.Time
	}
	return c, nil
}

// workAbove is the work of our main chain above base's fork point with it,
// less the work of base's own branch above that point: what downloaded
// headers after base must beat.
func (s *syncer) workAbove(base *hdrCtx) *big.Int {
	side := new(big.Int)
	at, height := base.hash, base.height
	for !s.chain.IsMainChain(at) {
		h, err := s.chain.HeaderByHash(at)
		if err != nil || height == 0 {
			break
		}
		side.Add(side, consensus.CalcWork(h.Bits))
		at, height = h.PrevBlock, height-1
	}
	main := new(big.Int)
	tip := s.chain.Tip()
	for ht := height + 1; ht <= tip.Height; ht++ {
		hash, err := s.chain.HashAtHeight(ht)
		if err != nil {
			break
		}
		h, err := s.chain.HeaderByHash(hash)
		if err != nil {
			break
		}
		main.Add(main, consensus.CalcWork(h.Bits))
	}
	return main.Sub(main, side)
}

// ---------------------------------------------------------------------
// Bodies

// assignBodies hands batches of wanted blocks to idle peers.
func (s *syncer) assignBodies(now time.Time) {
	sess := s.sess
	if sess == nil || !sess.better {
		return
	}
	limit := min(len(sess.entries), blockWindow)
	want := 0
	for _, e := range sess.entries[:limit] {
		if e.state == stWant {
			want++
		}
	}
	if want == 0 {
		return
	}
	var peers []*syncPeer
	for _, sp := range s.peers {
		if s.usable(sp, now) {
			peers = append(peers, sp)
		}
	}
	if len(peers) == 0 {
		return
	}
	sort.Slice(peers, func(i, j int) bool {
		if peers[i].inflight != peers[j].inflight {
			return peers[i].inflight < peers[j].inflight
		}
		return s.latency(peers[i].id) < s.latency(peers[j].id)
	})
	size := min(maxBatchBlocks, max(minBatchBlocks, (want+2*len(peers)-1)/(2*len(peers))),
		max(1, maxBlocksResponseBytes/sess.avgBlock))
	for round := 0; round < maxBatchesPerPeer; round++ {
		for _, sp := range peers {
			if sp.inflight > round || sess.inflight >= maxBatchesInFlight ||
				!sp.askBlocks.ready(now, askBlocksRate, askBlocksBurst) {
				continue
			}
			// What the byte budget has room for; with none, only the
			// next block to connect (it must never wait on the buffer).
			room := (maxBufferedBytes - sess.bufBytes - sess.inflightEst) / sess.avgBlock
			batch := s.collect(sess, sp, limit, min(size, max(room, 0)))
			if batch == nil {
				continue
			}
			sp.askBlocks.take(now, askBlocksRate, askBlocksBurst)
			s.launchBatch(sess, sp, batch)
		}
	}
}

// collect picks up to size wanted entries sp can serve, in chain order.
// With no room (size 0), only the next block to connect is fetched.
func (s *syncer) collect(sess *syncSession, sp *syncPeer, limit, size int) []*hdrEntry {
	if size <= 0 {
		limit, size = 1, 1
	}
	var out []*hdrEntry
	for _, e := range sess.entries[:limit] {
		if e.state != stWant {
			continue
		}
		if e.header.Height > sp.height || (sp.noMoreFrom != 0 && e.header.Height >= sp.noMoreFrom) {
			break
		}
		out = append(out, e)
		if len(out) == size {
			break
		}
	}
	return out
}

func (s *syncer) launchBatch(sess *syncSession, sp *syncPeer, entries []*hdrEntry) {
	b := &blockBatch{sess: sess, peer: sp.id, sp: sp, entries: entries, est: len(entries) * sess.avgBlock}
	for _, e := range entries {
		e.state, e.batch = stInflight, b
	}
	sp.inflight++
	sess.inflight++
	sess.inflightEst += b.est
	s.protect(sp.id)
	s.n.goRun(func() { s.fetchBlocks(b) })
}

// fetchBlocks runs one body request, posting each block as it arrives.
// Peer failures are scored here, but for a response that ends too early
// (short), which batchDone scores.
func (s *syncer) fetchBlocks(b *blockBatch) {
	p := b.peer
	notFound := -1
	short := false
	err := func() error {
		req := &getBlocks{Hashes: make([]types.Hash, len(b.entries))}
		for i, e := range b.entries {
			req.Hashes[i] = e.hash
		}
		st, err := s.openStream(p, s.n.names.blocks, req.encode())
		if err != nil {
			return err
		}
		defer context.AfterFunc(s.n.ctx, func() { st.Reset() })()
		// fail scores the peer's protocol failure and ends the response.
		fail := func(err error) error {
			s.n.protocolFailure(p, err)
			st.Reset()
			return err
		}
		maxFrame := blockFrameMax(s.params.MaxBlockSize)
		total := 0
		for i, e := range b.entries {
			raw, err := readTimedFrame(st, maxFrame, frameTimeout)
			if errors.Is(err, errEndOfStream) {
				// Only the server's response budget may end a response
				// before every hash is answered: then the rest is asked
				// for again. Sooner (nothing at all, say) is a miss.
				short = total < maxBlocksResponseBytes
				break
			}
			if err != nil {
				return fail(err)
			}
			if total += len(raw); total > maxBlocksResponseBytes+maxFrame {
				return fail(protocolError(ErrProtocol, "blocks response over %d bytes", maxBlocksResponseBytes))
			}
			f, err := decodeBlockFrame(raw, s.params.MaxBlockSize)
			if err != nil {
				return fail(err)
			}
			if f.NotFound {
				if f.Hash != e.hash {
					return fail(protocolError(ErrProtocol, "not-found for a block not asked for"))
				}
				notFound = i
				break
			}
			txids, err := checkBody(f.Block, e)
			if err != nil {
				s.n.Misbehaving(p, ScoreInvalidBlock, err.Error())
				st.Reset()
				return err
			}
			blk, size := f.Block, len(raw)-1
			s.post(func() { s.gotBlock(b, e, blk, txids, size) })
		}
		st.Close()
		return nil
	}()
	s.post(func() { s.batchDone(b, notFound, short, err) })
}

// checkBody checks that a block is the one its header names and carries
// the transactions the header commits to; it returns their ids.
func checkBody(blk *types.Block, e *hdrEntry) ([]types.Hash, error) {
	if blk.Header != e.header {
		return nil, fmt.Errorf("sent block %s for %s", blk.Hash(), e.hash)
	}
	txids := blk.TxHashes()
	if root := types.MerkleRoot(txids); root != e.header.TxRoot {
		return nil, fmt.Errorf("block %s: transactions do not match the header's root", e.hash)
	}
	return txids, nil
}

func (s *syncer) gotBlock(b *blockBatch, e *hdrEntry, blk *types.Block, txids []types.Hash, size int) {
	if e.state != stInflight || e.batch != b || b.sess != s.sess {
		return // late: the block went to another peer meanwhile
	}
	e.state, e.batch, e.blk, e.txids, e.size, e.from = stHave, nil, blk, txids, size, b.peer
	b.sess.bufBytes += size
	b.sess.avgBlock = max(1, (7*b.sess.avgBlock+size)/8)
	s.deliverers[b.peer] = true
	b.sess.lastEvent = time.Now()
}

// releaseBatch takes a batch out of the in-flight counts, once, and puts
// its undelivered blocks back to be asked for; it returns how many.
func (s *syncer) releaseBatch(b *blockBatch) int {
	if b.released {
		return 0
	}
	b.released = true
	b.sp.inflight--
	if b.sess == s.sess {
		b.sess.inflight--
		b.sess.inflightEst -= b.est
	}
	requeued := 0
	for _, e := range b.entries {
		if e.state == stInflight && e.batch == b {
			e.state, e.batch = stWant, nil
			requeued++
		}
	}
	return requeued
}

// batchDone ends a body request: its undelivered blocks go back to be
// asked for (from another peer, if this one missed or failed: it cools
// down). notFound is the index of a "not found" answer (-1: none); short
// says the response ended early without one.
func (s *syncer) batchDone(b *blockBatch, notFound int, short bool, err error) {
	requeued := s.releaseBatch(b)
	sp := b.sp
	if s.peers[b.peer] != sp {
		return // the peer left since: its old request says nothing of it now
	}
	if notFound >= 0 {
		e := b.entries[notFound]
		if sp.noMoreFrom == 0 || e.header.Height < sp.noMoreFrom {
			sp.noMoreFrom = e.header.Height
		}
		// Any peer may lack a block of another branch than its own; the
		// header source sent this block's header from its main chain.
		if b.sess == s.sess && b.peer == b.sess.source {
			s.missedBlocks(sp, requeued, fmt.Sprintf("said it does not have block %s, whose header it sent", e.hash))
		}
	}
	if short {
		s.missedBlocks(sp, requeued, fmt.Sprintf("ended a response for %d blocks early, %d undelivered", len(b.entries), requeued))
	}
	if err != nil {
		sp.coolUntil = time.Now().Add(stallCooldown)
		if s.n.ctx.Err() == nil {
			s.n.log.Debug("block request failed; reassigning", "peer", b.peer, "blocks", requeued, "err", err)
		}
	}
}

// missedBlocks charges a peer that did not deliver blocks it had to
// (ScoreMissedBlocks); it gets no request for stallCooldown, so its
// blocks go to other peers at once.
func (s *syncer) missedBlocks(sp *syncPeer, requeued int, reason string) {
	sp.coolUntil = time.Now().Add(stallCooldown)
	s.n.log.Debug("peer missed blocks; reassigning", "peer", sp.id, "blocks", requeued, "reason", reason)
	s.n.Misbehaving(sp.id, ScoreMissedBlocks, reason)
}
