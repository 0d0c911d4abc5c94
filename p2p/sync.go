package p2p

// This file holds the sync service's overview and limits, the syncer and
// what it knows of peers, the serving side, and the sync manager: its event
// loop, peer tracking and session scheduling. syncsession.go holds a
// session's header and body download, syncconnect.go the in-order
// connection of blocks and the manager's tick.

import (
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

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
//     late block is ignored. So does a peer that misses (ScoreMissedBlocks:
//     a response that ends before answering every hash and before the
//     response budget, or the header source's "not found" for a block
//     whose header it sent), and it cools down; any other peer's "not
//     found" costs nothing but its being asked for that height again in
//     the session. A peer that disconnects loses its requests at once;
//     what its old connection still delivers is ignored.
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
// with the peer that relayed the orphan, up to the missing block, unless
// the hint is older than maxHintAge by then; if that connects nothing, the
// peer's orphans fetch nothing for ancestorCooldown (synchints.go).
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
	// while a session runs; maxHintAge is how long one stays worth a
	// session: an older one has likely been overtaken (its block lost a
	// race, and its relayer would answer nothing).
	maxAncestorHints = 16
	maxHintAge       = 10 * time.Second
	// ancestorCooldown: a peer whose orphan's ancestors could not be
	// fetched from it gets no ancestor fetch for this long; its orphans
	// meanwhile are pooled and fetch nothing. Orphans are cheap to make
	// (proof of work only against the bits in their own header), so
	// without it each one would buy a headers request and a session that
	// pre-empts the real sync. maxHintCooldowns bounds the peers
	// remembered cooling down (they outlive a disconnect).
	ancestorCooldown = 30 * time.Second
	maxHintCooldowns = 1024

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

	// servedBlocks counts the blocks served (read by tests); syncedBlocks
	// the blocks this node's sessions connected (the progress line).
	servedBlocks atomic.Int64
	syncedBlocks atomic.Int64

	limMu sync.Mutex
	// limits holds the serving token buckets per peer; guarded by limMu.
	limits map[peer.ID]*serveLimits

	// Owned by the manager goroutine.
	peers      map[peer.ID]*syncPeer
	sess       *syncSession
	nextSessID uint64
	queued     int // blocks handed to the verifier, not yet connected
	queuedTxs  int // their transactions
	startAt    time.Time
	// hints are the queued orphan-ancestor requests by relaying peer;
	// hintCool holds when each cooling-down relayer's hints are taken
	// again (see ancestorCooldown), kept across its reconnects.
	hints        map[peer.ID]ancestorHint
	hintCool     map[peer.ID]time.Time
	protected    map[peer.ID]bool
	lastProgress time.Time
	lastCount    int64
	// rate is the session's smoothed blocks/s (see smoothRate); rated
	// says its first window is in.
	rate  float64
	rated bool
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
		hints:      map[peer.ID]ancestorHint{},
		hintCool:   map[peer.ID]time.Time{},
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
	at := time.Now()
	s.tryPost(func() { s.gotAncestorHint(p, missing, at) })
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
	if err := writeFrame(st, encodeHeaders(s.headersAfter(req))); err != nil {
		st.Reset()
		return
	}
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

// dropPeer forgets a peer that disconnected: its block requests go back
// to be asked of others at once (their counts with them), and what its old
// connection still delivers is ignored (gotBlock, batchDone and gotHeaders
// check the request against the peer's current record). A peer that is
// connected again, with a status, starts afresh.
func (s *syncer) dropPeer(p peer.ID) {
	if sess := s.sess; sess != nil {
		for _, e := range sess.entries {
			if e.state == stInflight && e.batch.peer == p {
				s.releaseBatch(e.batch)
			}
		}
	}
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
	// A new connection's status may have been handled before this drop
	// (the disconnect of the old one is notified late): keep the peer.
	if st, ok := s.n.peers.status(p); ok {
		s.gotStatus(p, st)
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
	// Orphan ancestors first: gossip says the peer has them.
	if p, missing, ok := s.nextAncestorHint(now); ok {
		s.startSession(p, missing)
		return
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
		id: s.nextSessID, source: p, origin: p, stop: stop, ancestors: !stop.IsZero(),
		started: now, lastEvent: now, hdrWork: new(big.Int), ourWork: new(big.Int),
		avgBlock: min(initialBlockEstimate, int(s.params.MaxBlockSize)),
	}
	for _, sp := range s.peers {
		sp.noMoreFrom = 0
	}
	s.protect(p)
	s.lastProgress, s.lastCount = now, s.syncedBlocks.Load()
	s.rate, s.rated = 0, false
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
	if sess.ancestors && sess.connected == 0 {
		s.coolOrphanRelayer(sess, time.Now())
	}
	if complete && sess.connected > 0 {
		secs := time.Since(sess.started).Seconds()
		s.n.log.Info("sync complete", "height", tip.Height, "blocks", sess.connected,
			"seconds", fmt.Sprintf("%.1f", secs), "blocks_per_s", fmt.Sprintf("%.1f", float64(sess.connected)/secs))
	}
}

// abort ends the session because its headers or blocks proved bad, or
// could not be connected.
func (s *syncer) abort(reason string, args ...any) {
	if s.sess == nil {
		return
	}
	s.n.log.Info("sync session abandoned: "+reason, args...)
	s.endSession(false)
}
