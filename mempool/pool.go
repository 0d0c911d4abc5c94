package mempool

import (
	"container/heap"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
)

// Pool holds transactions waiting for a block. See the package doc for the
// rules and the concurrency contract.
//
// Locks: mu guards the transaction set and everything derived from it;
// evMu guards only the queue of chain notifications, so that the chain's
// handler never waits for admission work; drainMu serialises the
// application of those notifications so that they apply in order; subMu
// guards the subscriber list. Lock order: drainMu, then mu; evMu and subMu
// are leaves.
type Pool struct {
	cfg    Config
	chain  Chain
	params *consensus.Params
	sigs   consensus.SigCache
	log    *slog.Logger
	clock  func() time.Time

	drainMu sync.Mutex

	evMu sync.Mutex
	// events are chain notifications not yet applied; guarded by evMu.
	events []chain.Notification
	// wake has room for one signal: "events are waiting".
	wake chan struct{}
	quit chan struct{}
	done chan struct{}

	mu sync.Mutex
	// view is the state at tip, the block the pool is valid against;
	// guarded by mu (the snapshot itself is safe for concurrent reads).
	view *view
	tip  types.Hash
	// all indexes every transaction in the pool; guarded by mu.
	all map[types.Hash]*entry
	// senders holds each sender's transactions by nonce; guarded by mu.
	senders map[types.Address]*sender
	// pendingHeap and queuedHeap order executable and queued entries for
	// eviction, lowest fee rate first; guarded by mu.
	pendingHeap evictHeap
	queuedHeap  evictHeap
	// rank orders the executable entries highest fee rate first, so that
	// Status counts the entries ranked above one by visiting only those
	// (a scan of pendingHeap would visit all); guarded by mu.
	rank rankHeap
	// arrivals lists entries in arrival order, for expiry: the oldest are
	// at arrivals[arrHead]. Entries that left the pool stay until they
	// reach the front or a compaction drops them (see insertLocked), so
	// a sweep costs what it expires; guarded by mu.
	arrivals []*entry
	arrHead  int
	// bytes is the sum of the encoded sizes in the pool; guarded by mu.
	bytes int
	// seq numbers arrivals, breaking fee-rate ties; guarded by mu.
	seq uint64
	// nextExpiry is when the next expiry sweep is due; guarded by mu.
	nextExpiry time.Time
	// recent remembers removals, and refusals of transactions whose
	// signature was checked; guarded by mu.
	recent *history
	// cheap remembers refusals decided before the signature check, which
	// cost the sender nothing: in a small history of their own, so that
	// unsigned junk cannot flush recent (a "mined" answer, say); guarded
	// by mu.
	cheap *history
	// closed is set by Close; guarded by mu.
	closed bool
	// stopped mirrors closed for the chain's handler, which must not wait
	// for mu: the chain has no unsubscribe, so a closed pool's handler
	// stays registered and must drop notifications.
	stopped atomic.Bool
	// sigChecks counts signature verifications (cache hits excluded):
	// what admission spent on checks that are expensive. Tests use it to
	// show that a refusal cost none.
	sigChecks atomic.Uint64
	// hookBeforeApply, if set, runs in drain between reading the new
	// state and applying it; tests use it to change the pool at that
	// point. Set before the pool sees any notification.
	hookBeforeApply func()

	subMu sync.Mutex
	// subs are called for each newly accepted transaction; guarded by subMu.
	subs []func(Accepted)
}

// Accepted describes a transaction newly accepted by Add, AddBatch or Load,
// as delivered to subscribers.
type Accepted struct {
	Tx     *types.Tx
	ID     types.Hash
	Sender types.Address
	Size   int
	Rate   FeeRate
}

// entry is one transaction in the pool. Its fields are immutable once
// inserted except queued, heapIdx and rankIdx, which are guarded by
// Pool.mu; the immutable ones may be read without the lock.
type entry struct {
	tx     *types.Tx
	id     types.Hash
	sender types.Address
	size   int
	rate   FeeRate
	added  time.Time
	seq    uint64
	// queued: in queuedHeap (a nonce gap precedes it), else in pendingHeap
	// and rank.
	queued  bool
	heapIdx int
	rankIdx int
}

