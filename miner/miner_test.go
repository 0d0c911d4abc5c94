package miner

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

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
// keep finding valid blocks.
func TestMultiThreadMining(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2})
	const threads = 4
	m := f.newMiner(func(c *Config) { c.Threads = threads })
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "five blocks", 20*time.Second, func() bool { return f.c.Tip().Height >= 5 })
	m.Stop()
	for h := uint32(1); h <= 5; h++ {
		blk, err := f.c.BlockByHeight(h)
		if err != nil {
			t.Fatal(err)
		}
		memo := blk.Txs[0].Memo
		if len(memo) != extraNonceSize {
			t.Fatalf("memo %x", memo)
		}
		if extra := binary.BigEndian.Uint64(memo); extra > 1<<20 {
			t.Fatalf("extra nonce %d", extra)
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

// TestSwitchesToNewTip feeds a longer competing branch while the miner
// works on its own; the miner must build its next blocks on the new tip.
func TestSwitchesToNewTip(t *testing.T) {
	f := newFixture(t, chaingen.Options{Accounts: 2, Bits: "1f00ffff"})
	m := f.newMiner(nil)
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
	for _, b := range competitor {
		if _, err := f.c.ProcessBlock(b); err != nil {
			t.Fatal(err)
		}
	}
	last := competitor[len(competitor)-1].Header.Height
	if before >= last {
		t.Skipf("the miner outran the competing branch (%d blocks)", before)
	}
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
	if top <= before {
		t.Fatalf("competing branch not on the main chain (top %d, miner was at %d)", top, before)
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
	if top+2 > f.c.Tip().Height {
		t.Fatalf("miner did not extend the new branch: top %d tip %d", top, f.c.Tip().Height)
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

// TestRebuildOnFees: pool fees cause a rebuild only once RebuildInterval
// has passed on the injected clock; a new tip rebuilds at once.
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
	time.Sleep(50 * time.Millisecond)
	if current() != first {
		t.Fatal("rebuilt before the interval passed")
	}
	f.clock.Advance(time.Minute)
	if err := f.p.Add(f.tx(1, 0, 1000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a rebuild with the new fees", 5*time.Second, func() bool {
		c := current()
		return c != first && c != nil && len(c.Block.Txs) == 3
	})
}

func marshal(h *hasher) ([]byte, error) {
	type marshaler interface{ MarshalBinary() ([]byte, error) }
	return h.d.(marshaler).MarshalBinary()
}
