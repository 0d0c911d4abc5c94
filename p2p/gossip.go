package p2p

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
)

// Gossip of transactions and blocks over gossipsub.
//
// Settings, and why:
//   - Blocks and transactions carry their own signatures and proof of work,
//     so pubsub messages are neither signed nor authored (StrictNoSign,
//     WithNoAuthor) and a message's id is the SHA-256 of its data (first
//     20 bytes): the same transaction or block is the same message whoever
//     relays it, and re-publishing one is a harmless duplicate.
//   - The largest message is the network's largest block plus framing
//     (gossipFraming). It derives from the genesis parameters, so it is the
//     same on every node of a network, as pubsub requires. An inbound frame
//     announcing more is refused before its body is read, and the sender is
//     penalised (gossipHost below): pubsub itself would only drop it.
//   - Validation, outbound and subscription queues hold gossipQueueSize
//     entries instead of pubsub's 32, which drop silently when full.
//   - Mesh parameters are pubsub's defaults except the heartbeat, which is
//     Config.GossipHeartbeat (1 s in production, 100 ms in tests so meshes
//     form in a fraction of a second). Package globals are never changed.
//   - Validators run the real checks (the pool's and the chain's) before a
//     message is forwarded: Accept forwards, Reject penalises the peer that
//     relayed it in pubsub's score and in the node's ban score, Ignore drops
//     it without penalty (duplicates, orphans, policy refusals, transactions
//     made stale by a block, blocks from the near future).
//   - Peer scoring (see scoreParams) charges invalid messages heavily and
//     mirrors the node's own ban score as the application score, so a peer
//     the node considers bad is graylisted by pubsub too; a peer that
//     pubsub graylists for invalid messages is banned (enforceGraylist),
//     rather than left connected and muted.
//   - A gossiped block whose parent is unknown is handed to sync and, once
//     connected, relayed by this node (the validator could not forward
//     it): peers behind this node need not wait for the next block.
const (
	// gossipQueueSize sizes pubsub's validation queue, per-peer outbound
	// queues and subscription buffers for bursts of transactions.
	gossipQueueSize = 4096
	// gossipFraming is the room left for the RPC envelope around a block:
	// topic name, protobuf tags and lengths, and control messages that
	// may share the frame.
	gossipFraming = 64 << 10
	// msgIDSize is how much of the SHA-256 of a message makes its id.
	msgIDSize = 20
	// maxGossipOrphans bounds the gossiped orphans remembered for relay
	// once their ancestors arrive; orphanRelayAge is how long they are.
	maxGossipOrphans = 256
	orphanRelayAge   = 10 * time.Minute
)

// gossip owns the pubsub router, the two topics and their subscriptions.
type gossip struct {
	n      *Node
	ps     *pubsub.PubSub
	txT    *pubsub.Topic
	blockT *pubsub.Topic
	txSub  *pubsub.Subscription
	blkSub *pubsub.Subscription
	// maxMsg is the largest pubsub frame, the same on every node.
	maxMsg int
	// score is the peer-scoring configuration (read-only).
	score *pubsub.PeerScoreParams

	ctx    context.Context
	cancel context.CancelFunc
	// wg tracks the read loops and the publisher.
	wg sync.WaitGroup
	// txOut queues transactions the pool accepted, for the publisher.
	txOut chan *types.Tx
	// skipHook holds transactions being added to the pool by the tx
	// validator or PublishTx: the pool's accepted hook must not queue them
	// (pubsub forwards a validated message itself; PublishTx publishes at
	// once). Keyed by pointer: the pool keeps the pointer it was given.
	skipHook sync.Map

	mu sync.RWMutex
	// closed is set by close; guarded by mu. Validators check it and
	// register in inflight under mu, so close can wait for them.
	closed   bool
	inflight sync.WaitGroup
	// closedFlag mirrors closed for the pool and chain hooks, which must
	// not block.
	closedFlag atomic.Bool

	orphanMu sync.Mutex
	// orphans holds gossiped blocks ignored for an unknown parent, and
	// when they came; guarded by orphanMu. When one is connected (sync
	// fetched its ancestors), it is relayed: the validator could not
	// forward it, and the peers behind this node may still want it.
	orphans map[types.Hash]time.Time
	// relay queues such blocks for the publisher.
	relay chan *types.Block
}

