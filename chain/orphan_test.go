package chain

// The orphan pool (security-tests items 2, 3 and 15): blocks whose parent
// is unknown wait and connect when it arrives; count, byte and age limits
// evict the oldest first; a header without proof of work never enters; a
// flood leaves the pool at its limits.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ledger-node/ledger/chain/types"
	"github.com/ledger-node/ledger/consensus"
	"github.com/ledger-node/ledger/internal/chaingen"
)

// orCheckPool checks the pool's internal bookkeeping: every orphan is in
// the hash map, the age list and its parent's list exactly once, and the
// byte count is the sum of their sizes.
func orCheckPool(t testing.TB, c *Chain) {
	t.Helper()
	c.processMu.Lock()
	defer c.processMu.Unlock()
	p := c.orphans
	if p.age.Len() != len(p.byHash) {
		t.Fatalf("age list %d, hash map %d", p.age.Len(), len(p.byHash))
	}
	n, bytes := 0, 0
	for parent, list := range p.byParent {
		if len(list) == 0 {
			t.Fatalf("empty child list kept for %s", parent)
		}
		for _, o := range list {
			if p.byHash[o.hash] != o || o.blk.Header.PrevBlock != parent {
				t.Fatalf("orphan %s misfiled", o.hash)
			}
			n++
			bytes += o.size
		}
	}
	if n != len(p.byHash) || bytes != p.bytes {
		t.Fatalf("parent lists hold %d orphans of %d bytes; pool says %d of %d", n, bytes, len(p.byHash), p.bytes)
	}
	var prev time.Time
	for e := p.age.Front(); e != nil; e = e.Next() {
		o := e.Value.(*orphan)
		if o.added.Before(prev) {
			t.Fatal("age list out of order")
		}
		prev = o.added
	}
}

// TestOrphansReverseOrder delivers a chain newest first: each block waits
// and names its parent as missing, and the last delivered (the first
// block) connects them all, in order.
func TestOrphansReverseOrder(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := rgExtend(g, g.Genesis.Hash, 8, "R", nil)
	c := rlOpen(t, Config{Genesis: g.Genesis})
	notes := rlRecord(c)
	before := rlSnap(t, c)
	for i := len(blocks) - 1; i >= 1; i-- {
		b := blocks[i]
		res, err := c.ProcessBlock(b)
		if err != nil || !res.Orphan || res.MainChain || res.Reorg || res.MissingParent != blocks[i-1].Hash() {
			t.Fatalf("block %d: %+v, %v; want an orphan missing %s", i+1, res, err, blocks[i-1].Hash())
		}
		if !c.HaveBlock(b.Hash()) || c.IsMainChain(b.Hash()) {
			t.Fatalf("orphan %d not held, or on the main chain", i+1)
		}
		// The same orphan again is a duplicate.
		_, err = c.ProcessBlock(b)
		rlExactKind(t, err, ErrDuplicateBlock)
		before.check(t, c)
	}
	if got := c.OrphanCount(); got != len(blocks)-1 {
		t.Fatalf("%d orphans, want %d", got, len(blocks)-1)
	}
	orCheckPool(t, c)
	if n := notes.take(); len(n) != 0 {
		t.Fatalf("%d notifications for orphans", len(n))
	}
	res, err := c.ProcessBlock(blocks[0])
	if err != nil || res.Orphan || !res.MainChain || res.Reorg {
		t.Fatalf("first block: %+v, %v", res, err)
	}
	checkState(t, c, g, rgTip(blocks))
	if got := c.OrphanCount(); got != 0 {
		t.Fatalf("%d orphans left", got)
	}
	orCheckPool(t, c)
	got := notes.take()
	if len(got) != len(blocks) {
		t.Fatalf("%d notifications, want %d connections", len(got), len(blocks))
	}
	for i, n := range got {
		if n.Type != BlockConnected || n.Hash != blocks[i].Hash() {
			t.Fatalf("notification %d: %v %s, want BlockConnected %s", i, n.Type, n.Hash, blocks[i].Hash())
		}
	}
	rgCheckTxIndex(t, c, blocks, nil)
	rgCompareFresh(t, c, g, blocks)
}

