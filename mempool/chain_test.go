package mempool

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

func wantRemoved(t testing.TB, p *Pool, tx *types.Tx, reason RemovalReason, kind error) TxStatus {
	t.Helper()
	st := wantStatus(t, p, tx, StateRemoved)
	if st.Reason != reason {
		t.Fatalf("tx nonce %d: reason %q, want %q (err %v)", tx.Nonce, st.Reason, reason, st.Err)
	}
	if kind != nil {
		wantKind(t, st.Err, kind)
	}
	return st
}

func TestConnectedBlock(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 5}, nil)
	x0, x1, x2 := f.tx(0, 0, 1000), f.tx(0, 1, 1000), f.tx(0, 2, 1000)
	y0 := f.tx(1, 0, 1000)
	z0, z1 := f.txAmount(2, 0, 100*types.Coin, 1000), f.txAmount(2, 1, 800*types.Coin, 1000)
	f.mustAdd(x0, x1, x2, y0, z0, z1)

	y0b := f.txAmount(1, 0, 2*types.Coin, 500)    // conflicts with y0
	z0b := f.txAmount(2, 0, 500*types.Coin, 1000) // leaves too little for z1
	blk := f.connect(x0, x1, y0b, z0b)

	st := wantRemoved(t, f.p, x0, ReasonMined, nil)
	if st.Block != blk.Hash() || st.Height != 1 {
		t.Fatalf("mined at %s/%d", st.Block, st.Height)
	}
	wantRemoved(t, f.p, x1, ReasonMined, nil)
	wantKind(t, f.p.Add(x0), consensus.ErrBadNonce) // resubmitted: refused, still reported as mined
	wantRemoved(t, f.p, x0, ReasonMined, nil)
	wantStatus(t, f.p, x2, StatePending)
	wantRemoved(t, f.p, y0, ReasonInvalidated, consensus.ErrBadNonce)
	wantRemoved(t, f.p, z0, ReasonInvalidated, consensus.ErrBadNonce)
	wantRemoved(t, f.p, z1, ReasonInvalidated, consensus.ErrInsufficientBalance)
	if f.p.Count() != 1 || f.p.Tip() != blk.Hash() {
		t.Fatalf("count %d tip %s", f.p.Count(), f.p.Tip())
	}
	checkInvariants(t, f.p)
	// What is left applies on the new tip.
	var txs []*types.Tx
	for _, c := range f.p.Pending(0, 0) {
		txs = append(txs, c.Tx)
	}
	f.connect(txs...)
	if f.p.Count() != 0 {
		t.Fatalf("count %d after mining everything", f.p.Count())
	}
}

// TestReorg connects branch A carrying pool transactions, then reorganises
// to a longer branch B that carries conflicting ones: A's transactions
// that still apply come back (with the sender's later nonce behind them),
// the others are dropped with their reason, and the pool mines on B.
func TestReorg(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 6}, nil)
	const X, Y, W, V = 0, 1, 2, 3
	t1, t2, t3 := f.tx(X, 0, 1000), f.tx(X, 1, 1000), f.tx(X, 2, 1000)
	y0 := f.tx(Y, 0, 1000)
	v0, v1 := f.txAmount(V, 0, 100*types.Coin, 1000), f.txAmount(V, 1, 500*types.Coin, 1000)
	w0 := f.tx(W, 0, 1000)
	f.mustAdd(t1, t2, t3, y0, v0, v1, w0)

	genesis := f.tip
	a1 := f.connect(t1, t2, y0, v0)
	for _, tx := range []*types.Tx{t1, t2, y0, v0} {
		wantRemoved(t, f.p, tx, ReasonMined, nil)
	}
	if f.p.Count() != 3 {
		t.Fatalf("count after A1: %d", f.p.Count())
	}

	b1 := f.g.MustBlock(genesis, []*types.Tx{
		f.txAmount(Y, 0, 3*types.Coin, 700),
		f.txAmount(V, 0, 900*types.Coin, 700),
		f.txAmount(W, 0, 5*types.Coin, 700),
	}, chaingen.BlockOpts{CoinbaseMemo: []byte("B")})
	b2 := f.g.MustBlock(b1.Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("B")})
	f.process(b1)
	if f.c.Tip().Hash != a1.Hash() {
		t.Fatal("equal work must not reorganise")
	}
	f.process(b2)
	if f.c.Tip().Hash != b2.Hash() || f.p.Tip() != b2.Hash() {
		t.Fatalf("tip %s, pool tip %s, want B2", f.c.Tip().Hash, f.p.Tip())
	}
	f.tip = b2.Hash()

	for _, tx := range []*types.Tx{t1, t2, t3} {
		wantStatus(t, f.p, tx, StatePending)
	}
	wantRemoved(t, f.p, y0, ReasonInvalidated, consensus.ErrBadNonce)
	wantRemoved(t, f.p, v0, ReasonInvalidated, consensus.ErrBadNonce)
	wantRemoved(t, f.p, v1, ReasonInvalidated, consensus.ErrInsufficientBalance)
	wantRemoved(t, f.p, w0, ReasonInvalidated, consensus.ErrBadNonce)
	if f.p.Count() != 3 {
		t.Fatalf("count after reorg: %d", f.p.Count())
	}
	checkInvariants(t, f.p)

	var txs []*types.Tx
	for _, c := range f.p.Pending(0, 0) {
		txs = append(txs, c.Tx)
	}
	if len(txs) != 3 {
		t.Fatalf("selected %d", len(txs))
	}
	f.connect(txs...)
	if f.p.Count() != 0 {
		t.Fatalf("count %d", f.p.Count())
	}
}