// startGossip creates the gossipsub router, joins the transaction and
// block topics with their validators, starts draining the subscriptions
// and relays the transactions the pool accepts.
func (n *Node) startGossip() (*gossip, error) {
	params := n.cfg.Chain.Params()
	ctx, cancel := context.WithCancel(n.ctx)
	g := &gossip{
		n:       n,
		maxMsg:  int(params.MaxBlockSize) + gossipFraming,
		ctx:     ctx,
		cancel:  cancel,
		txOut:   make(chan *types.Tx, gossipQueueSize),
		orphans: map[types.Hash]time.Time{},
		relay:   make(chan *types.Block, maxGossipOrphans),
	}
	ok := false
	defer func() {
		if !ok {
			cancel()
		}
	}()

	gs := pubsub.DefaultGossipSubParams()
	gs.HeartbeatInterval = n.cfg.GossipHeartbeat
	if gs.HeartbeatInitialDelay > gs.HeartbeatInterval {
		gs.HeartbeatInitialDelay = gs.HeartbeatInterval
	}
	scoreParams, thresholds := g.scoreParams()
	g.score = scoreParams
	// The router sees the host through gossipHost, which checks the
	// length of every inbound frame before pubsub reads its body.
	h := &gossipHost{Host: n.host, max: g.maxMsg, tooLarge: g.frameTooLarge}
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID),
		pubsub.WithMaxMessageSize(g.maxMsg),
		pubsub.WithValidateQueueSize(gossipQueueSize),
		pubsub.WithPeerOutboundQueueSize(gossipQueueSize),
		pubsub.WithGossipSubParams(gs),
		pubsub.WithPeerScore(scoreParams, thresholds),
		pubsub.WithPeerScoreInspect(pubsub.ExtendedPeerScoreInspectFn(g.enforceGraylist), time.Second),
		pubsub.WithFloodPublish(true),
	)
	if err != nil {
		return nil, fmt.Errorf("gossipsub: %w", err)
	}
	g.ps = ps
	if g.txT, g.txSub, err = g.join(n.names.txTopic, g.validateTx); err != nil {
		return nil, err
	}
	if g.blockT, g.blkSub, err = g.join(n.names.blockTopic, g.validateBlock); err != nil {
		return nil, err
	}
	n.cfg.Mempool.Subscribe(g.onAccepted)
	n.cfg.Chain.Subscribe(g.onChain)
	g.wg.Add(3)
	go g.drain(g.txSub)
	go g.drain(g.blkSub)
	go g.publishLoop()
	ok = true
	return g, nil
}

// join joins a topic with its validator and subscribes to it: a node
// subscribes to be part of the topic's mesh and relay.
func (g *gossip) join(name string, val func(context.Context, peer.ID, *pubsub.Message) pubsub.ValidationResult) (*pubsub.Topic, *pubsub.Subscription, error) {
	if err := g.ps.RegisterTopicValidator(name, val); err != nil {
		return nil, nil, fmt.Errorf("gossip validator for %s: %w", name, err)
	}
	t, err := g.ps.Join(name)
	if err != nil {
		return nil, nil, fmt.Errorf("gossip topic %s: %w", name, err)
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(gossipQueueSize))
	if err != nil {
		return nil, nil, fmt.Errorf("gossip subscription %s: %w", name, err)
	}
	return t, sub, nil
}

// close stops the read loops and the publisher, waits for running
// validators and shuts the router down.
func (g *gossip) close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	g.closedFlag.Store(true)
	g.mu.Unlock()
	g.txSub.Cancel()
	g.blkSub.Cancel()
	g.cancel()
	g.inflight.Wait()
	g.wg.Wait()
	return nil
}

// enter registers a running validator; false once closing.
func (g *gossip) enter() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return false
	}
	g.inflight.Add(1)
	return true
}