// TestOrphanMissingAncestor: MissingParent walks up through the orphans
// the pool holds to the first block it does not.
func TestOrphanMissingAncestor(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 6})
	blocks := rgExtend(g, g.Genesis.Hash, 8, "M", nil)
	h := func(i int) types.Hash { return blocks[i-1].Hash() } // block i, 1-based
	c := rlOpen(t, Config{Genesis: g.Genesis})
	steps := []struct {
		deliver int
		missing int
	}{
		{8, 7},
		{6, 5},
		{7, 5}, // 7's parent 6 waits; 6's parent 5 is missing
		{3, 2},
		{5, 4}, // 5, 6, 7, 8 now wait on 4
	}
	for _, s := range steps {
		res, err := c.ProcessBlock(blocks[s.deliver-1])
		if err != nil || !res.Orphan || res.MissingParent != h(s.missing) {
			t.Fatalf("deliver %d: %+v, %v; want missing block %d %s", s.deliver, res, err, s.missing, h(s.missing))
		}
	}
	orCheckPool(t, c)
	mustProcess(t, c, blocks[0]) // 1 connects, then 2 is still missing
	checkState(t, c, g, h(1))
	if c.OrphanCount() != 5 {
		t.Fatalf("%d orphans", c.OrphanCount())
	}
	mustProcess(t, c, blocks[1]) // 2 connects 3, then 4 is missing
	checkState(t, c, g, h(3))
	mustProcess(t, c, blocks[3]) // 4 connects the rest
	checkState(t, c, g, h(8))
	if c.OrphanCount() != 0 {
		t.Fatalf("%d orphans left", c.OrphanCount())
	}
}

// orFloating returns n distinct valid blocks (with proof of work) that are
// children of an unknown parent. Each has a coinbase memo of memoLen bytes,
// so they have equal sizes.
func orFloating(g *chaingen.Generator, parent types.Hash, n, memoLen int) []*types.Block {
	var out []*types.Block
	for i := 0; i < n; i++ {
		memo := make([]byte, memoLen)
		copy(memo, fmt.Sprintf("floating %d", i))
		out = append(out, orBlock(g.Params, parent, memo))
	}
	return out
}

// orBlock builds a block on parent (not necessarily known to anyone):
// only its header sanity (version, target, proof of work) holds.
func orBlock(p *consensus.Params, parent types.Hash, memo []byte) *types.Block {
	cb := &types.Tx{Kind: types.TxCoinbase, ChainID: p.ChainID, Nonce: 9, To: types.Address{1}, Memo: memo}
	b := &types.Block{Header: types.Header{Version: consensus.HeaderVersion, Height: 9, PrevBlock: parent,
		Time: p.GenesisTime + 90, Bits: p.PowLimitBits}, Txs: []*types.Tx{cb}}
	b.Header.TxRoot = types.MerkleRoot(b.TxHashes())
	for n := uint32(0); ; n++ {
		b.Header.Nonce = n
		if consensus.CheckProofOfWork(b.Header.Hash(), b.Header.Bits, p.PowLimit) == nil {
			return b
		}
	}
}

func orHeld(t testing.TB, c *Chain, blocks []*types.Block, want ...bool) {
	t.Helper()
	for i, b := range blocks {
		if got := c.HaveBlock(b.Hash()); got != want[i] {
			t.Fatalf("orphan %d: held %v, want %v", i+1, got, want[i])
		}
	}
}

