package p2p

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// Block sync: headers first, then bodies from several peers.
//
// Serving: the headers and blocks protocols answer from the chain store
// (syncwire.go has the formats), one request per stream, with a deadline on
// every stream and a token bucket per peer and protocol. A request over the
// rate limit or the size limits is refused (the stream is reset) and costs
// the peer ban points; an oversized frame is refused before its body is
// read.
//
// Fetching: one goroutine, the sync manager (run), owns all client state;
// everything else (status handshakes, gossip hints, request goroutines, the
// connector) talks to it by posting closures on events. When a peer claims
// more total work than our tip, the manager starts a session with the best
// such peer (most work, then lowest latency) as its header source:
//
//  1. Headers: getheaders with our locator. Every header is checked before
//     any body is asked for: linkage, consensus.CheckHeaderSanity (version
//     and proof of work), consensus.CheckHeaderContext against its parent
//     (a stored block, or the previous downloaded header: the session
//     keeps the times needed for the median time past and the anchor time)
//     and CheckHeaderTime. A bad header costs the source ScoreInvalidHeader
//     (a ban) and ends the session. At most maxHeadersAhead headers wait
//     for their bodies; more are asked for as bodies connect.
//  2. Bodies: once the downloaded headers carry more work than our chain
//     above their fork point, batches of up to maxBatchBlocks blocks go to
//     every connected peer whose height covers them (at most
//     maxBatchesPerPeer each), within a window of blockWindow blocks and
//     maxBufferedBytes past the next block to connect. A peer that stalls
//     (each frame has a deadline) or sends a block that does not match its
//     header is penalised and its undelivered blocks go to another peer; a
//     late block is ignored.
//  3. Connecting: blocks go to Chain.ProcessRequestedBlock strictly in order, on the
//     connector goroutine, while later bodies download. Just before, the
//     verifier goroutine checks the signatures of the next few blocks into
//     the chain's signature cache (as the mempool does for the
//     transactions it admits): signatures need no state, so they are
//     checked while the connector waits on the store's synced write, and
//     ProcessBlock finds them cached. ProcessBlock still validates
//     everything; a block whose signature fails is refused there.
//
// The state lives in the chain store: a node restarted mid-sync asks again
// from its locator. requestAncestors (gossip's orphans) starts a session
// with the peer that relayed the orphan, up to the missing block.
const (
	// syncStartDelay: after the first better peer is heard, wait this
	// long for the other peers' statuses before choosing the source.
	syncStartDelay = 250 * time.Millisecond
	// maxHeadersAhead caps the downloaded headers whose blocks are not
	// connected yet (about 0.6 MB of memory), and so the depth of a fork
	// whose headers must outweigh our chain before its bodies are fetched.
	maxHeadersAhead = 4096
	// blockWindow and maxBufferedBytes bound the blocks fetched ahead of
	// the next block to connect: bytes buffered plus an estimate of the
	// bytes in flight (batches times the average block size seen, at
	// first initialBlockEstimate). maxBatchesInFlight caps the requests
	// in flight whatever the estimate: each response carries at most
	// maxBlocksResponseBytes plus one block.
	blockWindow          = 1024
	maxBufferedBytes     = 64 << 20
	initialBlockEstimate = 256 << 10
	maxBatchesInFlight   = 16
	// maxBatchBlocks and minBatchBlocks bound one body request;
	// maxBatchesPerPeer bounds the requests in flight per peer.
	maxBatchBlocks    = 64
	minBatchBlocks    = 4
	maxBatchesPerPeer = 2
	// connectQueue is how many in-order blocks wait for the verifier
	// and the connector; verifyAheadTxs bounds their transactions, so the
	// signatures checked ahead stay a small part of the signature cache
	// (chain.DefaultSigCacheSize).
	connectQueue   = 8
	verifyAheadTxs = 20_000
	// frameTimeout is how long a peer has to start each response frame
	// (see readTimedFrame for the allowance by size): a stall.
	frameTimeout = 4 * time.Second
	// stallCooldown: a peer that stalled or failed gets no request for
	// this long.
	stallCooldown = 30 * time.Second
	// sessionIdleTimeout ends a session that has nothing in flight and
	// has made no progress for this long (no peer can serve it).
	sessionIdleTimeout = 20 * time.Second
	progressInterval   = 5 * time.Second
	syncTick           = 200 * time.Millisecond
	// maxAncestorHints bounds the orphan-ancestor requests remembered
	// while a session runs.
	maxAncestorHints = 16

	// Serving limits per peer: token buckets of requests.
	serveHeadersRate  = 10
	serveHeadersBurst = 40
	serveBlocksRate   = 10
	serveBlocksBurst  = 40
	// The client paces itself below the serving limits, so an honest node
	// never trips a peer's limiter.
	askHeadersRate  = 8
	askHeadersBurst = 20
	askBlocksRate   = 8
	askBlocksBurst  = 20
	// serveLimitIdle: a peer's buckets are forgotten after this long
	// unused (a full bucket is the same as none).
	serveLimitIdle = time.Minute
)

