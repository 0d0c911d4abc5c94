package p2p

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Misbehaviour costs, in ban-score points; a peer reaching the ban
// threshold (100 by default) is disconnected and banned. Invalid blocks
// and oversized frames cost a ban at once: an honest node never sends
// them. Honest nodes can relay a transaction that became invalid, so those
// cost little.
const (
	ScoreInvalidBlock  = 100
	ScoreInvalidHeader = 100
	ScoreFrameTooLarge = 100
	ScoreMalformed     = 50
	ScoreProtocol      = 20
	ScoreUnrequested   = 5
	ScoreInvalidTx     = 10
	ScoreStall         = 10
	// ScoreMissedBlocks: a blocks response that ended before answering
	// every hash (with a block or "not found") and before the response
	// budget, or the header source saying "not found" for a block whose
	// header it sent. An honest server does neither; still, one miss
	// costs a tenth of a ban, and the peer waits stallCooldown before it
	// is asked again, so only a peer that keeps missing is banned.
	ScoreMissedBlocks  = 10
	scoreHalfLife      = 10 * time.Minute
	latencyTagInterval = 30 * time.Second
	latencyTag         = "ledger-latency"
	latencyTagMax      = 50
	protectTagSync     = "ledger-sync"
)

// peerInfo is what the node knows of one connected peer.
//
// A peer may have several connections at once (both sides dialled at the
// same moment, or a redial before the old connection is gone). The status
// belongs to the peer, not to a connection: it holds while any connection
// remains. statusConn is the connection it last came over, so that a
// disconnect notified late (after a new connection brought a new status)
// does not wipe it.
type peerInfo struct {
	status     PeerStatus
	hasStatus  bool
	statusConn network.Conn
	// handshaking: this node is running a handshake with the peer as the
	// initiator (at most one at a time, whatever the connections).
	handshaking bool
	// answered holds the connections, by id, on which the peer started a
	// handshake that this node answered: one per connection is allowed.
	answered map[string]network.Conn
	// score is the decaying misbehaviour score as of scoreAt.
	score   float64
	scoreAt time.Time
}

// peerSet tracks connected peers' statuses and misbehaviour scores.
type peerSet struct {
	clock func() time.Time

	mu sync.Mutex
	// peers is guarded by mu.
	peers map[peer.ID]*peerInfo
}

func newPeerSet(clock func() time.Time) *peerSet {
	return &peerSet{clock: clock, peers: map[peer.ID]*peerInfo{}}
}

func (s *peerSet) get(p peer.ID) *peerInfo {
	pi := s.peers[p]
	if pi == nil {
		pi = &peerInfo{scoreAt: s.clock()}
		s.peers[p] = pi
	}
	return pi
}

// setStatus records a peer's status, received over connection c.
func (s *peerSet) setStatus(p peer.ID, st PeerStatus, c network.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.get(p)
	pi.status, pi.hasStatus, pi.statusConn = st, true, c
}

// liveStatus reports whether the recorded status came over a connection
// still open. A status whose connection closed, but whose disconnect has
// not been notified yet, does not count: a new connection must handshake.
// Guarded by peerSet.mu.
func (pi *peerInfo) liveStatus() bool {
	return pi.hasStatus && pi.statusConn != nil && !pi.statusConn.IsClosed()
}

// beginHandshake claims the initiator's handshake with p; false if the
// peer's status is known already (over a connection still open, see
// liveStatus) or a handshake with it is running.
func (s *peerSet) beginHandshake(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.get(p)
	if pi.liveStatus() || pi.handshaking {
		return false
	}
	pi.handshaking = true
	return true
}

// hasLiveStatus reports whether p's status is known over a connection
// still open.
func (s *peerSet) hasLiveStatus(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.peers[p]
	return pi != nil && pi.liveStatus()
}

func (s *peerSet) endHandshake(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pi := s.peers[p]; pi != nil {
		pi.handshaking = false
	}
}

// firstHandshakeOn records that p started a handshake on connection c; it
// reports false if p had started one on c before. Closed connections are
// forgotten here and by connClosed, so the set stays as small as the
// peer's open connections.
func (s *peerSet) firstHandshakeOn(p peer.ID, c network.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.get(p)
	if _, ok := pi.answered[c.ID()]; ok {
		return false
	}
	if pi.answered == nil {
		pi.answered = map[string]network.Conn{}
	}
	for id, old := range pi.answered {
		if old.IsClosed() {
			delete(pi.answered, id)
		}
	}
	pi.answered[c.ID()] = c
	return true
}

// noteBest raises a peer's known best chain when it announces a block.
func (s *peerSet) noteBest(p peer.ID, height uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pi := s.peers[p]; pi != nil && pi.hasStatus && height > pi.status.Height {
		pi.status.Height = height
	}
}

func (s *peerSet) status(p peer.ID) (PeerStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.peers[p]
	if pi == nil || !pi.hasStatus {
		return PeerStatus{}, false
	}
	return pi.status, true
}