// sender is one address's transactions, sorted by nonce. txs[:nPending]
// are executable: consecutive nonces from acct.Nonce, each paid for by the
// balance left by the ones before (after is the account once they apply).
// txs[nPending:] are queued: their nonces lie beyond a gap. Guarded by
// Pool.mu.
type sender struct {
	addr     types.Address
	acct     consensus.Account // at the pool's tip
	txs      []*entry
	nPending int
	after    consensus.Account
}

// find returns the index of nonce in s.txs, or where it would go.
func (s *sender) find(nonce uint64) (int, bool) {
	i := sort.Search(len(s.txs), func(i int) bool { return s.txs[i].tx.Nonce >= nonce })
	return i, i < len(s.txs) && s.txs[i].tx.Nonce == nonce
}

// view is a state snapshot shared by the pool and by admissions reading
// outside the lock. refs counts the pool's own reference plus readers; the
// snapshot is released when the last one lets go.
type view struct {
	snap *chain.StateSnapshot
	refs atomic.Int32
}

func newView(s *chain.StateSnapshot) *view {
	v := &view{snap: s}
	v.refs.Store(1)
	return v
}

func (v *view) release() {
	if v.refs.Add(-1) == 0 {
		v.snap.Release()
	}
}

// evictHeap is a min-heap of entries by fee rate; among equal rates the
// latest arrival comes first, so that older transactions survive.
type evictHeap []*entry

func (h evictHeap) Len() int { return len(h) }
func (h evictHeap) Less(i, j int) bool {
	if c := h[i].rate.Cmp(h[j].rate); c != 0 {
		return c < 0
	}
	return h[i].seq > h[j].seq
}
func (h evictHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *evictHeap) Push(x any) {
	e := x.(*entry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}
func (h *evictHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.heapIdx = -1
	return e
}

// ranksAbove reports whether a comes before b in the order miners take
// transactions: higher fee rate first, among equal rates earlier arrival.
func ranksAbove(a, b *entry) bool { return rankOf(a).above(rankOf(b)) }

// rankKey is what the order of ranksAbove looks at, kept inline in rank's
// slots so that walking the heap reads one array rather than chasing an
// entry per slot (1.5 times faster, measured at 50,000 entries).
type rankKey struct {
	rate FeeRate
	seq  uint64
}

func rankOf(e *entry) rankKey { return rankKey{rate: e.rate, seq: e.seq} }

func (k rankKey) above(o rankKey) bool {
	if c := k.rate.Cmp(o.rate); c != 0 {
		return c > 0
	}
	return k.seq < o.seq
}

type rankSlot struct {
	key rankKey
	e   *entry
}

// rankHeap is a max-heap of the executable entries by ranksAbove. Every
// entry ranked above a given one sits on a path from the root through
// entries that are all ranked above it, so they can be counted without
// looking at the rest.
type rankHeap []rankSlot

func (h rankHeap) Len() int           { return len(h) }
func (h rankHeap) Less(i, j int) bool { return h[i].key.above(h[j].key) }
func (h rankHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].e.rankIdx, h[j].e.rankIdx = i, j
}
func (h *rankHeap) Push(x any) {
	e := x.(*entry)
	e.rankIdx = len(*h)
	*h = append(*h, rankSlot{key: rankOf(e), e: e})
}
func (h *rankHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = rankSlot{}
	*h = old[:len(old)-1]
	s.e.rankIdx = -1
	return s.e
}

