package miner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain"
	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
	"github.com/ledger-node/ledger/mempool"
)

// TestHasherMatchesHeaderHash checks the midstate kernel, in both of its
// modes, against the reference double SHA-256 of the encoded header.
func TestHasherMatchesHeaderHash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		var hdr types.Header
		hdr.Version, hdr.Height, hdr.Time, hdr.Bits = 1, r.Uint32(), r.Uint64(), r.Uint32()
		for j := range hdr.PrevBlock {
			hdr.PrevBlock[j], hdr.TxRoot[j], hdr.StateRoot[j] = byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())
		}
		for _, patched := range []bool{true, false} {
			h := newHasher()
			enc := hdr.Encode()
			h.setHeader(&enc)
			if !h.patched && patched {
				t.Fatal("marshaled SHA-256 layout not recognised: the fast path is off")
			}
			if !patched {
				h.patched = false
				h.d.Reset()
				h.d.Write(enc[:types.MidstateSize])
				h.state, _ = marshal(h)
			}
			hh := hdr
			hh.Time += 7
			h.setTime(hh.Time)
			for _, nonce := range []uint32{0, 1, r.Uint32(), ^uint32(0)} {
				hh.Nonce = nonce
				if got, want := *h.hash(nonce), hh.Hash(); !bytes.Equal(got[:], want[:]) {
					t.Fatalf("patched=%v nonce %d: midstate hash %x, header hash %x", patched, nonce, got, want)
				}
			}
		}
	}
	// scan finds exactly the nonces whose hash meets the target.
	h := newHasher()
	var hdr types.Header
	enc := hdr.Encode()
	h.setHeader(&enc)
	var target [32]byte
	target[0] = 0x0f // about one hash in 16
	nonce, ok := h.scan(0, 1000, &target)
	hdr.Nonce = nonce
	if sum := hdr.Hash(); !ok || bytes.Compare(sum[:], target[:]) > 0 {
		t.Fatalf("scan: ok=%v nonce %d", ok, nonce)
	}
	for n := uint32(0); n < nonce; n++ {
		hdr.Nonce = n
		if sum := hdr.Hash(); bytes.Compare(sum[:], target[:]) <= 0 {
			t.Fatalf("scan skipped nonce %d", n)
		}
	}
}

// TestMinedBlockConnects mines pool transactions into a block that the
// real chain store accepts.
func TestMinedBlockConnects(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4})
	txs := []*types.Tx{f.tx(0, 0, 1000), f.tx(0, 1, 3000), f.tx(1, 0, 2000)}
	for _, tx := range txs {
		if err := f.p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	published := make(chan types.Hash, 16)
	m := f.newMiner(func(c *Config) {
		c.CoinbaseTag = []byte("test")
		c.OnBlock = func(b *types.Block) {
			select {
			case published <- b.Hash():
			default: // later blocks: the first is the one checked
			}
		}
	})
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(); !errors.Is(err, ErrRunning) {
		t.Fatalf("second start: %v", err)
	}
	waitFor(t, "a block", 10*time.Second, func() bool { return f.c.Tip().Height >= 1 })
	m.Stop()
	blk, err := f.c.BlockByHeight(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(blk.Txs) != 4 {
		t.Fatalf("block carries %d transactions, want coinbase + 3", len(blk.Txs))
	}
	cb := blk.Txs[0]
	if cb.To != m.cfg.Address || cb.Amount != f.g.Params.Subsidy(1)+6000 || !bytes.HasPrefix(cb.Memo, []byte("test")) {
		t.Fatalf("coinbase %+v", cb)
	}
	if m.Found() == 0 {
		t.Fatal("found counter")
	}
	select {
	case h := <-published:
		if h != blk.Hash() {
			t.Fatalf("OnBlock got %s first, block 1 is %s", h, blk.Hash())
		}
	default:
		t.Fatal("OnBlock was not called for the solved block")
	}
	if err := f.p.Sync(); err != nil {
		t.Fatal(err)
	}
	if f.p.Count() != 0 {
		t.Fatalf("pool still holds %d", f.p.Count())
	}
}

// TestMultiThreadMining: several threads, each on its own extra nonces,
// keep finding valid blocks, and blocks found by different threads carry
// different coinbases. The target takes tens of thousands of hashes, so
// that every thread is hashing when one succeeds; no thread gets near the
// end of a nonce range, so each block carries its thread's first extra
// nonce, which is the thread's id.
func TestMultiThreadMining(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2, Bits: "1f00ffff"})
	const threads, blocks = 4, 8
	m := f.newMiner(func(c *Config) { c.Threads = threads })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "blocks", 60*time.Second, func() bool { return f.c.Tip().Height >= blocks })
	m.Stop()
	byThread := map[uint64]map[string]bool{}
	for h := uint32(1); h <= blocks; h++ {
		blk, err := f.c.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		memo := blk.Txs[0].Memo
		if len(memo) != extraNonceSize {
			t.Fatalf("memo %x", memo)
		}
		extra := binary.BigEndian.Uint64(memo)
		if extra >= threads {
			t.Fatalf("block %d: extra nonce %d is no thread's first", h, extra)
		}
		if byThread[extra] == nil {
			byThread[extra] = map[string]bool{}
		}
		byThread[extra][string(memo)] = true
	}
	if len(byThread) < 2 {
		t.Fatalf("all %d blocks carry the extra nonce of one thread: %v", blocks, byThread)
	}
	seen := map[string]uint64{}
	for id, memos := range byThread {
		for memo := range memos {
			if other, ok := seen[memo]; ok && other != id {
				t.Fatalf("threads %d and %d mined the same coinbase memo %x", other, id, memo)
			}
			seen[memo] = id
		}
	}
}