// addScore adds points to a peer's decayed score and returns the result.
func (s *peerSet) addScore(p peer.ID, points int) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.get(p)
	now := s.clock()
	pi.score = decayed(pi.score, now.Sub(pi.scoreAt)) + float64(points)
	pi.scoreAt = now
	return pi.score
}

func (s *peerSet) score(p peer.ID) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.peers[p]
	if pi == nil {
		return 0
	}
	return decayed(pi.score, s.clock().Sub(pi.scoreAt))
}

func decayed(score float64, elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return score
	}
	return score * math.Exp2(-elapsed.Seconds()/scoreHalfLife.Seconds())
}

// connClosed forgets connection c of peer p and, when stillConnected is
// false (no other connection to p), the peer's status, keeping its score
// until it decays. A status that came over a connection still open is
// kept: the disconnect was notified after a new connection brought it.
func (s *peerSet) connClosed(p peer.ID, c network.Conn, stillConnected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.peers[p]
	if pi == nil {
		return
	}
	delete(pi.answered, c.ID())
	if stillConnected || (pi.statusConn != nil && !pi.statusConn.IsClosed()) {
		return
	}
	pi.status, pi.hasStatus, pi.statusConn = PeerStatus{}, false, nil
}

// prune drops entries of peers without a status, handshake or answered
// connection whose score has decayed below one point, so records of
// departed peers do not accumulate.
func (s *peerSet) prune() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	for p, pi := range s.peers {
		if !pi.hasStatus && !pi.handshaking && len(pi.answered) == 0 && decayed(pi.score, now.Sub(pi.scoreAt)) < 1 {
			delete(s.peers, p)
		}
	}
}

func (s *peerSet) remove(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.peers, p)
}

// PeerInfo describes a connected peer for operators.
type PeerInfo struct {
	ID        peer.ID
	Addrs     []string
	Direction string
	Height    uint32
	LatencyMs float64
	Score     float64
}

// Peers lists the connected peers, lowest latency first.
func (n *Node) Peers() []PeerInfo {
	var out []PeerInfo
	for _, p := range n.host.Network().Peers() {
		info := PeerInfo{ID: p, Score: n.peers.score(p)}
		if st, ok := n.peers.status(p); ok {
			info.Height = st.Height
		}
		for _, c := range n.host.Network().ConnsToPeer(p) {
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr().String())
			if c.Stat().Direction == network.DirOutbound {
				info.Direction = "outbound"
			} else if info.Direction == "" {
				info.Direction = "inbound"
			}
		}
		info.LatencyMs = float64(n.host.Peerstore().LatencyEWMA(p)) / float64(time.Millisecond)
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return latencyKey(out[i].LatencyMs) < latencyKey(out[j].LatencyMs) })
	return out
}

// latencyKey sorts unmeasured latency (0) last.
func latencyKey(ms float64) float64 {
	if ms <= 0 {
		return math.Inf(1)
	}
	return ms
}

// Misbehaving raises a peer's ban score; at the threshold the peer is
// disconnected and banned for the ban duration (persisted).
func (n *Node) Misbehaving(p peer.ID, points int, reason string) {
	if p == "" || p == n.host.ID() {
		return
	}
	score := n.peers.addScore(p, points)
	n.log.Debug("peer misbehaving", "peer", p, "points", points, "score", score, "reason", reason)
	if score >= float64(n.cfg.BanThreshold) {
		n.log.Info("banning peer", "peer", p, "score", int(score), "reason", reason, "for", n.cfg.BanDuration)
		n.banPeer(p, n.cfg.BanDuration, reason)
	}
}

// protocolFailure scores a peer's protocol error by its kind.
func (n *Node) protocolFailure(p peer.ID, err error) {
	switch {
	case isKind(err, ErrFrameTooLarge):
		n.Misbehaving(p, ScoreFrameTooLarge, err.Error())
	case isKind(err, ErrMalformed):
		n.Misbehaving(p, ScoreMalformed, err.Error())
	case isKind(err, ErrProtocol):
		n.Misbehaving(p, ScoreProtocol, err.Error())
	case isKind(err, ErrTimeout):
		n.Misbehaving(p, ScoreStall, err.Error())
	}
}

// tagByLatency gives lower-latency peers a higher connection-manager value,
// so that when trimming, the connection manager keeps the closest peers.
func (n *Node) tagByLatency() {
	for _, p := range n.host.Network().Peers() {
		lat := n.host.Peerstore().LatencyEWMA(p)
		if lat <= 0 {
			continue
		}
		// 1 ms scores latencyTagMax, 500 ms and more score 0.
		v := latencyTagMax - int(float64(latencyTagMax)*math.Min(1, lat.Seconds()/0.5))
		n.host.ConnManager().TagPeer(p, latencyTag, v)
	}
}