// TestConcurrentAddAndConnect adds from many goroutines while blocks
// carrying some of the same transactions connect; run it with -race.
func TestConcurrentAddAndConnect(t *testing.T) {
	const adders, chained, nonces, blocks = 8, 4, 20, 10
	f := newFixture(t, chaingen.Options{Accounts: 16}, nil)
	txs := make([][]*types.Tx, adders)
	for s := range txs {
		for n := 0; n < nonces; n++ {
			txs[s] = append(txs[s], f.tx(s, uint64(n), 1000))
		}
	}
	var chainBlocks []*types.Block
	parent := f.tip
	for k := 0; k < blocks; k++ {
		var btx []*types.Tx
		for s := 0; s < chained; s++ {
			btx = append(btx, txs[s][k])
		}
		for s := adders; s < 16; s++ {
			btx = append(btx, f.tx(s, uint64(k), 800))
		}
		b := f.g.MustBlock(parent, btx)
		chainBlocks = append(chainBlocks, b)
		parent = b.Hash()
	}

	var wg sync.WaitGroup
	errs := make(chan error, adders*nonces)
	for s := 0; s < adders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for _, tx := range txs[s] {
				if err := f.p.Add(tx); err != nil && !(s < chained && Kind(err) == string(consensus.ErrBadNonce) && tx.Nonce < blocks) {
					errs <- err
				}
			}
		}(s)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, b := range chainBlocks {
			if _, err := f.c.ProcessBlock(b); err != nil {
				errs <- err
			}
			time.Sleep(time.Millisecond)
		}
	}()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			f.p.Pending(100_000, 50)
			f.p.Status(txs[0][0].Hash())
			f.p.Count()
			f.p.MinFeeRate()
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := f.p.Sync(); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, f.p)
	if want := chained*(nonces-blocks) + (adders-chained)*nonces; f.p.Count() != want {
		t.Fatalf("count %d, want %d", f.p.Count(), want)
	}
	for s := 0; s < chained; s++ {
		for n := 0; n < blocks; n++ {
			if _, in := f.p.Get(txs[s][n].Hash()); in {
				t.Fatalf("mined transaction %d/%d still in the pool", s, n)
			}
		}
	}
}

// TestReorgRefillsSenderLimit: a reorganisation takes back a sender's mined
// nonces while the pool holds MaxPerSender of its later ones. The mined
// ones come back (each evicting the sender's highest, recorded), so that
// the sender is not left stuck behind a gap nobody may fill.
func TestReorgRefillsSenderLimit(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, func(c *Config) { c.MaxPerSender = 4 })
	genesis := f.tip
	x0, x1 := f.tx(0, 0, 1000), f.tx(0, 1, 1000)
	f.mustAdd(x0, x1)
	f.connect(x0, x1)
	later := []*types.Tx{f.tx(0, 2, 1000), f.tx(0, 3, 1000), f.tx(0, 4, 1000), f.tx(0, 5, 1000)}
	f.mustAdd(later...)
	b1 := f.g.MustBlock(genesis, nil, chaingen.BlockOpts{CoinbaseMemo: []byte("B")})
	b2 := f.g.MustBlock(b1.Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("B")})
	f.process(b1, b2)
	if f.p.Tip() != b2.Hash() {
		t.Fatal("no reorganisation")
	}
	f.tip = b2.Hash()
	for _, tx := range []*types.Tx{x0, x1, later[0], later[1]} {
		wantStatus(t, f.p, tx, StatePending)
	}
	for _, tx := range later[2:] {
		wantKind(t, wantRemoved(t, f.p, tx, ReasonEvicted, nil).Err, ErrSenderLimit)
	}
	checkInvariants(t, f.p)
	// What is pending applies on the new tip, and once it is mined the
	// evicted ones are welcome again.
	var txs []*types.Tx
	for _, c := range f.p.Pending(0, 0) {
		txs = append(txs, c.Tx)
	}
	if len(txs) != 4 {
		t.Fatalf("selected %d", len(txs))
	}
	f.connect(txs...)
	f.mustAdd(later[2:]...)
	if f.p.Count() != 2 {
		t.Fatalf("count %d", f.p.Count())
	}
	checkInvariants(t, f.p)
}