func (g *gossip) leave() { g.inflight.Done() }

// messageID is the message's content hash: the same transaction or block
// is the same message whoever relays it.
func messageID(m *pb.Message) string {
	sum := sha256.Sum256(m.GetData())
	return string(sum[:msgIDSize])
}

// Peer-score thresholds. A peer below gossipThreshold neither sends nor
// receives IHAVE gossip; below publishThreshold it gets none of our own
// publishes; below graylistThreshold everything it sends is dropped
// unread, and enforceGraylist bans it if that is for invalid messages.
const (
	gossipThreshold   = -20.0
	publishThreshold  = -40.0
	graylistThreshold = -80.0
	// Weights of P4 (invalid messages, squared count). A block topic
	// offence costs at least ScoreMalformed ban points (-40 of P5, below),
	// a transaction offence ScoreInvalidTx (-8): one malformed block stays
	// above the graylist (-70) so that a second one reaches the validator
	// and the ban logic; one invalid block is a ban anyway. Invalid
	// transactions reach the graylist at the fourth (-112) and are banned
	// then, sooner than the ten that ban points alone would take: an
	// honest peer, which validates before relaying, never sends one.
	blockInvalidWeight = -30.0
	txInvalidWeight    = -5.0
)

// scoreParams returns gossipsub's peer-scoring parameters.
//
// Choices: the message rate is low (a block every few seconds to minutes,
// transactions in bursts), so the mesh-delivery penalties (P3, P3b) are
// off: quiet honest peers would be penalised for not delivering what was
// never sent. Invalid messages (P4) are charged heavily relative to the
// small positive scores (at most +10 in all: time in mesh and first
// deliveries, which only steer opportunistic grafting). P5, the
// application score, is the node's own decaying ban score scaled so that
// the ban threshold sits exactly at the graylist threshold: whatever the
// node holds against a peer (failed handshakes, oversized frames, invalid
// data on any protocol) also mutes it in gossip. Loopback addresses are
// exempt from the IP colocation penalty (P6): local testnets put every
// node on 127.0.0.1.
func (g *gossip) scoreParams() (*pubsub.PeerScoreParams, *pubsub.PeerScoreThresholds) {
	topic := func(invalidWeight float64) *pubsub.TopicScoreParams {
		return &pubsub.TopicScoreParams{
			TopicWeight: 1,
			// P1: up to +3 after five minutes in the mesh.
			TimeInMeshWeight:  0.01,
			TimeInMeshQuantum: time.Second,
			TimeInMeshCap:     300,
			// P2: up to +5 for messages first delivered by the peer.
			FirstMessageDeliveriesWeight: 0.5,
			FirstMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
			FirstMessageDeliveriesCap:    10,
			// P3, P3b: off (low message rate).
			MeshMessageDeliveriesWeight: 0,
			MeshFailurePenaltyWeight:    0,
			// P4: invalid messages, squared; forgotten over about an hour.
			InvalidMessageDeliveriesWeight: invalidWeight,
			InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
		}
	}
	banThreshold := float64(g.n.cfg.BanThreshold)
	peers := g.n.peers
	params := &pubsub.PeerScoreParams{
		Topics: map[string]*pubsub.TopicScoreParams{
			g.n.names.blockTopic: topic(blockInvalidWeight),
			g.n.names.txTopic:    topic(txInvalidWeight),
		},
		TopicScoreCap: 10,
		// P5: at BanThreshold ban points a peer reaches the graylist.
		AppSpecificScore: func(p peer.ID) float64 {
			return -peers.score(p) * (-graylistThreshold) / banThreshold
		},
		AppSpecificWeight: 1,
		// P6: more than ten peers behind one address.
		IPColocationFactorWeight:    -10,
		IPColocationFactorThreshold: 10,
		IPColocationFactorWhitelist: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
		// P7: broken IWANT promises and GRAFTs during backoff.
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		// Keep a disconnected peer's counters, so reconnecting does not
		// wash away invalid deliveries.
		RetainScore: time.Hour,
	}
	thresholds := &pubsub.PeerScoreThresholds{
		GossipThreshold:   gossipThreshold,
		PublishThreshold:  publishThreshold,
		GraylistThreshold: graylistThreshold,
		// Peer exchange is off (discovery is the DHT's job); a high bar
		// in case it is turned on.
		AcceptPXThreshold:           10,
		OpportunisticGraftThreshold: 2,
	}
	return params, thresholds
}