// syncer is the sync service: the protocol handlers and the sync manager.
type syncer struct {
	n      *Node
	chain  Chain
	params *consensus.Params

	// events carries work for the manager goroutine.
	events chan func()
	// toVerify and toConnect carry in-order blocks to the verifier, then
	// the connector goroutine.
	toVerify  chan connectItem
	toConnect chan connectItem
	// sigs is the chain's signature cache, if it exposes one.
	sigs consensus.SigCache

	// Counters, for operators and tests.
	servedHeaders atomic.Int64
	servedBlocks  atomic.Int64
	syncedBlocks  atomic.Int64

	limMu sync.Mutex
	// limits holds the serving token buckets per peer; guarded by limMu.
	limits map[peer.ID]*serveLimits

	// Owned by the manager goroutine.
	peers        map[peer.ID]*syncPeer
	sess         *syncSession
	nextSessID   uint64
	queued       int // blocks handed to the verifier, not yet connected
	queuedTxs    int // their transactions
	startAt      time.Time
	hints        map[peer.ID]types.Hash
	protected    map[peer.ID]bool
	lastProgress time.Time
	lastCount    int64
	// deliverers are the peers that sent blocks since the last progress
	// line.
	deliverers map[peer.ID]bool
}

// syncPeer is what the manager knows of a peer.
type syncPeer struct {
	id        peer.ID
	hasStatus bool
	work      *big.Int
	height    uint32
	inflight  int // block batches in flight
	hdrBusy   bool
	coolUntil time.Time
	// exhaustedAt is our tip when a session with this peer brought
	// nothing better: it is not asked again until our tip or its status
	// changes.
	exhaustedAt types.Hash
	// exhaustedWork is the work it claimed then: only a higher claim makes
	// it a candidate again (re-announcing the same or less changes nothing).
	exhaustedWork *big.Int
	// noMoreFrom is the lowest height it said it did not have in the
	// current session (0: none).
	noMoreFrom uint32
	askHeaders tokenBucket
	askBlocks  tokenBucket
}

// syncSession is one headers-first download from a header source.
type syncSession struct {
	id     uint64
	source peer.ID
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
	sess    *syncSession
	peer    peer.ID
	entries []*hdrEntry
	est     int // its share of sess.inflightEst
}

type connectItem struct {
	sess  *syncSession
	entry *hdrEntry
	blk   *types.Block
	txids []types.Hash
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

// tokenBucket is a rate limiter: burst tokens, refilled at rate per second.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (b *tokenBucket) ready(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		return true
	}
	return min(burst, b.tokens+now.Sub(b.last).Seconds()*rate) >= 1
}

type serveLimits struct {
	headers, blocks tokenBucket
	used            time.Time
}

