package miner

import (
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/mempool"
)

// chunk is how many nonces a thread hashes between looks at the work
// generation and the clock: about 0.2 ms, so a new tip stops every thread
// within a fraction of a millisecond while the check costs nothing.
const chunk = 2048

// rateInterval is how often the hash rate average is updated; rateTau is
// the time constant of its exponential moving average.
const (
	rateInterval = time.Second
	rateTau      = 5 * time.Second
)

// Miner builds block templates and searches proof of work on Threads
// goroutines. See the package doc for the concurrency contract.
type Miner struct {
	cfg    Config
	params *consensus.Params
	log    *slog.Logger

	// gen counts invalidations of the current work (new tip, solved
	// block, stop); threads compare it with their work's generation.
	gen atomic.Uint64
	// work is the current work; replaced by the controller only.
	work atomic.Pointer[work]
	// hashes counts every nonce hashed, for the hash rate.
	hashes atomic.Uint64
	// rate is the moving-average hash rate, as float64 bits.
	rate atomic.Uint64
	// newFees sums the fees the pool accepted since the last template.
	newFees atomic.Uint64
	// found counts blocks this miner solved and the chain accepted.
	found atomic.Uint64
	// threads is the current run's thread count, 0 when stopped.
	threads atomic.Int64

	tipCh  chan struct{} // cap 1: the tip changed
	poolCh chan struct{} // cap 1: the pool gained fees

	// mu guards run and cache.
	mu sync.Mutex
	// run is the current Start..Stop cycle; nil once the Stop that ended
	// it has seen all its goroutines return. Start refuses while it is
	// set, so two runs never overlap: the old controller's clean-up
	// cannot meet the new run's work, nor the old wait the new goroutines.
	run *run
	// cache holds templates served to external miners.
	cache templateCache
}

// run is one Start..Stop cycle of the controller and the threads.
type run struct {
	// threads is the number of hashing goroutines of this run; fixed for
	// the run, so threads never overlap extra nonces.
	threads int
	quit    chan struct{}  // closed by Stop
	wg      sync.WaitGroup // the controller and the threads
	// stopping is set by the Stop that closed quit; guarded by Miner.mu.
	stopping bool
	// stopped is closed once the goroutines have returned, for other
	// Stop calls to wait on.
	stopped chan struct{}
}

// templateCacheSize bounds the templates kept for external miners: each
// distinct address gets one, and the RPC layer passes on whatever
// addresses its clients ask for.
const templateCacheSize = 16

// templateCache keeps the templates of the most recently served
// addresses, least recently used first out. Guarded by Miner.mu.
type templateCache struct {
	// order lists the cached addresses, least recently used first.
	order []types.Address
	m     map[types.Address]*Template
}

func (c *templateCache) get(a types.Address) *Template {
	t := c.m[a]
	if t != nil {
		c.touch(a)
	}
	return t
}

func (c *templateCache) put(a types.Address, t *Template) {
	if c.m == nil {
		c.m = make(map[types.Address]*Template)
	}
	if _, ok := c.m[a]; ok {
		c.touch(a)
	} else {
		if len(c.order) == templateCacheSize {
			delete(c.m, c.order[0])
			c.order = append(c.order[:0], c.order[1:]...)
		}
		c.order = append(c.order, a)
	}
	c.m[a] = t
}

// touch moves a to the most recently used end.
func (c *templateCache) touch(a types.Address) {
	for i, o := range c.order {
		if o == a {
			copy(c.order[i:], c.order[i+1:])
			c.order[len(c.order)-1] = a
			return
		}
	}
}

func (c *templateCache) clear() {
	clear(c.m)
	c.order = c.order[:0]
}

// work is one template being hashed. replaced is closed when newer work is
// published; solved is set by the first thread to find a block.
type work struct {
	gen      uint64
	tmpl     *Template
	replaced chan struct{}
	solved   atomic.Bool
}