// New makes a pool following cfg.Chain from its current tip. Close it to
// stop its goroutine and release its state snapshot.
func New(cfg Config) (*Pool, error) {
	p, err := newPool(cfg)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// newPool is New, returning the pool even when it fails (tests look at
// what a failed start leaves behind).
func newPool(cfg Config) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:     cfg,
		chain:   cfg.Chain,
		params:  cfg.Chain.Params(),
		sigs:    cfg.Chain.SigCache(),
		log:     cfg.Logger,
		clock:   cfg.Clock,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		all:     make(map[types.Hash]*entry),
		senders: make(map[types.Address]*sender),
		recent:  newHistory(cfg.RecentCount, cfg.RecentAge),
		cheap:   newHistory(min(cfg.RecentCount, cheapHistoryMax), cfg.RecentAge),
	}
	// Subscribe before taking the snapshot: a block connected in between
	// is then both in the snapshot and in the queue, and applying it twice
	// is harmless, whereas missing it would not be.
	p.chain.Subscribe(p.onChain)
	snap, err := p.chain.StateSnapshot()
	if err != nil {
		// The chain has no unsubscribe: the handler stays registered
		// and must drop what it is given rather than queue it forever.
		p.closed = true
		p.stopped.Store(true)
		return p, err
	}
	p.view, p.tip = newView(snap), snap.Tip
	p.nextExpiry = p.clock().Add(p.expiryInterval())
	go p.loop()
	return p, nil
}

// Close stops the pool: later calls fail with ErrPoolClosed. It does not
// save anything; call Save first for that.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.stopped.Store(true)
	p.mu.Unlock()
	close(p.quit)
	<-p.done
	p.drainMu.Lock()
	p.mu.Lock()
	p.view.release()
	p.mu.Unlock()
	p.drainMu.Unlock()
	return nil
}

// Subscribe registers fn to be called for every newly accepted
// transaction (not for those put back after a reorganisation: peers have
// seen them). fn runs on the admitting goroutine after the pool's lock is
// released; it must return quickly and may call the pool.
func (p *Pool) Subscribe(fn func(Accepted)) {
	p.subMu.Lock()
	p.subs = append(p.subs, fn)
	p.subMu.Unlock()
}

func (p *Pool) notify(acc []Accepted) {
	if len(acc) == 0 {
		return
	}
	p.subMu.Lock()
	subs := p.subs
	p.subMu.Unlock()
	for _, a := range acc {
		for _, fn := range subs {
			fn(a)
		}
	}
}

func (p *Pool) expiryInterval() time.Duration {
	iv := p.cfg.MaxAge / 16
	if iv > time.Minute {
		iv = time.Minute
	}
	return iv
}

// insertLocked adds e to s and the indexes as queued; the caller then
// revalidates s, which makes it executable if it is.
func (p *Pool) insertLocked(s *sender, e *entry) {
	i, _ := s.find(e.tx.Nonce)
	s.txs = append(s.txs, nil)
	copy(s.txs[i+1:], s.txs[i:])
	s.txs[i] = e
	if i < s.nPending {
		// Only a replacement lands inside the executable run, and the
		// caller removed the old entry first, so the run shrank by one.
		s.nPending = i
	}
	p.all[e.id] = e
	p.bytes += e.size
	e.queued, e.rankIdx = true, -1
	heap.Push(&p.queuedHeap, e)
	p.senders[s.addr] = s
	p.arrivals = append(p.arrivals, e)
	if n := len(p.arrivals) - p.arrHead; n > 2*len(p.all)+64 {
		// Mostly entries that already left: keep the live ones, in
		// order, so the list stays proportional to the pool.
		live := make([]*entry, 0, 2*len(p.all)+64)
		for _, a := range p.arrivals[p.arrHead:] {
			if p.all[a.id] == a {
				live = append(live, a)
			}
		}
		p.arrivals, p.arrHead = live, 0
	}
}

// dropLocked removes e from the pool and records why. It does not
// revalidate the sender: callers do, once they are done removing.
func (p *Pool) dropLocked(e *entry, st TxStatus) {
	if _, ok := p.all[e.id]; !ok {
		return
	}
	delete(p.all, e.id)
	p.bytes -= e.size
	if e.queued {
		heap.Remove(&p.queuedHeap, e.heapIdx)
	} else {
		heap.Remove(&p.pendingHeap, e.heapIdx)
		heap.Remove(&p.rank, e.rankIdx)
	}
	if s := p.senders[e.sender]; s != nil {
		if i, ok := s.find(e.tx.Nonce); ok && s.txs[i] == e {
			s.txs = append(s.txs[:i], s.txs[i+1:]...)
			if i < s.nPending {
				s.nPending = i // the run is broken here; revalidate redoes it
			}
		}
	}
	st.State = StateRemoved
	if st.Time.IsZero() {
		st.Time = p.clock()
	}
	p.recent.put(e.id, st)
}