// startSync registers the sync protocols and starts the sync manager.
func (n *Node) startSync() (*syncer, error) {
	sy := &syncer{
		n:          n,
		chain:      n.cfg.Chain,
		params:     n.cfg.Chain.Params(),
		events:     make(chan func(), 1024),
		toVerify:   make(chan connectItem, connectQueue),
		toConnect:  make(chan connectItem, connectQueue),
		limits:     map[peer.ID]*serveLimits{},
		peers:      map[peer.ID]*syncPeer{},
		hints:      map[peer.ID]types.Hash{},
		protected:  map[peer.ID]bool{},
		deliverers: map[peer.ID]bool{},
	}
	sy.sigs = n.cfg.Chain.SigCache()
	n.host.SetStreamHandler(n.names.headers, sy.handleHeaders)
	n.host.SetStreamHandler(n.names.blocks, sy.handleBlocks)
	n.host.Network().Notify(&network.NotifyBundle{
		DisconnectedF: func(nw network.Network, c network.Conn) {
			p := c.RemotePeer()
			if nw.Connectedness(p) == network.Connected {
				return
			}
			sy.tryPost(func() { sy.dropPeer(p) })
		},
	})
	n.onStatus(func(p peer.ID, st PeerStatus) {
		sy.post(func() { sy.gotStatus(p, st) })
	})
	n.goRun(sy.run)
	n.goRun(sy.verifier)
	n.goRun(sy.connector)
	return sy, nil
}

// requestAncestors asks the sync manager to fetch the missing ancestors of
// a block (missing is the first unknown one) from peer p. It never blocks:
// gossip validators call it.
func (s *syncer) requestAncestors(p peer.ID, missing types.Hash) {
	if s == nil {
		return
	}
	s.tryPost(func() { s.gotAncestorHint(p, missing) })
}

// post hands fn to the manager, waiting for room unless the node stops.
func (s *syncer) post(fn func()) {
	select {
	case s.events <- fn:
	case <-s.n.ctx.Done():
	}
}

// tryPost hands fn to the manager if there is room; hints may be dropped.
func (s *syncer) tryPost(fn func()) {
	select {
	case s.events <- fn:
	default:
	}
}

// ---------------------------------------------------------------------
// Serving

func (s *syncer) allowServe(p peer.ID, headers bool) bool {
	now := time.Now()
	s.limMu.Lock()
	defer s.limMu.Unlock()
	l := s.limits[p]
	if l == nil {
		l = &serveLimits{}
		s.limits[p] = l
	}
	l.used = now
	if headers {
		return l.headers.take(now, serveHeadersRate, serveHeadersBurst)
	}
	return l.blocks.take(now, serveBlocksRate, serveBlocksBurst)
}

// pruneServeLimits forgets buckets unused for serveLimitIdle.
func (s *syncer) pruneServeLimits(now time.Time) {
	s.limMu.Lock()
	defer s.limMu.Unlock()
	for p, l := range s.limits {
		if now.Sub(l.used) > serveLimitIdle {
			delete(s.limits, p)
		}
	}
}

// refuse scores a peer's failed request and resets the stream.
func (s *syncer) refuse(st network.Stream, err error) {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		s.n.log.Debug("sync request refused", "peer", st.Conn().RemotePeer(), "err", err)
		s.n.protocolFailure(st.Conn().RemotePeer(), err)
	}
	st.Reset()
}

func (s *syncer) handleHeaders(st network.Stream) {
	p := st.Conn().RemotePeer()
	if !s.allowServe(p, true) {
		s.refuse(st, protocolError(ErrProtocol, "headers requests over the rate limit"))
		return
	}
	setDeadline(st, streamDeadline)
	raw, err := readFrame(st, maxGetHeadersSize)
	if err != nil {
		s.refuse(st, err)
		return
	}
	req, err := decodeGetHeaders(raw)
	if err != nil {
		s.refuse(st, err)
		return
	}
	hdrs := s.headersAfter(req)
	if err := writeFrame(st, encodeHeaders(hdrs)); err != nil {
		st.Reset()
		return
	}
	s.servedHeaders.Add(int64(len(hdrs)))
	st.Close()
}