// TestThreadExtra: the threads' extra-nonce sequences (id, id+T, id+2T,
// ...) never meet, whatever the thread count.
func TestThreadExtra(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 4, 7, 16} {
		owner := map[uint64]int{}
		for id := 0; id < threads; id++ {
			for round := uint64(0); round < 100; round++ {
				x := threadExtra(id, threads, round)
				if prev, ok := owner[x]; ok {
					t.Fatalf("%d threads: extra nonce %d used by threads %d and %d", threads, x, prev, id)
				}
				owner[x] = id
				if round == 0 && x != uint64(id) {
					t.Fatalf("%d threads: thread %d starts at %d", threads, id, x)
				}
			}
		}
		if len(owner) != 100*threads {
			t.Fatalf("%d threads: %d distinct extra nonces", threads, len(owner))
		}
	}
}

// TestHashRate: with a target no thread can meet, all threads hash and the
// moving average reports it.
func TestHashRate(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2, Bits: "1b00ffff"})
	m := f.newMiner(func(c *Config) { c.Threads = 2 })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a hash rate", 5*time.Second, func() bool { return m.HashRate() > 0 })
	if m.Found() != 0 || f.c.Tip().Height != 0 {
		t.Fatal("found a block at an impossible target")
	}
	// Sanity bounds: SHA-256 on one core does well under 100 M/s.
	if r := m.HashRate(); r > 100e6*2 {
		t.Fatalf("hash rate %.0f H/s is not plausible", r)
	}
	t.Logf("hash rate %.0f H/s", m.HashRate())
	m.Stop()
	if m.HashRate() != 0 {
		t.Fatal("rate after stop")
	}
}

// gatedChain is the chain store with the miner's submissions above height
// open held until release is closed, so that a test decides how far the
// miner gets.
type gatedChain struct {
	*chain.Chain
	open    uint32
	release chan struct{}
}

func (c *gatedChain) ProcessBlock(b *types.Block) (chain.ProcessResult, error) {
	if b.Header.Height > c.open {
		<-c.release
	}
	return c.Chain.ProcessBlock(b)
}

