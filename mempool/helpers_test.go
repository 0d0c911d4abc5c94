package mempool

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// chainClock is far enough after the test genesis that generated blocks
// are never in the future.
func chainClock() time.Time { return time.Unix(1_700_000_000+10*365*86400, 0) }

// fakeClock is the pool's injected clock; tests move it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time // guarded by mu
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fixture is a real chain store on a chaingen network with a pool on it.
type fixture struct {
	t     testing.TB
	g     *chaingen.Generator
	c     *chain.Chain
	p     *Pool
	clock *fakeClock
	// tip is the generator's block the chain's tip should be.
	tip types.Hash
}

func openChain(t testing.TB, g *chaingen.Generator) *chain.Chain {
	t.Helper()
	c, err := chain.Open(chain.Config{Dir: t.TempDir(), Genesis: g.Genesis, Clock: chainClock, Logger: quietLogger(), SkipStateCheck: true})
	if err != nil {
		t.Fatalf("open chain: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newFixture(t testing.TB, o chaingen.Options, mod func(*Config)) *fixture {
	t.Helper()
	g := chaingen.New(o)
	f := &fixture{t: t, g: g, c: openChain(t, g), clock: newFakeClock(), tip: g.Genesis.Hash}
	f.p = f.newPool(mod)
	return f
}

func (f *fixture) newPool(mod func(*Config)) *Pool {
	f.t.Helper()
	cfg := Config{Chain: f.c, Clock: f.clock.Now, Logger: quietLogger()}
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		f.t.Fatalf("new pool: %v", err)
	}
	f.t.Cleanup(func() { p.Close() })
	return p
}

// tx signs a transfer of one coin from key i to key i+1.
func (f *fixture) tx(from int, nonce uint64, fee types.Amount) *types.Tx {
	return f.g.Transfer(from, f.g.Addrs[(from+1)%len(f.g.Addrs)], types.Coin, fee, nonce)
}

func (f *fixture) txAmount(from int, nonce uint64, amount, fee types.Amount) *types.Tx {
	return f.g.Transfer(from, f.g.Addrs[(from+1)%len(f.g.Addrs)], amount, fee, nonce)
}

// connect builds a block on f.tip with txs, feeds it to the chain and
// waits for the pool to apply it.
func (f *fixture) connect(txs ...*types.Tx) *types.Block {
	f.t.Helper()
	b := f.g.MustBlock(f.tip, txs)
	f.process(b)
	f.tip = b.Hash()
	return b
}

func (f *fixture) process(blocks ...*types.Block) {
	f.t.Helper()
	for _, b := range blocks {
		if _, err := f.c.ProcessBlock(b); err != nil {
			f.t.Fatalf("process block %d: %v", b.Header.Height, err)
		}
	}
	if err := f.p.Sync(); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
}

func (f *fixture) mustAdd(txs ...*types.Tx) {
	f.t.Helper()
	for _, tx := range txs {
		if err := f.p.Add(tx); err != nil {
			f.t.Fatalf("add nonce %d fee %d: %v", tx.Nonce, tx.Fee, err)
		}
	}
}

func wantKind(t testing.TB, err error, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("got error %v (kind %q), want kind %v", err, Kind(err), kind)
	}
	if Kind(err) != kind.Error() {
		t.Fatalf("Kind(err) = %q, want %q", Kind(err), kind.Error())
	}
}

func wantStatus(t testing.TB, p *Pool, tx *types.Tx, state TxState) TxStatus {
	t.Helper()
	st := p.Status(tx.Hash())
	if st.State != state {
		t.Fatalf("tx nonce %d: state %v (reason %q, err %v), want %v", tx.Nonce, st.State, st.Reason, st.Err, state)
	}
	return st
}

// checkInvariants verifies the pool's internal consistency and that every
// executable run applies to the tip state.
func checkInvariants(t testing.TB, p *Pool) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	count, size := 0, 0
	for addr, s := range p.senders {
		if len(s.txs) == 0 {
			t.Fatalf("sender %s kept with no transactions", addr)
		}
		acct, err := p.view.snap.Account(addr)
		if err != nil {
			t.Fatal(err)
		}
		if acct != s.acct {
			t.Fatalf("sender %s: cached account %+v, tip says %+v", addr, s.acct, acct)
		}
		cur := acct
		for i, e := range s.txs {
			count++
			size += e.size
			if p.all[e.id] != e {
				t.Fatalf("entry %s not indexed", e.id)
			}
			if i > 0 && s.txs[i-1].tx.Nonce >= e.tx.Nonce {
				t.Fatalf("sender %s: nonces out of order", addr)
			}
			if i < s.nPending {
				if e.queued {
					t.Fatalf("executable entry marked queued")
				}
				next, err := consensus.DebitSender(cur, e.tx)
				if err != nil {
					t.Fatalf("sender %s nonce %d executable but: %v", addr, e.tx.Nonce, err)
				}
				cur = next
			} else {
				if !e.queued {
					t.Fatalf("queued entry not marked queued")
				}
				if e.tx.Nonce <= cur.Nonce {
					t.Fatalf("queued nonce %d not beyond the run ending at %d", e.tx.Nonce, cur.Nonce)
				}
			}
		}
		if cur != s.after {
			t.Fatalf("sender %s: after %+v, recomputed %+v", addr, s.after, cur)
		}
	}
	if count != len(p.all) || size != p.bytes {
		t.Fatalf("count %d/%d bytes %d/%d", count, len(p.all), size, p.bytes)
	}
	if p.pendingHeap.Len()+p.queuedHeap.Len() != count {
		t.Fatalf("heaps hold %d+%d, pool %d", p.pendingHeap.Len(), p.queuedHeap.Len(), count)
	}
	for i, e := range p.pendingHeap {
		if e.heapIdx != i || e.queued {
			t.Fatalf("pending heap index broken")
		}
	}
	if len(p.rank) != p.pendingHeap.Len() {
		t.Fatalf("rank holds %d, pending heap %d", len(p.rank), p.pendingHeap.Len())
	}
	for i, r := range p.rank {
		if e := r.e; e.rankIdx != i || e.queued || r.key != rankOf(e) {
			t.Fatalf("rank index broken")
		}
		if i > 0 && r.key.above(p.rank[(i-1)/2].key) {
			t.Fatalf("rank heap order broken at %d", i)
		}
	}
	live := 0
	for _, e := range p.arrivals[p.arrHead:] {
		if p.all[e.id] == e {
			live++
		}
	}
	if live != len(p.all) {
		t.Fatalf("arrivals hold %d of the pool's %d", live, len(p.all))
	}
	for i, e := range p.queuedHeap {
		if e.heapIdx != i || !e.queued {
			t.Fatalf("queued heap index broken")
		}
	}
}

// recordingChain is the chain store with the last state snapshot it handed
// out kept, so that a test can make reads from it fail.
type recordingChain struct {
	*chain.Chain
	mu   sync.Mutex
	last *chain.StateSnapshot // guarded by mu
}

func (c *recordingChain) StateSnapshot() (*chain.StateSnapshot, error) {
	s, err := c.Chain.StateSnapshot()
	c.mu.Lock()
	c.last = s
	c.mu.Unlock()
	return s, err
}

func (c *recordingChain) lastSnapshot() *chain.StateSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