// enforceGraylist bans the peers that pubsub's score graylists for
// invalid messages: the part of the score that is evidence (P4, invalid
// deliveries, and P5, our own ban points) below the graylist threshold.
// Without it a graylisted peer would be muted but never reach the ban
// threshold, since its messages no longer reach the validators. Scores
// from colocation (P6) or protocol behaviour (P7) alone never ban.
func (g *gossip) enforceGraylist(snaps map[peer.ID]*pubsub.PeerScoreSnapshot) {
	if g.closedFlag.Load() {
		return
	}
	for p, s := range snaps {
		evidence := s.AppSpecificScore * g.score.AppSpecificWeight
		for topic, ts := range s.Topics {
			if tp := g.score.Topics[topic]; tp != nil {
				evidence += tp.TopicWeight * tp.InvalidMessageDeliveriesWeight * ts.InvalidMessageDeliveries * ts.InvalidMessageDeliveries
			}
		}
		if evidence < graylistThreshold && !g.n.bans.isBanned(p) {
			g.n.log.Info("banning peer for invalid gossip", "peer", p, "score", evidence)
			g.n.banPeer(p, g.n.cfg.BanDuration, fmt.Sprintf("invalid gossip messages (score %.0f)", evidence))
		}
	}
}

// validateTx checks a gossiped transaction: size, decoding, then the pool.
func (g *gossip) validateTx(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == g.n.host.ID() {
		// Our own publish: the pool admitted it already.
		return pubsub.ValidationAccept
	}
	if !g.enter() {
		return pubsub.ValidationIgnore
	}
	defer g.leave()
	data := msg.GetData()
	if len(data) > types.MaxTxSize {
		g.n.Misbehaving(from, ScoreFrameTooLarge, fmt.Sprintf("gossiped transaction of %d bytes, at most %d", len(data), types.MaxTxSize))
		return pubsub.ValidationReject
	}
	tx, err := types.DecodeTx(data)
	if err != nil {
		g.n.Misbehaving(from, ScoreMalformed, "gossiped transaction does not decode: "+err.Error())
		return pubsub.ValidationReject
	}
	g.skipHook.Store(tx, struct{}{})
	err = g.n.cfg.Mempool.Add(tx)
	g.skipHook.Delete(tx)
	res, points := classifyTxError(err)
	switch res {
	case pubsub.ValidationAccept:
		msg.ValidatorData = tx
	case pubsub.ValidationReject:
		g.n.Misbehaving(from, points, "invalid transaction "+tx.Hash().String()+": "+err.Error())
	default:
		if mempool.Kind(err) == "" {
			// Not the sender's fault: a storage failure or a closed pool.
			g.n.log.Debug("gossiped transaction not admitted", "tx", tx.Hash(), "err", err)
		}
	}
	return res
}

// classifyTxError maps the pool's verdict to pubsub's and a ban score.
//
// Reject, with ScoreInvalidTx: failures that hold for the transaction
// forever, whatever the state (its signature covers every byte), so an
// honest peer, which validates before relaying, never sends them. The
// list is the pool's own (mempool's permanent refusals). Ignore: duplicates
// and every policy refusal (fee, gap, pool full, sender limit, ...), and
// the consensus failures that depend on state (a used nonce, a balance
// spent meanwhile), which honest peers relay when a block races them.
func classifyTxError(err error) (pubsub.ValidationResult, int) {
	switch {
	case err == nil:
		return pubsub.ValidationAccept, 0
	case errors.Is(err, consensus.ErrBadSignature), errors.Is(err, consensus.ErrHighS),
		errors.Is(err, consensus.ErrBadPubKey), errors.Is(err, consensus.ErrWrongChainID),
		errors.Is(err, consensus.ErrZeroAmount), errors.Is(err, consensus.ErrBadRecipient),
		errors.Is(err, consensus.ErrMemoTooLong), errors.Is(err, consensus.ErrAmountOverflow),
		errors.Is(err, mempool.ErrCoinbase):
		return pubsub.ValidationReject, ScoreInvalidTx
	default:
		return pubsub.ValidationIgnore, 0
	}
}