// TestSwitchesToNewTip feeds a longer competing branch while the miner
// works on its own; the miner must build its next blocks on the new tip.
// The miner's second block is held back until the branch is in, so the
// miner cannot outrun it, and that block, solved on the old tip, goes to a
// side chain.
func TestSwitchesToNewTip(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2, Bits: "1f00ffff"})
	gc := &gatedChain{Chain: f.c, open: 1, release: make(chan struct{})}
	m := f.newMiner(func(c *Config) { c.Chain = gc })
	var once sync.Once
	release := func() { once.Do(func() { close(gc.release) }) }
	t.Cleanup(release) // before m.Stop, which waits for the held thread
	competitor := f.g.Chain(f.g.Genesis.Hash, 25, "competitor")
	isCompetitor := map[types.Hash]bool{}
	for _, b := range competitor {
		isCompetitor[b.Hash()] = true
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the miner's first block", 20*time.Second, func() bool { return f.c.Tip().Height >= 1 })
	before := f.c.Tip().Height
	if before != 1 {
		t.Fatalf("the miner got to height %d past the gate", before)
	}
	for _, b := range competitor {
		if _, err := f.c.ProcessBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	release()
	last := competitor[len(competitor)-1].Header.Height
	waitFor(t, "blocks on the new branch", 20*time.Second, func() bool { return f.c.Tip().Height >= last+2 })
	m.Stop()
	// The main chain must hold the competitor up to some height past where
	// the miner stood, then only this miner's blocks.
	top := uint32(0)
	for h := uint32(1); h <= f.c.Tip().Height; h++ {
		hash, err := f.c.HashAtHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		if isCompetitor[hash] {
			top = h
		}
	}
	if top != last {
		t.Fatalf("competing branch not on the main chain (top %d of %d)", top, last)
	}
	for h := top + 1; h <= f.c.Tip().Height; h++ {
		blk, err := f.c.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		if blk.Txs[0].To != m.cfg.Address {
			t.Fatalf("block %d not mined by the miner", h)
		}
	}
}

// fakePool serves fixed candidates and records rechecks.
type fakePool struct {
	cands     []mempool.Candidate
	rechecked []types.Hash
}

func (p *fakePool) Pending(maxBytes, maxCount int) []mempool.Candidate {
	if len(p.cands) > maxCount {
		return p.cands[:maxCount]
	}
	return p.cands
}
func (p *fakePool) Recheck(ids []types.Hash) error {
	p.rechecked = append(p.rechecked, ids...)
	return nil
}
func (p *fakePool) Subscribe(func(mempool.Accepted)) {}

func cand(tx *types.Tx) mempool.Candidate {
	return mempool.Candidate{Tx: tx, ID: tx.Hash(), Sender: tx.Sender(), Size: tx.EncodedSize()}
}

func TestTemplate(t *testing.T) {
	t.Run("limits and fee order", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 6})
		for i := 0; i < 6; i++ {
			if err := f.p.Add(f.tx(i, 0, types.Amount(1000*(i+1)))); err != nil {
				t.Fatal(err)
			}
		}
		m := f.newMiner(func(c *Config) { c.MaxBlockTxs = 4 })
		tmpl, err := m.Template(m.cfg.Address)
		if err != nil {
			t.Fatal(err)
		}
		txs := tmpl.Block.Txs
		if len(txs) != 4 || txs[1].Fee != 6000 || txs[2].Fee != 5000 || txs[3].Fee != 4000 {
			t.Fatalf("template holds %d transactions in the wrong order", len(txs))
		}
		if tmpl.Fees != 15000 || txs[0].Amount != tmpl.Subsidy+15000 {
			t.Fatalf("fees %d coinbase %d", tmpl.Fees, txs[0].Amount)
		}
		m2 := f.newMiner(func(c *Config) { c.MaxBlockBytes = types.HeaderSize + 4 + txs[0].EncodedSize() + 2*148 })
		if tmpl2, err := m2.Template(m.cfg.Address); err != nil || len(tmpl2.Block.Txs) != 3 {
			t.Fatalf("byte limit: %v", err)
		}
	})
	t.Run("skips what does not apply", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 4})
		good := f.tx(0, 0, 1000)
		stale := f.tx(1, 5, 9000) // nonce 5: the account's is 0
		after := f.tx(1, 6, 9000) // its sender's next: skipped with it
		poor := f.g.Transfer(2, f.g.Addrs[0], 5000*types.Coin, 1000, 0)
		fp := &fakePool{cands: []mempool.Candidate{cand(stale), cand(after), cand(good), cand(poor)}}
		m := f.newMiner(func(c *Config) { c.Pool = fp })
		tmpl, err := m.Template(m.cfg.Address)
		if err != nil {
			t.Fatal(err)
		}
		if len(tmpl.Block.Txs) != 2 || tmpl.Block.Txs[1] != good || len(tmpl.Skipped) != 3 || len(fp.rechecked) != 3 {
			t.Fatalf("template %d txs, skipped %d, rechecked %d", len(tmpl.Block.Txs), len(tmpl.Skipped), len(fp.rechecked))
		}
	})
	t.Run("external miner round trip", func(t *testing.T) {
		f := newFixture(t, chaingen.Options{Accounts: 3})
		if err := f.p.Add(f.tx(0, 0, 1000)); err != nil {
			t.Fatal(err)
		}
		m := f.newMiner(nil)
		tmpl, err := m.Template(f.g.Addrs[2])
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := m.Template(f.g.Addrs[2]); again != tmpl {
			t.Fatal("template not cached")
		}
		// An external miner sets its own memo and time, recomputes the
		// root from the branch and solves.
		blk := &types.Block{Header: tmpl.Block.Header, Txs: append([]*types.Tx(nil), tmpl.Block.Txs...)}
		cb := *blk.Txs[0]
		cb.Memo = []byte("external")
		blk.Txs[0] = &cb
		blk.Header.TxRoot = types.MerkleRootFromBranch(cb.Hash(), tmpl.CoinbaseBranch)
		blk.Header.Time = tmpl.MinTime + 1
		if blk.Header.TxRoot != types.MerkleRoot(blk.TxHashes()) {
			t.Fatal("branch root differs from the full root")
		}
		var bad *types.Block
		for n := uint32(0); ; n++ {
			blk.Header.Nonce = n
			err := consensus.CheckProofOfWork(blk.Hash(), blk.Header.Bits, f.g.Params.PowLimit)
			if err != nil && bad == nil {
				c := *blk
				bad = &c
			}
			if err == nil && bad != nil {
				break
			}
		}
		if _, err := m.SubmitBlock(bad); !errors.Is(err, consensus.ErrHighHash) {
			t.Fatalf("insufficient work: %v", err)
		}
		res, err := m.SubmitBlock(blk)
		if err != nil || !res.MainChain {
			t.Fatalf("submit: %+v %v", res, err)
		}
		if _, err := m.SubmitBlock(nil); !errors.Is(err, ErrNilBlock) {
			t.Fatalf("nil block: %v", err)
		}
		if tmpl2, err := m.Template(f.g.Addrs[2]); err != nil || tmpl2 == tmpl || tmpl2.Height != 2 {
			t.Fatalf("template after a new tip: %v", err)
		}
	})
}

