package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"

	"github.com/creachadair/jrpc2"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/mempool"
)

// Reasons of the subscription methods' errors.
const (
	// ReasonNotWebSocket: a subscription method was called over HTTP
	// POST, which cannot carry notifications (CodeUnavailable).
	ReasonNotWebSocket = "ErrNotWebSocket"
	// ReasonTooManySubscriptions: the connection already has
	// MaxSubscriptions subscriptions (CodeRefused).
	ReasonTooManySubscriptions = "ErrTooManySubscriptions"
)

// Notification method names.
const (
	MethodNewHead = "chain_newHead"
	MethodNewTx   = "mempool_newTx"
)

// NewHead is the head carried by a chain_newHead notification.
type NewHead struct {
	Height    uint32 `json:"height"`
	Hash      string `json:"hash"`
	Parent    string `json:"parent"`
	Timestamp uint64 `json:"timestamp"`
	Bits      string `json:"bits"`
}

// HeadNotification is the params of chain_newHead: one per block that
// became the tip. Reorg is set on the first notification after blocks
// left the main chain; Removed then lists them, from the old tip down. A
// client undoes Removed, then applies Head: after a switch to another
// branch, Head is the new branch's first block and Head.Parent the fork
// point; after blocks were only disconnected (chain_invalidateBlock of the
// tip), Head is the new tip, the fork point itself, which the client
// already has once Removed is undone. So the fork point is the block
// below the last of Removed, not always Head.Parent.
type HeadNotification struct {
	Subscription string   `json:"subscription"`
	Head         NewHead  `json:"head"`
	Reorg        bool     `json:"reorg"`
	Removed      []string `json:"removed"`
}

// NewTx is the transaction carried by a mempool_newTx notification.
type NewTx struct {
	*Tx
	FeeRate float64 `json:"feeRate"` // base units per byte
}

// TxNotification is the params of mempool_newTx: one per transaction the
// pool accepted (not for those it puts back after a reorganisation). They
// are not sequenced: each is queued on the admitting goroutine after the
// pool released its lock, so two transactions of one sender admitted
// concurrently may arrive out of nonce order, and one may arrive after
// the block that includes it (or after the pool replaced or evicted it).
type TxNotification struct {
	Subscription string `json:"subscription"`
	Tx           NewTx  `json:"tx"`
}

// subKind says what a subscription follows.
type subKind uint8

const (
	subHeads subKind = iota + 1
	subTxs
)

// headEvent is a new tip, built once on the chain's goroutine and shared
// (read-only) by every connection that has a heads subscription. Its
// JSON form is rendered once, by the first writer that needs it (once),
// not once per connection.
type headEvent struct {
	header  types.Header
	hash    types.Hash
	reorg   bool
	removed []types.Hash

	once        sync.Once
	head        NewHead  // written in once
	removedJSON []string // written in once
}

// txEvent is an accepted transaction, shared like headEvent and rendered
// once likewise, from the hash and sender the pool already computed.
type txEvent struct {
	tx     *types.Tx
	id     types.Hash
	sender types.Address
	rate   mempool.FeeRate

	once     sync.Once
	rendered NewTx // written in once
}

func newTxEvent(a mempool.Accepted) *txEvent {
	return &txEvent{tx: a.Tx, id: a.ID, sender: a.Sender, rate: a.Rate}
}

// hub owns the set of WebSocket connections and the chain's reorg
// bookkeeping; each connection owns its own subscription table (wsConn.mu).
// Lock order: hub.mu, then wsConn.mu.
type hub struct {
	mu sync.Mutex
	// closed: the server is closed; events are ignored and upgrades
	// refused. Guarded by mu.
	closed bool
	// conns are the open connections. Guarded by mu.
	conns map[*wsConn]struct{}
	// removed are the blocks disconnected since the last head event, from
	// the old tip down. Guarded by mu (written only by the chain's
	// notifications, which the chain serialises).
	removed []types.Hash
	// slowDrops counts connections dropped because their queue was full.
	// Guarded by mu.
	slowDrops int
	// wg counts the running connections, for Close.
	wg sync.WaitGroup
}

func (s *Server) registerSubscriptions() {
	s.methods["chain_subscribeHeads"] = method(s.subscribe(subHeads))
	s.methods["chain_unsubscribeHeads"] = method(s.unsubscribe(subHeads))
	s.methods["mempool_subscribeTxs"] = method(s.subscribe(subTxs))
	s.methods["mempool_unsubscribeTxs"] = method(s.unsubscribe(subTxs))
}

type wsConnKey struct{}

// connOf is the WebSocket connection a call came on, or an error for
// calls over HTTP.
func connOf(ctx context.Context) (*wsConn, error) {
	c, _ := ctx.Value(wsConnKey{}).(*wsConn)
	if c == nil {
		return nil, appError(CodeUnavailable, ReasonNotWebSocket, "subscriptions need a WebSocket connection (/ws)")
	}
	return c, nil
}