// validateBlock checks a gossiped block: size, decoding, then the chain,
// which stores and connects it if valid; that is what makes gossip
// propagate blocks hop by hop only once validated.
func (g *gossip) validateBlock(_ context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	if from == g.n.host.ID() {
		// Our own publish: PublishBlock only publishes stored blocks.
		return pubsub.ValidationAccept
	}
	if !g.enter() {
		return pubsub.ValidationIgnore
	}
	defer g.leave()
	n := g.n
	data := msg.GetData()
	if max := int(n.cfg.Chain.Params().MaxBlockSize); len(data) > max {
		n.Misbehaving(from, ScoreFrameTooLarge, fmt.Sprintf("gossiped block of %d bytes, at most %d", len(data), max))
		return pubsub.ValidationReject
	}
	blk, err := types.DecodeBlock(data)
	if err != nil {
		n.Misbehaving(from, ScoreMalformed, "gossiped block does not decode: "+err.Error())
		return pubsub.ValidationReject
	}
	hash := blk.Hash()
	if n.cfg.Chain.IsKnownInvalid(hash) {
		n.Misbehaving(from, ScoreInvalidBlock, "relayed block "+hash.String()+", known to be invalid")
		return pubsub.ValidationReject
	}
	if n.cfg.Chain.HaveBlock(hash) {
		return pubsub.ValidationIgnore
	}
	res, err := n.cfg.Chain.ProcessBlock(blk)
	res2, points := classifyBlockError(err)
	switch {
	case err == nil && res.Orphan:
		// Valid as far as it can be checked without its parent: fetch
		// the ancestors from the peer that relayed it (it has them), and
		// let sync, not gossip, deliver the rest.
		n.peers.noteBest(from, blk.Header.Height)
		g.rememberOrphan(hash)
		if n.sync != nil {
			n.sync.requestAncestors(from, res.MissingParent)
		}
		return pubsub.ValidationIgnore
	case err == nil && res.MainChain:
		n.peers.noteBest(from, blk.Header.Height)
		msg.ValidatorData = blk
		return pubsub.ValidationAccept
	case err == nil:
		// Stored on a side chain after header and sanity checks only: its
		// transactions were not applied, so relaying it could get this
		// node penalised by peers for whom it extends the tip and fails.
		// If its branch wins, the block that tips the balance is relayed
		// and peers fetch the rest by sync.
		return pubsub.ValidationIgnore
	case res2 == pubsub.ValidationReject:
		n.Misbehaving(from, points, "invalid block "+hash.String()+": "+err.Error())
	default:
		n.log.Debug("gossiped block not accepted", "block", hash, "err", err)
	}
	return res2
}

// classifyBlockError maps ProcessBlock's failure to pubsub's verdict and a
// ban score. A timestamp too far ahead may become valid later and costs
// nothing; a body that does not match its header (a malleated or damaged
// relay) costs less than a block that breaks a rule, since the honest
// block with that header may exist; a duplicate is a race with sync.
func classifyBlockError(err error) (pubsub.ValidationResult, int) {
	var re *consensus.RuleError
	switch {
	case err == nil:
		return pubsub.ValidationAccept, 0
	case errors.Is(err, chain.ErrDuplicateBlock):
		return pubsub.ValidationIgnore, 0
	case errors.Is(err, chain.ErrKnownInvalid):
		return pubsub.ValidationReject, ScoreInvalidBlock
	case errors.Is(err, consensus.ErrTimeTooNew):
		return pubsub.ValidationIgnore, 0
	case consensus.IsBodyMismatch(err):
		return pubsub.ValidationReject, ScoreMalformed
	case errors.As(err, &re):
		return pubsub.ValidationReject, ScoreInvalidBlock
	default:
		// Storage failure or a closed store: not the peer's fault.
		return pubsub.ValidationIgnore, 0
	}
}