// drainPoolSignal waits until the controller has taken a pool signal and
// finished acting on it: it takes one, then a second sent after the first
// was taken, and the controller only waits for the second once it has
// rebuilt (or not) for the first.
func drainPoolSignal(t *testing.T, m *Miner) {
	t.Helper()
	waitFor(t, "the controller to take the signal", 5*time.Second, func() bool { return len(m.poolCh) == 0 })
	signal(m.poolCh)
	waitFor(t, "the controller to take the second signal", 5*time.Second, func() bool { return len(m.poolCh) == 0 })
}

// TestRebuildOnFees: pool fees cause a rebuild only once RebuildInterval
// has passed on the injected clock; then they do.
func TestRebuildOnFees(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 4, Bits: "1b00ffff"})
	m := f.newMiner(func(c *Config) { c.RebuildInterval = time.Minute })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	current := func() *Template { return m.work.Load().tmpl }
	waitFor(t, "first work", 5*time.Second, func() bool { return current() != nil })
	first := current()
	if err := f.p.Add(f.tx(0, 0, 1000)); err != nil {
		t.Fatal(err)
	}
	drainPoolSignal(t, m)
	if current() != first {
		t.Fatal("rebuilt before the interval passed")
	}
	f.clock.Advance(time.Minute - time.Second)
	// Both transactions are in before the interval passes: the controller
	// also looks at the fees when its rate ticker fires, and a rebuild
	// between the clock's last step and a later Add would hold only the
	// first (and then wait a whole interval for the second).
	if err := f.p.Add(f.tx(1, 0, 1000)); err != nil {
		t.Fatal(err)
	}
	drainPoolSignal(t, m)
	if current() != first {
		t.Fatal("rebuilt a second before the interval passed")
	}
	f.clock.Advance(time.Second)
	signal(m.poolCh) // the next look at the fees, without waiting for the ticker
	waitFor(t, "a rebuild with the new fees", 5*time.Second, func() bool {
		c := current()
		return c != first && c != nil && len(c.Block.Txs) == 3
	})
}