// New makes a miner; it subscribes to the chain and pool at once (so that
// Template stays fresh) but hashes only between Start and Stop.
func New(cfg Config) (*Miner, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Miner{
		cfg:    cfg,
		params: cfg.Chain.Params(),
		log:    cfg.Logger,
		tipCh:  make(chan struct{}, 1),
		poolCh: make(chan struct{}, 1),
	}
	m.work.Store(&work{replaced: make(chan struct{})})
	cfg.Chain.Subscribe(m.onChain)
	if cfg.Pool != nil {
		cfg.Pool.Subscribe(m.onPool)
	}
	return m, nil
}

// onChain runs on the chain's goroutine: it only bumps the generation, so
// threads drop stale work within a chunk, and wakes the controller.
func (m *Miner) onChain(n chain.Notification) {
	m.gen.Add(1)
	m.mu.Lock()
	m.cache.clear()
	m.mu.Unlock()
	signal(m.tipCh)
}

func (m *Miner) onPool(a mempool.Accepted) {
	m.newFees.Add(uint64(a.Tx.Fee))
	signal(m.poolCh)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// MaxThreads bounds the hashing goroutines one miner runs.
const MaxThreads = 1024

// Start starts the controller and Config.Threads hashing threads. It
// fails with ErrRunning while a run is active, including one a concurrent
// Stop has not finished stopping.
func (m *Miner) Start() error { return m.StartThreads(m.cfg.Threads) }

// StartThreads is Start with n hashing threads for this run (1 to
// MaxThreads; the next Start goes back to Config.Threads).
func (m *Miner) StartThreads(n int) error {
	if n < 1 || n > MaxThreads {
		return minerError(ErrBadThreads, "threads must be between 1 and %d, not %d", MaxThreads, n)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.run != nil {
		return minerError(ErrRunning, "miner is running (or still stopping)")
	}
	r := &run{threads: n, quit: make(chan struct{}), stopped: make(chan struct{})}
	m.run = r
	m.threads.Store(int64(n))
	r.wg.Add(1 + n)
	go m.controller(r)
	for i := 0; i < n; i++ {
		go m.worker(i, r)
	}
	m.log.Info("miner: started", "threads", n)
	return nil
}

// Threads is the number of hashing threads running, 0 when stopped.
func (m *Miner) Threads() int { return int(m.threads.Load()) }

// Stop stops hashing and waits for the threads; a concurrent Stop waits
// too. The miner can be started again once it returns. OnBlock must not
// call it (Stop would wait for the thread running OnBlock).
func (m *Miner) Stop() {
	m.mu.Lock()
	r := m.run
	if r == nil {
		m.mu.Unlock()
		return
	}
	if r.stopping {
		m.mu.Unlock()
		<-r.stopped
		return
	}
	r.stopping = true
	close(r.quit)
	m.mu.Unlock()
	m.gen.Add(1)
	r.wg.Wait()
	m.rate.Store(0)
	m.threads.Store(0)
	m.mu.Lock()
	m.run = nil
	m.mu.Unlock()
	close(r.stopped)
}

// HashRate is the moving average of hashes per second over all threads
// (time constant 5 s), 0 when stopped.
func (m *Miner) HashRate() float64 { return math.Float64frombits(m.rate.Load()) }

// Hashes is the number of headers hashed since New.
func (m *Miner) Hashes() uint64 { return m.hashes.Load() }

// Found is the number of blocks this miner solved that the chain accepted.
func (m *Miner) Found() uint64 { return m.found.Load() }

// Template returns a template paying addr, for external miners. It is
// cached per address (the templateCacheSize most recently used) until the
// tip changes or RebuildInterval passes. The zero address is refused with
// ErrBadAddress.
func (m *Miner) Template(addr types.Address) (*Template, error) {
	if addr == (types.Address{}) {
		return nil, minerError(ErrBadAddress, "no template for the zero address: consensus refuses a coinbase paying it")
	}
	m.mu.Lock()
	t := m.cache.get(addr)
	m.mu.Unlock()
	if t != nil && m.cfg.Clock().Sub(t.Built) < m.cfg.RebuildInterval {
		return t, nil
	}
	gen := m.gen.Load()
	t, err := m.buildTemplate(addr)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.gen.Load() == gen { // not invalidated while building
		m.cache.put(addr, t)
	}
	m.mu.Unlock()
	return t, nil
}

// SubmitBlock hands a solved block to the chain. The chain's result and
// error are returned unchanged: consensus failures as
// *consensus.RuleError, store conditions (duplicate, known invalid) as
// *chain.Error.
func (m *Miner) SubmitBlock(blk *types.Block) (chain.ProcessResult, error) {
	if blk == nil || len(blk.Txs) == 0 {
		return chain.ProcessResult{}, minerError(ErrNilBlock, "no block, or a block without transactions")
	}
	res, err := m.cfg.Chain.ProcessBlock(blk)
	if err == nil && m.cfg.OnBlock != nil {
		m.cfg.OnBlock(blk)
	}
	return res, err
}

// controller builds work when the tip changes, or when the pool gained
// MinFeeGain in fees and RebuildInterval passed since the last build, and
// keeps the hash rate average.
func (m *Miner) controller(r *run) {
	defer r.wg.Done()
	defer func() {
		// Stop's own bump can come before a publish that was already
		// building: that work would carry the current generation and
		// keep the threads hashing for ever. Nothing is published after
		// this point, so a bump here makes whatever they hold stale.
		m.gen.Add(1)
		// Release threads waiting for work.
		old := m.work.Swap(&work{replaced: make(chan struct{})})
		close(old.replaced)
	}()
	ticker := time.NewTicker(rateInterval)
	defer ticker.Stop()
	lastHashes, lastSample := m.hashes.Load(), time.Now()
	var lastBuild time.Time
	rebuild := true
	for {
		if rebuild {
			if err := m.publish(); err != nil {
				m.log.Warn("miner: building a template failed", "err", err)
			} else {
				rebuild = false
			}
			lastBuild = m.cfg.Clock()
		}
		select {
		case <-r.quit:
			return
		case <-m.tipCh:
			rebuild = true
		case <-m.poolCh:
		case <-ticker.C:
			// Hash rate: the monotonic clock, not Config.Clock, which is
			// consensus time and may be fixed or stepped in tests.
			now := time.Now()
			h := m.hashes.Load()
			dt := now.Sub(lastSample)
			inst := float64(h-lastHashes) / dt.Seconds()
			old := m.HashRate()
			alpha := 1 - math.Exp(-dt.Seconds()/rateTau.Seconds())
			if old == 0 {
				alpha = 1
			}
			m.rate.Store(math.Float64bits(old + alpha*(inst-old)))
			lastHashes, lastSample = h, now
			if w := m.work.Load(); w.tmpl == nil || w.gen != m.gen.Load() {
				rebuild = true // last build failed or work went stale unnoticed
			}
		}
		if !rebuild && m.feeRebuildDue(lastBuild) {
			rebuild = true
		}
	}
}

// feeRebuildDue reports whether the pool's new fees call for a rebuild:
// at least MinFeeGain of them, and RebuildInterval passed on Config.Clock
// since the last build.
func (m *Miner) feeRebuildDue(lastBuild time.Time) bool {
	return types.Amount(m.newFees.Load()) >= m.cfg.MinFeeGain && m.cfg.Clock().Sub(lastBuild) >= m.cfg.RebuildInterval
}

// publish builds a template for the miner's address and makes it the
// current work. Threads keep hashing the old work while it is built (a fee
// rebuild does not stop them); the switch is one compare-and-swap of the
// generation. If the tip moved during the build, the template is dropped:
// the notification has already asked for another.
func (m *Miner) publish() error {
	gen := m.gen.Load()
	m.newFees.Store(0)
	t, err := m.buildTemplate(m.cfg.Address)
	if err != nil {
		return err
	}
	if !m.gen.CompareAndSwap(gen, gen+1) {
		m.log.Debug("miner: tip moved while building; template dropped", "height", t.Height)
		return nil
	}
	w := &work{gen: gen + 1, tmpl: t, replaced: make(chan struct{})}
	old := m.work.Swap(w)
	close(old.replaced)
	m.log.Debug("miner: new work", "height", t.Height, "txs", len(t.Block.Txs)-1, "fees", t.Fees)
	return nil
}

// waitWork returns current work: published for the current generation
// and not yet solved. It blocks until there is some, or returns nil once
// quit is closed.
func (m *Miner) waitWork(quit chan struct{}) *work {
	for {
		select {
		case <-quit:
			return nil
		default:
		}
		w := m.work.Load()
		if w.tmpl != nil && w.gen == m.gen.Load() && !w.solved.Load() {
			return w
		}
		select {
		case <-w.replaced:
		case <-quit:
			return nil
		}
	}
}

// worker searches thread id's share of the space (see threadExtra), each
// extra nonce with the whole 32-bit nonce range.
func (m *Miner) worker(id int, r *run) {
	defer r.wg.Done()
	h := newHasher()
	for {
		w := m.waitWork(r.quit)
		if w == nil {
			return
		}
		m.mine(h, w, id, r.threads)
	}
}

// threadExtra is the round-th extra nonce of thread id out of threads:
// id, id+threads, id+2*threads, ..., so no two threads ever hash the same
// coinbase.
func threadExtra(id, threads int, round uint64) uint64 {
	return uint64(id) + round*uint64(threads)
}

// mine hashes w until it is solved or goes stale.
func (m *Miner) mine(h *hasher, w *work, id, threads int) {
	t := w.tmpl
	for round := uint64(0); ; round++ {
		extra := threadExtra(id, threads, round)
		cb := *t.Block.Txs[0]
		cb.Memo = coinbaseMemo(m.cfg.CoinbaseTag, extra)
		hdr := t.Block.Header
		hdr.TxRoot = types.MerkleRootFromBranch(cb.Hash(), t.CoinbaseBranch)
		hdr.Time = m.headerTime(t.MinTime)
		enc := hdr.Encode()
		h.setHeader(&enc)
		for start := uint64(0); start < 1<<32; start += chunk {
			if m.gen.Load() != w.gen || w.solved.Load() {
				return
			}
			if now := m.headerTime(t.MinTime); now != hdr.Time {
				hdr.Time = now
				h.setTime(now)
			}
			nonce, ok := h.scan(uint32(start), chunk, &t.Target)
			if !ok {
				m.hashes.Add(chunk)
				continue
			}
			m.hashes.Add(uint64(nonce-uint32(start)) + 1)
			if !w.solved.CompareAndSwap(false, true) {
				return
			}
			hdr.Nonce = nonce
			blk := &types.Block{Header: hdr, Txs: append([]*types.Tx{&cb}, t.Block.Txs[1:]...)}
			m.submitFound(blk)
			return
		}
	}
}

func (m *Miner) submitFound(blk *types.Block) {
	res, err := m.cfg.Chain.ProcessBlock(blk)
	if err != nil {
		m.log.Warn("miner: solved block refused", "height", blk.Header.Height, "err", err)
	} else {
		m.found.Add(1)
		if m.cfg.OnBlock != nil {
			m.cfg.OnBlock(blk)
		}
		m.log.Info("miner: solved block", "height", blk.Header.Height, "hash", res.Hash,
			"txs", len(blk.Txs)-1, "main", res.MainChain)
	}
	// A new tip has already invalidated the work (the chain notifies
	// before ProcessBlock returns); otherwise the chain did not move
	// (refused, or a side chain) and the solved work must not be hashed
	// again, so invalidate it here. Doing it in both cases cost one
	// wasted template build per block.
	if err != nil || !res.MainChain {
		m.gen.Add(1)
		signal(m.tipCh)
	}
}