// onAccepted is the pool's hook: queue a newly admitted transaction for
// publishing. It runs on the admitting goroutine and must not block.
func (g *gossip) onAccepted(a mempool.Accepted) {
	if g.closedFlag.Load() {
		return
	}
	if _, skip := g.skipHook.Load(a.Tx); skip {
		return
	}
	select {
	case g.txOut <- a.Tx:
	default:
		g.n.log.Warn("transaction relay queue full; not announcing", "tx", a.ID)
	}
}

// rememberOrphan notes a gossiped orphan for relay once connected.
func (g *gossip) rememberOrphan(hash types.Hash) {
	g.orphanMu.Lock()
	defer g.orphanMu.Unlock()
	now := time.Now()
	if len(g.orphans) >= maxGossipOrphans {
		for h, t := range g.orphans {
			if now.Sub(t) > orphanRelayAge {
				delete(g.orphans, h)
			}
		}
		if len(g.orphans) >= maxGossipOrphans {
			delete(g.orphans, earliestKey(g.orphans, timeItself))
		}
	}
	g.orphans[hash] = now
}

// onChain is the chain's hook: a remembered orphan that became part of
// the main chain is queued for relay. It runs on the goroutine that
// changed the chain and must not block.
func (g *gossip) onChain(nt chain.Notification) {
	if nt.Type != chain.BlockConnected || nt.Block == nil || g.closedFlag.Load() {
		return
	}
	g.orphanMu.Lock()
	at, ok := g.orphans[nt.Hash]
	delete(g.orphans, nt.Hash)
	g.orphanMu.Unlock()
	if !ok || time.Since(at) > orphanRelayAge {
		return
	}
	select {
	case g.relay <- nt.Block:
	default:
	}
}

// publishLoop publishes the transactions the pool accepted and relays
// orphans once connected.
func (g *gossip) publishLoop() {
	defer g.wg.Done()
	for {
		select {
		case <-g.ctx.Done():
			return
		case tx := <-g.txOut:
			if err := g.txT.Publish(g.ctx, tx.Encode()); err != nil && g.ctx.Err() == nil {
				g.n.log.Debug("publishing transaction failed", "tx", tx.Hash(), "err", err)
			}
		case blk := <-g.relay:
			// Published as our own: pubsub validates a local publish of a
			// message it ignored before, and our validator accepts it.
			if err := g.blockT.Publish(g.ctx, blk.Encode()); err != nil && g.ctx.Err() == nil {
				g.n.log.Debug("relaying block failed", "block", blk.Hash(), "err", err)
			}
		}
	}
}

// drain reads a subscription until close. Messages arrive validated: the
// validators did the work (pool admission, block processing).
func (g *gossip) drain(sub *pubsub.Subscription) {
	defer g.wg.Done()
	for {
		if _, err := sub.Next(g.ctx); err != nil {
			return
		}
	}
}

// frameTooLarge penalises a peer whose gossip frame announced more than
// the network's largest message.
func (g *gossip) frameTooLarge(p peer.ID, size uint64) {
	g.n.Misbehaving(p, ScoreFrameTooLarge, fmt.Sprintf("gossip frame announces %d bytes, at most %d", size, g.maxMsg))
}

var errGossipNotStarted = errors.New("p2p: gossip not started")

// PublishBlock announces a block the chain store holds, normally one this
// node mined and processed. Peers validate it before relaying, so a block
// the store does not hold, or knows to be invalid, is refused here rather
// than costing this node its peers. Publishing with no peers is not an
// error.
func (n *Node) PublishBlock(b *types.Block) error {
	g := n.gossip
	if g == nil {
		return errGossipNotStarted
	}
	hash := b.Hash()
	if _, err := n.cfg.Chain.HeaderByHash(hash); err != nil {
		return fmt.Errorf("publish block %s: not stored (process it first): %w", hash, err)
	}
	if n.cfg.Chain.IsKnownInvalid(hash) {
		return fmt.Errorf("publish block %s: known to be invalid", hash)
	}
	return g.blockT.Publish(g.ctx, b.Encode())
}