func (s *Server) subscribe(kind subKind) func(context.Context, *jrpc2.Request) (any, error) {
	return func(ctx context.Context, r *jrpc2.Request) (any, error) {
		if err := noParams(r); err != nil {
			return nil, err
		}
		c, err := connOf(ctx)
		if err != nil {
			return nil, err
		}
		if r.IsNotification() {
			// The caller would never learn the id: refuse (jrpc2 drops
			// the error, as it must for a notification).
			return nil, invalidParams("subscribe must be a call with an id")
		}
		return c.addPending(kind)
	}
}

func (s *Server) unsubscribe(kind subKind) func(context.Context, *jrpc2.Request) (any, error) {
	return func(ctx context.Context, r *jrpc2.Request) (any, error) {
		var id string
		if err := bind(r, req("subscription", &id)); err != nil {
			return nil, err
		}
		c, err := connOf(ctx)
		if err != nil {
			return nil, err
		}
		return c.remove(kind, id), nil
	}
}

// newSubID makes a subscription id: 16 random hex digits, so that ids say
// nothing about other connections.
func newSubID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// onChain turns the chain's notifications into head events: one per
// connected block, the first after disconnections flagged as a reorg and
// carrying them; a Reorganized notification with no block connected since
// the disconnections (the tip only went back) becomes an event for the
// new tip. It runs on the chain's goroutine: it does no I/O beyond one
// header read in that last case, and never blocks on a connection.
func (s *Server) onChain(n chain.Notification) {
	h := &s.hub
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	var ev *headEvent
	switch n.Type {
	case chain.BlockDisconnected:
		h.removed = append(h.removed, n.Hash)
	case chain.BlockConnected:
		if n.Block == nil {
			break
		}
		ev = &headEvent{header: n.Block.Header, hash: n.Hash, reorg: len(h.removed) > 0, removed: h.removed}
		h.removed = nil
	case chain.Reorganized:
		if len(h.removed) == 0 {
			break
		}
		removed := h.removed
		h.removed = nil
		h.mu.Unlock()
		// The chain allows reads from its callbacks; the tip's block is
		// stored, so this fails only on a storage error.
		b, err := s.cfg.Chain.BlockByHash(n.Hash)
		if err != nil {
			s.log.Warn("rpc: new tip after a reorganisation not readable", "hash", n.Hash, "err", err)
			return
		}
		ev = &headEvent{header: b.Header, hash: n.Hash, reorg: true, removed: removed}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return
		}
	}
	drops := 0
	if ev != nil {
		drops = h.fanOutLocked(subHeads, ev)
	}
	h.mu.Unlock()
	s.logSlowDrops(drops)
}

// onPool fans an accepted transaction out. It runs on the admitting
// goroutine, after the pool released its lock (so concurrent admissions
// reach it in any order), and never blocks on a connection.
func (s *Server) onPool(a mempool.Accepted) {
	h := &s.hub
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	drops := h.fanOutLocked(subTxs, newTxEvent(a))
	h.mu.Unlock()
	s.logSlowDrops(drops)
}

// fanOutLocked offers ev to every connection and returns how many it
// dropped; h.mu is held.
func (h *hub) fanOutLocked(kind subKind, ev any) int {
	drops := 0
	for c := range h.conns {
		if !c.offer(kind, ev) {
			drops++
		}
	}
	h.slowDrops += drops
	return drops
}

// add registers c unless the server is closed or has max connections.
func (h *hub) add(c *wsConn, max int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || len(h.conns) >= max {
		return false
	}
	if h.conns == nil {
		h.conns = map[*wsConn]struct{}{}
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

// drop unregisters c (its subscriptions go with it).
func (h *hub) drop(c *wsConn) {
	h.mu.Lock()
	_, ok := h.conns[c]
	delete(h.conns, c)
	h.mu.Unlock()
	if ok {
		h.wg.Done()
	}
}

// close marks the hub closed and returns the open connections.
func (h *hub) close() []*wsConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.removed = nil
	out := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// wsStats reports the open connections, their subscriptions and the
// connections dropped as slow (for tests and logs).
func (s *Server) wsStats() (conns, subs, slowDrops int) {
	h := &s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		c.mu.Lock()
		subs += len(c.subs) + len(c.pending)
		c.mu.Unlock()
	}
	return len(h.conns), subs, h.slowDrops
}

// render is the event's head and removed hashes as notifications carry
// them, computed on the first call.
func (ev *headEvent) render() (NewHead, []string) {
	ev.once.Do(func() {
		ev.removedJSON = hashes(ev.removed)
		ev.head = NewHead{Height: ev.header.Height, Hash: ev.hash.String(), Parent: ev.header.PrevBlock.String(),
			Timestamp: ev.header.Time, Bits: bitsHex(ev.header.Bits)}
	})
	return ev.head, ev.removedJSON
}

// renderTx is the event's transaction as notifications carry it,
// computed on the first call.
func (s *Server) renderTx(ev *txEvent) NewTx {
	ev.once.Do(func() {
		ev.rendered = NewTx{Tx: s.txJSONWith(ev.tx, ev.id, ev.sender), FeeRate: ev.rate.PerByte()}
	})
	return ev.rendered
}