// TestOrphanLimits: each limit evicts the oldest orphans first, and an
// evicted orphan is not connected when its parent arrives.
func TestOrphanLimits(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	parent := g.MustBlock(g.Genesis.Hash, nil, chaingen.BlockOpts{CoinbaseMemo: []byte("parent")})
	// Valid children of parent, so that the survivors can connect.
	var kids []*types.Block
	for i := 0; i < 4; i++ {
		kids = append(kids, g.MustBlock(parent.Hash(), nil, chaingen.BlockOpts{CoinbaseMemo: []byte(fmt.Sprintf("kid %d", i))}))
	}
	size := kids[0].EncodedSize()
	for _, k := range kids {
		if k.EncodedSize() != size {
			t.Fatal("kids differ in size")
		}
	}

	t.Run("count", func(t *testing.T) {
		c := rlOpen(t, Config{Genesis: g.Genesis, Orphans: OrphanLimits{MaxCount: 2}})
		for i, k := range kids {
			if res, err := c.ProcessBlock(k); err != nil || !res.Orphan {
				t.Fatalf("kid %d: %+v, %v", i, res, err)
			}
			if want := min(i+1, 2); c.OrphanCount() != want {
				t.Fatalf("after %d: %d orphans, want %d", i+1, c.OrphanCount(), want)
			}
			orCheckPool(t, c)
		}
		orHeld(t, c, kids, false, false, true, true)
		// The parent connects the two survivors, the first as the tip.
		mustProcess(t, c, parent)
		checkState(t, c, g, kids[2].Hash())
		orHeld(t, c, kids, false, false, true, true)
		if c.OrphanCount() != 0 {
			t.Fatalf("%d orphans left", c.OrphanCount())
		}
	})

	t.Run("bytes", func(t *testing.T) {
		c := rlOpen(t, Config{Genesis: g.Genesis, Orphans: OrphanLimits{MaxBytes: 2*size + size/2}})
		for _, k := range kids {
			if res, err := c.ProcessBlock(k); err != nil || !res.Orphan {
				t.Fatalf("%+v, %v", res, err)
			}
			orCheckPool(t, c)
			if c.orphans.bytes > 2*size+size/2 {
				t.Fatalf("pool holds %d bytes", c.orphans.bytes)
			}
		}
		orHeld(t, c, kids, false, false, true, true)
		// Exactly at the limit: two fit, a third evicts one.
		c2 := rlOpen(t, Config{Genesis: g.Genesis, Orphans: OrphanLimits{MaxBytes: 2 * size}})
		for _, k := range kids[:3] {
			c2.ProcessBlock(k)
		}
		orHeld(t, c2, kids, false, true, true, false)
	})

	t.Run("age", func(t *testing.T) {
		clock := newRLClock(rlGenesisTime + 100_000)
		c := rlOpen(t, Config{Genesis: g.Genesis, Clock: clock.Now, Orphans: OrphanLimits{MaxAge: 10 * time.Minute}})
		c.ProcessBlock(kids[0])
		clock.Advance(6 * time.Minute)
		c.ProcessBlock(kids[1])
		clock.Advance(4 * time.Minute) // kid 0 is exactly 10 minutes old: kept
		c.ProcessBlock(kids[2])
		orHeld(t, c, kids, true, true, true, false)
		clock.Advance(time.Second) // kid 0 is now older than the limit
		c.ProcessBlock(kids[3])
		orHeld(t, c, kids, false, true, true, true)
		orCheckPool(t, c)
		clock.Advance(time.Hour) // all expire on the next addition
		other := orFloating(g, types.Hash{0xee}, 1, 10)[0]
		c.ProcessBlock(other)
		orHeld(t, c, kids, false, false, false, false)
		if c.OrphanCount() != 1 || !c.HaveBlock(other.Hash()) {
			t.Fatalf("%d orphans", c.OrphanCount())
		}
		orCheckPool(t, c)
	})
}

// TestOrphanTooBigForPoolNamesItsParent: a block bigger than the pool's
// byte limit is not kept, but ProcessResult.MissingParent must still name
// the block the node lacks (the parent), not the block itself: a caller
// fetching MissingParent would otherwise ask for the same block again.
func TestOrphanTooBigForPoolNamesItsParent(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	parent := types.Hash{0xab}
	small := orFloating(g, parent, 1, 10)[0]
	big := orFloating(g, parent, 1, 200)[0]
	c := rlOpen(t, Config{Genesis: g.Genesis, Orphans: OrphanLimits{MaxBytes: small.EncodedSize() + 50}})
	res, err := c.ProcessBlock(big)
	if err != nil || !res.Orphan {
		t.Fatalf("oversized orphan: %+v, %v", res, err)
	}
	if c.OrphanCount() != 0 || c.HaveBlock(big.Hash()) {
		t.Fatal("an orphan over the byte limit was kept")
	}
	if res.MissingParent != parent {
		t.Errorf("MissingParent = %s (the block itself: %v), want its parent %s",
			res.MissingParent, res.MissingParent == big.Hash(), parent)
	}
	res, err = c.ProcessBlock(small)
	if err != nil || !res.Orphan || res.MissingParent != parent || c.OrphanCount() != 1 {
		t.Fatalf("small orphan: %+v, %v", res, err)
	}
}