// headersAfter returns the main-chain headers after the fork point of the
// locator (its first hash on our main chain; genesis if none), up to Max
// or up to and including Stop.
func (s *syncer) headersAfter(req *getHeaders) []types.Header {
	var start uint32
	for _, h := range req.Locator {
		if !s.chain.IsMainChain(h) {
			continue
		}
		if hdr, err := s.chain.HeaderByHash(h); err == nil {
			start = hdr.Height
			break
		}
	}
	tip := s.chain.Tip()
	if start >= tip.Height {
		return nil
	}
	prev, err := s.chain.HashAtHeight(start)
	if err != nil {
		return nil
	}
	out := make([]types.Header, 0, min(int(req.Max), int(tip.Height-start)))
	for h := start + 1; h <= tip.Height && len(out) < int(req.Max); h++ {
		hash, err := s.chain.HashAtHeight(h)
		if err != nil {
			break
		}
		hdr, err := s.chain.HeaderByHash(hash)
		if err != nil || hdr.PrevBlock != prev {
			break // the main chain moved under us: send what links
		}
		out = append(out, hdr)
		prev = hash
		if hash == req.Stop {
			break
		}
	}
	return out
}

func (s *syncer) handleBlocks(st network.Stream) {
	p := st.Conn().RemotePeer()
	if !s.allowServe(p, false) {
		s.refuse(st, protocolError(ErrProtocol, "block requests over the rate limit"))
		return
	}
	setDeadline(st, streamDeadline)
	raw, err := readFrame(st, maxGetBlocksSize)
	if err != nil {
		s.refuse(st, err)
		return
	}
	req, err := decodeGetBlocks(raw)
	if err != nil {
		s.refuse(st, err)
		return
	}
	sent := 0
	for _, h := range req.Hashes {
		if sent >= maxBlocksResponseBytes {
			break // the client asks again for the rest
		}
		var frame []byte
		blk, err := s.chain.BlockByHash(h)
		found := err == nil && !s.chain.IsKnownInvalid(h)
		if found {
			frame = encodeBlockFrame(blk)
		} else {
			frame = encodeNotFoundFrame(h)
		}
		_ = st.SetWriteDeadline(time.Now().Add(frameTimeout + time.Duration(len(frame))*time.Second/minTransferRate))
		if err := writeFrame(st, frame); err != nil {
			st.Reset()
			return
		}
		if !found {
			break
		}
		s.servedBlocks.Add(1)
		sent += len(frame)
	}
	st.Close()
}

// ---------------------------------------------------------------------
// The sync manager

func (s *syncer) run() {
	t := time.NewTicker(syncTick)
	defer t.Stop()
	s.lastProgress = time.Now()
	for {
		select {
		case <-s.n.ctx.Done():
			if s.sess != nil {
				s.sess.aborted.Store(true)
			}
			return
		case fn := <-s.events:
			fn()
		case now := <-t.C:
			s.onTick(now)
		}
		s.schedule()
	}
}

// verifier checks the signatures of queued blocks into the signature
// cache, then passes them on to the connector in the same order.
func (s *syncer) verifier() {
	workers := runtime.GOMAXPROCS(0)
	for {
		select {
		case <-s.n.ctx.Done():
			return
		case it := <-s.toVerify:
			if s.sigs != nil && !it.sess.aborted.Load() {
				// A failure is ProcessBlock's to find and report.
				_ = consensus.VerifySignatures(it.blk.Txs, it.txids, s.params, s.sigs, workers)
			}
			select {
			case s.toConnect <- it:
			case <-s.n.ctx.Done():
				return
			}
		}
	}
}