// PublishTx announces a transaction. It must be valid for the pool: if the
// pool does not hold it yet it is added first, and a refusal is returned.
// A transaction the pool holds is announced again (peers that have it
// drop the duplicate). Transactions the pool accepts by other routes are
// announced without calling this.
func (n *Node) PublishTx(tx *types.Tx) error {
	g := n.gossip
	if g == nil {
		return errGossipNotStarted
	}
	if _, ok := n.cfg.Mempool.Get(tx.Hash()); !ok {
		g.skipHook.Store(tx, struct{}{})
		err := n.cfg.Mempool.Add(tx)
		g.skipHook.Delete(tx)
		if err != nil && !errors.Is(err, mempool.ErrAlreadyKnown) {
			return err
		}
	}
	return g.txT.Publish(g.ctx, tx.Encode())
}

// gossipHost is the host as the pubsub router sees it: every inbound
// pubsub stream is wrapped in a frameGuard, so a frame announcing more than
// the network's largest message costs its sender ScoreFrameTooLarge (a
// ban) before the body is read. Everything else is the node's host.
type gossipHost struct {
	host.Host
	max      int
	tooLarge func(peer.ID, uint64)
}

// SetStreamHandler implements host.Host.
func (h *gossipHost) SetStreamHandler(pid protocol.ID, handler network.StreamHandler) {
	h.Host.SetStreamHandler(pid, h.guard(handler))
}

// SetStreamHandlerMatch implements host.Host.
func (h *gossipHost) SetStreamHandlerMatch(pid protocol.ID, m func(protocol.ID) bool, handler network.StreamHandler) {
	h.Host.SetStreamHandlerMatch(pid, m, h.guard(handler))
}

func (h *gossipHost) guard(handler network.StreamHandler) network.StreamHandler {
	return func(s network.Stream) {
		handler(&frameGuard{Stream: s, max: uint64(h.max), tooLarge: h.tooLarge})
	}
}

// frameGuard follows the varint-length-prefixed frames of a stream as they
// are read and fails the read that completes a length above max: the
// reader (pubsub's msgio reader, with the same limit) sees an error instead
// of the length and never reads or allocates the body.
type frameGuard struct {
	network.Stream
	max      uint64
	tooLarge func(peer.ID, uint64)

	// remaining is the body bytes of the current frame still to come;
	// when zero, the next bytes are a length: acc and shift hold the
	// varint read so far.
	remaining uint64
	acc       uint64
	shift     uint
	failed    bool
}

// Read implements io.Reader.
func (f *frameGuard) Read(p []byte) (int, error) {
	if f.failed {
		return 0, protocolError(ErrFrameTooLarge, "gossip frame too large")
	}
	n, err := f.Stream.Read(p)
	if size, bad := f.scan(p[:n]); bad {
		f.failed = true
		f.tooLarge(f.Conn().RemotePeer(), size)
		f.Stream.Reset()
		return 0, protocolError(ErrFrameTooLarge, "gossip frame announces %d bytes, at most %d", size, f.max)
	}
	return n, err
}

// scan advances the frame state over b; it reports a length above max.
func (f *frameGuard) scan(b []byte) (uint64, bool) {
	for i := 0; i < len(b); {
		if f.remaining > 0 {
			skip := min(f.remaining, uint64(len(b)-i))
			f.remaining -= skip
			i += int(skip)
			continue
		}
		c := b[i]
		i++
		if f.shift >= 63 {
			return f.acc, true // a varint longer than any length
		}
		f.acc |= uint64(c&0x7f) << f.shift
		if c&0x80 != 0 {
			f.shift += 7
			continue
		}
		size := f.acc
		f.acc, f.shift = 0, 0
		if size > f.max {
			return size, true
		}
		f.remaining = size
	}
	return 0, false
}