// TestReorgBeyondSenderLimit: a disconnected block carried more of one
// sender's nonces than MaxPerSender. The lowest come back; the rest are
// recorded as evicted for the sender's limit, not silently lost.
func TestReorgBeyondSenderLimit(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4}, func(c *Config) { c.MaxPerSender = 3 })
	genesis := f.tip
	var xs []*types.Tx
	for n := uint64(0); n < 5; n++ {
		xs = append(xs, f.tx(0, n, 1000))
	}
	f.connect(xs...)
	b1 := f.g.MustBlock(genesis, nil, chaingen.BlockOpts{CoinbaseMemo: []byte("B")})
	b2 := f.g.MustBlock(b1.Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte("B")})
	f.process(b1, b2)
	for _, tx := range xs[:3] {
		wantStatus(t, f.p, tx, StatePending)
	}
	for _, tx := range xs[3:] {
		wantKind(t, wantRemoved(t, f.p, tx, ReasonEvicted, nil).Err, ErrSenderLimit)
	}
	checkInvariants(t, f.p)
}

// TestApplyStorageFailureKeepsEvents: a storage failure while applying a
// block, on the read of a sender that joined the pool meanwhile, leaves the
// pool as it was and the block queued; the next attempt applies it.
func TestApplyStorageFailureKeepsEvents(t *testing.T) {
	rc := &recordingChain{}
	f := newFixture(t, chaingen.Options{Accounts: 4}, func(c *Config) {
		rc.Chain = c.Chain.(*chain.Chain)
		c.Chain = rc
	})
	const A, B = 0, 1 // A's block transfer pays B
	conflict := f.tx(A, 0, 1000)
	f.mustAdd(conflict)
	mined := f.txAmount(A, 0, 2*types.Coin, 900)
	var once sync.Once
	fired := make(chan struct{})
	joined := f.tx(B, 0, 1000)
	f.p.hookBeforeApply = func() {
		once.Do(func() {
			// B joins the pool after the first reads, so the apply step
			// must read it; then the snapshot fails.
			if err := f.p.Add(joined); err != nil {
				t.Error(err)
			}
			rc.lastSnapshot().Release()
			close(fired)
		})
	}
	blk := f.g.MustBlock(f.tip, []*types.Tx{mined})
	if _, err := f.c.ProcessBlock(blk); err != nil {
		t.Fatal(err)
	}
	// The pool's goroutine or the first Sync meets the failure; after the
	// second the block must be applied.
	_ = f.p.Sync()
	if err := f.p.Sync(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-fired:
	default:
		t.Fatal("the failure was never injected")
	}
	if f.p.Tip() != blk.Hash() {
		t.Fatalf("pool tip %s, want the block", f.p.Tip())
	}
	wantRemoved(t, f.p, conflict, ReasonInvalidated, consensus.ErrBadNonce)
	wantStatus(t, f.p, joined, StatePending)
	checkInvariants(t, f.p)
}

// snapshotlessChain fails every state snapshot and keeps the handlers
// subscribed to it.
type snapshotlessChain struct {
	*chain.Chain
	handlers []func(chain.Notification)
}

func (c *snapshotlessChain) StateSnapshot() (*chain.StateSnapshot, error) {
	return nil, errors.New("disk on fire")
}

func (c *snapshotlessChain) Subscribe(fn func(chain.Notification)) {
	c.handlers = append(c.handlers, fn)
}

// TestNewFailsCleanly: a pool that could not start leaves a handler on the
// chain (which cannot unsubscribe); it must drop notifications, not queue
// them for ever.
func TestNewFailsCleanly(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	sc := &snapshotlessChain{Chain: openChain(t, g)}
	p, err := newPool(Config{Chain: sc, Logger: quietLogger()})
	if err == nil || len(sc.handlers) != 1 {
		t.Fatalf("err %v, %d handlers", err, len(sc.handlers))
	}
	sc.handlers[0](chain.Notification{Type: chain.BlockConnected, Block: g.Genesis.Block, Hash: g.Genesis.Hash})
	p.evMu.Lock()
	queued := len(p.events)
	p.evMu.Unlock()
	if queued != 0 {
		t.Fatalf("a failed pool queued %d notifications", queued)
	}
	if p, err := New(Config{Chain: sc}); p != nil || err == nil {
		t.Fatal("New returned a pool that failed to start")
	}
}

// TestClosed: every call on a closed pool that needs its state fails with
// ErrPoolClosed (the state snapshot is released by then).
func TestClosed(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 3}, nil)
	f.mustAdd(f.tx(0, 0, 1000))
	if err := f.p.Close(); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"Add", func() error { return f.p.Add(f.tx(1, 0, 1000)) }},
		{"AddBatch", func() error { return f.p.AddBatch([]*types.Tx{f.tx(1, 0, 1000)})[0] }},
		{"PendingNonce of a pooled sender", func() error { _, err := f.p.PendingNonce(f.g.Addrs[0]); return err }},
		{"PendingNonce of another", func() error { _, err := f.p.PendingNonce(f.g.Addrs[1]); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) { wantKind(t, c.call(), ErrPoolClosed) })
	}
	if err := f.p.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}