// connector hands blocks to the chain in the order it receives them.
func (s *syncer) connector() {
	for {
		select {
		case <-s.n.ctx.Done():
			return
		case it := <-s.toConnect:
			if it.sess.aborted.Load() || s.n.ctx.Err() != nil {
				s.post(func() { s.connected(it, chain.ProcessResult{}, errSessionAborted) })
				continue
			}
			res, err := s.chain.ProcessRequestedBlock(it.blk)
			s.post(func() { s.connected(it, res, err) })
		}
	}
}

var errSessionAborted = errors.New("sync session aborted")

func (s *syncer) peer(p peer.ID) *syncPeer {
	sp := s.peers[p]
	if sp == nil {
		sp = &syncPeer{id: p, work: new(big.Int)}
		s.peers[p] = sp
	}
	return sp
}

func (s *syncer) gotStatus(p peer.ID, st PeerStatus) {
	if s.n.host.Network().Connectedness(p) != network.Connected {
		return
	}
	sp := s.peer(p)
	sp.hasStatus = true
	if st.TotalWork != nil && st.TotalWork.Cmp(sp.work) != 0 {
		sp.work = new(big.Int).Set(st.TotalWork)
		if sp.exhaustedWork == nil || sp.work.Cmp(sp.exhaustedWork) > 0 {
			sp.exhaustedAt = types.Hash{}
		}
	}
	sp.height = max(sp.height, st.Height)
}

// gotAncestorHint queues an orphan's missing ancestor; maybeStart serves
// the queue when no session runs (the one running may bring it anyway).
func (s *syncer) gotAncestorHint(p peer.ID, missing types.Hash) {
	if s.n.host.Network().Connectedness(p) != network.Connected || s.n.bans.isBanned(p) {
		return
	}
	if _, ok := s.hints[p]; ok || len(s.hints) < maxAncestorHints {
		s.hints[p] = missing
	}
}

func (s *syncer) dropPeer(p peer.ID) {
	delete(s.peers, p)
	delete(s.hints, p)
	if s.protected[p] {
		s.n.host.ConnManager().Unprotect(p, protectTagSync)
		delete(s.protected, p)
	}
	if s.sess != nil && s.sess.source == p && !s.sess.headersDone {
		// Finish the bodies of the headers we have; a new session picks
		// the next source.
		s.sess.headersDone = true
		s.sess.source = ""
	}
}

func (s *syncer) protect(p peer.ID) {
	if !s.protected[p] {
		s.n.host.ConnManager().Protect(p, protectTagSync)
		s.protected[p] = true
	}
}

func (s *syncer) unprotectAll() {
	for p := range s.protected {
		s.n.host.ConnManager().Unprotect(p, protectTagSync)
	}
	clear(s.protected)
}

func (s *syncer) usable(sp *syncPeer, now time.Time) bool {
	return sp.hasStatus && !now.Before(sp.coolUntil) && !s.n.bans.isBanned(sp.id) &&
		s.n.host.Network().Connectedness(sp.id) == network.Connected
}

// latency is the peer's latency, unmeasured last.
func (s *syncer) latency(p peer.ID) time.Duration {
	if l := s.n.host.Peerstore().LatencyEWMA(p); l > 0 {
		return l
	}
	return time.Hour
}

// bestPeer is the usable peer claiming the most work above tip (lowest
// latency among equals), or nil.
func (s *syncer) bestPeer(tip chain.Tip, now time.Time) *syncPeer {
	var best *syncPeer
	for _, sp := range s.peers {
		if !s.usable(sp, now) || sp.work.Cmp(tip.TotalWork) <= 0 || sp.exhaustedAt == tip.Hash {
			continue
		}
		if best == nil {
			best = sp
			continue
		}
		switch c := sp.work.Cmp(best.work); {
		case c > 0:
			best = sp
		case c == 0 && s.latency(sp.id) < s.latency(best.id):
			best = sp
		}
	}
	return best
}