// TestFeeRebuildDue: the fee rule on the injected clock.
func TestFeeRebuildDue(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2})
	m := f.newMiner(func(c *Config) { c.RebuildInterval, c.MinFeeGain = time.Minute, 1000 })
	last := f.clock.Now()
	tests := []struct {
		name  string
		fees  uint64
		after time.Duration
		want  bool
	}{
		{"no fees, long after", 0, time.Hour, false},
		{"fees short of the gain", 999, time.Hour, false},
		{"the gain, at once", 1000, 0, false},
		{"the gain, a nanosecond early", 1000, time.Minute - 1, false},
		{"the gain, on the interval", 1000, time.Minute, true},
		{"more, later", 5000, 2 * time.Minute, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(last.Add(tc.after))
			m.newFees.Store(tc.fees)
			if got := m.feeRebuildDue(last); got != tc.want {
				t.Fatalf("rebuild due %v, want %v", got, tc.want)
			}
		})
	}
}

// TestStartStopRace: Start while another goroutine's Stop is waiting for
// the threads must neither hang that Stop nor run two sets of goroutines;
// Start is refused until the old run has stopped. Run it with -race.
func TestStartStopRace(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2, Bits: "1b00ffff"})
	m := f.newMiner(func(c *Config) { c.Threads = 2 })
	// stuck fails the test without hanging it: a bump of the generation
	// lets threads hashing stale work go, so the cleanup's Stop returns.
	stuck := func(format string, args ...any) {
		t.Helper()
		m.gen.Add(1)
		t.Fatalf(format, args...)
	}
	for i := 0; i < 40; i++ {
		if err := m.Start(); err != nil {
			t.Fatal(err)
		}
		stopped := make(chan struct{})
		go func() { m.Stop(); close(stopped) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := m.Start()
			if err == nil {
				break
			}
			if !errors.Is(err, ErrRunning) {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				stuck("iteration %d: the old run never stopped", i)
			}
			runtime.Gosched()
		}
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			stuck("iteration %d: Stop did not return while a new run started", i)
		}
		// The new run works: it publishes work and hashes it.
		h := m.Hashes()
		waitFor(t, "the new run to hash", 10*time.Second, func() bool { return m.Hashes() > h })
		m.Stop()
	}
}

// TestConfigAndAddress: a zero coinbase address is refused at New and by
// Template, never turned into blocks the chain refuses.
func TestConfigAndAddress(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2})
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no chain", func(c *Config) { c.Chain = nil }},
		{"zero address", func(c *Config) { c.Address = types.Address{} }},
		{"tag too long", func(c *Config) { c.CoinbaseTag = make([]byte, types.MaxMemoSize-extraNonceSize+1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Chain: f.c, Address: f.g.Addrs[0], Logger: quietLogger()}
			tc.mod(&cfg)
			if m, err := New(cfg); m != nil || !errors.Is(err, ErrBadConfig) {
				t.Fatalf("New: %v", err)
			}
		})
	}
	m := f.newMiner(nil)
	if tmpl, err := m.Template(types.Address{}); tmpl != nil || !errors.Is(err, ErrBadAddress) {
		t.Fatalf("template for the zero address: %v", err)
	}
}