// revalidateLocked re-derives s's executable run from s.acct: entries with
// used nonces are dropped (ErrBadNonce), the run extends while nonces are
// consecutive and the balance pays, an entry the balance cannot pay is
// dropped (ErrInsufficientBalance) and everything after a gap is queued.
// This one function is used after admission (promotion), replacement,
// removal and every tip change, so the invariants have one definition.
func (p *Pool) revalidateLocked(s *sender) {
	for len(s.txs) > 0 && s.txs[0].tx.Nonce < s.acct.Nonce {
		e := s.txs[0]
		_, err := consensus.DebitSender(s.acct, e.tx)
		p.dropLocked(e, TxStatus{Reason: ReasonInvalidated, Err: err})
	}
	cur, n := s.acct, 0
	for n < len(s.txs) && s.txs[n].tx.Nonce == cur.Nonce {
		next, err := consensus.DebitSender(cur, s.txs[n].tx)
		if err != nil {
			p.dropLocked(s.txs[n], TxStatus{Reason: ReasonInvalidated, Err: err})
			continue
		}
		cur = next
		n++
	}
	s.nPending, s.after = n, cur
	for i, e := range s.txs {
		p.setQueuedLocked(e, i >= n)
	}
	if len(s.txs) == 0 && p.senders[s.addr] == s {
		delete(p.senders, s.addr)
	}
}

func (p *Pool) setQueuedLocked(e *entry, queued bool) {
	if e.queued == queued {
		return
	}
	if e.queued {
		heap.Remove(&p.queuedHeap, e.heapIdx)
		heap.Push(&p.pendingHeap, e)
		heap.Push(&p.rank, e)
	} else {
		heap.Remove(&p.pendingHeap, e.heapIdx)
		heap.Remove(&p.rank, e.rankIdx)
		heap.Push(&p.queuedHeap, e)
	}
	e.queued = queued
}

// expireLocked drops transactions older than MaxAge, at most once per
// expiry interval unless forced. A sender's later nonces are not dropped
// with an expired one: revalidation queues them behind the new gap, where
// they may still be completed, and they expire on their own schedule.
//
// Entries arrive in the order of their arrival times (the clock is read
// under the lock at insertion), so the expired ones are a prefix of
// arrivals and the sweep stops at the first live one that is not.
func (p *Pool) expireLocked(now time.Time, force bool) {
	if !force && now.Before(p.nextExpiry) {
		return
	}
	p.nextExpiry = now.Add(p.expiryInterval())
	p.recent.prune(now)
	p.cheap.prune(now)
	var touched []*sender
	for p.arrHead < len(p.arrivals) {
		e := p.arrivals[p.arrHead]
		if p.all[e.id] == e {
			if now.Sub(e.added) < p.cfg.MaxAge {
				break
			}
			if s := p.senders[e.sender]; s != nil {
				touched = append(touched, s)
			}
			p.dropLocked(e, TxStatus{Reason: ReasonExpired, Time: now})
		}
		p.arrivals[p.arrHead] = nil
		p.arrHead++
	}
	if p.arrHead > len(p.arrivals)/2 {
		p.arrivals = append(p.arrivals[:0], p.arrivals[p.arrHead:]...)
		p.arrHead = 0
	}
	for _, s := range touched {
		p.revalidateLocked(s)
	}
	if len(touched) > 0 {
		p.log.Debug("mempool: expired transactions", "senders", len(touched))
	}
}

// Expire drops transactions older than Config.MaxAge now. The pool also
// sweeps on its own when transactions arrive, when blocks connect and, on
// its goroutine, every expiry interval (MaxAge/16, at most a minute), so
// quiet periods are covered without calling it.
func (p *Pool) Expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.expireLocked(p.clock(), true)
	}
}