func (s *syncer) onTick(now time.Time) {
	s.pruneServeLimits(now)
	for p, sp := range s.peers {
		if s.n.host.Network().Connectedness(p) != network.Connected {
			s.dropPeer(p)
			continue
		}
		if st, ok := s.n.peers.status(p); ok {
			sp.height = max(sp.height, st.Height)
		}
	}
	sess := s.sess
	if sess == nil {
		return
	}
	if sess.inflight == 0 && !sess.hdrInflight && s.queued == 0 && now.Sub(sess.lastEvent) > sessionIdleTimeout {
		s.n.log.Warn("sync stalled: no peer serves the blocks needed; starting over", "height", s.chain.Tip().Height)
		s.endSession(false)
		return
	}
	if now.Sub(s.lastProgress) >= progressInterval {
		s.logProgress(now)
	}
}

func (s *syncer) logProgress(now time.Time) {
	sess := s.sess
	count := s.syncedBlocks.Load()
	rate := float64(count-s.lastCount) / now.Sub(s.lastProgress).Seconds()
	s.lastProgress, s.lastCount = now, count
	tip := s.chain.Tip()
	target := tip.Height
	if sess.tail != nil {
		target = max(target, sess.tail.height)
	}
	if sp := s.peers[sess.source]; sp != nil {
		target = max(target, sp.height)
	}
	s.n.log.Info("sync progress", "height", tip.Height, "target", target,
		"blocks_per_s", fmt.Sprintf("%.1f", rate), "peers", len(s.deliverers),
		"buffered_mib", fmt.Sprintf("%.1f", float64(sess.bufBytes)/(1<<20)))
	clear(s.deliverers)
}

// schedule runs after every event: start a session if there is a better
// peer, ask for headers, hand out body batches, feed the connector.
func (s *syncer) schedule() {
	if s.n.ctx.Err() != nil {
		return
	}
	now := time.Now()
	if s.sess == nil {
		s.maybeStart(now)
		if s.sess == nil {
			return
		}
	}
	s.feedConnector()
	if s.sess == nil {
		return
	}
	s.requestHeaders(now)
	s.assignBodies(now)
	if s.sess != nil && s.sess.headersDone && len(s.sess.entries) == 0 && s.sess.inflight == 0 && !s.sess.hdrInflight {
		s.endSession(true)
	}
}

func (s *syncer) maybeStart(now time.Time) {
	// Orphan ancestors first: gossip says the peer has them. A hint
	// waits while its peer has no status yet or is cooling down.
	for p, missing := range s.hints {
		if _, err := s.chain.HeaderByHash(missing); err == nil {
			delete(s.hints, p)
			continue
		}
		if sp := s.peers[p]; sp != nil && s.usable(sp, now) {
			delete(s.hints, p)
			s.startSession(p, missing)
			return
		}
	}
	tip := s.chain.Tip()
	best := s.bestPeer(tip, now)
	if best == nil {
		s.startAt = time.Time{}
		return
	}
	if s.startAt.IsZero() {
		s.startAt = now.Add(syncStartDelay)
	}
	if now.Before(s.startAt) {
		return
	}
	s.startAt = time.Time{}
	s.startSession(best.id, types.Hash{})
}

func (s *syncer) startSession(p peer.ID, stop types.Hash) {
	s.nextSessID++
	now := time.Now()
	s.sess = &syncSession{
		id: s.nextSessID, source: p, stop: stop, ancestors: !stop.IsZero(),
		started: now, lastEvent: now, hdrWork: new(big.Int), ourWork: new(big.Int),
		avgBlock: min(initialBlockEstimate, int(s.params.MaxBlockSize)),
	}
	for _, sp := range s.peers {
		sp.noMoreFrom = 0
	}
	s.protect(p)
	s.lastProgress, s.lastCount = now, s.syncedBlocks.Load()
	tip := s.chain.Tip()
	if s.sess.ancestors {
		s.n.log.Debug("fetching ancestors of an orphan", "peer", p, "missing", stop, "height", tip.Height)
	} else {
		target := uint32(0)
		if sp := s.peers[p]; sp != nil {
			target = sp.height
		}
		s.n.log.Info("sync started", "peer", p, "height", tip.Height, "target", target)
	}
}