// TestSolvedBlockInvalidatesOnce: a solved block the chain makes its tip
// invalidates the work once, through the chain's notification (a second
// bump cost a template build per block); one it refuses invalidates it
// too, since the chain will not.
func TestSolvedBlockInvalidatesOnce(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2})
	m := f.newMiner(nil)
	tmpl, err := m.Template(m.cfg.Address)
	if err != nil {
		t.Fatal(err)
	}
	blk := &types.Block{Header: tmpl.Block.Header, Txs: tmpl.Block.Txs}
	for n := uint32(0); consensus.CheckProofOfWork(blk.Hash(), blk.Header.Bits, f.g.Params.PowLimit) != nil; n++ {
		blk.Header.Nonce = n
	}
	// The same block twice: the chain takes it as its tip, then refuses
	// it as known.
	tests := []struct {
		name  string
		found uint64
	}{
		{"accepted as the new tip", 1},
		{"refused (already known)", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen := m.gen.Load()
			m.submitFound(blk)
			if m.Found() != tc.found || f.c.Tip().Hash != blk.Hash() {
				t.Fatalf("found %d, tip %s", m.Found(), f.c.Tip().Hash)
			}
			if got := m.gen.Load() - gen; got != 1 {
				t.Fatalf("work invalidated %d times", got)
			}
		})
	}
}

// TestTemplateCacheBounded: external templates are cached per address,
// the least recently used leaving first once templateCacheSize are held.
func TestTemplateCacheBounded(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2})
	m := f.newMiner(nil)
	addr := func(i int) types.Address { return chaingen.AddrOf(chaingen.Key("cache", i)) }
	first, err := m.Template(addr(0))
	if err != nil {
		t.Fatal(err)
	}
	kept := make([]*Template, templateCacheSize+5)
	for i := 1; i < len(kept); i++ {
		if kept[i], err = m.Template(addr(i)); err != nil {
			t.Fatal(err)
		}
		if i == 5 { // address 0 used again: it must outlive 1..
			if again, _ := m.Template(addr(0)); again != first {
				t.Fatal("template not cached")
			}
		}
	}
	m.mu.Lock()
	n := len(m.cache.m)
	m.mu.Unlock()
	if n != templateCacheSize {
		t.Fatalf("cache holds %d templates", n)
	}
	if again, _ := m.Template(addr(len(kept) - 1)); again != kept[len(kept)-1] {
		t.Fatal("the most recent template was dropped")
	}
	if again, _ := m.Template(addr(0)); again != first {
		t.Fatal("a template used again was dropped before older ones")
	}
	if again, _ := m.Template(addr(1)); again == kept[1] {
		t.Fatal("the least recently used template was kept")
	}
}

func marshal(h *hasher) ([]byte, error) {
	type marshaler interface{ MarshalBinary() ([]byte, error) }
	return h.d.(marshaler).MarshalBinary()
}

// TestStartThreads runs the miner with a thread count other than the
// configured one, refuses counts out of range, and goes back to the
// configured count on the next Start.
func TestStartThreads(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 1})
	m := f.newMiner(func(c *Config) { c.Threads = 1 })
	for _, n := range []int{0, -1, MaxThreads + 1} {
		if err := m.StartThreads(n); !errors.Is(err, ErrBadThreads) {
			t.Fatalf("StartThreads(%d): %v, want ErrBadThreads", n, err)
		}
	}
	if m.Threads() != 0 {
		t.Fatalf("stopped miner reports %d threads", m.Threads())
	}
	if err := m.StartThreads(3); err != nil {
		t.Fatal(err)
	}
	if got := m.Threads(); got != 3 {
		t.Fatalf("Threads() = %d, want 3", got)
	}
	if err := m.StartThreads(2); !errors.Is(err, ErrRunning) {
		t.Fatalf("StartThreads while running: %v", err)
	}
	waitFor(t, "a block mined by 3 threads", 10*time.Second, func() bool { return f.c.Tip().Height >= 2 })
	m.Stop()
	if m.Threads() != 0 {
		t.Fatalf("after Stop: %d threads", m.Threads())
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	if got := m.Threads(); got != 1 {
		t.Fatalf("Start after StartThreads(3): %d threads, want the configured 1", got)
	}
	m.Stop()
}