// TestOrphanWithoutProofOfWorkNeverEntersPool: a block with an unknown
// parent is checked for version, target and proof of work before it is
// kept (item 2).
func TestOrphanWithoutProofOfWorkNeverEntersPool(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	good := orFloating(g, types.Hash{0xcd}, 1, 10)[0]
	tests := []struct {
		name string
		edit func(b *types.Block)
		kind consensus.ErrorKind
	}{
		{"hash above target", func(b *types.Block) { rlUnsolve(b, g.Params) }, consensus.ErrHighHash},
		{"target above limit", func(b *types.Block) { b.Header.Bits = 0x2100ffff }, consensus.ErrBadTarget},
		{"zero target", func(b *types.Block) { b.Header.Bits = 0x00000000 }, consensus.ErrBadTarget},
		{"negative target", func(b *types.Block) { b.Header.Bits = 0x1d800001 }, consensus.ErrBadTarget},
		{"unknown version", func(b *types.Block) { b.Header.Version = 7; solveFor(b, g.Params) }, consensus.ErrBadVersion},
	}
	c := rlOpen(t, Config{Genesis: g.Genesis})
	before := rlSnap(t, c)
	for _, tt := range tests {
		bad := rlCopy(good)
		tt.edit(bad)
		for i := 0; i < 2; i++ {
			res, err := c.ProcessBlock(bad)
			t.Run(tt.name, func(t *testing.T) { rlExactKind(t, err, tt.kind) })
			if res.Orphan || c.OrphanCount() != 0 || c.HaveBlock(bad.Hash()) {
				t.Fatalf("%s: entered the pool (%+v)", tt.name, res)
			}
		}
	}
	before.check(t, c)
	if res, err := c.ProcessBlock(good); err != nil || !res.Orphan || c.OrphanCount() != 1 {
		t.Fatalf("valid orphan: %+v, %v", res, err)
	}
}

func solveFor(b *types.Block, p *consensus.Params) {
	for n := uint32(0); ; n++ {
		b.Header.Nonce = n
		if consensus.CheckProofOfWork(b.Header.Hash(), b.Header.Bits, p.PowLimit) == nil {
			return
		}
	}
}

// TestOrphanFlood sends 10,000 orphans, half with distinct unknown
// parents and half all children of one unknown parent: the pool stays at
// its count limit, keeps the newest, and the memory it holds stays bounded.
func TestOrphanFlood(t *testing.T) {
	g := chaingen.New(chaingen.Options{Accounts: 2})
	const flood = 10_000
	limits := OrphanLimits{}.withDefaults()
	c := rlOpen(t, Config{Genesis: g.Genesis})
	before := rlSnap(t, c)
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)

	common := types.Hash(sha256.Sum256([]byte("flood parent")))
	var recent []types.Hash // the last limits.MaxCount hashes
	for i := 0; i < flood; i++ {
		parent := common
		if i%2 == 0 {
			var seed [8]byte
			binary.BigEndian.PutUint64(seed[:], uint64(i))
			parent = sha256.Sum256(seed[:])
		}
		memo := make([]byte, 64)
		binary.BigEndian.PutUint64(memo, uint64(i))
		b := orBlock(g.Params, parent, memo)
		res, err := c.ProcessBlock(b)
		if err != nil || !res.Orphan {
			t.Fatalf("orphan %d: %+v, %v", i, res, err)
		}
		if n := c.OrphanCount(); n > limits.MaxCount {
			t.Fatalf("after %d orphans the pool holds %d, limit %d", i+1, n, limits.MaxCount)
		}
		recent = append(recent, b.Hash())
		if len(recent) > limits.MaxCount {
			recent = recent[1:]
		}
	}
	if n := c.OrphanCount(); n != limits.MaxCount {
		t.Fatalf("pool holds %d, want the limit %d", n, limits.MaxCount)
	}
	orCheckPool(t, c)
	for _, h := range recent {
		if !c.HaveBlock(h) {
			t.Fatalf("recent orphan %s evicted before older ones", h)
		}
	}
	c.processMu.Lock()
	kids := len(c.orphans.byParent[common])
	parents := len(c.orphans.byParent)
	bytes := c.orphans.bytes
	c.processMu.Unlock()
	if kids != limits.MaxCount/2 || parents != limits.MaxCount/2+1 || bytes > limits.MaxBytes {
		t.Fatalf("pool: %d children of the common parent, %d parents, %d bytes", kids, parents, bytes)
	}

	runtime.GC()
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	if grown := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grown > 8<<20 {
		t.Fatalf("heap grew by %d bytes for a pool of %d small orphans", grown, limits.MaxCount)
	}
	before.check(t, c)
	// The store still works.
	b := g.MustBlock(g.Genesis.Hash, nil)
	mustProcess(t, c, b)
	checkState(t, c, g, b.Hash())
}