// endSession closes the session: complete (all its blocks connected) or
// abandoned.
func (s *syncer) endSession(complete bool) {
	sess := s.sess
	if sess == nil {
		return
	}
	sess.aborted.Store(true)
	s.sess = nil
	s.unprotectAll()
	tip := s.chain.Tip()
	if sp := s.peers[sess.source]; sp != nil && sess.exhausted && sp.work.Cmp(tip.TotalWork) > 0 {
		// It claimed more work than we now have, yet had nothing more
		// for us: do not ask it again until our tip changes or it claims
		// more. Having served nothing at all, it claimed work it does
		// not have: that costs it.
		sp.exhaustedAt = tip.Hash
		sp.exhaustedWork = new(big.Int).Set(sp.work)
		if sess.connected == 0 && !sess.ancestors {
			s.n.Misbehaving(sess.source, ScoreProtocol, "claimed more work than it could serve")
		}
	}
	if complete && sess.connected > 0 {
		secs := time.Since(sess.started).Seconds()
		s.n.log.Info("sync complete", "height", tip.Height, "blocks", sess.connected,
			"seconds", fmt.Sprintf("%.1f", secs), "blocks_per_s", fmt.Sprintf("%.1f", float64(sess.connected)/secs))
	}
}

// abort ends the session because its headers or blocks proved bad.
func (s *syncer) abort(reason string, args ...any) {
	if s.sess == nil {
		return
	}
	s.n.log.Info("sync session abandoned: "+reason, args...)
	s.endSession(false)
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
	p := sp.id
	s.n.goRun(func() {
		hdrs, err := s.fetchHeaders(p, req)
		s.post(func() { s.gotHeaders(sess, p, req, hdrs, err) })
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

func (s *syncer) gotHeaders(sess *syncSession, p peer.ID, req *getHeaders, hdrs []types.Header, err error) {
	if sp := s.peers[p]; sp != nil {
		sp.hdrBusy = false
		if err != nil {
			sp.coolUntil = time.Now().Add(stallCooldown)
		}
	}
	if sess != s.sess {
		return
	}
	sess.hdrInflight = false
	sess.lastEvent = time.Now()
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
	if sp := s.peers[p]; sp != nil {
		sp.height = max(sp.height, last.height)
	}
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
	b := &blockBatch{sess: sess, peer: sp.id, entries: entries, est: len(entries) * sess.avgBlock}
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
// Peer failures are scored here.
func (s *syncer) fetchBlocks(b *blockBatch) {
	p := b.peer
	notFound := -1
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
		maxFrame := blockFrameMax(s.params.MaxBlockSize)
		total := 0
		for i, e := range b.entries {
			raw, err := readTimedFrame(st, maxFrame, frameTimeout)
			if errors.Is(err, errEndOfStream) {
				break // the server's response budget: ask again for the rest
			}
			if err != nil {
				s.n.protocolFailure(p, err)
				st.Reset()
				return err
			}
			if total += len(raw); total > maxBlocksResponseBytes+maxFrame {
				err := protocolError(ErrProtocol, "blocks response over %d bytes", maxBlocksResponseBytes)
				s.n.protocolFailure(p, err)
				st.Reset()
				return err
			}
			f, err := decodeBlockFrame(raw, s.params.MaxBlockSize)
			if err != nil {
				s.n.protocolFailure(p, err)
				st.Reset()
				return err
			}
			if f.NotFound {
				if f.Hash != e.hash {
					err := protocolError(ErrProtocol, "not-found for a block not asked for")
					s.n.protocolFailure(p, err)
					st.Reset()
					return err
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
	s.post(func() { s.batchDone(b, notFound, err) })
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

func (s *syncer) batchDone(b *blockBatch, notFound int, err error) {
	sp := s.peers[b.peer]
	if sp != nil {
		sp.inflight--
	}
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
	if sp == nil {
		return
	}
	if notFound >= 0 {
		h := b.entries[notFound].header.Height
		if sp.noMoreFrom == 0 || h < sp.noMoreFrom {
			sp.noMoreFrom = h
		}
	}
	if err != nil {
		sp.coolUntil = time.Now().Add(stallCooldown)
		if s.n.ctx.Err() == nil {
			s.n.log.Debug("block request failed; reassigning", "peer", b.peer, "blocks", requeued, "err", err)
		}
	}
}

// feedConnector hands buffered blocks to the verifier and connector in
// chain order. The channels hold connectQueue items, more than are ever
// queued, so the sends do not block.
func (s *syncer) feedConnector() {
	sess := s.sess
	for sess.sendIdx < len(sess.entries) && s.queued < connectQueue {
		e := sess.entries[sess.sendIdx]
		if e.state == stDone {
			sess.sendIdx++
			continue
		}
		if e.state != stHave || (s.queued > 0 && s.queuedTxs+len(e.blk.Txs) > verifyAheadTxs) {
			break
		}
		e.state = stQueued
		s.queued++
		s.queuedTxs += len(e.blk.Txs)
		sess.sendIdx++
		s.toVerify <- connectItem{sess: sess, entry: e, blk: e.blk, txids: e.txids}
	}
}

func (s *syncer) connected(it connectItem, res chain.ProcessResult, err error) {
	s.queued--
	s.queuedTxs -= len(it.blk.Txs)
	sess, e := it.sess, it.entry
	if sess != s.sess {
		return
	}
	sess.bufBytes -= e.size
	e.blk, e.txids = nil, nil
	sess.lastEvent = time.Now()
	switch {
	case err == nil && res.Orphan:
		s.abort("a synced block was taken for an orphan", "block", e.hash, "height", e.header.Height)
		return
	case err == nil, errors.Is(err, chain.ErrDuplicateBlock):
	case errors.Is(err, errSessionAborted):
		return
	case errors.Is(err, consensus.ErrTimeTooNew):
		// Valid later, perhaps: nobody's fault.
		s.abort("block from the future", "block", e.hash, "height", e.header.Height)
		return
	case consensus.IsBodyMismatch(err):
		// checkBody compared the root on arrival; only the sender can
		// be at fault.
		s.n.Misbehaving(e.from, ScoreInvalidBlock, fmt.Sprintf("sent block %s with other transactions", e.hash))
		s.abort("block body does not match its header", "block", e.hash)
		return
	default:
		var re *consensus.RuleError
		if errors.As(err, &re) || errors.Is(err, chain.ErrKnownInvalid) {
			s.n.Misbehaving(e.from, ScoreInvalidBlock, fmt.Sprintf("sent invalid block %s: %v", e.hash, err))
			if sess.source != e.from {
				s.n.Misbehaving(sess.source, ScoreInvalidHeader, fmt.Sprintf("sent the header of invalid block %s", e.hash))
			}
			s.abort("invalid block", "block", e.hash, "height", e.header.Height, "err", err)
		} else {
			s.n.log.Warn("sync: the chain store failed", "block", e.hash, "err", err)
			s.abort("store failure", "err", err)
		}
		return
	}
	e.state = stDone
	sess.connected++
	s.syncedBlocks.Add(1)
	s.popDone(sess)
}

// popDone drops the connected entries at the front.
func (s *syncer) popDone(sess *syncSession) {
	k := 0
	for k < len(sess.entries) && k < sess.sendIdx && sess.entries[k].state == stDone {
		k++
	}
	for k == sess.sendIdx && k < len(sess.entries) && sess.entries[k].state == stDone {
		k++
		sess.sendIdx++
	}
	if k > 0 {
		clear(sess.entries[:k])
		sess.entries = sess.entries[k:]
		sess.sendIdx -= k
	}
}
